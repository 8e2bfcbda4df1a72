import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy import stats

from skvae._nn.gaussian import (
    gaussian_log_density,
    gaussian_log_density_grads,
    gaussian_log_density_terms,
    gaussian_log_prob,
    gaussian_log_prob_grads,
    posterior_log_density,
    posterior_log_density_terms,
    reparameterize,
    reparameterize_backward,
    standard_normal_log_density,
)

rng = np.random.default_rng(0)


def _inputs(shape=(4, 3)):
    X, mean = rng.normal(size=shape), rng.normal(size=shape)
    return X, mean, rng.normal(size=shape)


# -- values against scipy.stats --------------------------------------------------


def test_log_prob_by_variance_matches_scipy():
    X, mean, _ = _inputs((6, 3))
    var = rng.random(3) + 0.1
    expected = stats.norm(mean, np.sqrt(var)).logpdf(X).sum(axis=1)
    np.testing.assert_allclose(gaussian_log_prob(X, mean, var), expected, rtol=1e-12)


def test_log_density_by_log_variance_matches_scipy():
    X, mean, log_var = _inputs()
    expected = stats.norm(mean, np.exp(0.5 * log_var)).logpdf(X)
    terms = gaussian_log_density_terms(X, mean, log_var)
    np.testing.assert_allclose(terms, expected, rtol=1e-12)
    np.testing.assert_allclose(gaussian_log_density(X, mean, log_var),
                               expected.sum(axis=1), rtol=1e-12)


def test_both_forms_agree():
    X, mean, log_var = _inputs()
    var = np.exp(log_var[0])
    np.testing.assert_allclose(gaussian_log_density(X, mean, np.log(var)),
                               gaussian_log_prob(X, mean, var), rtol=1e-12)


def test_standard_normal_matches_scipy():
    Z = rng.normal(size=(4, 3))
    np.testing.assert_allclose(standard_normal_log_density(Z),
                               stats.norm().logpdf(Z).sum(axis=1), rtol=1e-12)


def test_posterior_density_is_the_density_at_the_draw():
    mu, log_var, eps = _inputs()
    Z, std = reparameterize(mu, log_var, eps)
    np.testing.assert_allclose(std, stats.norm(0, np.exp(0.5 * log_var)).std())
    expected = stats.norm(mu, std).logpdf(Z)
    np.testing.assert_allclose(posterior_log_density_terms(eps, log_var), expected,
                               rtol=1e-12)
    np.testing.assert_allclose(posterior_log_density(eps, log_var),
                               expected.sum(axis=1), rtol=1e-12)


def test_densities_broadcast_over_leading_axes():
    X, mean, log_var = _inputs((2, 4, 3))
    stacked = gaussian_log_density(X, mean, log_var)
    assert stacked.shape == (2, 4)
    np.testing.assert_allclose(stacked[1], gaussian_log_density(X[1], mean[1],
                                                                log_var[1]))
    assert posterior_log_density(X, log_var).shape == (2, 4)
    assert standard_normal_log_density(X).shape == (2, 4)


def test_reparameterize_draws_from_the_posterior():
    mu, log_var = np.array([0.5, -1.0]), np.array([-0.5, 0.3])
    Z, _ = reparameterize(mu, log_var, rng.standard_normal((100_000, 2)))
    np.testing.assert_allclose(Z.mean(axis=0), mu, atol=0.02)
    np.testing.assert_allclose(Z.var(axis=0), np.exp(log_var), rtol=0.02)


# -- gradients against central finite differences, float64 ------------------------


@pytest.mark.parametrize("which", ["mean", "var"])
def test_log_prob_gradients(which):
    X, mean, _ = _inputs((3, 4))
    var = rng.random(4) + 0.5
    d_mean, d_var = gaussian_log_prob_grads(X, mean, var)
    f = lambda: gaussian_log_prob(X, mean, var).sum()  # noqa: E731
    if which == "mean":
        error = relative_error(d_mean, numerical_gradient(f, mean))
    else:
        error = relative_error(d_var.sum(axis=0), numerical_gradient(f, var))
    assert error < 1e-6


@pytest.mark.parametrize("which", ["x", "mean", "log_var"])
def test_log_density_gradients(which):
    X, mean, log_var = _inputs()
    d_mean, d_log_var = gaussian_log_density_grads(X, mean, log_var)
    weights = rng.normal(size=X.shape)  # a non-uniform weighting of the terms
    f = lambda: np.sum(weights * gaussian_log_density_terms(X, mean, log_var))  # noqa: E731
    analytic, x = {"x": (-weights * d_mean, X), "mean": (weights * d_mean, mean),
                   "log_var": (weights * d_log_var, log_var)}[which]
    assert relative_error(analytic, numerical_gradient(f, x)) < 1e-6


def test_standard_normal_gradient_is_minus_z():
    Z = rng.normal(size=(4, 3))
    numeric = numerical_gradient(lambda: standard_normal_log_density(Z).sum(), Z)
    assert relative_error(-Z, numeric) < 1e-6


def test_posterior_density_gradient_at_fixed_noise():
    eps, log_var = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    numeric = numerical_gradient(lambda: posterior_log_density(eps, log_var).sum(),
                                 log_var)
    assert relative_error(np.full_like(log_var, -0.5), numeric) < 1e-6


@pytest.mark.parametrize("eps_shape", [(4, 3), (5, 4, 3)], ids=["one", "draws"])
@pytest.mark.parametrize("which", ["mu", "log_var"])
def test_reparameterize_backward(eps_shape, which):
    mu, log_var = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    eps = rng.normal(size=eps_shape)
    weights = rng.normal(size=eps_shape)  # the loss sum(weights * z^2 / 2)

    def f():
        return np.sum(0.5 * weights * reparameterize(mu, log_var, eps)[0] ** 2)

    Z, std = reparameterize(mu, log_var, eps)
    d_mu, d_log_var = reparameterize_backward(weights * Z, eps, std)
    assert d_mu.shape == d_log_var.shape == mu.shape
    analytic, x = (d_mu, mu) if which == "mu" else (d_log_var, log_var)
    assert relative_error(analytic, numerical_gradient(f, x)) < 1e-6


# -- dtypes ---------------------------------------------------------------------


def test_float32_stays_float32():
    X, mean, log_var = (a.astype(np.float32) for a in _inputs())
    var = np.exp(log_var[0])
    outputs = [gaussian_log_prob(X, mean, var), *gaussian_log_prob_grads(X, mean, var),
               gaussian_log_density(X, mean, log_var),
               *gaussian_log_density_grads(X, mean, log_var),
               standard_normal_log_density(X), posterior_log_density(X, log_var),
               posterior_log_density_terms(X, log_var),
               *reparameterize(mean, log_var, X),
               *reparameterize_backward(X, X, np.exp(0.5 * log_var)),
               *reparameterize_backward(X[None], X[None], np.exp(0.5 * log_var))]
    assert [a.dtype for a in outputs] == [np.float32] * len(outputs)
