"""The autoregressive flow prior: density values, sampling, gradients."""

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy.stats import multivariate_normal

from skvae._nn.gaussian import posterior_log_density
from skvae._nn.layout import Layout
from skvae._parts.priors.flow import LOG_SCALE_BOUND, AutoregressiveFlowPrior


def make_flow(k, n_layers, hidden, activation="tanh", scale=0.5, seed=0,
              dtype=np.float64):
    """A flow over a random buffer (output layers not at their zero start)."""
    rng = np.random.default_rng(seed)
    flow = AutoregressiveFlowPrior(k, n_layers, hidden, activation)
    layout = Layout(flow.shapes())
    params = (scale * rng.standard_normal(layout.size)).astype(dtype)
    return flow, layout, params, flow.params(layout.views(params)), rng


def standard_normal_log_density(E):
    return -0.5 * (np.sum(E**2, axis=-1) + E.shape[-1] * np.log(2 * np.pi))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n_layers", [1, 3])
@pytest.mark.parametrize("hidden", [(), (8,), (6, 5)])
@pytest.mark.parametrize("k", [1, 3])
def test_log_prob_gradient_matches_finite_differences(activation, n_layers, hidden,
                                                      k):
    flow, layout, params, P, rng = make_flow(k, n_layers, hidden, activation)
    Z = rng.standard_normal((5, k))
    row_weights = rng.standard_normal(5)
    grad = np.zeros(layout.size)
    G = flow.params(layout.views(grad))

    def objective():
        return np.dot(row_weights, flow.log_prob(P, Z))

    log_pz, d_Z = flow.log_prob_and_backward(P, G, Z, row_weights)
    np.testing.assert_allclose(log_pz, flow.log_prob(P, Z), rtol=1e-12)
    assert relative_error(grad, numerical_gradient(objective, params)) < 1e-6
    assert relative_error(d_Z, numerical_gradient(objective, Z)) < 1e-6


@pytest.mark.parametrize("n_layers", [1, 2, 3])
@pytest.mark.parametrize("hidden", [(), (8,)])
def test_sampling_and_density_follow_the_change_of_variables(n_layers, hidden):
    # z = sample(eps) is inverted by the parallel direction, and log p(z) is
    # log N(eps) - log |det dz/deps|, the Jacobian taken by finite differences.
    k = 3
    flow, _, _, P, rng = make_flow(k, n_layers, hidden, scale=0.7)
    eps = rng.standard_normal((4, k))
    Z = flow.sample(P, eps)
    np.testing.assert_allclose(flow.inverse(P, Z), eps, atol=1e-12)
    h = 1e-6
    for row in range(eps.shape[0]):
        J = np.empty((k, k))
        for i in range(k):
            up, down = eps[row].copy(), eps[row].copy()
            up[i] += h
            down[i] -= h
            J[i] = (flow.sample(P, up[None]) - flow.sample(P, down[None]))[0] / (2 * h)
        expected = standard_normal_log_density(eps[row]) - np.linalg.slogdet(J)[1]
        assert flow.log_prob(P, Z[row : row + 1])[0] == pytest.approx(expected,
                                                                      abs=1e-7)


def test_density_integrates_to_one_on_a_grid():
    # A 2-D flow with non-linear hidden layers: the density integrates to 1.
    flow, _, _, P, _ = make_flow(2, 3, (8,), scale=0.3)
    grid = np.linspace(-10, 10, 401)
    Z = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    density = np.exp(flow.log_prob(P, Z))
    step = grid[1] - grid[0]
    assert density.sum() * step**2 == pytest.approx(1.0, abs=1e-6)
    # ... and it is not the standard normal (the check is not vacuous).
    assert np.max(np.abs(density - np.exp(standard_normal_log_density(Z)))) > 0.1


@pytest.mark.parametrize("n_layers", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 4])
def test_affine_flow_is_the_matching_gaussian(n_layers, k):
    # With no hidden layers and scales that do not depend on z, each layer is
    # affine: p(z) is the Gaussian N(c, M^T M) of z = eps M + c.
    flow, _, _, P, rng = make_flow(k, n_layers, (), scale=0.6)
    for layer in P:
        layer.W[0][:, k:] = 0
    c = flow.sample(P, np.zeros((1, k)))[0]
    M = flow.sample(P, np.eye(k)) - c
    Z = rng.standard_normal((10, k)) + c
    expected = multivariate_normal(c, M.T @ M).logpdf(Z)
    np.testing.assert_allclose(flow.log_prob(P, Z), expected, rtol=1e-10)


def test_initial_flow_is_the_standard_normal():
    # Zero output layers: every layer is the identity, so with the reversal
    # between its two layers the flow maps eps to eps reversed.
    flow = AutoregressiveFlowPrior(3, 2, (8,), "relu")
    layout = Layout(flow.shapes())
    P = flow.params(layout.views(np.zeros(layout.size)))
    rng = np.random.default_rng(0)
    flow.initialize(P, rng)
    Z = rng.standard_normal((5, 3))
    np.testing.assert_allclose(flow.log_prob(P, Z), standard_normal_log_density(Z),
                               rtol=1e-12)
    np.testing.assert_array_equal(flow.sample(P, Z), Z[:, ::-1])


def test_log_scale_stays_bounded_for_huge_parameters():
    flow, _, params, P, rng = make_flow(3, 2, (8,), scale=1.0)
    params *= 1e4
    Z = rng.standard_normal((5, 3))
    log_pz = flow.log_prob(P, Z)
    eps = flow.inverse(P, Z)
    assert np.all(np.isfinite(log_pz))
    log_det = log_pz - standard_normal_log_density(eps)
    assert np.all(np.abs(log_det) <= 2 * 3 * LOG_SCALE_BOUND)


def test_log_prob_broadcasts_over_stacked_draws():
    flow, _, _, P, rng = make_flow(3, 2, (8,))
    Z = rng.standard_normal((2, 5, 3))
    np.testing.assert_allclose(flow.log_prob(P, Z)[1], flow.log_prob(P, Z[1]),
                               rtol=1e-12)


def test_flow_keeps_float32():
    flow, layout, _, P, rng = make_flow(3, 2, (8,), dtype=np.float32)
    Z = rng.standard_normal((5, 3)).astype(np.float32)
    G = flow.params(layout.views(np.zeros(layout.size, dtype=np.float32)))
    log_pz, d_Z = flow.log_prob_and_backward(P, G, Z, np.full(5, -0.2, np.float32))
    assert log_pz.dtype == d_Z.dtype == np.float32
    assert flow.log_prob(P, Z).dtype == np.float32
    assert flow.sample(P, Z).dtype == np.float32


def test_monte_carlo_kl_gradient_reaches_the_encoder_heads_and_the_flow():
    # With the flow prior the KL is estimated as mean_i log q(z_i|x_i) -
    # log p(z_i) at z = mu + exp(log_var / 2) eps: the prior's d/dz flows
    # back through the reparameterization, and log q adds -1/2 per log_var.
    flow, layout, params, P, rng = make_flow(3, 2, (6,), "tanh")
    n = 5
    mu, log_var = rng.standard_normal((n, 3)), 0.5 * rng.standard_normal((n, 3))
    eps = rng.standard_normal((n, 3))

    def mc_kl():
        Z = mu + np.exp(0.5 * log_var) * eps
        return np.mean(posterior_log_density(eps, log_var) - flow.log_prob(P, Z))

    grad = np.zeros(layout.size)
    G = flow.params(layout.views(grad))
    std = np.exp(0.5 * log_var)
    _, d_Z = flow.log_prob_and_backward(P, G, mu + std * eps, np.full(n, -1 / n))
    d_mu = d_Z
    d_log_var = 0.5 * d_Z * eps * std - 0.5 / n
    assert relative_error(grad, numerical_gradient(mc_kl, params)) < 1e-6
    assert relative_error(d_mu, numerical_gradient(mc_kl, mu)) < 1e-6
    assert relative_error(d_log_var, numerical_gradient(mc_kl, log_var)) < 1e-6
