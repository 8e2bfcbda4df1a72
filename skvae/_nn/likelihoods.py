"""Decoder likelihoods log p(x | a) and their gradients with respect to a.

``a`` is the decoder's output: logits for the Bernoulli likelihood.  The
Gaussian likelihood's density is :func:`skvae._nn.gaussian.gaussian_log_prob`;
its variance floor is here.  Every function sums over the last axis (features) and
broadcasts over any leading axes, so a stack of noise draws of shape
(n_draws, n_samples, n_features) is scored in one call.
"""

import numpy as np
from scipy.special import expit

from .activations import inplace_softplus


def softplus(a):
    """log(1 + exp(a)) = max(a, 0) + log1p(exp(-|a|)), stable for any a.

    In place on a copy, with fewer passes than ``np.logaddexp(0, a)``.
    """
    out = np.array(a, copy=True)
    inplace_softplus(out)
    return out


def bernoulli_log_prob(X, logits):
    """sum_j x_j a_j - softplus(a_j), with a stable softplus."""
    log_p = X * logits
    log_p -= softplus(logits)
    return np.sum(log_p, axis=-1)


def bernoulli_log_prob_and_grad(X, logits):
    """log p(x | a) per row and d log p / d a = x - sigmoid(a), in one pass.

    The gradient uses sigmoid(a) = (1 + tanh(a / 2)) / 2, which never
    overflows and is accurate to a few units of the last place in absolute
    terms (the gradient's scale), and takes fewer passes than the exact-ratio
    form selecting between 1 / (1 + e) and e / (1 + e) with ``np.where``,
    which is slow on signs that vary.
    """
    log_p = np.einsum("...j,...j->...", X, logits)
    log_p -= np.sum(softplus(logits), axis=-1)
    grad = np.multiply(logits, 0.5)
    np.tanh(grad, out=grad)
    grad *= -0.5
    grad += X
    grad -= 0.5
    return log_p, grad


def bernoulli_log_prob_grad(X, logits):
    """d log p / d logits = x - sigmoid(a)."""
    return X - expit(logits)


def bernoulli_mean(logits):
    """E[x | a] = sigmoid(a)."""
    return expit(logits)


def variance_floor(feature_var, fraction):
    """The Gaussian variance's lower bound: ``fraction`` of the mean feature variance.

    It follows the data's scale. When every feature is constant (one row, or
    constant columns) there is no scale to follow: the models work on data
    standardized to unit mean variance, so the floor is then ``fraction``.
    """
    mean = float(feature_var.mean())
    return fraction * (mean if mean > 0 else 1.0)
