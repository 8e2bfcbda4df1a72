"""The data's scaling: the units the networks work in, and the statistics behind it."""

import math

import numpy as np


def feature_mean_var(X, sample_weight=None, dtype=None):
    """Per-feature mean and variance of X, weighted by ``sample_weight`` if given.

    A weight of zero leaves a row out, an integer weight repeats it. Missing
    entries (NaN) are left out of their feature's statistics; a feature never
    observed gets mean 0 and variance 0.
    """
    if np.isnan(X).any():
        return _observed_mean_var(X, sample_weight, dtype)
    if sample_weight is None:
        return X.mean(axis=0, dtype=dtype), X.var(axis=0, dtype=dtype)
    weights = sample_weight.astype(dtype or X.dtype, copy=False)
    mean = np.average(X, axis=0, weights=weights)
    var = np.average((X - mean) ** 2, axis=0, weights=weights)
    return mean, var


def _observed_mean_var(X, sample_weight, dtype):
    observed = ~np.isnan(X)
    weights = observed.astype(dtype or X.dtype)
    if sample_weight is not None:
        weights *= sample_weight.astype(weights.dtype, copy=False)[:, None]
    total = weights.sum(axis=0)
    safe = np.where(total > 0, total, 1)
    values = np.where(observed, X, 0).astype(weights.dtype, copy=False)
    mean = (weights * values).sum(axis=0) / safe
    var = (weights * (values - mean) ** 2).sum(axis=0) / safe
    return mean, var


class DataScaler:
    """x -> (x - shift) / scale: the units the network works in.

    ``shift`` is the per-feature mean of the training data and ``scale`` the
    square root of its mean feature variance (one number, so that the
    features keep their relative scales and the variance floor its meaning).
    Densities of the original data get the log-Jacobian ``log_det`` = -d log
    scale added, so scores stay densities of x, whatever its offset and scale.
    The identity (shift 0, scale 1) for data that must stay in [0, 1]. A
    table's columns have units of their own: there ``scale`` is one number
    per feature (:func:`~.table.column_scaler`).
    """

    def __init__(self, shift, scale):
        self.shift = shift
        if np.ndim(scale) == 0:
            self.scale = float(scale)
            self.log_det = -shift.shape[0] * math.log(self.scale)
        else:
            self.scale = np.asarray(scale, dtype=np.float64)
            self.log_det = -float(np.sum(np.log(self.scale)))

    @property
    def error_scale(self):
        """What turns squared errors in the network's units into the data's:
        scale squared for one scale; 1 for one per feature (a table's errors
        stay in units of each column's standard deviation)."""
        return self.scale**2 if isinstance(self.scale, float) else 1.0

    def _is_identity(self):
        return (isinstance(self.scale, float) and self.scale == 1.0
                and not self.shift.any())

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

    def _scale_as(self, X):
        if isinstance(self.scale, float):
            return self.scale
        return self.scale.astype(X.dtype, copy=False)

    def transform(self, X):
        if self._is_identity():
            return X
        out = X - self.shift.astype(X.dtype, copy=False)
        out /= self._scale_as(X)
        return out

    def inverse_transform(self, X):
        if self._is_identity():
            return X
        out = X * self._scale_as(X)
        out += self.shift.astype(X.dtype, copy=False)
        return out
