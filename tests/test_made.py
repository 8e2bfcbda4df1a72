"""MADE masks and the autoregressive decoder: structure, values, gradients."""

import itertools

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy.special import expit

from skvae._layout import Layout
from skvae._made import MADE, AutoregressiveDecoder, made_masks


def allowed(D, window):
    """allowed[i, j]: output j may depend on input i."""
    i, j = np.ogrid[:D, :D]
    w = D if window is None else window
    return (i < j) & (i >= j - w)


def random_made(made, rng, scale=1.0):
    """A MADE's views over a random buffer, masked entries included."""
    layout = Layout(made.shapes("m"))
    params = scale * rng.standard_normal(layout.size)
    return made.params(layout.views(params), "m")


@pytest.mark.parametrize("window", [None, 1, 3])
@pytest.mark.parametrize("hidden", [(), (40,), (40, 30)])
@pytest.mark.parametrize("n_context", [0, 2])
def test_made_is_autoregressive_by_perturbation(window, hidden, n_context):
    # Output j changes when input i changes exactly when j - window <= i < j,
    # and every output sees the conditioning input.
    D, n_blocks = 6, 2
    rng = np.random.default_rng(0)
    made = MADE(D, hidden, "tanh", n_context=n_context, window=window,
                n_output_blocks=n_blocks)
    P = random_made(made, rng)
    Wm = made.masked(P.W)
    X = rng.standard_normal((1, D))
    C = rng.standard_normal((1, n_context)) if n_context else None
    base = made.forward(Wm, P.b, X, C)[-1]
    depends = np.zeros((D, n_blocks * D), dtype=bool)
    for i in range(D):
        X_i = X.copy()
        X_i[0, i] += 1.0
        depends[i] = made.forward(Wm, P.b, X_i, C)[-1][0] != base[0]
    np.testing.assert_array_equal(depends, np.tile(allowed(D, window), (1, n_blocks)))
    if n_context:
        for c in range(n_context):
            C_c = C.copy()
            C_c[0, c] += 1.0
            assert np.all(made.forward(Wm, P.b, X, C_c)[-1] != base)


def test_masks_keep_every_allowed_path_with_one_hidden_unit_per_interval():
    # Without a window the masks are MADE's degree masks.
    masks = made_masks(4, (3,))
    np.testing.assert_array_equal(
        masks[0], [[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(
        masks[1], [[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]])


def test_made_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    made = MADE(5, (7, 6), "softplus", n_context=2, window=2, n_output_blocks=2)
    layout = Layout(made.shapes("m"))
    params = rng.standard_normal(layout.size)
    grad = np.zeros(layout.size)
    P = made.params(layout.views(params), "m")
    G = made.params(layout.views(grad), "m")
    X, C = rng.standard_normal((4, 5)), rng.standard_normal((4, 2))
    R = rng.standard_normal((4, 10))

    def loss():
        return np.sum(R * made.forward(made.masked(P.W), P.b, X, C)[-1])

    Wm = made.masked(P.W)
    d_in = made.backward(Wm, made.forward(Wm, P.b, X, C), R.copy(), G.W, G.b)
    assert relative_error(grad, numerical_gradient(loss, params)) < 1e-6
    assert relative_error(d_in[:, :5], numerical_gradient(loss, X)) < 1e-6
    assert relative_error(d_in[:, 5:], numerical_gradient(loss, C)) < 1e-6
    # Masked-out weights get exactly zero gradient.
    for g, mask in zip(G.W, made.masks, strict=True):
        assert np.all(g[~mask] == 0)


def make_decoder(likelihood, activation, window, hidden=(7,), D=5, k=2, seed=0,
                 dtype=np.float64):
    rng = np.random.default_rng(seed)
    dec = AutoregressiveDecoder(D, k, hidden, activation, likelihood, window=window)
    layout = Layout(dec.shapes())
    params = np.zeros(layout.size, dtype=dtype)
    P = dec.params(layout.views(params))
    X = rng.standard_normal((6, D)).astype(dtype)
    if likelihood == "bernoulli":
        X = (X > 0).astype(dtype)
    dec.initialize(P, X, rng)
    # Move every parameter off its initial value (biases included).
    params += 0.3 * rng.standard_normal(layout.size).astype(dtype)
    Z = rng.standard_normal((6, k)).astype(dtype)
    return dec, layout, params, P, X, Z, rng


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("window", [None, 2])
@pytest.mark.parametrize("hidden", [(7,), (6, 5)])
def test_decoder_gradient_matches_finite_differences(likelihood, activation, window,
                                                     hidden):
    dec, layout, params, P, X, Z, rng = make_decoder(likelihood, activation, window,
                                                     hidden)
    row_weights = rng.standard_normal(X.shape[0])
    grad = np.zeros(layout.size)
    G = dec.params(layout.views(grad))

    def objective():
        return np.dot(row_weights, dec.log_prob(P, X, Z))

    log_px, d_Z = dec.log_prob_and_backward(P, G, X, Z, row_weights)
    np.testing.assert_allclose(log_px, dec.log_prob(P, X, Z), rtol=1e-12)
    assert relative_error(grad, numerical_gradient(objective, params)) < 1e-6
    assert relative_error(d_Z, numerical_gradient(objective, Z)) < 1e-6


@pytest.mark.parametrize("window", [None, 1, 2])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_bernoulli_decoder_sums_to_one_over_all_binary_vectors(window, activation):
    D = 5
    dec, _, params, P, _, _, rng = make_decoder("bernoulli", activation, window,
                                                hidden=(12,), D=D)
    params *= 3  # sharp, far-from-uniform conditionals
    X_all = np.array(list(itertools.product([0.0, 1.0], repeat=D)))
    for z in rng.standard_normal((3, 2)):
        Z = np.repeat(z[None], len(X_all), axis=0)
        total = np.exp(dec.log_prob(P, X_all, Z)).sum()
        assert total == pytest.approx(1.0, abs=1e-12)


def test_decoder_log_prob_broadcasts_over_stacked_draws():
    dec, _, _, P, X, Z, rng = make_decoder("gaussian", "tanh", 2)
    Z3 = rng.standard_normal((3, *Z.shape))
    stacked = dec.log_prob(P, X, Z3)
    assert stacked.shape == (3, X.shape[0])
    np.testing.assert_allclose(stacked[1], dec.log_prob(P, X, Z3[1]), rtol=1e-12)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("hidden", [(), (7,), (6, 5)])
@pytest.mark.parametrize("window", [None, 2])
@pytest.mark.parametrize("use_noise", [False, True])
def test_generation_agrees_with_the_one_pass_conditionals(likelihood, hidden, window,
                                                          use_noise):
    # Feeding the generated x back in one teacher-forced pass must reproduce
    # every conditional the sequential generation used.
    dec, _, _, P, _, Z, rng = make_decoder(likelihood, "tanh", window, hidden)
    D = dec.n_features
    if likelihood == "bernoulli":
        noise = rng.random((Z.shape[0], D)) if use_noise else None
    else:
        noise = rng.standard_normal((Z.shape[0], D)) if use_noise else None
    X = dec.generate(P, Z, noise)
    a = dec.output(P, X, Z)
    if likelihood == "bernoulli":
        expected = expit(a) if noise is None else (noise < expit(a)).astype(float)
    else:
        expected = a if noise is None else a + np.sqrt(dec.var(P)) * noise
    np.testing.assert_allclose(X, expected, rtol=1e-12, atol=1e-12)


def test_bernoulli_samples_follow_the_model_probabilities():
    # Sequential sampling draws x with frequency p(x | z).
    D = 3
    dec, _, params, P, _, _, rng = make_decoder("bernoulli", "tanh", None, D=D)
    params *= 3
    n = 40_000
    Z = np.repeat(rng.standard_normal((1, 2)), n, axis=0)
    X = dec.generate(P, Z, rng.random((n, D)))
    codes = X @ (2 ** np.arange(D))
    freq = np.bincount(codes.astype(int), minlength=2**D) / n
    X_all = np.array(list(itertools.product([0.0, 1.0], repeat=D)))
    probs = np.exp(dec.log_prob(P, X_all, Z[: 2**D]))
    order = (X_all @ (2 ** np.arange(D))).astype(int)
    np.testing.assert_allclose(freq[order], probs, atol=4 * np.sqrt(0.25 / n))


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_decoder_keeps_float32(likelihood):
    dec, layout, _, P, X, Z, rng = make_decoder(likelihood, "relu", 2,
                                                dtype=np.float32)
    grad = np.zeros(layout.size, dtype=np.float32)
    G = dec.params(layout.views(grad))
    log_px, d_Z = dec.log_prob_and_backward(P, G, X, Z,
                                            np.full(X.shape[0], -1 / X.shape[0],
                                                    dtype=np.float32))
    assert log_px.dtype == d_Z.dtype == np.float32
    assert dec.log_prob(P, X, Z).dtype == np.float32
    assert dec.generate(P, Z).dtype == np.float32


def test_window_must_be_positive():
    with pytest.raises(ValueError, match="window=0"):
        made_masks(4, (8,), window=0)
