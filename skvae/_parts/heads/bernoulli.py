"""The Bernoulli head: p(x | a) with logits a, for data in [0, 1]."""

import numpy as np
from scipy.special import logit

from ..._nn.layout import Part
from ..._nn.likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_and_grad,
    bernoulli_mean,
    softplus,
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

    # One column of the model matrix, one decoder output and one encoder
    # input per feature (the head protocol, docs/design.rst).
    n_columns = n_outputs = n_inputs = property(lambda self: self.n_features)

    def scaler(self, X, sample_weight=None):
        """The data stay in [0, 1]: no scaling."""
        return DataScaler.identity(self.n_features)

    def initialize(self, X, output_bias, var_floor_fraction, sample_weight=None):
        """Start the logits at the logit of each feature's (weighted) mean."""
        mean, _ = feature_mean_var(X, sample_weight)
        output_bias[...] = logit(np.clip(mean, 1e-3, 1 - 1e-3))

    def log_prob_terms(self, X, a, mask=None):
        """log p(x_j | a_j) of each entry, shape (..., n_features); 0 where masked."""
        terms = X * a
        terms -= softplus(a)
        if mask is not None:
            terms *= mask
        return terms

    def log_prob(self, X, a, mask=None):
        """log p(x | a), summed over the last axis, broadcast over leading ones.

        ``mask`` (1 observed, 0 missing, shape like X) leaves the missing
        entries out; None scores every entry.
        """
        if mask is not None:
            return np.sum(self.log_prob_terms(X, a, mask), axis=-1)
        return bernoulli_log_prob(X, a)

    def forward(self, X, a, mask=None):
        """log p(x | a) per row and what :meth:`backward` needs (d log p / d a)."""
        log_p, d_a = bernoulli_log_prob_and_grad(X, a)
        if mask is not None:
            log_p = np.sum(self.log_prob_terms(X, a, mask), axis=-1)
            d_a *= mask
        return log_p, d_a

    def backward(self, d_a, row_weights):
        """d (sum_i w_i log p(x_i | a_i)) / d a, in place of ``d_a``."""
        d_a *= row_weights[:, None]
        return d_a

    def mean(self, a):
        """E[x | a] = sigmoid(a)."""
        return bernoulli_mean(a)

    def mixture_mean(self, a, weights):
        """The mean of the mixture sum_k w_k p(x | a_k): sum_k w_k sigmoid(a_k).

        ``a`` has shape (K, n, n_outputs) and ``weights`` (K, n), each row's
        weights summing to one; the result has shape (n, n_features).
        """
        return np.einsum("kn,knd->nd", weights, bernoulli_mean(a))

    def sample(self, a, uniform, features=slice(None)):
        """Draw x given uniform(0, 1) noise: x_j = [u_j < sigmoid(a_j)].

        ``features`` says which features ``a`` holds (all by default).
        """
        return (uniform < bernoulli_mean(a)).astype(a.dtype)

    def draw(self, a, uniform):
        """Draw x given uniform(0, 1) noise, as :meth:`sample`."""
        return self.sample(a, uniform)

    def encoder_input(self, X, mask=None):
        """The encoder sees the data as they are (missing entries
        already filled, so ``mask`` changes nothing)."""
        return X

    def reconstruction_error(self, X, a, mask=None):
        """Binary cross-entropy, summed over the (observed) features."""
        if mask is None:
            return -bernoulli_log_prob(X, a)
        return -self.log_prob(X, a, mask)
