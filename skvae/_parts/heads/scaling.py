"""The data's scaling: the units the networks work in, and the statistics behind it."""

import math

import numpy as np


def feature_mean_var(X, sample_weight=None, dtype=None):
    """Per-feature mean and variance of X, weighted by ``sample_weight`` if given.

    A weight of zero leaves a row out, an integer weight repeats it.
    """
    if sample_weight is None:
        return X.mean(axis=0, dtype=dtype), X.var(axis=0, dtype=dtype)
    weights = sample_weight.astype(dtype or X.dtype, copy=False)
    mean = np.average(X, axis=0, weights=weights)
    var = np.average((X - mean) ** 2, axis=0, weights=weights)
    return mean, var


class DataScaler:
    """x -> (x - shift) / scale: the units the network works in.

    ``shift`` is the per-feature mean of the training data and ``scale`` the
    square root of its mean feature variance (one number, so that the
    features keep their relative scales and the variance floor its meaning).
    Densities of the original data get the log-Jacobian ``log_det`` = -d log
    scale added, so scores stay densities of x, whatever its offset and scale.
    The identity (shift 0, scale 1) for data that must stay in [0, 1].
    """

    def __init__(self, shift, scale):
        self.shift = shift
        self.scale = float(scale)
        self.log_det = -shift.shape[0] * math.log(self.scale)

    @classmethod
    def identity(cls, n_features):
        return cls(np.zeros(n_features), 1.0)

    @classmethod
    def standardizing(cls, X, sample_weight=None):
        """Shift and scale from X's (weighted) statistics, in float64."""
        shift, var = feature_mean_var(X, sample_weight, np.float64)
        mean_var = float(np.mean(var))
        scale = math.sqrt(mean_var) if mean_var > 0 and math.isfinite(mean_var) else 1.0
        return cls(shift, scale)

    def transform(self, X):
        if self.scale == 1.0 and not self.shift.any():
            return X
        out = X - self.shift.astype(X.dtype, copy=False)
        out /= self.scale
        return out

    def inverse_transform(self, X):
        if self.scale == 1.0 and not self.shift.any():
            return X
        out = X * self.scale
        out += self.shift.astype(X.dtype, copy=False)
        return out
