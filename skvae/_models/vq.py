"""The VQ-VAE network: an MLP encoder, the vector quantizer, an MLP decoder.

The quantizer's mathematics (nearest codes, the commitment loss, the EMA
codebook and its dead-code restarts) is in :mod:`skvae._parts.quantizer`; the
decoder and its likelihood head are the VAE's
(:mod:`skvae._parts.decoders`, :mod:`skvae._parts.heads`).  This module wires
them between the encoder and the decoder, their parameters in one flat buffer
laid out by :class:`skvae._nn.layout.Layout`.

As the VAE does, the network works on data in the head's units
(:class:`skvae._parts.heads.scaling.DataScaler`: standardized for the
Gaussian likelihood, as is for the Bernoulli one): every method takes and
returns data in the original units and adds the scaling's log-Jacobian to
densities, so that the codes and the reconstructions do not depend on the
data's offset and scale.
"""

import numpy as np

from .._nn import mlp
from .._nn.layout import Layout
from .._parts.decoders.mlp import MLPDecoder
from .._parts.heads import HEADS
from .._parts.heads.scaling import DataScaler
from .._parts.quantizer import VectorQuantizer, commitment_loss_and_grad
from .vae import row_shares


class CodeEncoder(mlp.MLPPart):
    """An MLP from x to the unquantized code vectors z_e, ``width`` outputs.

    Parameters
    ----------
    n_features : int
        Data dimension d.
    width : int
        Outputs: ``n_groups * code_dim``.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes.
    activation : str
        Hidden activation.
    prefix : str, default="encoder"
        Name prefix of its parameters.
    """

    def __init__(self, n_features, width, hidden_layer_sizes, activation,
                 prefix="encoder"):
        self.activation = activation
        self.prefix = prefix
        self.sizes = [n_features, *hidden_layer_sizes, width]

    def forward(self, X):
        """Every layer's output, the last being z_e, for :meth:`backward`."""
        return mlp.forward(self.W, self.b, mlp.bounded(X), self.activation)

    def backward(self, outputs, d_out):
        """Back-propagate d loss / d z_e into the weight gradients."""
        mlp.backward(self.W, outputs, d_out, self.activation, self._grad_W,
                     self._grad_b, input_grad=False)


class VQNetwork:
    """MLP encoder, vector quantizer, MLP decoder and likelihood head, in one buffer.

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
    likelihood : str
        Key of ``skvae._parts.heads.HEADS``.
    dtype : numpy dtype
        Dtype of the parameters and of every computation.

    Attributes
    ----------
    encoder : CodeEncoder
    decoder : MLPDecoder
        Ending in the likelihood's head, ``decoder.head``.
    quantizer : VectorQuantizer
    params, grad : ndarray of shape (layout.size,)
        The flat parameter buffer (weights, the head's parameters, codebook
        and EMA statistics) and the flat gradient buffer, whose codebook and
        EMA entries stay zero. The parts hold views into them; pickling keeps
        the buffers only and binds the parts again.
    scaler : DataScaler
        The units the network works in, chosen by the head from the data.

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
        self.dtype = np.dtype(dtype)
        self.quantizer = VectorQuantizer(n_groups, n_codes, code_dim)
        width = n_groups * code_dim
        self.encoder = CodeEncoder(n_features, width, self.hidden_layer_sizes,
                                   activation)
        self.decoder = MLPDecoder(n_features, width,
                                  tuple(reversed(self.hidden_layer_sizes)),
                                  activation, HEADS[likelihood](n_features))
        shapes = (self.encoder.shapes() + self.decoder.shapes()
                  + self.quantizer.shapes())
        self.layout = Layout(shapes)
        self.params = np.zeros(self.layout.size, dtype=self.dtype)
        self.grad = np.zeros(self.layout.size, dtype=self.dtype)
        self.scaler = DataScaler.identity(n_features)
        self._bind()

    def _bind(self):
        params, grads = self.layout.views(self.params), self.layout.views(self.grad)
        self.encoder.bind(params, grads)
        self.decoder.bind(params, grads)
        self.codebook_params = self.quantizer.params(params)

    def __getstate__(self):
        # The codebook's views would be pickled as copies: keep the buffers.
        state = self.__dict__.copy()
        del state["codebook_params"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._bind()

    @property
    def head(self):
        """The likelihood p(x | a) at the end of the decoder."""
        return self.decoder.head

    @property
    def codebook(self):
        """The codebooks, shape (n_groups, n_codes, code_dim)."""
        return self.codebook_params.codebook

    # -- initialisation ------------------------------------------------------

    def initialize(self, X, rng, var_floor_fraction=1e-3, sample_weight=None):
        """Draw the weights, start the decoder at the data, the codes at encodings.

        Weights are Glorot-uniform and biases zero, except the decoder's
        output, which its head starts at the data's mean (or logit) and
        variance (above ``var_floor_fraction`` times the data's mean feature
        variance); the head also chooses the units the network works in.
        Each group's codes start at the initial encoder's outputs for random
        rows of X (of positive ``sample_weight``; the statistics are
        weighted).
        """
        self.scaler = self.head.scaler(X, sample_weight)
        X = self.scaler.transform(X)
        self.encoder.initialize(rng)
        self.decoder.initialize(X, rng, var_floor_fraction, sample_weight)
        rows = X if sample_weight is None else X[sample_weight > 0]
        self.quantizer.initialize(self.codebook_params, self._encode(rows), rng)

    # -- forward computations ------------------------------------------------

    def _as_groups(self, flat):
        q = self.quantizer
        return flat.reshape(flat.shape[0], q.n_groups, q.code_dim)

    def _encode(self, X):
        """z_e of X in the network's units."""
        return self._as_groups(self.encoder.forward(X)[-1])

    def encode(self, X):
        """The encoder outputs z_e, shape (n, n_groups, code_dim), unquantized."""
        return self._encode(self.scaler.transform(X))

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

    def decoded_mean(self, codes):
        """E[x | z_q] for integer codes (n, n_groups), in the data's units."""
        return self.scaler.inverse_transform(
            self.decoder.mean(self.code_vectors(codes)))

    def decoded_draw(self, codes, uniform):
        """x ~ p(x | z_q) for integer codes (n, n_groups), given uniform(0, 1)
        noise (n, n_features), in the data's units."""
        return self.scaler.inverse_transform(
            self.decoder.draw(self.code_vectors(codes), uniform))

    def log_prob_given_codes(self, X, codes):
        """log p(x | decoder(z_q)) per row, for integer codes (n, n_groups): a
        density of X in its original units."""
        log_px = self.decoder.log_prob(self.scaler.transform(X),
                                       self.code_vectors(codes))
        return log_px + self.scaler.log_det

    # -- training ------------------------------------------------------------

    def loss_and_grad(self, X, commitment_cost, codes=None, sample_weight=None):
        """Training loss on the batch X; its gradient is written into ``grad``.

        loss = -mean_i log p(x_i | decoder(z_q,i))
               + commitment_cost * mean_i ||z_e,i - z_q,i||^2,

        log p a density of X in its original units, with ``codes`` held
        fixed (the nearest codes when None); with ``sample_weight`` both
        means are weighted (each row's share is w_i / sum w). The gradient
        with respect to the encoder is the straight-through one:
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
        weights, _ = row_shares(sample_weight, self.dtype, n)
        X = self.scaler.transform(X)
        enc = self.encoder.forward(X)
        Z_e = self._as_groups(enc[-1])
        if codes is None:
            codes = self.quantize(Z_e)
        Z_q = self.quantizer.lookup(self.codebook_params, codes)
        log_px, cache = self.decoder.forward(X, Z_q.reshape(n, -1))
        # The decoder's gradient of -sum_i share_i log p_i.
        shares = (np.full(n, 1 / n, dtype=self.dtype) if weights is None
                  else weights)
        d_Z_q = self.decoder.backward(cache, -shares)
        commitment, d_commitment = commitment_loss_and_grad(Z_e, Z_q, weights)
        # Straight through: the decoder's d/dz_q reaches z_e unchanged.
        d_Z_e = d_Z_q + commitment_cost * d_commitment.reshape(n, -1)
        self.encoder.backward(enc, d_Z_e)
        data_term = -float(shares @ log_px) - self.scaler.log_det
        return data_term + commitment_cost * commitment, Z_e, codes

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
