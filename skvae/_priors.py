"""Priors p(z), and the densities of the diagonal Gaussian posterior.

The posterior q(z|x) = N(mu, diag(exp(log_var))) is sampled by the
reparameterization z = mu + exp(log_var / 2) * eps with eps ~ N(0, I).
The priors are parts (:class:`skvae._nn.layout.Part`) behind one protocol,
registered by name in ``PRIORS``.
"""

import math

import numpy as np

from ._flow import AutoregressiveFlowPrior
from ._nn.layout import Part

LOG_2PI = math.log(2 * math.pi)  # a Python float: keeps float32 arrays float32


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


def standard_normal_log_density(Z):
    """log N(z; 0, I), summed over the last axis."""
    return -0.5 * (np.sum(Z**2, axis=-1) + Z.shape[-1] * LOG_2PI)


def posterior_log_density(eps, log_var):
    """log q(z|x) at z = mu + exp(log_var / 2) * eps, from eps and log_var.

    -1/2 sum_k (eps_k^2 + log_var_k + log 2 pi): the density of a diagonal
    Gaussian at a point written through its standardized noise.
    """
    return -0.5 * (np.sum(eps**2, axis=-1) + np.sum(log_var, axis=-1)
                   + eps.shape[-1] * LOG_2PI)


# -- priors as parts ------------------------------------------------------------
#
# Every prior follows one protocol, so the objective never asks which it holds:
#
# - ``noise_dims``: columns of standard normal noise the prior needs of its
#   own (0 here; a hierarchical prior's top-level code). The network draws
#   noise of k + noise_dims columns, reparameterizes z with the first k
#   (``eps``) and hands the prior the rest (``noise``); free bits count
#   these columns as latent dimensions too;
# - ``kl_terms(mu, log_var, eps, Z, noise)`` -> ``(terms, cache)``: one draw's
#   KL per row, as an (n, n_groups) array that free bits can hold per group,
#   for codes Z = mu + std * eps of shape (n, k);
# - ``kl_backward(cache, kl_coef, beta, mu, log_var, eps, Z)`` -> the
#   gradients of beta * sum(kl_coef * terms) in mu, log_var and Z (None for
#   a term that does not arise), writing the prior's own gradients;
# - ``kl(mu, log_var, eps, Z, noise)``: the per-row KL averaged over a stack
#   of draws;
# - ``log_density(Z, noise)``, and ``log_density_forward(Z, noise)`` /
#   ``log_density_backward`` for the importance-weighted bound: log p(z), or
#   for a prior with noise of its own a one-draw estimate whose exponential
#   is unbiased for p(z);
# - ``sample(eps, noise)``: codes from standard normal noise.
#
# The priors here need no noise of their own and ignore ``noise``.


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


class FlowPrior(Part):
    """A learned autoregressive-flow prior (:mod:`skvae._flow`, Chen et al. 2017).

    Its KL does not split by dimension: the one-draw estimate
    log q(z|x) - log p(z) is a single group.

    Parameters
    ----------
    n_components : int
        Dimension k of z.
    n_flow_layers : int
        Affine autoregressive layers.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of each layer's MADE.
    activation : str
        Hidden activation of the MADEs.
    """

    _VIEWS = ("_params", "_grads")
    noise_dims = 0

    def __init__(self, n_components, n_flow_layers, hidden_layer_sizes, activation):
        self.n_components = n_components
        self.flow = AutoregressiveFlowPrior(n_components, n_flow_layers,
                                            hidden_layer_sizes, activation)

    @classmethod
    def from_settings(cls, n_components, activation, settings):
        """Build from the settings ``n_flow_layers``, ``flow_hidden_layer_sizes``."""
        return cls(n_components, settings["n_flow_layers"],
                   tuple(settings["flow_hidden_layer_sizes"]), activation)

    def shapes(self):
        return self.flow.shapes()

    def bind(self, params, grads):
        self._params = self.flow.params(params)
        self._grads = self.flow.params(grads)

    def weights(self):
        return [(W, gW) for P, G in zip(self._params, self._grads, strict=True)
                for W, gW in zip(P.W, G.W, strict=True)]

    def initialize(self, rng):
        self.flow.initialize(self._params, rng)  # starts as N(0, I)

    def kl_terms(self, mu, log_var, eps, Z, noise=None):
        log_pz, state = self.flow.log_prob_forward(self._params, Z)
        return (posterior_log_density(eps, log_var) - log_pz)[:, None], state

    def kl_backward(self, cache, kl_coef, beta, mu, log_var, eps, Z):
        # -log p(z) reaches z (and the flow's parameters); log q at fixed
        # eps contributes -1/2 per dimension to d/d log_var.
        coef = np.broadcast_to(kl_coef, (Z.shape[0], 1)).astype(Z.dtype)
        d_Z = self.flow.backward(self._grads, cache, -beta * coef[:, 0])
        return None, -(0.5 * beta * coef), d_Z

    def kl(self, mu, log_var, eps, Z, noise=None):
        return np.mean(posterior_log_density(eps, log_var) - self.log_density(Z),
                       axis=0)

    def log_density(self, Z, noise=None):
        return self.flow.log_prob(self._params, Z)

    def log_density_forward(self, Z, noise=None):
        return self.flow.log_prob_forward(self._params, Z)

    def log_density_backward(self, cache, row_weights):
        return self.flow.backward(self._grads, cache, row_weights)

    def sample(self, eps, noise=None):
        return self.flow.sample(self._params, eps)

