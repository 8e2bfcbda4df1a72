"""MADE masks and the autoregressive decoder: structure, values, gradients."""


import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error

from skvae._nn.layout import Layout
from skvae._nn.made import MADE, made_masks


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


def test_window_must_be_positive():
    with pytest.raises(ValueError, match="window=0"):
        made_masks(4, (8,), window=0)
