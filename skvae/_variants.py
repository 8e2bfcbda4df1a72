"""Training-objective variants: KL warm-up, free bits, the importance-weighted bound.

Pure functions of the quantities the objective already computes; each returns
its value and the gradient the objective chains into the networks.

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


def kl_weight(iteration, beta, kl_warmup):
    """KL weight at a 0-based ``iteration``: ``beta * min(1, iteration / kl_warmup)``.

    0 at the first iteration, beta from iteration ``kl_warmup`` on; a
    ``kl_warmup`` of 0 means no warm-up.

    Examples
    --------
    >>> from skvae._variants import kl_weight
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
    >>> from skvae._variants import free_bits_kl
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
    >>> from skvae._variants import iwae_bound
    >>> bound, weights = iwae_bound(np.log(np.array([[1.0], [3.0]])))
    >>> round(float(bound[0]), 12), weights.ravel().tolist()  # log 2: the mean of 1, 3
    (0.69314718056, [0.25, 0.75])
    """
    bound = logsumexp(log_w, axis=0) - math.log(log_w.shape[0])
    return bound, softmax(log_w, axis=0)
