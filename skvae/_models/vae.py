"""The VAE network: an encoder, a prior and a decoder, in one parameter buffer.

Encoder q(z|x) (:mod:`skvae._parts.encoders`), prior p(z)
(:mod:`skvae._parts.priors`) and decoder p(x|z) (:mod:`skvae._parts.decoders`,
ending in a head from :mod:`skvae._parts.heads`) are parts behind one protocol
each, registered by name in their family; their parameters live in one flat
buffer laid out by
:class:`skvae._nn.layout.Layout`.  The network composes them and never asks
which kind of part it holds.

Per-sample ELBO, with z = mu + exp(log_var / 2) * eps:

    elbo(x) = log p(x | z) - beta * KL(q(z|x) || p(z))

and the importance-weighted bound of K draws (Burda et al. 2016),
log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x).  Both train through one path
(:meth:`VAENetwork.loss_and_grad`, with an objective of
:mod:`skvae._models.objectives`): encoder forward, reparameterization,
decoder forward, the objective's weights on each draw, decoder backward, the
prior's and the posterior's terms, encoder backward.  The L2 penalty
``alpha`` on every part's weights follows scikit-learn's MLP:

    loss = -mean_i objective(x_i) + alpha / (2 n) * sum ||W||^2

With sample weights w_i the means are weighted, sum_i w_i (.) / sum_i w_i, and
n becomes sum_i w_i (as scikit-learn's MLP does): a weight of zero is the
same as leaving the row out, an integer weight the same as repeating it.

The network works on data in its own units
(:class:`skvae._parts.heads.scaling.DataScaler`: standardized for the Gaussian
likelihood, as is for the Bernoulli one): every method takes and returns data
in the original units and adds the scaling's log-Jacobian to densities, so
scores are densities of the original data and the training loss is minus
their ELBO.

Noise is always passed in, never drawn here, so every function is a
deterministic function of its arguments.
"""

import copy
import math

import numpy as np
from scipy.special import logsumexp

from .._nn.gaussian import (
    posterior_log_density,
    reparameterize,
    reparameterize_backward,
)
from .._nn.layout import bind_new
from .._nn.mlp import bounded
from .._parts.decoders import DECODERS
from .._parts.encoders import GaussianEncoder
from .._parts.heads import make_head
from .._parts.heads.scaling import DataScaler, feature_mean_var
from .._parts.priors import PRIORS


def build_network(n_features, n_components, hidden_layer_sizes, activation,
                  likelihood, dtype, *, prior="normal", decoder="mlp",
                  n_conditions=0, settings=None, missing_indicator=False):
    """A VAENetwork from the registered parts named by an estimator's settings.

    ``likelihood`` names a head of :mod:`skvae._parts.heads` or gives a
    table's column layout (:func:`~skvae._parts.heads.make_head`). The
    decoder mirrors the encoder's hidden sizes and sees
    ``n_components + n_conditions`` inputs, ``[z, c]``; with
    ``missing_indicator`` the encoder also sees which entries are observed.
    """
    settings = settings or {}
    hidden = tuple(hidden_layer_sizes)
    head = make_head(likelihood, n_features)
    if decoder != "mlp" and isinstance(likelihood, dict):
        raise ValueError(
            f"decoder={decoder!r} models columns of one likelihood; this table "
            f"has columns of kinds {sorted(set(likelihood['kinds']))}. Use "
            "decoder='mlp'.")
    encoder = GaussianEncoder(head.n_inputs + missing_indicator * head.n_columns,
                              n_components, hidden, activation)
    dec = DECODERS[decoder].from_settings(
        head.n_columns, n_components + n_conditions, tuple(reversed(hidden)),
        activation, head, settings)
    pri = PRIORS[prior].from_settings(n_components, activation, settings)
    return VAENetwork(encoder, dec, pri, dtype, n_conditions, missing_indicator)


def row_shares(sample_weight, dtype, n):
    """Each row's share of a batch, w / sum(w), and sum(w); (None, n) unweighted."""
    if sample_weight is None:
        return None, n
    total = float(np.sum(sample_weight, dtype=np.float64))
    return (sample_weight / total).astype(dtype, copy=False), total


def fill_values(X, sample_weight=None):
    """What stands in for a missing entry: its column's (weighted) mean, 0
    for a column never observed."""
    mean, _ = feature_mean_var(X, sample_weight, np.float64)
    return np.where(np.isfinite(mean), mean, 0.0)


class VAENetwork:
    """Encoder, prior and decoder of a VAE, all parameters in one buffer.

    Parameters
    ----------
    encoder : GaussianEncoder
    decoder : MLPDecoder or AutoregressiveDecoder
    prior : StandardNormalPrior, FlowPrior or HierarchicalPrior
    dtype : numpy dtype
        Dtype of the parameters and of every computation.
    n_conditions : int, default=0
        Columns of a condition c (e.g. a one-hot class) the decoder sees
        beside z: p(x | z, c). The encoder q(z | x) does not see it.
    missing_indicator : bool, default=False
        Whether the encoder sees, beside each row's values, which of them
        are observed (the network was fitted on data with gaps).

    Attributes
    ----------
    noise_dims : int
        Columns of the standard normal noise every method takes: k for the
        posterior's reparameterization, then the prior's ``noise_dims``.
    params, grad : ndarray of shape (layout.size,)
        The flat parameter buffer and the flat gradient buffer. The parts
        hold views into them; pickling keeps the buffers only and binds the
        parts again.
    """

    def __init__(self, encoder, decoder, prior, dtype, n_conditions=0,
                 missing_indicator=False):
        self.encoder = encoder
        self.decoder = decoder
        self.prior = prior
        self.dtype = np.dtype(dtype)
        self.n_conditions = n_conditions
        self.missing_indicator = missing_indicator
        self.n_features = decoder.n_features
        self.n_components = encoder.n_components
        self.noise_dims = self.n_components + prior.noise_dims
        self.layout, self.params, self.grad = bind_new(self.parts, self.dtype)
        self.scaler = DataScaler.identity(self.n_features)
        self.fill = np.zeros(self.n_features)

    @property
    def parts(self):
        return (self.encoder, self.decoder, self.prior)

    def _bind(self):
        params, grads = self.layout.views(self.params), self.layout.views(self.grad)
        for part in self.parts:
            part.bind(params, grads)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._bind()

    def astype(self, dtype):
        """A copy of this network with parameters cast to ``dtype``."""
        new = copy.deepcopy(self)
        new.dtype = np.dtype(dtype)
        new.params = self.params.astype(dtype)
        new.grad = np.zeros_like(new.params)
        new._bind()
        return new

    def initialize(self, X, rng, var_floor_fraction=1e-3, sample_weight=None):
        """Draw the weights, and start the decoder at the data.

        Weights are Glorot-uniform and biases zero, except the decoder's
        output, which its head starts at the data's mean (or logit) and
        variance; the Gaussian variance stays above ``var_floor_fraction``
        times the data's mean feature variance. The head also chooses the
        units the network works in, from X. Statistics of X are weighted by
        ``sample_weight`` when given.
        """
        self.scaler = self.decoder.head.scaler(X, sample_weight)
        X = self.scaler.transform(X)
        self.fill = fill_values(X, sample_weight)
        self.encoder.initialize(rng)
        self.decoder.initialize(X, rng, var_floor_fraction, sample_weight)
        self.prior.initialize(rng)

    # -- the data in the network's units -------------------------------------

    def inputs(self, X):
        """X in the network's units, its mask and the encoder's input.

        Without a missing entry the mask is None and X goes to the encoder as
        it is (one-hot blocks for a table's categories): every computation
        then takes the path of complete data. A missing entry (NaN) is
        filled with the training mean of its column (an all-zero block for a
        category) and masked: it adds no term to log p(x | z). A network
        fitted with gaps also shows the encoder the mask.
        """
        X = self.scaler.transform(X)
        missing = np.isnan(X)
        mask = None
        if missing.any():
            mask = (~missing).astype(X.dtype)
            X = np.where(missing, self.fill.astype(X.dtype, copy=False), X)
        head = self.decoder.head
        encoder_input = head.encoder_input(X) if mask is None else (
            head.encoder_input(X, mask))
        if self.missing_indicator:
            seen = np.ones_like(X) if mask is None else mask
            encoder_input = np.concatenate([encoder_input, seen], axis=-1)
        return X, mask, encoder_input

    # -- forward computations ------------------------------------------------

    def encode(self, X):
        """Posterior mean and log-variance, each of shape (n_samples, k)."""
        return self.encoder.encode(self.inputs(X)[2])

    def _decoder_input(self, Z, C):
        """[z, c]: the codes (bounded) with the condition broadcast over Z's
        leading axes."""
        Z = bounded(Z)
        if C is None:
            return Z
        C = np.broadcast_to(C, (*Z.shape[:-1], C.shape[-1])).astype(Z.dtype)
        return np.concatenate([Z, C], axis=-1)

    def decoded_mean(self, Z, C=None):
        """What the decoder makes of codes Z (and the condition C)."""
        return self.scaler.inverse_transform(
            self.decoder.mean(self._decoder_input(Z, C)))

    def decoded_draw(self, Z, uniform, C=None):
        """x ~ p(x | z, c) for codes Z, given uniform(0, 1) noise of shape
        (n, n_features)."""
        return self.scaler.inverse_transform(
            self.decoder.draw(self._decoder_input(Z, C), uniform))

    def _split_noise(self, eps):
        """The posterior's noise (first k columns) and the prior's (the rest)."""
        k = self.n_components
        return eps[..., :k], eps[..., k:]

    def _decode_draws(self, X, eps, C=None):
        """Encode X, draw z for every noise vector, and score the decodings.

        ``eps`` has shape (n_draws, n_samples or 1, k).  Returns mu, log_var,
        the codes z of shape (n_draws, n_samples, k) and log p(x | z) of shape
        (n_draws, n_samples), a density of X in its original units.
        """
        X, mask, encoder_input = self.inputs(X)
        mu, log_var = self.encoder.encode(encoder_input)
        Z, _ = reparameterize(mu, log_var, eps)
        log_px = self.decoder.log_prob(X, self._decoder_input(Z, C), mask)
        return mu, log_var, Z, log_px + self.log_det(mask)

    def sample_prior(self, eps):
        """Codes drawn from the prior, given standard normal noise of shape
        (n, ``noise_dims``)."""
        return self.prior.sample(*self._split_noise(eps))

    def elbo(self, X, eps, beta=1.0, C=None):
        """Per-sample ELBO, averaging log p(x|z) over the noise draws ``eps``.

        ``eps`` of shape (n_draws, n_samples, ``noise_dims``) gives each row
        its own noise; shape (n_draws, 1, ``noise_dims``) shares the same
        draws across rows.
        """
        log_px, kl = self._elbo_terms(X, eps, C)
        return log_px - beta * kl

    def kl(self, X, eps):
        """Per-sample KL(q(z|x) || p(z)), averaged over ``eps`` where not analytic."""
        return self._elbo_terms(X, eps)[1]

    def _elbo_terms(self, X, eps, C=None):
        eps, noise = self._split_noise(eps)
        mu, log_var, Z, log_px = self._decode_draws(X, eps, C)
        return log_px.mean(axis=0), self.prior.kl(mu, log_var, eps, Z, noise)

    def log_likelihood(self, X, eps, C=None):
        """Importance-weighted estimate of log p(x), one per row.

        log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) with z_k drawn from q by
        the noise ``eps`` of shape (K, n_samples or 1, ``noise_dims``),
        computed with logsumexp. For a prior with noise of its own, p(z_k)
        is the prior's one-draw estimate with the k-th draw of that noise,
        so that this is the estimate of the joint model (for a hierarchical
        prior, w_k = p(x|z1_k) p(z1_k|z2_k) p(z2_k) / q(z1_k|x) q(z2_k|z1_k)).
        """
        eps, noise = self._split_noise(eps)
        _, log_var, Z, log_px = self._decode_draws(X, eps, C)
        log_w = (log_px + self.prior.log_density(Z, noise)
                 - posterior_log_density(eps, log_var))
        return logsumexp(log_w, axis=0) - math.log(eps.shape[0])

    def reconstruction_error(self, X, C=None):
        """Per-sample error of the decoded posterior mean.

        Sum of squared errors for the Gaussian likelihood, binary
        cross-entropy for the Bernoulli likelihood.
        """
        X, mask, encoder_input = self.inputs(X)
        mu, _ = self.encoder.encode(encoder_input)
        error = self.decoder.reconstruction_error(X, self._decoder_input(mu, C), mask)
        return error * self.scaler.error_scale  # squared errors in original units

    def log_det(self, mask=None):
        """The scaling's log-Jacobian: per row, over its observed entries, when
        ``mask`` is given."""
        if mask is None:
            return self.scaler.log_det
        scale = np.broadcast_to(self.scaler.scale, (self.n_features,))
        return -(mask @ np.log(scale).astype(mask.dtype))

    # -- training objective --------------------------------------------------

    def loss_and_grad(self, X, eps, objective, alpha, C=None, sample_weight=None):
        """Training loss on the batch X and its gradient, written into ``grad``.

        ``eps`` has shape (n_draws, n_samples, ``noise_dims``):
        ``objective.n_draws`` noise vectors per row
        (:class:`~.objectives.ELBO`: one; :class:`~.objectives.IWAE`: K).
        ``sample_weight`` (n_samples,), non-negative with a positive sum, weighs
        the rows; None weighs them equally.
        """
        eps, noise = self._split_noise(eps)
        K, n, k = eps.shape
        weights, n_effective = row_shares(sample_weight, self.dtype, n)
        X, mask, encoder_input = self.inputs(X)
        enc, mu, log_var = self.encoder.forward(encoder_input)
        Z, std = reparameterize(mu, log_var, eps)
        X_draws, mask_draws = (X, mask) if K == 1 else (
            np.tile(X, (K, 1)), None if mask is None else np.tile(mask, (K, 1)))
        C_draws = C if C is None or K == 1 else np.tile(C, (K, 1))
        log_px, cache = self.decoder.forward(
            X_draws, self._decoder_input(Z.reshape(K * n, k), C_draws), mask_draws)
        loss, row_weights, d_mu, d_log_var, d_Z_prior = objective(
            self.prior, log_px.reshape(K, n), mu, log_var, eps, Z, noise, weights)
        d_Z = self.decoder.backward(cache, row_weights.ravel())[:, :k].reshape(K, n, k)
        if d_Z_prior is not None:
            d_Z += d_Z_prior
        # Through z = mu + std * eps, and the objective's own terms in mu, log_var.
        d_heads = np.empty((n, 2 * k), dtype=self.dtype)
        d_heads[:, :k], d_heads[:, k:] = reparameterize_backward(d_Z, eps, std)
        if d_mu is not None:
            d_heads[:, :k] += d_mu
        d_heads[:, k:] += d_log_var
        self.encoder.backward(enc, d_heads)
        return (loss - self._mean_log_det(mask, weights)
                + self._l2_penalty_and_grad(alpha, n_effective))

    def _mean_log_det(self, mask, weights):
        """The log-Jacobian of the batch's rows, averaged as the loss is."""
        if mask is None:
            return self.scaler.log_det
        per_row = self.log_det(mask)
        return float(per_row.mean() if weights is None else weights @ per_row)

    def _l2_penalty_and_grad(self, alpha, n):
        """alpha / (2 n) sum ||W||^2; adds its gradient into the weight gradients."""
        if not alpha:
            return 0.0
        penalty = 0.0
        for part in self.parts:
            for W, g in part.weights():
                penalty += float(np.dot(W.ravel(), W.ravel()))
                g += (alpha / n) * W
        return 0.5 * alpha * penalty / n
