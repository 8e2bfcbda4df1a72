"""Training objectives: the ELBO and the importance-weighted bound, and their variants.

:class:`ELBO` and :class:`IWAE` turn what the network computed on a batch into
the loss and the weights of its gradient (see
:meth:`skvae._models.vae.VAENetwork.loss_and_grad`).  The variants are pure
functions of the quantities the objective already computes; each returns its
value and the gradient the objective chains into the networks.

- KL warm-up: the KL weight ramps linearly from 0 to beta over the first
  ``kl_warmup`` iterations (Bowman et al. 2016; Sønderby et al. 2016).
- Free bits (Kingma et al. 2016, appendix C): the KL is split into groups
  (one per latent dimension for the standard normal prior); each group's
  KL, averaged over the batch, is replaced by ``max(free_bits, mean KL)``, so
  a group that carries fewer than ``free_bits`` nats is not pushed lower.
- IWAE (Burda et al. 2016): log (1/K) sum_k w_k per row, whose gradient is the
  per-draw gradient of log w_k weighted by the normalized weights softmax(log w).
"""

import math

import numpy as np
from scipy.special import logsumexp, softmax

from .._nn.gaussian import posterior_log_density


def kl_weight(iteration, beta, kl_warmup):
    """KL weight at a 0-based ``iteration``: ``beta * min(1, iteration / kl_warmup)``.

    0 at the first iteration, beta from iteration ``kl_warmup`` on; a
    ``kl_warmup`` of 0 means no warm-up.

    Examples
    --------
    >>> from skvae._models.objectives import kl_weight
    >>> [kl_weight(t, 2.0, 4) for t in range(6)]
    [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    """
    if kl_warmup == 0:
        return beta
    return beta * min(1.0, iteration / kl_warmup)


def free_bits_kl(kl, free_bits, weights=None):
    """Free-bits KL of a batch and its gradient.

    Parameters
    ----------
    kl : ndarray of shape (n_samples, n_groups)
        Per-sample KL of each group (e.g. of each latent dimension; with a
        prior that does not factorize, the total as a single group).
    free_bits : float
        Nats per group below which the batch-mean KL is not penalized.
    weights : ndarray of shape (n_samples,), default=None
        Each row's share of the batch (summing to one) for a weighted mean;
        None weighs the rows equally.

    Returns
    -------
    value : float
        ``sum_g max(free_bits, mean_i kl[i, g])``, a batch total that replaces
        ``mean_i sum_g kl[i, g]`` in the loss.
    grad : ndarray of shape (n_samples, n_groups)
        d value / d kl[i, g]: ``1 / n`` (or the row's weight) where the
        group's mean exceeds ``free_bits``, else 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._models.objectives import free_bits_kl
    >>> value, grad = free_bits_kl(np.array([[0.1, 2.0], [0.3, 4.0]]), 0.5)
    >>> float(value), grad.tolist()
    (3.5, [[0.0, 0.5], [0.0, 0.5]])
    """
    mean = kl.mean(axis=0) if weights is None else weights @ kl
    active = mean > free_bits
    value = np.sum(np.where(active, mean, free_bits))
    if weights is None:
        grad = np.broadcast_to(active / kl.shape[0], kl.shape).astype(kl.dtype)
    else:
        grad = (weights[:, None] * active).astype(kl.dtype, copy=False)
    return value, grad


def iwae_bound(log_w):
    """Importance-weighted bound per sample and its gradient.

    Parameters
    ----------
    log_w : ndarray of shape (K, n_samples)
        log p(x, z_k) - log q(z_k | x) for K draws z_k from q per sample.

    Returns
    -------
    bound : ndarray of shape (n_samples,)
        ``logsumexp_k(log_w) - log K``.
    weights : ndarray of shape (K, n_samples)
        d bound / d log_w = softmax over the K draws.  The gradient of the
        bound with respect to any parameter is ``sum_k weights[k] *
        d log_w[k] / d parameter``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._models.objectives import iwae_bound
    >>> bound, weights = iwae_bound(np.log(np.array([[1.0], [3.0]])))
    >>> round(float(bound[0]), 12), weights.ravel().tolist()  # log 2: the mean of 1, 3
    (0.69314718056, [0.25, 0.75])
    """
    bound = logsumexp(log_w, axis=0) - math.log(log_w.shape[0])
    return bound, softmax(log_w, axis=0)


class ELBO:
    """The (beta-weighted, optionally free-bits) ELBO as a training objective.

    Given log p(x|z) of one draw per row, returns the batch loss, the weight
    of each row's log p(x|z) in the loss (-1/n, or -w_i / sum w with sample
    weights), and the gradients of the KL term. With ``free_bits`` > 0 the
    KL term is ``sum_g max(free_bits * dims_g, mean_i KL_ig)`` over the
    prior's groups (Kingma et al. 2016): one
    per dimension for N(0, I), so a dimension carrying fewer than
    ``free_bits`` nats on the batch is not pushed further towards the prior;
    a single group of all k dimensions for a prior whose KL does not split.
    A prior with noise of its own (a hierarchical prior's top-level code)
    has that many more latent dimensions: its groups share all k +
    ``noise_dims`` of them.
    """

    n_draws = 1

    def __init__(self, beta=1.0, free_bits=0.0):
        self.beta = beta
        self.free_bits = free_bits

    def __call__(self, prior, log_px, mu, log_var, eps, Z, noise, weights=None):
        """``weights``: each row's share of the batch (summing to one), or
        None for 1/n each."""
        n, k = mu.shape
        beta = self.beta
        kl_terms, cache = prior.kl_terms(mu, log_var, eps[0], Z[0], noise[0])
        if self.free_bits:
            dims_per_group = (k + noise.shape[-1]) // kl_terms.shape[1]
            kl_value, kl_coef = free_bits_kl(kl_terms, self.free_bits * dims_per_group,
                                             weights)
        elif weights is None:
            kl_value, kl_coef = np.sum(kl_terms) / n, 1 / n
        else:
            kl_value, kl_coef = float(weights @ kl_terms.sum(axis=1)), weights[:, None]
        if weights is None:
            loss = -np.sum(log_px[0]) / n + beta * kl_value
            row_weights = np.full((1, n), -1 / n, dtype=mu.dtype)
        else:
            loss = -float(weights @ log_px[0]) + beta * kl_value
            row_weights = -weights[None]
        d_mu, d_log_var, d_Z = prior.kl_backward(cache, kl_coef, beta, mu, log_var,
                                                 eps[0], Z[0])
        return loss, row_weights, d_mu, d_log_var, None if d_Z is None else d_Z[None]


class IWAE:
    """The importance-weighted bound of K draws as a training objective.

    log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x), loss = -mean_i
    [logsumexp_k log w_ik - log K]; each draw's gradient of log w is weighted
    by softmax_k(log w), so the decoder's rows get weights -softmax / n.
    For a prior with noise of its own, log p(z_k) is the prior's one-draw
    estimate with the k-th draw of that noise (a hierarchical prior's
    log p(z1|z2) + log p(z2) - log q(z2|z1)): the bound of the joint model.
    """

    def __init__(self, n_draws):
        self.n_draws = n_draws

    def __call__(self, prior, log_px, mu, log_var, eps, Z, noise, weights=None):
        """``weights``: each row's share of the batch (summing to one), or
        None for 1/n each."""
        K, n, k = eps.shape
        log_pz, cache = prior.log_density_forward(
            Z.reshape(-1, k), noise.reshape(K * n, noise.shape[-1]))
        log_w = log_px + log_pz.reshape(K, n) - posterior_log_density(eps, log_var)
        bound, draw_weights = iwae_bound(log_w)
        if weights is None:
            loss = -np.sum(bound) / n
            row_weights = (draw_weights / -n).astype(mu.dtype, copy=False)
        else:
            loss = -float(weights @ bound)
            row_weights = (draw_weights * -weights).astype(mu.dtype, copy=False)
        d_Z = prior.log_density_backward(cache, row_weights.ravel()).reshape(K, n, k)
        # -log q at fixed eps: +1/2 per draw in d/d log_var.
        return loss, row_weights, None, 0.5 * row_weights.sum(axis=0)[:, None], d_Z
