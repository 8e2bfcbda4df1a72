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

The codebook and the EMA statistics sit in the network's flat parameter
buffer beside the weights, so pickling, dtype casts and the rollback of a
diverged epoch cover them, but their gradient is always zero: Adam leaves
them exactly unchanged (a zero gradient keeps both of its moments at zero),
and only :meth:`VectorQuantizer.update` writes them.
"""

import itertools
from collections import namedtuple

import numpy as np
from scipy.special import entr, logit

from ._layout import Layout
from ._likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_and_grad,
    bernoulli_mean,
    gaussian_log_prob,
    gaussian_log_prob_grads,
    variance_floor,
)
from ._mlp import backward, forward, glorot_uniform

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


def commitment_loss_and_grad(Z_e, Z_q):
    """mean_i ||z_e,i - z_q,i||^2 and its gradient with respect to Z_e.

    The same value is the codebook loss (with the gradient stopped on the
    other side): the mean squared quantization error per row.
    """
    n = Z_e.shape[0]
    diff = Z_e - Z_q
    return float(np.sum(diff**2)) / n, diff * (2 / n)


def batch_statistics(Z, codes, n_codes):
    """Per-code count and sum of the rows assigned to it.

    Returns counts of shape (G, K) and sums of shape (G, K, D).
    """
    n, n_groups, _ = Z.shape
    one_hot = np.zeros((n, n_groups, n_codes), dtype=Z.dtype)
    np.put_along_axis(one_hot, codes[:, :, None], 1, axis=2)
    return one_hot.sum(axis=0), np.einsum("ngk,ngd->gkd", one_hot, Z)


def ema_update(P, Z, codes, decay, epsilon=LAPLACE_EPSILON):
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
    counts, sums = batch_statistics(Z, codes, n_codes)
    weight = decay * float(P.weight[0]) + (1 - decay)
    P.weight[0] = weight
    rate = (1 - decay) / weight  # a Python float keeps float32 in float32
    P.counts[...] += rate * (counts - P.counts)
    P.sums[...] += rate * (sums - P.sums)
    total = P.counts.sum(axis=1, keepdims=True)
    smoothed = (P.counts + epsilon) / (total + n_codes * epsilon) * total
    used = P.counts > 0
    P.codebook[used] = P.sums[used] / smoothed[used][:, None]


def restart_dead_codes(P, Z, threshold, rng):
    """Move codes used less than ``threshold`` of their fair share to data.

    A code of a batch of n rows is dead when its average count is below
    ``threshold * n / K``. It moves to the encoder output of a random row of
    ``Z`` (distinct rows when the batch has enough), and its count is reset
    to the fair share n / K, its sum to match, so that the next update does
    not pull it back and it has time to win rows before it counts as dead
    again. Returns the number of codes restarted.
    """
    n = Z.shape[0]
    fair_share = n / P.codebook.shape[1]
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
    >>> from skvae._layout import Layout
    >>> from skvae._quantizer import VectorQuantizer
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

    def update(self, P, Z, codes, decay, dead_code_threshold, rng):
        """EMA step on the batch's encoder outputs, then dead-code restarts.

        Returns the number of codes restarted.
        """
        ema_update(P, Z, codes, decay)
        return restart_dead_codes(P, Z, dead_code_threshold, rng)


# -- the network -------------------------------------------------------------


class VQNetwork:
    """MLP encoder, vector quantizer, MLP decoder and likelihood, in one buffer.

    Parameters
    ----------
    n_features : int
        Data dimension d.
    n_groups, n_codes, code_dim : int
        The quantizer: the encoder emits ``n_groups * code_dim`` outputs,
        read as ``n_groups`` vectors, each quantized with its own codebook.
    hidden_layer_sizes : tuple of int
        Encoder hidden sizes; the decoder mirrors them in reverse.
    activation : str
        Key of ``_activations.ACTIVATIONS`` for the hidden layers.
    likelihood : {"gaussian", "bernoulli"}
    dtype : numpy dtype
        Dtype of the parameters and of every computation.

    Attributes
    ----------
    params, grad : ndarray of shape (layout.size,)
        The flat parameter buffer (weights, Gaussian log-variance, codebook
        and EMA statistics) and the flat gradient buffer, whose codebook and
        EMA entries stay zero. Pickling keeps the buffers and rebuilds the
        views.
    var_floor : float
        Lower bound of the Gaussian variance (0 for Bernoulli).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._quantizer import VQNetwork
    >>> X = np.random.default_rng(0).random((20, 5))
    >>> net = VQNetwork(5, 2, 4, 3, (8,), "relu", "gaussian", np.float64)
    >>> net.initialize(X, np.random.default_rng(0))
    >>> codes = net.encode_codes(X)
    >>> codes.shape, net.decoded_mean(codes).shape
    ((20, 2), (20, 5))
    """

    def __init__(self, n_features, n_groups, n_codes, code_dim, hidden_layer_sizes,
                 activation, likelihood, dtype):
        self.n_features = n_features
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        self.activation = activation
        self.likelihood = likelihood
        self.dtype = np.dtype(dtype)
        self.var_floor = 0.0
        self.quantizer = VectorQuantizer(n_groups, n_codes, code_dim)
        width = n_groups * code_dim
        encoder = [n_features, *self.hidden_layer_sizes, width]
        decoder = [width, *reversed(self.hidden_layer_sizes), n_features]
        self.n_layers = len(encoder) - 1
        shapes = []
        for part, sizes in (("encoder", encoder), ("decoder", decoder)):
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
                shapes += [(f"{part}.W{i}", (fan_in, fan_out)),
                           (f"{part}.b{i}", (fan_out,))]
        if likelihood == "gaussian":
            shapes.append(("decoder.log_var_above_floor", (n_features,)))
        shapes += self.quantizer.shapes()
        self.layout = Layout(shapes)
        self.params = np.zeros(self.layout.size, dtype=self.dtype)
        self.grad = np.zeros(self.layout.size, dtype=self.dtype)
        self._bind_views()

    # -- the flat buffers and their views ------------------------------------

    def _bind_views(self):
        p = self.layout.views(self.params)
        g = self.layout.views(self.grad)
        layers = range(self.n_layers)
        self.encoder_W = [p[f"encoder.W{i}"] for i in layers]
        self.encoder_b = [p[f"encoder.b{i}"] for i in layers]
        self.decoder_W = [p[f"decoder.W{i}"] for i in layers]
        self.decoder_b = [p[f"decoder.b{i}"] for i in layers]
        self._g_encoder_W = [g[f"encoder.W{i}"] for i in layers]
        self._g_encoder_b = [g[f"encoder.b{i}"] for i in layers]
        self._g_decoder_W = [g[f"decoder.W{i}"] for i in layers]
        self._g_decoder_b = [g[f"decoder.b{i}"] for i in layers]
        self._log_var_above_floor = p.get("decoder.log_var_above_floor")
        self._g_log_var_above_floor = g.get("decoder.log_var_above_floor")
        self.codebook_params = self.quantizer.params(p)

    _VIEW_ATTRIBUTES = (
        "encoder_W", "encoder_b", "decoder_W", "decoder_b",
        "_g_encoder_W", "_g_encoder_b", "_g_decoder_W", "_g_decoder_b",
        "_log_var_above_floor", "_g_log_var_above_floor", "codebook_params",
    )

    def __getstate__(self):
        # Views would be pickled as independent copies: keep the buffers only.
        state = self.__dict__.copy()
        for name in self._VIEW_ATTRIBUTES:
            del state[name]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._bind_views()

    @property
    def codebook(self):
        """The codebooks, shape (n_groups, n_codes, code_dim)."""
        return self.codebook_params.codebook

    @property
    def var(self):
        """Gaussian per-feature variance, var_floor + exp(s)."""
        return self.var_floor + np.exp(self._log_var_above_floor)

    # -- initialisation ------------------------------------------------------

    def initialize(self, X, rng, var_floor_fraction=1e-3):
        """Draw the weights, start the decoder at the data, the codes at encodings.

        Weights are Glorot-uniform and biases zero, except the decoder's
        output bias (the data mean, or its logit) and, for the Gaussian
        likelihood, the variance (the data's per-feature variance plus the
        floor, ``var_floor_fraction`` of the mean feature variance). Each
        group's codes start at the initial encoder's outputs for random rows
        of X.
        """
        for Ws, bs in ((self.encoder_W, self.encoder_b),
                       (self.decoder_W, self.decoder_b)):
            for W, b in zip(Ws, bs, strict=True):
                W[...] = glorot_uniform(rng, *W.shape, self.activation, self.dtype)
                b[...] = 0
        if self.likelihood == "bernoulli":
            self.decoder_b[-1][...] = logit(np.clip(X.mean(axis=0), 1e-3, 1 - 1e-3))
        else:
            var = X.var(axis=0)
            self.var_floor = variance_floor(var, var_floor_fraction)
            self.decoder_b[-1][...] = X.mean(axis=0)
            self._log_var_above_floor[...] = np.log(var + self.var_floor)
        self.quantizer.initialize(self.codebook_params, self.encode(X), rng)

    # -- forward computations ------------------------------------------------

    def _as_groups(self, flat):
        q = self.quantizer
        return flat.reshape(flat.shape[0], q.n_groups, q.code_dim)

    def encode(self, X):
        """The encoder outputs z_e, shape (n, n_groups, code_dim), unquantized."""
        return self._as_groups(forward(self.encoder_W, self.encoder_b, X,
                                       self.activation)[-1])

    def quantize(self, Z):
        """Nearest codes (n, n_groups) of vectors Z (n, n_groups, code_dim)."""
        return self.quantizer.quantize(self.codebook_params, Z)

    def encode_codes(self, X):
        """Integer codes of X, shape (n, n_groups)."""
        return self.quantize(self.encode(X))

    def code_vectors(self, codes):
        """The decoder's input: the code vectors side by side, (n, G * D)."""
        return self.quantizer.lookup(self.codebook_params, codes).reshape(
            codes.shape[0], -1)

    def decoder_output(self, V):
        """Decoder output a(v) for decoder inputs V (n, G * D): logits
        (Bernoulli) or means (Gaussian)."""
        return forward(self.decoder_W, self.decoder_b, V, self.activation)[-1]

    def decode(self, codes):
        """Decoder output a(z_q) for integer codes (n, n_groups)."""
        return self.decoder_output(self.code_vectors(codes))

    def decoded_mean(self, codes):
        """E[x | z_q] for integer codes (n, n_groups)."""
        output = self.decode(codes)
        if self.likelihood == "bernoulli":
            return bernoulli_mean(output)
        return output

    def log_prob(self, X, output):
        """log p(x | a) per row, from the decoder output a."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_prob(X, output)
        return gaussian_log_prob(X, output, self.var)

    def log_prob_given_codes(self, X, codes):
        """log p(x | decoder(z_q)) per row, for integer codes (n, n_groups)."""
        return self.log_prob(X, self.decode(codes))

    # -- training ------------------------------------------------------------

    def loss_and_grad(self, X, commitment_cost, codes=None):
        """Training loss on the batch X; its gradient is written into ``grad``.

        loss = -mean_i log p(x_i | decoder(z_q,i))
               + commitment_cost * mean_i ||z_e,i - z_q,i||^2,

        with ``codes`` held fixed (the nearest codes when None). The
        gradient with respect to the encoder is the straight-through one:
        d loss / d z_q is passed to z_e as it is. The codebook's gradient
        stays zero.

        Returns
        -------
        loss : float
        Z_e : ndarray of shape (n, n_groups, code_dim)
            The encoder outputs, for the codebook update.
        codes : ndarray of shape (n, n_groups)
        """
        n = X.shape[0]
        enc = forward(self.encoder_W, self.encoder_b, X, self.activation)
        Z_e = self._as_groups(enc[-1])
        if codes is None:
            codes = self.quantize(Z_e)
        Z_q = self.quantizer.lookup(self.codebook_params, codes)
        dec = forward(self.decoder_W, self.decoder_b, Z_q.reshape(n, -1),
                      self.activation)
        if self.likelihood == "bernoulli":
            log_px, d_output = bernoulli_log_prob_and_grad(X, dec[-1])
        else:
            var = self.var
            log_px = gaussian_log_prob(X, dec[-1], var)
            d_output, d_var = gaussian_log_prob_grads(X, dec[-1], var)
            # d loss / d s_j = -1/n sum_i d log p_i / d var_j * exp(s_j)
            np.sum(d_var, axis=0, out=self._g_log_var_above_floor)
            self._g_log_var_above_floor *= (var - self.var_floor) / -n
        d_output *= -1 / n
        d_Z_q = backward(self.decoder_W, dec, d_output, self.activation,
                         self._g_decoder_W, self._g_decoder_b)
        commitment, d_commitment = commitment_loss_and_grad(Z_e, Z_q)
        # Straight through: the decoder's d/dz_q reaches z_e unchanged.
        d_Z_e = d_Z_q + commitment_cost * d_commitment.reshape(n, -1)
        backward(self.encoder_W, enc, d_Z_e, self.activation,
                 self._g_encoder_W, self._g_encoder_b, input_grad=False)
        loss = -float(np.sum(log_px)) / n + commitment_cost * commitment
        return loss, Z_e, codes

    def training_step(self, X, rng, *, commitment_cost, decay, dead_code_threshold):
        """The loss and gradient of the batch, then the codebook's update.

        The loss and gradient use the codebook from before the update, as in
        Sonnet; the optimizer's step on the weights follows.
        """
        loss, Z_e, codes = self.loss_and_grad(X, commitment_cost)
        self.quantizer.update(self.codebook_params, Z_e, codes, decay,
                              dead_code_threshold, rng)
        return loss
