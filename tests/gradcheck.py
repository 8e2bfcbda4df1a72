"""The one shared gradient check: analytic gradient vs central finite differences."""

import numpy as np


def numerical_gradient(f, x, h=1e-6):
    """Central differences of the scalar ``f()`` w.r.t. ``x``, perturbed in place."""
    grad = np.empty(x.size)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(x.shape)


def relative_error(analytic, numeric):
    """||a - n|| / ||a + n||, the norm-wise relative error of two gradients."""
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    denominator = np.linalg.norm(analytic + numeric)
    if denominator == 0:
        return float(np.linalg.norm(analytic - numeric))
    return float(np.linalg.norm(analytic - numeric) / denominator)
