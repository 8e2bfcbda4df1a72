"""Imputation by a fitted VAE network: the missing entries given the observed.

The missing-data importance-weighted autoencoder (MIWAE, Mattei & Frellsen
2019). For a row x with observed entries x_obs and missing ones x_mis, draw
z_k ~ q(z | x_obs) (the encoder sees the observed entries, the gaps filled,
and, for a network fitted with gaps, the mask), k = 1..K, and weigh each draw
by

    w_k ∝ p(x_obs | z_k) p(z_k) / q(z_k | x_obs),    sum_k w_k = 1,

the self-normalized importance weights of the posterior p(z | x_obs). Then

    E[x_mis | x_obs] ≈ sum_k w_k E[x_mis | z_k]

for Gaussian and Bernoulli columns; for a categorical column, the category
of largest sum_k w_k p(category | z_k), the mixture's mode, is returned
(the heads' ``mixture_mean``). :func:`draw_missing` draws one completion
instead: k with probability w_k, then x_mis ~ p(x_mis | z_k), a draw from
the same approximation of p(x_mis | x_obs) (multiple imputation).

A row with nothing observed has p(x_obs | z) = 1: its weights are those of
the prior's importance sampling, p(z_k) / q(z_k | x), and its imputation is
the model's mean under the prior.

Both functions take X in the data's units with NaN where an entry is missing,
and the noise, and return X with its gaps filled and every observed entry as
it was. The scaling's log-Jacobian is the same for every draw of a row, so it
cancels from the normalized weights and is left out.

Imports: NumPy, SciPy, :mod:`skvae._nn`; no scikit-learn.
"""

import numpy as np
from scipy.special import softmax

from .._nn.gaussian import posterior_log_density, reparameterize


def importance_draws(net, X, eps):
    """The draws z_k ~ q(z | x_obs), their decoder outputs and normalized weights.

    ``eps`` is standard normal noise of shape (K, n_samples or 1,
    ``net.noise_dims``). Returns the codes (K, n, k), the decoder's outputs
    a(z_k) of shape (K, n, n_outputs) and the weights w of shape (K, n),
    each column summing to one.
    """
    eps, noise = net._split_noise(eps)
    X, mask, encoder_input = net.inputs(X)
    mu, log_var = net.encoder.encode(encoder_input)
    Z, _ = reparameterize(mu, log_var, eps)
    K, n, k = Z.shape
    a = net.decoder.output(net._decoder_input(Z.reshape(K * n, k), None))
    a = a.reshape(K, n, a.shape[-1])
    log_w = (net.decoder.head.log_prob(X, a, mask)
             + net.prior.log_density(Z, noise)
             - posterior_log_density(eps, log_var))
    return Z, a, softmax(log_w, axis=0)


def impute_mean(net, X, eps):
    """X with each missing entry replaced by its estimated conditional mean
    given the row's observed entries (the most probable category for a
    categorical column), by ``K = eps.shape[0]`` importance draws."""
    _, a, weights = importance_draws(net, X, eps)
    estimate = net.scaler.inverse_transform(
        net.decoder.head.mixture_mean(a, weights))
    return np.where(np.isnan(X), estimate.astype(X.dtype, copy=False), X)


def draw_missing(net, X, eps, uniform):
    """X with its missing entries drawn from the estimated p(x_mis | x_obs).

    ``uniform`` holds uniform(0, 1) noise of shape (n_samples,
    1 + n_features): its first column picks the draw z_k by the weights
    (inverse CDF), the others draw x ~ p(x | z_k) through the head.
    """
    Z, _, weights = importance_draws(net, X, eps)
    cumulative = np.cumsum(weights, axis=0)
    picked = np.minimum((cumulative < uniform[:, 0]).sum(axis=0), Z.shape[0] - 1)
    codes = Z[picked, np.arange(Z.shape[1])]
    drawn = net.decoded_draw(codes, uniform[:, 1:])
    return np.where(np.isnan(X), drawn.astype(X.dtype, copy=False), X)
