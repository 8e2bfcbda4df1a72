"""The VQ-VAE network: an MLP encoder, the vector quantizer, an MLP decoder.

The quantizer's mathematics (nearest codes, the commitment loss, the EMA
codebook and its dead-code restarts) is in :mod:`skvae._parts.quantizer`; this
module wires it between the encoder and the decoder, in one flat buffer.
"""

import itertools

import numpy as np
from scipy.special import logit

from .._nn.layout import Layout
from .._nn.likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_and_grad,
    bernoulli_mean,
    gaussian_log_prob,
    gaussian_log_prob_grads,
    variance_floor,
)
from .._nn.mlp import backward, forward, glorot_uniform
from .._parts.heads.scaling import feature_mean_var
from .._parts.quantizer import VectorQuantizer, commitment_loss_and_grad


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
        Key of ``skvae._nn.activations.ACTIVATIONS`` for the hidden layers.
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
    >>> from skvae._models.vq import VQNetwork
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

    def initialize(self, X, rng, var_floor_fraction=1e-3, sample_weight=None):
        """Draw the weights, start the decoder at the data, the codes at encodings.

        Weights are Glorot-uniform and biases zero, except the decoder's
        output bias (the data mean, or its logit) and, for the Gaussian
        likelihood, the variance (the data's per-feature variance plus the
        floor, ``var_floor_fraction`` of the mean feature variance). Each
        group's codes start at the initial encoder's outputs for random rows
        of X (of positive ``sample_weight``; the statistics are weighted).
        """
        for Ws, bs in ((self.encoder_W, self.encoder_b),
                       (self.decoder_W, self.decoder_b)):
            for W, b in zip(Ws, bs, strict=True):
                W[...] = glorot_uniform(rng, *W.shape, self.activation, self.dtype)
                b[...] = 0
        mean, var = feature_mean_var(X, sample_weight)
        if self.likelihood == "bernoulli":
            self.decoder_b[-1][...] = logit(np.clip(mean, 1e-3, 1 - 1e-3))
        else:
            self.var_floor = variance_floor(var, var_floor_fraction)
            self.decoder_b[-1][...] = mean
            self._log_var_above_floor[...] = np.log(var + self.var_floor)
        rows = X if sample_weight is None else X[sample_weight > 0]
        self.quantizer.initialize(self.codebook_params, self.encode(rows), rng)

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

    def loss_and_grad(self, X, commitment_cost, codes=None, sample_weight=None):
        """Training loss on the batch X; its gradient is written into ``grad``.

        loss = -mean_i log p(x_i | decoder(z_q,i))
               + commitment_cost * mean_i ||z_e,i - z_q,i||^2,

        with ``codes`` held fixed (the nearest codes when None); with
        ``sample_weight`` both means are weighted (each row's share is
        w_i / sum w). The gradient with respect to the encoder is the
        straight-through one: d loss / d z_q is passed to z_e as it is. The
        codebook's gradient stays zero.

        Returns
        -------
        loss : float
        Z_e : ndarray of shape (n, n_groups, code_dim)
            The encoder outputs, for the codebook update.
        codes : ndarray of shape (n, n_groups)
        """
        n = X.shape[0]
        weights = None if sample_weight is None else (
            sample_weight / np.sum(sample_weight, dtype=np.float64)).astype(self.dtype)
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
            if weights is None:
                np.sum(d_var, axis=0, out=self._g_log_var_above_floor)
                self._g_log_var_above_floor *= (var - self.var_floor) / -n
            else:
                np.dot(weights, d_var, out=self._g_log_var_above_floor)
                self._g_log_var_above_floor *= -(var - self.var_floor)
        if weights is None:
            d_output *= -1 / n
        else:
            d_output *= -weights[:, None]
        d_Z_q = backward(self.decoder_W, dec, d_output, self.activation,
                         self._g_decoder_W, self._g_decoder_b)
        commitment, d_commitment = commitment_loss_and_grad(Z_e, Z_q, weights)
        # Straight through: the decoder's d/dz_q reaches z_e unchanged.
        d_Z_e = d_Z_q + commitment_cost * d_commitment.reshape(n, -1)
        backward(self.encoder_W, enc, d_Z_e, self.activation,
                 self._g_encoder_W, self._g_encoder_b, input_grad=False)
        data_term = (-float(np.sum(log_px)) / n if weights is None
                     else -float(weights @ log_px))
        loss = data_term + commitment_cost * commitment
        return loss, Z_e, codes

    def training_step(self, X, rng, *, commitment_cost, decay, dead_code_threshold,
                      sample_weight=None):
        """The loss and gradient of the batch, then the codebook's update.

        The loss and gradient use the codebook from before the update, as in
        Sonnet; the optimizer's step on the weights follows.
        """
        loss, Z_e, codes = self.loss_and_grad(X, commitment_cost,
                                              sample_weight=sample_weight)
        self.quantizer.update(self.codebook_params, Z_e, codes, decay,
                              dead_code_threshold, rng, sample_weight)
        return loss
