import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error

from skvae._nn import mlp
from skvae._nn.activations import ACTIVATIONS
from skvae._nn.layout import Layout


def make_mlp(sizes, activation, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    layout = Layout(mlp.mlp_shapes("net", sizes))
    params = rng.standard_normal(layout.size).astype(dtype)
    grads = np.zeros(layout.size, dtype=dtype)
    W, b = mlp.mlp_views(layout.views(params), "net", len(sizes) - 1)
    dW, db = mlp.mlp_views(layout.views(grads), "net", len(sizes) - 1)
    X = rng.standard_normal((6, sizes[0])).astype(dtype)
    target = rng.standard_normal((6, sizes[-1])).astype(dtype)
    return W, b, dW, db, params, grads, X, target


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [(4, 3), (4, 5, 3), (3, 6, 4, 2)])
def test_backward_matches_finite_differences(activation, sizes):
    W, b, dW, db, params, grads, X, target = make_mlp(sizes, activation)

    def loss():
        out = mlp.forward(W, b, X, activation)[-1]
        return float(np.sum(target * out))

    outputs = mlp.forward(W, b, X, activation)
    d_input = mlp.backward(W, outputs, target.copy(), activation, dW, db)
    assert relative_error(grads, numerical_gradient(loss, params)) < 1e-6
    assert relative_error(d_input, numerical_gradient(loss, X)) < 1e-6


def test_without_input_gradient_returns_none_and_the_same_weight_gradients():
    W, b, dW, db, _, grads, X, target = make_mlp((4, 5, 3), "tanh")
    outputs = mlp.forward(W, b, X, "tanh")
    mlp.backward(W, outputs, target.copy(), "tanh", dW, db)
    expected = grads.copy()
    assert mlp.backward(W, outputs, target.copy(), "tanh", dW, db,
                        input_grad=False) is None
    np.testing.assert_array_equal(grads, expected)


def test_forward_is_affine_at_the_last_layer_and_keeps_every_output():
    W, b, *_, X, _ = make_mlp((4, 5, 3), "relu")
    outputs = mlp.forward(W, b, X, "relu")
    assert [o.shape for o in outputs] == [(6, 4), (6, 5), (6, 3)]
    np.testing.assert_allclose(outputs[1], np.maximum(X @ W[0] + b[0], 0))
    np.testing.assert_allclose(outputs[2], outputs[1] @ W[1] + b[1])


def test_float32_stays_float32():
    W, b, dW, db, _, grads, X, target = make_mlp((4, 5, 3), "softplus", np.float32)
    outputs = mlp.forward(W, b, X, "softplus")
    d_input = mlp.backward(W, outputs, target.copy(), "softplus", dW, db)
    assert all(o.dtype == np.float32 for o in outputs)
    assert d_input.dtype == grads.dtype == np.float32


def test_bounded_clips_only_beyond_the_bound():
    X = np.array([[1.0, -2.0]])
    assert mlp.bounded(X) is X
    far = np.array([[1e30, -1e30, 3.0]])
    np.testing.assert_array_equal(mlp.bounded(far),
                                  [[mlp.INPUT_BOUND, -mlp.INPUT_BOUND, 3.0]])


@pytest.mark.parametrize("activation, factor", [("logistic", 2.0), ("relu", 6.0)])
def test_glorot_uniform_bound(activation, factor):
    W = mlp.glorot_uniform(np.random.default_rng(0), 300, 200, activation,
                           np.float32)
    bound = np.sqrt(factor / 500)
    assert W.dtype == np.float32 and W.shape == (300, 200)
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.99 * bound
