"""The standard normal prior N(0, I) and its KL divergence from the Gaussian posterior.

The posterior q(z|x) = N(mu, diag(exp(log_var))) is sampled by the
reparameterization z = mu + exp(log_var / 2) * eps with eps ~ N(0, I); its
density and that of N(0, I) are in :mod:`skvae._nn.gaussian`.
"""

import numpy as np

from ..._nn.gaussian import standard_normal_log_density
from ..._nn.layout import Part


def standard_normal_kl_terms(mu, log_var):
    """KL(N(mu, exp(log_var)) || N(0, I)) of each latent dimension.

    -1/2 (1 + log_var_k - mu_k^2 - exp(log_var_k)), elementwise.
    """
    return -0.5 * (1 + log_var - mu**2 - np.exp(log_var))


def standard_normal_kl(mu, log_var):
    """KL(N(mu, exp(log_var)) || N(0, I)), summed over the last axis."""
    return np.sum(standard_normal_kl_terms(mu, log_var), axis=-1)


def standard_normal_kl_grads(mu, log_var):
    """(dKL/dmu, dKL/dlog_var) = (mu, (exp(log_var) - 1) / 2)."""
    return mu, 0.5 * np.expm1(log_var)


# The standard normal prior needs no noise of its own and ignores ``noise``.


class StandardNormalPrior(Part):
    """p(z) = N(0, I): the KL is analytic and splits by dimension.

    Parameters
    ----------
    n_components : int
        Dimension k of z.
    """

    noise_dims = 0

    def __init__(self, n_components):
        self.n_components = n_components

    @classmethod
    def from_settings(cls, n_components, activation, settings):
        """Build from the estimator's settings (this prior has none)."""
        return cls(n_components)

    def initialize(self, rng):
        """Nothing to draw."""

    def kl_terms(self, mu, log_var, eps, Z, noise=None):
        return standard_normal_kl_terms(mu, log_var), None

    def kl_backward(self, cache, kl_coef, beta, mu, log_var, eps, Z):
        kl_mu, kl_log_var = standard_normal_kl_grads(mu, log_var)
        return beta * kl_coef * kl_mu, beta * kl_coef * kl_log_var, None

    def kl(self, mu, log_var, eps, Z, noise=None):
        return standard_normal_kl(mu, log_var)

    def log_density(self, Z, noise=None):
        return standard_normal_log_density(Z)

    def log_density_forward(self, Z, noise=None):
        return standard_normal_log_density(Z), Z

    def log_density_backward(self, Z, row_weights):
        # d log N(z; 0, I) / dz = -z
        return -(row_weights[:, None] * Z)

    def sample(self, eps, noise=None):
        return eps
