"""Central finite differences in float64, shared by the gradient tests, and
the semi-supervised tests' shared setup."""

import numpy as np
from sklearn.datasets import load_digits

# The semi-supervised networks' tests: three classes with unequal priors, and
# the smallest variant parts.
N_CLASSES = 3
LOG_PRIOR = np.log([0.2, 0.3, 0.5])
SETTINGS = {"n_flow_layers": 1, "flow_hidden_layer_sizes": (3,), "n_top_components": 2,
            "top_hidden_layer_sizes": (3,), "window": None}


def partly_labeled_digits(n_rows, n_labeled=60):
    """The first ``n_rows`` digits scaled to [0, 1], their classes, and the
    classes with all but the first ``n_labeled`` replaced by -1 (unlabeled)."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:n_rows] / 16, y[:n_rows]
    partial = np.full_like(y, -1)
    partial[:n_labeled] = y[:n_labeled]
    return X, y, partial


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


def partly_labeled_batch(net, X, rng, labeled_every, n_classes):
    """One-hot classes for every ``labeled_every``-th row (none for 0), and
    one draw of noise, in the network's dtype: a batch for a semi-supervised
    network's gradient check."""
    n = X.shape[0]
    C = np.zeros((n, n_classes))
    if labeled_every:
        rows = np.arange(0, n, labeled_every)
        C[rows, rng.integers(0, n_classes, rows.size)] = 1
    eps = rng.standard_normal((1, n, net.noise_dims))
    return net, X.astype(net.dtype), C.astype(net.dtype), eps.astype(net.dtype)


def gradient_error(net, X, C, eps, objective, alpha=0.3, sample_weight=None):
    """Relative error of a semi-supervised network's loss_and_grad gradient."""
    def loss():
        return net.loss_and_grad(X, eps, objective, alpha, C, sample_weight)

    loss()
    analytic = net.grad.copy()
    return relative_error(analytic, numerical_gradient(loss, net.params))
