"""The decoders' protocol, checked on both decoders and both heads."""

import itertools

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy.special import expit

from skvae._nn.layout import bind_new
from skvae._parts.decoders.autoregressive import AutoregressiveDecoder
from skvae._parts.decoders.mlp import MLPDecoder
from skvae._parts.heads import HEADS


def make_decoder(likelihood, activation, window, hidden=(7,), D=5, k=2, seed=0,
                 dtype=np.float64, kind="autoregressive"):
    rng = np.random.default_rng(seed)
    head = HEADS[likelihood](D)
    if kind == "autoregressive":
        dec = AutoregressiveDecoder(D, k, hidden, activation, head, window=window)
    else:
        dec = MLPDecoder(D, k, hidden, activation, head)
    layout, params, grads = bind_new([dec], dtype)
    X = rng.standard_normal((6, D)).astype(dtype)
    if likelihood == "bernoulli":
        X = (X > 0).astype(dtype)
    dec.initialize(X, rng, 1e-3)
    # Move every parameter off its initial value (biases included).
    params += 0.3 * rng.standard_normal(layout.size).astype(dtype)
    Z = rng.standard_normal((6, k)).astype(dtype)
    return dec, params, grads, X, Z, rng


DECODERS = [("autoregressive", None), ("autoregressive", 2), ("mlp", None)]


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize(("kind", "window"), DECODERS)
@pytest.mark.parametrize("hidden", [(), (7,), (6, 5)])
def test_decoder_gradient_matches_finite_differences(likelihood, activation, kind,
                                                     window, hidden):
    dec, params, grads, X, Z, rng = make_decoder(likelihood, activation, window,
                                                 hidden, kind=kind)
    row_weights = rng.standard_normal(X.shape[0])

    def objective():
        return np.dot(row_weights, dec.log_prob(X, Z))

    log_px, cache = dec.forward(X, Z)
    d_Z = dec.backward(cache, row_weights)
    np.testing.assert_allclose(log_px, dec.log_prob(X, Z), rtol=1e-12)
    assert relative_error(grads, numerical_gradient(objective, params)) < 1e-6
    assert relative_error(d_Z, numerical_gradient(objective, Z)) < 1e-6


@pytest.mark.parametrize("window", [None, 1, 2])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_bernoulli_decoder_sums_to_one_over_all_binary_vectors(window, activation):
    D = 5
    dec, params, _, _, _, rng = make_decoder("bernoulli", activation, window,
                                             hidden=(12,), D=D)
    params *= 3  # sharp, far-from-uniform conditionals
    X_all = np.array(list(itertools.product([0.0, 1.0], repeat=D)))
    for z in rng.standard_normal((3, 2)):
        Z = np.repeat(z[None], len(X_all), axis=0)
        total = np.exp(dec.log_prob(X_all, Z)).sum()
        assert total == pytest.approx(1.0, abs=1e-12)


def test_decoder_log_prob_broadcasts_over_stacked_draws():
    dec, _, _, X, Z, rng = make_decoder("gaussian", "tanh", 2)
    Z3 = rng.standard_normal((3, *Z.shape))
    stacked = dec.log_prob(X, Z3)
    assert stacked.shape == (3, X.shape[0])
    np.testing.assert_allclose(stacked[1], dec.log_prob(X, Z3[1]), rtol=1e-12)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("hidden", [(), (7,), (6, 5)])
@pytest.mark.parametrize("window", [None, 2])
@pytest.mark.parametrize("use_noise", [False, True])
def test_generation_agrees_with_the_one_pass_conditionals(likelihood, hidden, window,
                                                          use_noise):
    # Feeding the generated x back in one teacher-forced pass must reproduce
    # every conditional the sequential generation used.
    dec, _, _, _, Z, rng = make_decoder(likelihood, "tanh", window, hidden)
    D = dec.n_features
    if likelihood == "bernoulli":
        noise = rng.random((Z.shape[0], D)) if use_noise else None
    else:
        noise = rng.standard_normal((Z.shape[0], D)) if use_noise else None
    X = dec.generate(Z, noise)
    a = dec.output(X, Z)
    if likelihood == "bernoulli":
        expected = expit(a) if noise is None else (noise < expit(a)).astype(float)
    else:
        expected = a if noise is None else a + np.sqrt(dec.head.var) * noise
    np.testing.assert_allclose(X, expected, rtol=1e-12, atol=1e-12)


def test_bernoulli_samples_follow_the_model_probabilities():
    # Sequential sampling draws x with frequency p(x | z).
    D = 3
    dec, params, _, _, _, rng = make_decoder("bernoulli", "tanh", None, D=D)
    params *= 3
    n = 40_000
    Z = np.repeat(rng.standard_normal((1, 2)), n, axis=0)
    X = dec.generate(Z, rng.random((n, D)))
    codes = X @ (2 ** np.arange(D))
    freq = np.bincount(codes.astype(int), minlength=2**D) / n
    X_all = np.array(list(itertools.product([0.0, 1.0], repeat=D)))
    probs = np.exp(dec.log_prob(X_all, Z[: 2**D]))
    order = (X_all @ (2 ** np.arange(D))).astype(int)
    np.testing.assert_allclose(freq[order], probs, atol=4 * np.sqrt(0.25 / n))


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize(("kind", "window"), DECODERS)
def test_decoder_keeps_float32(likelihood, kind, window):
    dec, _, grads, X, Z, rng = make_decoder(likelihood, "relu", window,
                                            dtype=np.float32, kind=kind)
    log_px, cache = dec.forward(X, Z)
    d_Z = dec.backward(cache, np.full(X.shape[0], -1 / X.shape[0], dtype=np.float32))
    assert log_px.dtype == d_Z.dtype == grads.dtype == np.float32
    assert dec.log_prob(X, Z).dtype == np.float32
    assert dec.mean(Z).dtype == np.float32
    assert dec.reconstruction_error(X, Z).dtype == np.float32


