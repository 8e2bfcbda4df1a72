"""Activation functions and their derivatives, as name -> function tables.

Each activation works in place on the pre-activation array and leaves the
activation in it.  Each derivative multiplies the back-propagated ``delta`` in
place by the derivative, written in terms of the activation's *output* ``A``
so that the backward pass needs nothing but what the forward pass kept.
Adding an activation is two small functions and two table entries.
"""

import numpy as np
from scipy.special import expit


def inplace_identity(X):
    """Leave X unchanged."""


def inplace_relu(X):
    """Apply max(x, 0) in place."""
    np.maximum(X, 0, out=X)


def inplace_tanh(X):
    """Apply tanh in place."""
    np.tanh(X, out=X)


def inplace_logistic(X):
    """Apply the logistic sigmoid in place."""
    expit(X, out=X)


def inplace_softplus(X):
    """Apply log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)) in place."""
    e = np.abs(X)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=e)
    np.maximum(X, 0, out=X)
    X += e


def inplace_identity_derivative(A, delta):
    """Identity: the derivative is 1."""


def inplace_relu_derivative(A, delta):
    """ReLU: 1 where the output is positive, else 0."""
    # A multiply by the mask is several times faster than boolean indexing.
    np.multiply(delta, A > 0, out=delta)


def inplace_tanh_derivative(A, delta):
    """tanh: 1 - A**2."""
    delta *= 1 - A**2


def inplace_logistic_derivative(A, delta):
    """Logistic: A * (1 - A)."""
    delta *= A * (1 - A)


def inplace_softplus_derivative(A, delta):
    """Softplus: sigmoid(x) = 1 - exp(-A), written as -expm1(-A) for accuracy."""
    delta *= -np.expm1(-A)


ACTIVATIONS = {
    "identity": inplace_identity,
    "relu": inplace_relu,
    "tanh": inplace_tanh,
    "logistic": inplace_logistic,
    "softplus": inplace_softplus,
}

DERIVATIVES = {
    "identity": inplace_identity_derivative,
    "relu": inplace_relu_derivative,
    "tanh": inplace_tanh_derivative,
    "logistic": inplace_logistic_derivative,
    "softplus": inplace_softplus_derivative,
}
