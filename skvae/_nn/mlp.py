"""Dense multilayer perceptron: forward pass, and backward pass into gradient views.

A network is a list of weight matrices ``W[i]`` of shape (fan_in, fan_out) and
bias vectors ``b[i]``.  Hidden layers apply ``activation``; the last layer is
linear (the heads of the encoder and the decoder's output are affine).
"""

import itertools

import numpy as np

from .activations import ACTIVATIONS, DERIVATIVES
from .layout import Part

# What a network may see of its input: data in standardized units, or codes,
# clipped to this bound so that no finite row, however far from the training
# data, can overflow a hidden layer. Training data never comes near it.
INPUT_BOUND = 1e4


def bounded(X):
    """X clipped to [-INPUT_BOUND, INPUT_BOUND] (a copy only where needed)."""
    if X.min() >= -INPUT_BOUND and X.max() <= INPUT_BOUND:
        return X
    return np.clip(X, -INPUT_BOUND, INPUT_BOUND)


def mlp_shapes(prefix, sizes):
    """``[(name, shape)]`` of an MLP with layer widths ``sizes``, for a Layout.

    Layer i has ``{prefix}.W{i}`` of shape (sizes[i], sizes[i + 1]) and
    ``{prefix}.b{i}``.
    """
    shapes = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        shapes += [(f"{prefix}.W{i}", (fan_in, fan_out)),
                   (f"{prefix}.b{i}", (fan_out,))]
    return shapes


def mlp_views(views, prefix, n_layers):
    """The weight and bias views of an MLP out of a Layout's ``{name: view}``."""
    layers = range(n_layers)
    return ([views[f"{prefix}.W{i}"] for i in layers],
            [views[f"{prefix}.b{i}"] for i in layers])


def initialize(weights, biases, rng, activation):
    """Glorot-uniform weights and zero biases, layer by layer (in draw order)."""
    for W, b in zip(weights, biases, strict=True):
        W[...] = glorot_uniform(rng, *W.shape, activation, W.dtype)
        b[...] = 0


def glorot_uniform(rng, fan_in, fan_out, activation, dtype):
    """Glorot/Xavier uniform weights, scaled as scikit-learn's MLP does.

    The bound is ``sqrt(factor / (fan_in + fan_out))`` with factor 2 for the
    logistic activation and 6 otherwise.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    bound = np.sqrt(factor / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)


def forward(weights, biases, X, activation):
    """Run the network on X.

    Returns
    -------
    outputs : list of ndarray
        ``[X, h_1, ..., h_L, output]``: the input and every layer's output
        (after its activation), all kept for the backward pass.
    """
    act = ACTIVATIONS[activation]
    outputs = [X]
    last = len(weights) - 1
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        H = outputs[-1] @ W
        H += b
        if i < last:
            act(H)
        outputs.append(H)
    return outputs


def backward(weights, outputs, delta, activation, weight_grads, bias_grads, *,
             input_grad=True):
    """Back-propagate ``delta`` = dLoss/d(output) through the network.

    Writes dLoss/dW[i] into ``weight_grads[i]`` and dLoss/db[i] into
    ``bias_grads[i]`` (views of the flat gradient buffer), and returns
    dLoss/dX, or None when ``input_grad`` is False.
    """
    deriv = DERIVATIVES[activation]
    # Bias gradients as ones @ delta, a BLAS product, quicker than
    # np.sum(axis=0) (benchmarks/bench_throughput.py times the whole step).
    ones = np.ones(delta.shape[0], dtype=delta.dtype)
    for i in range(len(weights) - 1, -1, -1):
        # np.matmul, not np.dot: for A.T @ B into out=, NumPy 2's np.dot is
        # the slower of the two.
        np.matmul(outputs[i].T, delta, out=weight_grads[i])
        np.matmul(ones, delta, out=bias_grads[i])
        if i == 0 and not input_grad:
            return None
        delta = delta @ weights[i].T
        if i > 0:
            deriv(outputs[i], delta)
    return delta


class MLPPart(Part):
    """A part that is one MLP: layer sizes ``self.sizes``, hidden activation
    ``self.activation``, arrays named by ``self.prefix``.

    Subclasses set those three attributes and add what they read from the
    network's last layer.
    """

    _VIEWS = ("W", "b", "_grad_W", "_grad_b")

    def shapes(self):
        return mlp_shapes(self.prefix, self.sizes)

    def bind(self, params, grads):
        n_layers = len(self.sizes) - 1
        self.W, self.b = mlp_views(params, self.prefix, n_layers)
        self._grad_W, self._grad_b = mlp_views(grads, self.prefix, n_layers)

    def weights(self):
        return list(zip(self.W, self._grad_W, strict=True))

    def initialize(self, rng):
        initialize(self.W, self.b, rng, self.activation)
