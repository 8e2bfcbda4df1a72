"""The Gaussian head: p(x | a) with means a and a learned per-feature variance."""


import numpy as np

from ..._nn.gaussian import gaussian_log_prob, gaussian_log_prob_grads
from ..._nn.layout import Part
from ..._nn.likelihoods import variance_floor
from .scaling import DataScaler, feature_mean_var


class GaussianHead(Part):
    """p(x | a) = N(x; a, diag(var)), var_j = var_floor + exp(s_j) learned.

    Parameters
    ----------
    n_features : int
        Number of features d.
    prefix : str
        Name prefix of the log-variance parameter, the decoder's.

    Attributes
    ----------
    var_floor : float
        Lower bound of the variance, set from the data by :meth:`initialize`.
    """

    def __init__(self, n_features, prefix="decoder"):
        self.n_features = n_features
        self.prefix = prefix
        self.var_floor = 0.0

    def shapes(self):
        return [(self._name, (self.n_features,))]

    def scaler(self, X, sample_weight=None):
        """Standardize: per-feature mean, one scale (see :class:`DataScaler`)."""
        return DataScaler.standardizing(X, sample_weight)

    @property
    def _name(self):
        return f"{self.prefix}.log_var_above_floor"

    def bind(self, params, grads):
        self.log_var_above_floor = params[self._name]
        self._grad_log_var = grads[self._name]

    _VIEWS = ("log_var_above_floor", "_grad_log_var")

    def initialize(self, X, output_bias, var_floor_fraction, sample_weight=None):
        """Start at the data: mean as the output bias, variance plus the floor."""
        mean, var = feature_mean_var(X, sample_weight)
        self.var_floor = variance_floor(var, var_floor_fraction)
        output_bias[...] = mean
        self.log_var_above_floor[...] = np.log(var + self.var_floor)

    @property
    def var(self):
        """Per-feature variance, var_floor + exp(s)."""
        return self.var_floor + np.exp(self.log_var_above_floor)

    def log_prob(self, X, a):
        """log p(x | a), summed over the last axis, broadcast over leading ones."""
        return gaussian_log_prob(X, a, self.var).astype(X.dtype, copy=False)

    def forward(self, X, a):
        """log p(x | a) per row and what :meth:`backward` needs."""
        var = self.var
        log_p = gaussian_log_prob(X, a, var).astype(X.dtype, copy=False)
        d_a, d_var = gaussian_log_prob_grads(X, a, var)
        return log_p, (d_a, d_var, var)

    def backward(self, cache, row_weights):
        """d (sum_i w_i log p(x_i | a_i)) / d a; writes the variance's gradient."""
        d_a, d_var, var = cache
        # d/ds_j = sum_i w_i d log p_i / d var_j * exp(s_j)
        np.dot(row_weights, d_var, out=self._grad_log_var)
        self._grad_log_var *= var - self.var_floor
        d_a *= row_weights[:, None]
        return d_a

    def mean(self, a):
        """E[x | a] = a."""
        return a

    def sample(self, a, normal, features=slice(None)):
        """Draw x given standard normal noise: x = a + sqrt(var) * noise.

        ``features`` says which features ``a`` holds (all by default).
        """
        return a + np.sqrt(self.var)[features] * normal

    def reconstruction_error(self, X, a):
        """Squared error, summed over features."""
        return np.sum((X - a) ** 2, axis=-1)

