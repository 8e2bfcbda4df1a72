"""The Bernoulli head: p(x | a) with logits a, for data in [0, 1]."""

import numpy as np
from scipy.special import logit

from ..._nn.layout import Part
from ..._nn.likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_and_grad,
    bernoulli_mean,
)
from .scaling import DataScaler, feature_mean_var


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
