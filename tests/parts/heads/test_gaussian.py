import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy import stats

from skvae._nn.layout import Layout
from skvae._parts.heads import GaussianHead


def make_head(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    head = GaussianHead(3)
    layout = Layout(head.shapes())
    params = np.zeros(layout.size, dtype=dtype)
    grads = np.zeros(layout.size, dtype=dtype)
    head.bind(layout.views(params), layout.views(grads))
    X = (rng.standard_normal((8, 3)) * [1.0, 2.0, 0.5]).astype(dtype)
    bias = np.zeros(3, dtype=dtype)
    head.initialize(X, bias, 1e-3)
    params += rng.standard_normal(layout.size).astype(dtype) * 0.3
    return head, params, grads, X, bias, rng


def test_initialize_starts_at_the_data():
    rng = np.random.default_rng(1)
    head = GaussianHead(2)
    layout = Layout(head.shapes())
    params, grads = np.zeros(layout.size), np.zeros(layout.size)
    head.bind(layout.views(params), layout.views(grads))
    X = rng.standard_normal((50, 2)) * [1.0, 3.0]
    bias = np.zeros(2)
    head.initialize(X, bias, 0.01)
    np.testing.assert_allclose(bias, X.mean(axis=0))
    assert head.var_floor == pytest.approx(0.01 * X.var(axis=0).mean())
    np.testing.assert_allclose(head.var, X.var(axis=0) + 2 * head.var_floor)


def test_log_prob_matches_scipy():
    head, _, _, X, _, rng = make_head()
    a = rng.standard_normal(X.shape)
    expected = stats.norm(a, np.sqrt(head.var)).logpdf(X).sum(axis=1)
    np.testing.assert_allclose(head.log_prob(X, a), expected, rtol=1e-12)
    log_p, _ = head.forward(X, a)
    np.testing.assert_allclose(log_p, expected, rtol=1e-12)


def test_backward_matches_finite_differences_in_the_means_and_the_variance():
    head, params, grads, X, _, rng = make_head()
    a = rng.standard_normal(X.shape)
    weights = rng.random(len(X))

    def loss():
        return float(weights @ head.log_prob(X, a))

    _, cache = head.forward(X, a)
    d_a = head.backward(cache, weights)
    assert relative_error(d_a, numerical_gradient(loss, a)) < 1e-6
    assert relative_error(grads, numerical_gradient(loss, params)) < 1e-6


def test_mean_sample_and_error():
    head, _, _, X, _, rng = make_head()
    a = rng.standard_normal(X.shape)
    assert head.mean(a) is a
    noise = rng.standard_normal(X.shape)
    np.testing.assert_allclose(head.sample(a, noise), a + np.sqrt(head.var) * noise)
    np.testing.assert_allclose(head.sample(a[:, 1:], noise[:, 1:], slice(1, None)),
                               a[:, 1:] + np.sqrt(head.var[1:]) * noise[:, 1:])
    np.testing.assert_allclose(head.reconstruction_error(X, a),
                               ((X - a) ** 2).sum(axis=1))


def test_float32_stays_float32():
    head, _, grads, X, _, rng = make_head(np.float32)
    a = rng.standard_normal(X.shape).astype(np.float32)
    log_p, cache = head.forward(X, a)
    d_a = head.backward(cache, np.ones(len(X), dtype=np.float32))
    assert log_p.dtype == d_a.dtype == grads.dtype == np.float32


def test_masked_entries_add_no_term_and_no_gradient():
    head, params, grads, X, _, rng = make_head()
    a = rng.standard_normal(X.shape)
    mask = (rng.random(X.shape) > 0.4).astype(float)
    weights = rng.random(len(X))
    terms = stats.norm(a, np.sqrt(head.var)).logpdf(X) * mask
    np.testing.assert_allclose(head.log_prob(X, a, mask), terms.sum(1), rtol=1e-12)
    np.testing.assert_allclose(head.log_prob_terms(X, a, mask), terms, rtol=1e-12)

    def loss():
        return float(weights @ head.log_prob(X, a, mask))

    _, cache = head.forward(X, a, mask)
    d_a = head.backward(cache, weights)
    assert relative_error(d_a, numerical_gradient(loss, a)) < 1e-6
    assert relative_error(grads, numerical_gradient(loss, params)) < 1e-6
    assert not d_a[mask == 0].any()


def test_mixture_mean_is_the_weighted_mean_of_the_means():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5, 3))
    weights = rng.dirichlet(np.ones(4), size=5).T
    np.testing.assert_allclose(GaussianHead(3).mixture_mean(a, weights),
                               np.sum(weights[..., None] * a, axis=0))
