"""Vector quantization (VQ-VAE) and the VQ network around it.

The VQ-VAE of van den Oord et al. (2017), with an MLP encoder and decoder.
The encoder maps x to ``n_groups`` vectors of ``code_dim`` entries; each is
replaced by the nearest vector of its group's codebook of ``n_codes``
entries; the decoder maps the concatenated code vectors to the likelihood's
parameters (Gaussian means, or Bernoulli logits)::

    z_e = encoder(x)                        shape (n_groups, code_dim)
    c_g = argmin_k ||z_e,g - e_g,k||^2      one integer code per group
    z_q,g = e_g,c_g
    loss = -log p(x | decoder(z_q)) + commitment_cost * ||z_e - sg(z_q)||^2

``sg`` stops the gradient: the second term, the commitment loss, pulls the
encoder towards its codes. The argmin has no gradient, so the decoder's
gradient with respect to z_q is passed to z_e unchanged (the straight-through
estimator): the encoder is trained as if the decoder read z_e + sg(z_q - z_e).

The codebook is not trained by gradient. For fixed assignments, the codebook
loss ||sg(z_e) - e||^2 is minimized by moving each code to the mean of the
encoder outputs assigned to it (a Lloyd, or k-means, step); instead of that
jump on each batch, the codebook follows exponential moving averages (EMA)
of the per-code counts and sums of the assigned encoder outputs, as in
Sonnet's ``VectorQuantizerEMA``: the averages are debiased (divided by
1 - decay^t, as Adam's moments are) and the counts Laplace-smoothed, and a
code is their ratio. With ``decay = 0`` an update is a Lloyd step on the
batch (exactly so without the smoothing, whose effect is of relative size
K eps / N with eps = 1e-5).

Dead codes, codes that (almost) no encoder output is assigned to, are the
known failure of VQ-VAEs. A code whose average count falls below
``dead_code_threshold`` times its fair share of a batch (batch size /
n_codes, so that the threshold scales with the batch) is moved to a random
encoder output of the batch, and its count reset to that fair share.

The network around the quantizer is :class:`skvae._models.vq.VQNetwork`.
The codebook and the EMA statistics sit in the network's flat parameter
buffer beside the weights, so pickling, dtype casts and the rollback of a
diverged epoch cover them, but their gradient is always zero: Adam leaves
them exactly unchanged (a zero gradient keeps both of its moments at zero),
and only :meth:`VectorQuantizer.update` writes them.
"""

from collections import namedtuple

import numpy as np
from scipy.special import entr

# Sonnet's Laplace smoothing of the EMA counts.
LAPLACE_EPSILON = 1e-5

# -- the quantizer's mathematics --------------------------------------------


def squared_distances(Z, codebook):
    """||z_ig - e_gk||^2 for Z of shape (n, G, D) and codebook (G, K, D).

    Returns shape (n, G, K). Computed from the differences, never as
    ||z||^2 - 2 z.e + ||e||^2: that form cancels catastrophically when z is
    far from every code (large inputs), and can even come out negative.
    """
    diff = Z[:, :, None, :] - codebook[None]
    return np.einsum("ngkd,ngkd->ngk", diff, diff)


def nearest_codes(Z, codebook):
    """Index of the nearest code of each group, shape (n, G); ties go low."""
    return np.argmin(squared_distances(Z, codebook), axis=2)


def lookup(codebook, codes):
    """The code vectors e_g,c_ig, shape (n, G, D), of integer codes (n, G)."""
    return codebook[np.arange(codebook.shape[0]), codes]


def commitment_loss_and_grad(Z_e, Z_q, weights=None):
    """mean_i ||z_e,i - z_q,i||^2 and its gradient with respect to Z_e.

    The same value is the codebook loss (with the gradient stopped on the
    other side): the mean squared quantization error per row. ``weights``,
    each row's share (summing to one), makes the mean a weighted one.
    """
    n = Z_e.shape[0]
    diff = Z_e - Z_q
    if weights is None:
        return float(np.sum(diff**2)) / n, diff * (2 / n)
    return (float(weights @ np.sum(diff**2, axis=(1, 2))),
            diff * (2 * weights[:, None, None]))


def batch_statistics(Z, codes, n_codes, sample_weight=None):
    """Per-code count and sum of the rows assigned to it (weighted, if given).

    Returns counts of shape (G, K) and sums of shape (G, K, D).
    """
    n, n_groups, _ = Z.shape
    one_hot = np.zeros((n, n_groups, n_codes), dtype=Z.dtype)
    np.put_along_axis(one_hot, codes[:, :, None], 1, axis=2)
    if sample_weight is not None:
        one_hot *= sample_weight.astype(Z.dtype, copy=False)[:, None, None]
    return one_hot.sum(axis=0), np.einsum("ngk,ngd->gkd", one_hot, Z)


def ema_update(P, Z, codes, decay, epsilon=LAPLACE_EPSILON, sample_weight=None):
    """One EMA step of the statistics in ``P``, and the codebook from them.

    The stored ``counts`` and ``sums`` are debiased averages: with
    ``weight`` = 1 - decay^t (itself an EMA of ones from zero), the
    average after value v_t is a_t = a_{t-1} + (1 - decay) / weight_t *
    (v_t - a_{t-1}), the same as Sonnet's hidden EMA divided by
    1 - decay^t. Each code becomes sums / smoothed counts, with Sonnet's
    Laplace smoothing (N_k + eps) / (N + K eps) * N, N = sum_k N_k. A code
    with a zero count (never assigned yet) keeps its vector instead of
    jumping to the origin.
    """
    n_codes = P.codebook.shape[1]
    counts, sums = batch_statistics(Z, codes, n_codes, sample_weight)
    weight = decay * float(P.weight[0]) + (1 - decay)
    P.weight[0] = weight
    rate = (1 - decay) / weight  # a Python float keeps float32 in float32
    P.counts[...] += rate * (counts - P.counts)
    P.sums[...] += rate * (sums - P.sums)
    total = P.counts.sum(axis=1, keepdims=True)
    smoothed = (P.counts + epsilon) / (total + n_codes * epsilon) * total
    used = P.counts > 0
    P.codebook[used] = P.sums[used] / smoothed[used][:, None]


def restart_dead_codes(P, Z, threshold, rng, n_rows=None):
    """Move codes used less than ``threshold`` of their fair share to data.

    A code of a batch of n rows is dead when its average count is below
    ``threshold * n / K``. It moves to the encoder output of a random row of
    ``Z`` (distinct rows when the batch has enough), and its count is reset
    to the fair share n / K, its sum to match, so that the next update does
    not pull it back and it has time to win rows before it counts as dead
    again. Returns the number of codes restarted. ``n_rows`` (the batch's
    total sample weight, when weighted) replaces n in the fair share.
    """
    n = Z.shape[0]
    fair_share = (n if n_rows is None else n_rows) / P.codebook.shape[1]
    restarted = 0
    for group in range(P.codebook.shape[0]):
        dead = np.flatnonzero(P.counts[group] < threshold * fair_share)
        if dead.size:
            rows = rng.choice(n, size=dead.size, replace=dead.size > n)
            P.codebook[group, dead] = Z[rows, group]
            P.counts[group, dead] = fair_share
            P.sums[group, dead] = fair_share * P.codebook[group, dead]
            restarted += dead.size
    return restarted


def perplexity(counts):
    """exp(entropy) of each group's code frequencies: counts (G, K) -> (G,).

    Between 1 (one code used) and K (all used equally often).
    """
    p = counts / counts.sum(axis=1, keepdims=True)
    return np.exp(entr(p).sum(axis=1))


QuantizerParams = namedtuple("QuantizerParams", "codebook counts sums weight")


class VectorQuantizer:
    """One codebook of ``n_codes`` vectors per group, trained by EMA.

    Structure only: the codebook and the EMA statistics live in the owner's
    flat buffer (see :meth:`shapes` and :meth:`params`).

    Parameters
    ----------
    n_groups, n_codes, code_dim : int
        G groups, K codes of D entries in each group's codebook.
    prefix : str, default="quantizer"
        Prefix of the parameter names.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.layout import Layout
    >>> from skvae._parts.quantizer import VectorQuantizer
    >>> quantizer = VectorQuantizer(n_groups=2, n_codes=3, code_dim=1)
    >>> layout = Layout(quantizer.shapes())
    >>> P = quantizer.params(layout.views(np.zeros(layout.size)))
    >>> P.codebook[...] = [[[0.0], [1.0], [2.0]], [[0.0], [10.0], [20.0]]]
    >>> quantizer.quantize(P, np.array([[[0.9], [16.0]]]))
    array([[1, 2]])
    """

    def __init__(self, n_groups, n_codes, code_dim, prefix="quantizer"):
        self.n_groups = n_groups
        self.n_codes = n_codes
        self.code_dim = code_dim
        self.prefix = prefix

    def shapes(self):
        """``[(name, shape)]`` of the codebook and its EMA statistics."""
        G, K, D = self.n_groups, self.n_codes, self.code_dim
        return [(f"{self.prefix}.codebook", (G, K, D)),
                (f"{self.prefix}.ema_counts", (G, K)),
                (f"{self.prefix}.ema_sums", (G, K, D)),
                (f"{self.prefix}.ema_weight", (1,))]

    def params(self, views):
        """A :class:`QuantizerParams` of views, from a Layout's ``{name: view}``."""
        return QuantizerParams(*(views[name] for name, _ in self.shapes()))

    def initialize(self, P, Z, rng):
        """Codes at the encoder outputs ``Z`` (n, G, D) of random rows; no history."""
        n = Z.shape[0]
        for group in range(self.n_groups):
            rows = rng.choice(n, size=self.n_codes, replace=self.n_codes > n)
            P.codebook[group] = Z[rows, group]
        P.counts[...] = 0
        P.sums[...] = 0
        P.weight[...] = 0

    def quantize(self, P, Z):
        """Integer codes (n, G) of the encoder outputs Z (n, G, D)."""
        return nearest_codes(Z, P.codebook)

    def lookup(self, P, codes):
        """Code vectors (n, G, D) of integer codes (n, G)."""
        return lookup(P.codebook, codes)

    def update(self, P, Z, codes, decay, dead_code_threshold, rng, sample_weight=None):
        """EMA step on the batch's encoder outputs, then dead-code restarts.

        With ``sample_weight`` the statistics are weighted, and codes restart
        at rows of positive weight. Returns the number of codes restarted.
        """
        if sample_weight is None:
            ema_update(P, Z, codes, decay)
            return restart_dead_codes(P, Z, dead_code_threshold, rng)
        ema_update(P, Z, codes, decay, sample_weight=sample_weight)
        return restart_dead_codes(P, Z[sample_weight > 0], dead_code_threshold, rng,
                                  n_rows=float(np.sum(sample_weight)))
