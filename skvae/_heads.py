"""Output heads: the likelihood p(x | a) at the end of every decoder.

A decoder turns a code into one output ``a_j`` per feature; the head reads
them as a distribution over x and owns whatever that needs beyond ``a``:

- :class:`BernoulliHead`: ``a`` are logits; no parameters of its own.
- :class:`GaussianHead`: ``a`` are means; a learned per-feature variance
  ``var = var_floor + exp(s)``, its floor a fraction of the data's mean
  feature variance, so that it follows the data's scale and cannot collapse.

Each head starts the decoder at the data (its output bias at the data's mean,
or its logit, and the variance at the data's), scores ``log p(x | a)`` with
its gradient in ``a`` (and in its own parameters), gives the mean ``E[x | a]``
and draws samples.  A head is shared by every decoder, so a new decoder gets
both likelihoods for free.
"""

import math

import numpy as np
from scipy.special import logit

from ._nn.layout import Part
from ._nn.likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_and_grad,
    bernoulli_mean,
    gaussian_log_prob,
    gaussian_log_prob_grads,
    variance_floor,
)


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


class BernoulliHead(Part):
    """p(x | a) = prod_j sigmoid(a_j)^x_j (1 - sigmoid(a_j))^(1 - x_j), x in [0, 1].

    Parameters
    ----------
    n_features : int
        Number of features d.
    """

    def __init__(self, n_features):
        self.n_features = n_features

    def scaler(self, X, sample_weight=None):
        """The data stay in [0, 1]: no scaling."""
        return DataScaler.identity(self.n_features)

    def initialize(self, X, output_bias, var_floor_fraction, sample_weight=None):
        """Start the logits at the logit of each feature's (weighted) mean."""
        mean, _ = feature_mean_var(X, sample_weight)
        output_bias[...] = logit(np.clip(mean, 1e-3, 1 - 1e-3))

    def log_prob(self, X, a):
        """log p(x | a), summed over the last axis, broadcast over leading ones."""
        return bernoulli_log_prob(X, a)

    def forward(self, X, a):
        """log p(x | a) per row and what :meth:`backward` needs (d log p / d a)."""
        return bernoulli_log_prob_and_grad(X, a)

    def backward(self, d_a, row_weights):
        """d (sum_i w_i log p(x_i | a_i)) / d a, in place of ``d_a``."""
        d_a *= row_weights[:, None]
        return d_a

    def mean(self, a):
        """E[x | a] = sigmoid(a)."""
        return bernoulli_mean(a)

    def sample(self, a, uniform, features=slice(None)):
        """Draw x given uniform(0, 1) noise: x_j = [u_j < sigmoid(a_j)].

        ``features`` says which features ``a`` holds (all by default).
        """
        return (uniform < bernoulli_mean(a)).astype(a.dtype)

    def reconstruction_error(self, X, a):
        """Binary cross-entropy, summed over features."""
        return -bernoulli_log_prob(X, a)


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


HEADS = {"bernoulli": BernoulliHead, "gaussian": GaussianHead}
