"""Imputation by a network: conditional means by importance sampling, and draws."""

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from skvae._models.impute import draw_missing, importance_draws, impute_mean
from skvae._models.vae import build_network

TABLE = {"kinds": ["gaussian", "categorical", "bernoulli", "gaussian"],
         "n_categories": [3]}


def table(rng, n=40):
    return np.column_stack([rng.normal(5, 3, n), rng.integers(0, 3, n),
                            rng.integers(0, 2, n), rng.normal(-1, 0.5, n)]
                           ).astype(float)


def network(likelihood, X, rng, hidden=(6,), missing_indicator=True, scale=0.3):
    net = build_network(X.shape[1], 2, hidden, "tanh", likelihood, "float64",
                        missing_indicator=missing_indicator)
    net.initialize(X, rng)
    net.params += rng.normal(size=net.params.size) * scale
    return net


def with_gaps(X, rng, fraction=0.3):
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    X[0] = np.nan  # a row with nothing observed
    X[1] = X[2]  # and a complete one
    X[1, np.isnan(X[1])] = 0.0
    return X


def test_the_conditional_mean_of_a_linear_gaussian_model():
    """With a linear decoder, x = W z + b + noise is jointly Gaussian, and
    E[x_mis | x_obs] has a closed form: the estimate converges to it. The
    encoder is set to q(z | x) = N(0, 2 I), a proposal wider than every
    posterior, so that 20,000 draws are plenty."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4))
    net = network("gaussian", X, rng, hidden=(), missing_indicator=False, scale=0.5)
    net.encoder.W[-1][...] = 0
    net.encoder.b[-1][:2], net.encoder.b[-1][2:] = 0, np.log(2)
    W, b = net.decoder.W[0], net.decoder.b[0]
    cov = W.T @ W + np.diag(np.broadcast_to(net.decoder.head.var, 4))
    rows = net.scaler.inverse_transform(rng.normal(size=(3, 4)) @ np.linalg.cholesky(
        cov).T + b)
    rows[0, [1, 3]] = rows[1, 0] = rows[2, [0, 1, 2]] = np.nan
    eps = rng.standard_normal((20000, 1, net.noise_dims))
    imputed = impute_mean(net, rows, eps)
    for row, got in zip(rows, imputed, strict=True):
        x = net.scaler.transform(row)
        mis = np.isnan(x)
        obs = ~mis
        exact = b[mis] + cov[np.ix_(mis, obs)] @ np.linalg.solve(
            cov[np.ix_(obs, obs)], x[obs] - b[obs])
        np.testing.assert_allclose(net.scaler.transform(got)[mis], exact, atol=0.01)
        np.testing.assert_array_equal(got[obs], row[obs])


def test_the_weights_are_the_normalized_importance_weights_of_the_observed_part():
    """log sum_k of the unnormalized weights is what log_likelihood gives;
    the normalized weights are their softmax."""
    rng = np.random.default_rng(1)
    X = table(rng)
    gapped = with_gaps(X, rng)
    net = network(TABLE, gapped, rng)
    eps = rng.standard_normal((7, 1, net.noise_dims))
    _, _, weights = importance_draws(net, gapped, eps)
    np.testing.assert_allclose(weights.sum(axis=0), 1)
    # Rebuild the unnormalized weights from log_likelihood, one draw at a time.
    log_w = np.stack([net.log_likelihood(gapped, eps[k:k + 1]) for k in range(7)])
    np.testing.assert_allclose(weights, softmax(log_w, axis=0), rtol=1e-10)
    np.testing.assert_allclose(logsumexp(log_w, axis=0) - np.log(7),
                               net.log_likelihood(gapped, eps))


def test_a_row_with_nothing_observed_weighs_the_draws_as_the_prior_does():
    rng = np.random.default_rng(2)
    X = with_gaps(table(rng), rng)
    net = network(TABLE, X, rng)
    eps = rng.standard_normal((5, 1, net.noise_dims))
    Z, a, weights = importance_draws(net, X[:1], eps)
    mu, log_var = net.encode(X[:1])
    log_prior = -0.5 * np.sum(Z**2, axis=-1)
    log_q = -0.5 * np.sum(eps**2 + log_var, axis=-1)
    np.testing.assert_allclose(weights, softmax(log_prior - log_q, axis=0))
    filled = impute_mean(net, X[:1], eps)
    assert np.all(np.isfinite(filled))


@pytest.mark.parametrize("likelihood", ["gaussian", TABLE])
def test_observed_entries_come_back_bit_for_bit(likelihood):
    rng = np.random.default_rng(3)
    X = with_gaps(table(rng), rng)
    net = network(likelihood, X, rng)
    eps = rng.standard_normal((9, 1, net.noise_dims))
    uniform = rng.random((len(X), 1 + X.shape[1]))
    observed = ~np.isnan(X)
    for filled in (impute_mean(net, X, eps), draw_missing(net, X, eps, uniform)):
        assert not np.isnan(filled).any()
        np.testing.assert_array_equal(filled[observed], X[observed])


def test_a_missing_category_is_the_mode_of_the_weighted_mixture():
    rng = np.random.default_rng(4)
    X = with_gaps(table(rng), rng)
    net = network(TABLE, X, rng, scale=1.0)
    eps = rng.standard_normal((6, 1, net.noise_dims))
    _, a, weights = importance_draws(net, X, eps)
    head = net.decoder.head
    _, categorical, _, out, _ = head.heads[2]
    probabilities = categorical.probabilities(a[..., out])
    mixture = np.einsum("kn,knc->nc", weights, probabilities)
    missing = np.isnan(X[:, 1])
    np.testing.assert_array_equal(impute_mean(net, X, eps)[missing, 1],
                                  mixture.argmax(axis=1)[missing])
    codes = draw_missing(net, X, eps, rng.random((len(X), 5)))[:, 1]
    assert set(np.unique(codes)) <= {0.0, 1.0, 2.0}


def test_draws_pick_each_code_by_its_weight_and_follow_the_uniform_noise():
    """Inverse-CDF picks: a uniform below the first weight picks draw 0, one
    near 1 the last draw with positive weight; the same noise, the same draw."""
    rng = np.random.default_rng(5)
    X = with_gaps(table(rng), rng)
    net = network("gaussian", X, rng)
    eps = rng.standard_normal((4, 1, net.noise_dims))
    Z, _, weights = importance_draws(net, X, eps)
    uniform = rng.random((len(X), 1 + X.shape[1]))
    uniform[:, 0] = weights[0] / 2  # always the first draw
    first = draw_missing(net, X, eps, uniform)
    expected = net.decoded_draw(Z[0], uniform[:, 1:])
    missing = np.isnan(X)
    np.testing.assert_allclose(first[missing], expected[missing])
    np.testing.assert_array_equal(draw_missing(net, X, eps, uniform), first)
