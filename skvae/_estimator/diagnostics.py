"""How much each latent dimension is used: its KL, and which dimensions are active.

A VAE switches off latent dimensions it does not need: their posterior
q(z_k|x) stays at the prior whatever x is ("posterior collapse" of a
dimension), so they carry no information about x. The measure is the mean
over the training rows (weighted by ``sample_weight`` when given) of
KL(q(z_k|x) || N(0, 1)), in nats:

- it bounds the information the dimension carries about x: for any
  distribution r, I(x; z_k) = E_x KL(q(z_k|x) || q(z_k)) <= E_x KL(q(z_k|x)
  || r), and r = N(0, 1) gives this measure;
- with the standard normal prior the model's KL term splits exactly into
  these numbers (they sum to the mean KL of the ELBO). Under the flow prior
  the model's KL does not split by dimension; the numbers then measure each
  dimension's departure from the flow's base distribution, still bound its
  information, and do not sum to the model's KL (a dimension shifted away
  from N(0, 1) but constant over x then counts as active).

A dimension is active when its bound exceeds ``ACTIVE_KL`` nats. The active
units of Burda et al. (2016), the variance over rows of the posterior mean
above 0.01, flagged every dimension of models that L-BFGS-B leaves with
0.01 nats in the unused ones (their posterior means still vary by about
0.1), so the mask uses the information bound instead.
"""

import numpy as np

from .._parts.priors.normal import standard_normal_kl_terms

# Nats of KL(q(z_k|x) || N(0, 1)), averaged over rows, above which a latent
# dimension counts as active (0.1 nats is 0.14 bits).
ACTIVE_KL = 0.1


def kl_terms(mu, std):
    """KL(q(z_k|x) || N(0, 1)) of each row and dimension, in nats (float64).

    Parameters
    ----------
    mu, std : ndarray of shape (n_samples, n_components)
        Posterior means and standard deviations of the rows.
    """
    mu = np.asarray(mu, dtype=np.float64)
    log_var = 2 * np.log(np.asarray(std, dtype=np.float64))
    return standard_normal_kl_terms(mu, log_var)


def mean_kl(mu, std, sample_weight=None):
    """Mean KL(q(z_k|x) || N(0, 1)) of each dimension over the rows.

    Parameters
    ----------
    mu, std : ndarray of shape (n_samples, n_components)
        Posterior means and standard deviations of the rows.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the rows in the means.

    Returns
    -------
    kl_per_component : ndarray of shape (n_components,)
        In nats (float64).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._estimator.diagnostics import active_components, mean_kl
    >>> mu = np.array([[1.0, 0.0], [-1.0, 0.0]])
    >>> kl = mean_kl(mu, np.ones_like(mu))
    >>> kl.tolist(), active_components(kl).tolist()
    ([0.5, 0.0], [True, False])
    """
    return np.average(kl_terms(mu, std), axis=0, weights=sample_weight)


def active_components(kl_per_component):
    """The mask of dimensions whose mean KL exceeds ``ACTIVE_KL``."""
    return kl_per_component > ACTIVE_KL
