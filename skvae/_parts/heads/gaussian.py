"""The Gaussian head: p(x | a) with means a and a learned per-feature variance."""


import numpy as np
from scipy.special import ndtri

from ..._nn.gaussian import LOG_2PI, gaussian_log_prob, gaussian_log_prob_grads
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

    # One column of the model matrix, one decoder output and one encoder
    # input per feature (the head protocol, docs/design.rst).
    n_columns = n_outputs = n_inputs = property(lambda self: self.n_features)

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

    def log_prob_terms(self, X, a, mask=None):
        """log p(x_j | a_j) of each entry, shape (..., n_features); 0 where masked."""
        var = self.var
        terms = (X - a) ** 2
        terms /= var
        terms += np.log(var) + LOG_2PI
        terms *= -0.5
        if mask is not None:
            terms *= mask
        return terms.astype(X.dtype, copy=False)

    def log_prob(self, X, a, mask=None):
        """log p(x | a), summed over the last axis, broadcast over leading ones.

        ``mask`` (1 observed, 0 missing, shape like X) leaves the missing
        entries out; None scores every entry.
        """
        if mask is not None:
            return np.sum(self.log_prob_terms(X, a, mask), axis=-1)
        return gaussian_log_prob(X, a, self.var).astype(X.dtype, copy=False)

    def forward(self, X, a, mask=None):
        """log p(x | a) per row and what :meth:`backward` needs."""
        var = self.var
        if mask is None:
            log_p = gaussian_log_prob(X, a, var).astype(X.dtype, copy=False)
        else:
            log_p = np.sum(self.log_prob_terms(X, a, mask), axis=-1)
        d_a, d_var = gaussian_log_prob_grads(X, a, var)
        if mask is not None:
            d_a *= mask
            d_var *= mask
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

    def mixture_mean(self, a, weights):
        """The mean of the mixture sum_k w_k p(x | a_k): sum_k w_k a_k.

        ``a`` has shape (K, n, n_outputs) and ``weights`` (K, n), each row's
        weights summing to one; the result has shape (n, n_features).
        """
        return np.einsum("kn,knd->nd", weights, a)

    def sample(self, a, normal, features=slice(None)):
        """Draw x given standard normal noise: x = a + sqrt(var) * noise.

        ``features`` says which features ``a`` holds (all by default).
        """
        return a + np.sqrt(self.var)[features] * normal

    def draw(self, a, uniform):
        """Draw x given uniform(0, 1) noise: :meth:`sample` of its normal quantiles."""
        return self.sample(a, ndtri(uniform).astype(a.dtype, copy=False))

    def encoder_input(self, X, mask=None):
        """The encoder sees the data in the network's units as they are (missing entries
        already filled, so ``mask`` changes nothing)."""
        return X

    def reconstruction_error(self, X, a, mask=None):
        """Squared error, summed over the (observed) features."""
        if mask is None:
            return np.sum((X - a) ** 2, axis=-1)
        return np.sum((X - a) ** 2 * mask, axis=-1)

