"""KL warm-up, free bits and the IWAE bound, alone and chained into the networks."""

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy.special import logsumexp

from skvae._models.objectives import free_bits_kl, iwae_bound, kl_weight
from skvae._nn.layout import Layout
from skvae._parts.decoders.autoregressive import AutoregressiveDecoder
from skvae._parts.heads import HEADS
from skvae._parts.priors.flow import FlowPrior
from skvae._parts.priors.normal import standard_normal_kl_grads


def test_kl_weight_ramps_linearly_to_beta_then_stays():
    weights = [kl_weight(t, 0.5, 10) for t in range(15)]
    np.testing.assert_allclose(weights[:11], 0.5 * np.arange(11) / 10)
    assert weights[10:] == [0.5] * 5
    assert kl_weight(0, 0.5, 0) == 0.5


def test_free_bits_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    kl = rng.uniform(0, 2, size=(7, 5))
    kl[:, 1] *= 0.1  # one group well under the threshold
    kl[:, 3] += 2  # one well over it
    value, grad = free_bits_kl(kl, 0.8)
    mean = kl.mean(axis=0)
    assert np.any(mean < 0.8) and np.any(mean > 0.8)
    assert value == pytest.approx(np.sum(np.maximum(mean, 0.8)))
    numeric = numerical_gradient(lambda: free_bits_kl(kl, 0.8)[0], kl)
    assert relative_error(grad, numeric) < 1e-6


def test_free_bits_leaves_the_kl_alone_when_every_group_is_above():
    kl = np.random.default_rng(1).uniform(1, 2, size=(4, 3))
    value, grad = free_bits_kl(kl, 0.5)
    assert value == pytest.approx(kl.sum(axis=1).mean())
    np.testing.assert_array_equal(grad, np.full_like(kl, 1 / 4))
    value, grad = free_bits_kl(kl, 5.0)
    assert value == pytest.approx(15.0)
    assert not np.any(grad)


def test_free_bits_on_the_standard_normal_kl_chains_to_the_encoder_heads():
    # Per-dimension KL of N(mu, exp(log_var)) against N(0, 1), free bits on
    # each dimension: the gradient reaches mu and log_var through the KL's.
    rng = np.random.default_rng(2)
    mu = rng.standard_normal((6, 4))
    mu[:, 0] *= 0.05  # a nearly unused dimension, under the free bits
    log_var = 0.5 * rng.standard_normal((6, 4))

    def value():
        kl = -0.5 * (1 + log_var - mu**2 - np.exp(log_var))
        return free_bits_kl(kl, 0.3)[0]

    kl = -0.5 * (1 + log_var - mu**2 - np.exp(log_var))
    _, grad = free_bits_kl(kl, 0.3)
    assert not np.any(grad[:, 0])
    kl_mu, kl_log_var = standard_normal_kl_grads(mu, log_var)
    assert relative_error(grad * kl_mu, numerical_gradient(value, mu)) < 1e-6
    assert relative_error(grad * kl_log_var, numerical_gradient(value, log_var)) < 1e-6


def test_iwae_bound_gradient_matches_finite_differences():
    log_w = np.random.default_rng(3).normal(-5, 2, size=(5, 4))
    bound, weights = iwae_bound(log_w)
    np.testing.assert_allclose(bound, logsumexp(log_w, axis=0) - np.log(5))
    numeric = numerical_gradient(lambda: iwae_bound(log_w)[0].sum(), log_w)
    assert relative_error(weights, numeric) < 1e-6
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)
    # Jensen: at least the average log weight (the ELBO), at most the largest.
    assert np.all(bound >= log_w.mean(axis=0)) and np.all(bound <= log_w.max(axis=0))
    np.testing.assert_array_equal(iwae_bound(log_w[:1])[0], log_w[0])


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("window", [None, 2])
def test_iwae_gradient_through_decoder_and_flow_prior(likelihood, window):
    # The bound's gradient is the softmax-weighted sum of per-draw gradients:
    # pass the normalized weights / n as row weights to both networks.
    rng = np.random.default_rng(4)
    D, k, K, n = 4, 2, 3, 5
    dec = AutoregressiveDecoder(D, k, (6,), "tanh", HEADS[likelihood](D), window=window)
    prior = FlowPrior(k, 2, (5,), "relu")
    layout = Layout(dec.shapes() + prior.shapes())
    params = 0.5 * rng.standard_normal(layout.size)
    grad = np.zeros(layout.size)
    for part in (dec, prior):
        part.bind(layout.views(params), layout.views(grad))
    X = rng.standard_normal((n, D))
    if likelihood == "bernoulli":
        X = (X > 0).astype(float)
    Z = rng.standard_normal((K, n, k))
    log_q = rng.standard_normal((K, n))  # held fixed: not a decoder/prior parameter

    def objective():
        log_w = dec.log_prob(X, Z) + prior.log_density(Z) - log_q
        return iwae_bound(log_w)[0].mean()

    _, weights = iwae_bound(dec.log_prob(X, Z) + prior.log_density(Z) - log_q)
    row_weights = (weights / n).ravel()
    X_rep = np.broadcast_to(X, (K, n, D)).reshape(-1, D)
    _, cache = dec.forward(X_rep, Z.reshape(-1, k))
    d_Z_dec = dec.backward(cache, row_weights)
    _, cache = prior.log_density_forward(Z.reshape(-1, k))
    d_Z_prior = prior.log_density_backward(cache, row_weights)
    assert relative_error(grad, numerical_gradient(objective, params)) < 1e-6
    d_Z = (d_Z_dec + d_Z_prior).reshape(K, n, k)
    assert relative_error(d_Z, numerical_gradient(objective, Z)) < 1e-6
