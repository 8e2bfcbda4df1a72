"""Output heads: the likelihood p(x | a) at the end of every decoder.

A decoder turns a code into one output ``a_j`` per feature; the head reads
them as a distribution over x and owns whatever that needs beyond ``a``:

- :class:`BernoulliHead`: ``a`` are logits; no parameters of its own.
- :class:`GaussianHead`: ``a`` are means; a learned per-feature variance
  ``var = var_floor + exp(s)``, its floor a fraction of the data's mean
  feature variance, so that it follows the data's scale and cannot collapse.
- :class:`CategoricalHead`: ``a`` are a block of logits per column, one per
  category; the column holds the category's code.
- :class:`TableHead`: one of the above per column of a mixed-type table,
  fixed at fit; it delegates to them (:mod:`.table`).

Each head starts the decoder at the data (its output bias at the data's mean,
or its logit, and the variance at the data's), scores ``log p(x | a)`` with
its gradient in ``a`` (and in its own parameters), gives the mean ``E[x | a]``
and draws samples.  A head is shared by every decoder, so a new decoder gets
both likelihoods for free.

One module per likelihood, each a :class:`~skvae._nn.layout.Part`, registered
by name in ``HEADS`` below (the estimators' ``likelihood`` values); the data
scaling they start from is in :mod:`.scaling`.  A new likelihood is one new
module and one line in ``HEADS``.

Imports: :mod:`skvae._nn` only; no scikit-learn.
"""

from .bernoulli import BernoulliHead
from .categorical import CategoricalHead
from .gaussian import GaussianHead
from .table import KINDS, TableHead

HEADS = {"bernoulli": BernoulliHead, "gaussian": GaussianHead}


def make_head(likelihood, n_features):
    """The head a network's spec names: a registered name for every feature
    alike, or a table's column layout ``{"kinds": ..., "n_categories": ...}``."""
    if isinstance(likelihood, dict):
        return TableHead(**likelihood)
    return HEADS[likelihood](n_features)


__all__ = ["HEADS", "KINDS", "BernoulliHead", "CategoricalHead", "GaussianHead",
           "TableHead", "make_head"]
