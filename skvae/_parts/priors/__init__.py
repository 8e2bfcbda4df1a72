"""Priors p(z): parts behind one protocol, registered by name in ``PRIORS``.

Every prior follows one protocol, so the objective never asks which it holds:

- ``noise_dims``: columns of standard normal noise the prior needs of its
  own (0 for N(0, I) and the flow; the hierarchical prior's top-level
  code). The network draws noise of k + noise_dims columns,
  reparameterizes z with the first k (``eps``) and hands the prior the rest
  (``noise``); free bits count these columns as latent dimensions too;
- ``kl_terms(mu, log_var, eps, Z, noise)`` -> ``(terms, cache)``: one draw's
  KL per row, as an (n, n_groups) array that free bits can hold per group,
  for codes Z = mu + std * eps of shape (n, k);
- ``kl_backward(cache, kl_coef, beta, mu, log_var, eps, Z)`` -> the
  gradients of beta * sum(kl_coef * terms) in mu, log_var and Z (None for
  a term that does not arise), writing the prior's own gradients;
- ``kl(mu, log_var, eps, Z, noise)``: the per-row KL averaged over a stack
  of draws;
- ``log_density(Z, noise)``, and ``log_density_forward(Z, noise)`` /
  ``log_density_backward`` for the importance-weighted bound: log p(z), or
  for a prior with noise of its own a one-draw estimate whose exponential
  is unbiased for p(z);
- ``sample(eps, noise)``: codes from standard normal noise.

One module per prior: :mod:`.normal` (N(0, I), with the densities of the
diagonal Gaussian posterior that every prior's KL uses), :mod:`.flow` (a
learned autoregressive flow) and :mod:`.hierarchical` (a second stochastic
layer).  ``PRIORS`` below maps the estimators' ``prior`` values to them; each
builds itself from the estimator's settings with ``from_settings``.  A new
prior is one new module and one line in ``PRIORS``.

Imports: :mod:`skvae._nn` and the encoder part; no scikit-learn.
"""

from .flow import FlowPrior
from .hierarchical import HierarchicalPrior
from .normal import StandardNormalPrior

PRIORS = {"normal": StandardNormalPrior, "flow": FlowPrior,
          "hierarchical": HierarchicalPrior}
