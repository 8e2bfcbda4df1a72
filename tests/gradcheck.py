"""Central finite differences in float64, shared by the gradient tests."""

import numpy as np


def numerical_gradient(f, x, h=1e-6):
    """d f / d x by central differences, perturbing ``x`` in place.

    ``f`` is a scalar function that reads ``x`` (e.g. through views of a flat
    parameter buffer); ``x`` is restored after each perturbation.
    """
    grad = np.empty(x.size)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad.reshape(x.shape)


def relative_error(analytic, numeric):
    """||a - n|| / max(||a||, ||n||): the measure held below 1e-6."""
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    assert scale > 0, "both gradients are zero: the check would be vacuous"
    return np.linalg.norm(analytic - numeric) / scale
