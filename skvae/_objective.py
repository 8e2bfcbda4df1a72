"""The VAE network, its ELBO and gradient, and the importance-weighted bound.

Encoder: an MLP x -> hidden layers -> 2k outputs, read as the posterior mean
``mu`` (first k columns) and log-variance ``log_var`` (last k).  Decoder: an
MLP z -> hidden layers -> d outputs ``a`` (Bernoulli logits or Gaussian means).
For the Gaussian likelihood a per-feature variance ``var = var_floor +
exp(s)`` is learned; the floor keeps it from collapsing to zero.

Per-sample ELBO, with z = mu + exp(log_var / 2) * eps:

    elbo(x) = log p(x | a(z)) - beta * KL(q(z|x) || N(0, I))

Training loss on a batch of n rows (scikit-learn's MLP convention for the L2
penalty ``alpha``, on weights only):

    loss = -mean_i elbo(x_i) + alpha / (2 n) * sum ||W||^2

Noise is always passed in, never drawn here, so every function is a
deterministic function of its arguments.
"""

import itertools
import math

import numpy as np
from scipy.special import logit, logsumexp

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
from ._priors import (
    posterior_log_density,
    standard_normal_kl,
    standard_normal_kl_grads,
    standard_normal_kl_terms,
    standard_normal_log_density,
)
from ._variants import free_bits_kl, iwae_bound


class VAENetwork:
    """Encoder, decoder and likelihood of a VAE, all parameters in one buffer.

    Parameters
    ----------
    n_features, n_components : int
        Data dimension d and code dimension k.
    hidden_layer_sizes : tuple of int
        Encoder hidden sizes; the decoder mirrors them in reverse.
    activation : str
        Key of ``_activations.ACTIVATIONS`` for the hidden layers.
    likelihood : {"bernoulli", "gaussian"}
    dtype : numpy dtype
        Dtype of the parameters and of every computation.

    Attributes
    ----------
    params, grad : ndarray of shape (layout.size,)
        The flat parameter buffer and the flat gradient buffer.  Per-layer
        arrays are views into them; pickling keeps the buffers only and
        rebuilds the views.
    var_floor : float
        Lower bound of the Gaussian variance (0 for Bernoulli).
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes, activation,
                 likelihood, dtype, flow=None, ar_decoder=None, n_conditions=0):
        self.n_features = n_features
        self.n_components = n_components
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        self.activation = activation
        self.likelihood = likelihood
        self.dtype = np.dtype(dtype)
        self.var_floor = 0.0
        # A learned autoregressive-flow prior (skvae._flow) or None for N(0, I).
        self.flow = flow
        # An autoregressive decoder (skvae._made) or None for the MLP decoder.
        self.ar_decoder = ar_decoder
        # Columns of a condition c (e.g. a one-hot class) the decoder sees
        # beside z: p(x | z, c). The encoder q(z | x) does not see it.
        self.n_conditions = n_conditions

        encoder = [n_features, *self.hidden_layer_sizes, 2 * n_components]
        decoder = [n_components + n_conditions, *reversed(self.hidden_layer_sizes),
                   n_features]
        self.n_layers = len(encoder) - 1
        shapes = []
        parts = [("encoder", encoder)] + ([("decoder", decoder)] if ar_decoder is None
                                          else [])
        for part, sizes in parts:
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
                shapes += [(f"{part}.W{i}", (fan_in, fan_out)),
                           (f"{part}.b{i}", (fan_out,))]
        if ar_decoder is not None:  # same names: decoder.W{i}, .b{i}, log-variance
            shapes += ar_decoder.shapes()
        elif likelihood == "gaussian":
            shapes.append(("decoder.log_var_above_floor", (n_features,)))
        if flow is not None:
            shapes += flow.shapes()
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
        self._ar_P = self._ar_G = None
        if self.ar_decoder is not None:
            self._ar_P = self.ar_decoder.params(p)
            self._ar_G = self.ar_decoder.params(g)
        self._flow_P = self._flow_G = None
        if self.flow is not None:
            self._flow_P, self._flow_G = self.flow.params(p), self.flow.params(g)
        self.weights = self.encoder_W + self.decoder_W
        self._weight_grads = self._g_encoder_W + self._g_decoder_W
        if self.flow is not None:
            for P, G in zip(self._flow_P, self._flow_G, strict=True):
                self.weights += P.W
                self._weight_grads += G.W

    _VIEW_ATTRIBUTES = (
        "encoder_W", "encoder_b", "decoder_W", "decoder_b",
        "_g_encoder_W", "_g_encoder_b", "_g_decoder_W", "_g_decoder_b",
        "_log_var_above_floor", "_g_log_var_above_floor", "_flow_P", "_flow_G",
        "_ar_P", "_ar_G", "weights", "_weight_grads",
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

    def astype(self, dtype):
        """A copy of this network with parameters cast to ``dtype``."""
        new = VAENetwork(self.n_features, self.n_components,
                         self.hidden_layer_sizes, self.activation,
                         self.likelihood, dtype, self.flow, self.ar_decoder,
                         self.n_conditions)
        new.params[...] = self.params
        new.var_floor = self.var_floor
        return new

    @property
    def var(self):
        """Gaussian per-feature variance, var_floor + exp(s)."""
        return self.var_floor + np.exp(self._log_var_above_floor)

    # -- initialisation ------------------------------------------------------

    def initialize(self, X, rng, var_floor_fraction=1e-3):
        """Draw the weights, and start the decoder at the data's mean and variance.

        The Gaussian variance stays above ``var_floor_fraction`` times the
        data's mean feature variance (the floor follows the data's scale).

        Weights are Glorot-uniform, biases zero, except the decoder's output
        bias (the data mean, or its logit) and, for the Gaussian likelihood,
        the variance (the data's per-feature variance plus the floor).
        """
        mlps = [(self.encoder_W, self.encoder_b)]
        if self.ar_decoder is None:
            mlps.append((self.decoder_W, self.decoder_b))
        for Ws, bs in mlps:
            for W, b in zip(Ws, bs, strict=True):
                W[...] = glorot_uniform(rng, *W.shape, self.activation, self.dtype)
                b[...] = 0
        if self.ar_decoder is not None:
            self.ar_decoder.initialize(self._ar_P, X, rng, var_floor_fraction)
            self.var_floor = self.ar_decoder.var_floor
        elif self.likelihood == "bernoulli":
            self.decoder_b[-1][...] = logit(np.clip(X.mean(axis=0), 1e-3, 1 - 1e-3))
        else:
            var = X.var(axis=0)
            self.var_floor = variance_floor(var, var_floor_fraction)
            self.decoder_b[-1][...] = X.mean(axis=0)
            self._log_var_above_floor[...] = np.log(var + self.var_floor)
        if self.flow is not None:
            self.flow.initialize(self._flow_P, rng)  # starts as N(0, I)

    # -- forward computations ------------------------------------------------

    def encode(self, X):
        """Posterior mean and log-variance, each of shape (n_samples, k)."""
        out = forward(self.encoder_W, self.encoder_b, X, self.activation)[-1]
        k = self.n_components
        return out[:, :k], out[:, k:]

    def decode(self, Z):
        """MLP decoder output a(z): logits (Bernoulli) or means (Gaussian)."""
        return forward(self.decoder_W, self.decoder_b, Z, self.activation)[-1]

    def _decoder_input(self, Z, C):
        """[z, c]: the codes with the condition broadcast over Z's leading axes."""
        if C is None:
            return Z
        C = np.broadcast_to(C, (*Z.shape[:-1], C.shape[-1])).astype(Z.dtype)
        return np.concatenate([Z, C], axis=-1)

    def decoded_mean(self, Z, C=None):
        """What the decoder makes of codes Z: E[x | z] for the MLP decoder; for
        the autoregressive one, each feature's conditional mean given the
        features generated before it (n_features sequential steps)."""
        Z = self._decoder_input(Z, C)
        if self.ar_decoder is not None:
            return self.ar_decoder.generate(self._ar_P, Z)
        return self.decoder_mean(self.decode(Z))

    def log_prob_given_codes(self, X, Z, C=None):
        """log p(x | z[, c]) for codes Z of shape (..., n_samples, k), in one pass."""
        Z = self._decoder_input(Z, C)
        if self.ar_decoder is not None:
            return self.ar_decoder.log_prob(self._ar_P, X, Z)
        output = self.decode(Z.reshape(-1, Z.shape[-1]))
        return self.log_prob(X, output.reshape(*Z.shape[:-1], self.n_features))

    def _log_prob_and_backward(self, X, Z, row_weights, C=None):
        """log p(x_i | z_i) per row, and the gradient of sum_i w_i log p(x_i | z_i).

        Writes the decoder's parameter gradients and returns d/dZ.
        """
        k = self.n_components
        Z = self._decoder_input(Z, C)
        if self.ar_decoder is not None:
            log_px, d_Z = self.ar_decoder.log_prob_and_backward(
                self._ar_P, self._ar_G, X, Z, row_weights)
            return log_px, d_Z[:, :k]
        dec = forward(self.decoder_W, self.decoder_b, Z, self.activation)
        if self.likelihood == "bernoulli":
            log_px, d_output = bernoulli_log_prob_and_grad(X, dec[-1])
        else:
            var = self.var
            log_px = gaussian_log_prob(X, dec[-1], var)
            d_output, d_var = gaussian_log_prob_grads(X, dec[-1], var)
            # d/ds_j = sum_i w_i d log p_i / d var_j * exp(s_j)
            np.dot(row_weights, d_var, out=self._g_log_var_above_floor)
            self._g_log_var_above_floor *= var - self.var_floor
        d_output *= row_weights[:, None]
        d_Z = backward(self.decoder_W, dec, d_output, self.activation,
                       self._g_decoder_W, self._g_decoder_b)
        return log_px, d_Z[:, :k]

    def decoder_mean(self, output):
        """E[x | z] from the decoder output."""
        if self.likelihood == "bernoulli":
            return bernoulli_mean(output)
        return output

    def log_prob(self, X, output):
        """log p(x | a), summed over features; broadcasts over leading axes."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_prob(X, output)
        return gaussian_log_prob(X, output, self.var)

    def _decode_draws(self, X, eps, C=None):
        """Encode X, draw z for every noise vector, and score the decodings.

        ``eps`` has shape (n_draws, n_samples or 1, k).  Returns mu, log_var,
        the codes z of shape (n_draws, n_samples, k) and log p(x | z) of shape
        (n_draws, n_samples).
        """
        mu, log_var = self.encode(X)
        Z = mu + np.exp(0.5 * log_var) * eps
        return mu, log_var, Z, self.log_prob_given_codes(X, Z, C)

    def prior_log_density(self, Z):
        """log p(z) over the last axis: N(0, I), or the flow prior."""
        if self.flow is None:
            return standard_normal_log_density(Z)
        return self.flow.log_prob(self._flow_P, Z)

    def sample_prior(self, eps):
        """Codes drawn from the prior, given standard normal noise (n, k)."""
        if self.flow is None:
            return eps
        return self.flow.sample(self._flow_P, eps)

    def elbo(self, X, eps, beta=1.0, C=None):
        """Per-sample ELBO, averaging log p(x|z) over the noise draws ``eps``.

        ``eps`` of shape (n_draws, n_samples, k) gives each row its own noise;
        shape (n_draws, 1, k) shares the same draws across rows. The KL term
        is analytic for the N(0, I) prior, and averaged over the same draws
        (log q - log p) for the flow prior.
        """
        log_px, kl = self._elbo_terms(X, eps, C)
        return log_px - beta * kl

    def kl(self, X, eps):
        """Per-sample KL(q(z|x) || p(z)); Monte Carlo over ``eps`` for a flow."""
        return self._elbo_terms(X, eps)[1]

    def _elbo_terms(self, X, eps, C=None):
        mu, log_var, Z, log_px = self._decode_draws(X, eps, C)
        if self.flow is None:
            kl = standard_normal_kl(mu, log_var)
        else:
            kl = np.mean(posterior_log_density(eps, log_var)
                         - self.prior_log_density(Z), axis=0)
        return log_px.mean(axis=0), kl

    def log_likelihood(self, X, eps, C=None):
        """Importance-weighted estimate of log p(x), one per row.

        log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) with z_k drawn from q by
        the noise ``eps`` of shape (K, n_samples, k), computed with logsumexp.
        """
        _, log_var, Z, log_px = self._decode_draws(X, eps, C)
        log_w = (log_px + self.prior_log_density(Z)
                 - posterior_log_density(eps, log_var))
        return logsumexp(log_w, axis=0) - math.log(eps.shape[0])

    def reconstruction_error(self, X, C=None):
        """Per-sample error of the decoded posterior mean.

        Sum of squared errors for the Gaussian likelihood, binary
        cross-entropy for the Bernoulli likelihood.
        """
        mu, _ = self.encode(X)
        codes = self._decoder_input(mu, C)
        if self.ar_decoder is not None:  # teacher-forced: given the true x_<j
            output = self.ar_decoder.output(self._ar_P, X, codes)
        else:
            output = self.decode(codes)
        if self.likelihood == "bernoulli":
            return -bernoulli_log_prob(X, output)
        return np.sum((X - output) ** 2, axis=1)

    # -- training objective --------------------------------------------------

    def loss_and_grad(self, X, eps, beta, alpha, free_bits=0.0, C=None):
        """Training loss on the batch X and its gradient, written into ``grad``.

        ``eps`` has shape (n_samples, k): one noise vector per row. With
        ``free_bits`` > 0, the KL term is ``sum_k max(free_bits, mean_i KL_ik)``
        (Kingma et al. 2016): a latent dimension carrying fewer than
        ``free_bits`` nats on the batch is not pushed further towards the prior.
        Under the flow prior the KL does not split by dimension: its total
        is held above ``k * free_bits``, the same nats per dimension.
        """
        n, k = X.shape[0], self.n_components
        enc = forward(self.encoder_W, self.encoder_b, X, self.activation)
        mu, log_var = enc[-1][:, :k], enc[-1][:, k:]
        std = np.exp(0.5 * log_var)
        Z = mu + std * eps
        # Decoder: d loss / d log p(x_i | z_i) = -1/n.
        log_px, d_Z = self._log_prob_and_backward(
            X, Z, np.full(n, -1 / n, dtype=self.dtype), C)

        # The KL term and d(KL term)/d(KL): 1/n, or free bits' active mask.
        # For N(0, I) the KL is analytic per dimension; for the flow prior it
        # is the one-draw estimate log q(z|x) - log p(z), a single group.
        if self.flow is None:
            kl_terms = standard_normal_kl_terms(mu, log_var)
        else:
            kl_terms = (posterior_log_density(eps, log_var)
                        - self.prior_log_density(Z))[:, None]
        if free_bits:
            dims_per_group = k // kl_terms.shape[1]
            kl_value, kl_coef = free_bits_kl(kl_terms, free_bits * dims_per_group)
        else:
            kl_value, kl_coef = np.sum(kl_terms) / n, 1 / n
        loss = -np.sum(log_px) / n + beta * kl_value

        # Encoder heads, through z = mu + std * eps and the KL term.
        d_head = np.empty((n, 2 * k), dtype=self.dtype)
        if self.flow is None:
            kl_mu, kl_log_var = standard_normal_kl_grads(mu, log_var)
            d_head[:, :k] = d_Z + beta * kl_coef * kl_mu
            d_head[:, k:] = 0.5 * d_Z * eps * std + beta * kl_coef * kl_log_var
        else:
            # -log p(z) reaches z (and the flow's parameters); log q at fixed
            # eps contributes -1/2 per dimension to d/d log_var.
            coef = np.broadcast_to(kl_coef, (n, 1)).astype(self.dtype)
            d_Z += self.flow.log_prob_and_backward(
                self._flow_P, self._flow_G, Z, -beta * coef[:, 0])[1]
            d_head[:, :k] = d_Z
            d_head[:, k:] = 0.5 * d_Z * eps * std - 0.5 * beta * coef
        backward(self.encoder_W, enc, d_head, self.activation,
                 self._g_encoder_W, self._g_encoder_b, input_grad=False)
        return loss + self._l2_penalty_and_grad(alpha, n)

    def _l2_penalty_and_grad(self, alpha, n):
        """alpha / (2 n) sum ||W||^2; adds its gradient into the weight gradients."""
        if not alpha:
            return 0.0
        penalty = 0.0
        for W, g in zip(self.weights, self._weight_grads, strict=True):
            penalty += float(np.dot(W.ravel(), W.ravel()))
            g += (alpha / n) * W
        return 0.5 * alpha * penalty / n

    def iwae_loss_and_grad(self, X, eps, alpha, C=None):
        """Negative importance-weighted bound (Burda et al. 2016) and its gradient.

        ``eps`` has shape (K, n_samples, k): K draws z_k = mu + std * eps_k
        per row, log weights log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x),
        and loss = -mean_i [logsumexp_k log w_ik - log K] + L2 penalty. The
        gradient weights each draw's gradient of log w by softmax_k(log w).
        """
        K, n, k = eps.shape
        enc = forward(self.encoder_W, self.encoder_b, X, self.activation)
        mu, log_var = enc[-1][:, :k], enc[-1][:, k:]
        std = np.exp(0.5 * log_var)
        Z = mu + std * eps
        X_draws = np.broadcast_to(X, (K, n, self.n_features)).reshape(K * n, -1)
        # The draws' weights in the gradient need log w first: a forward pass,
        # then the backward pass with d loss / d log w_ik = -weights_ik / n.
        log_px = self.log_prob_given_codes(X, Z, C)
        log_w = (log_px + self.prior_log_density(Z)
                 - posterior_log_density(eps, log_var))
        bound, weights = iwae_bound(log_w)
        loss = -np.sum(bound) / n
        row_weights = (weights / -n).astype(self.dtype, copy=False)
        C_draws = None if C is None else np.tile(C, (K, 1))
        _, d_Z = self._log_prob_and_backward(X_draws, Z.reshape(K * n, k),
                                             row_weights.ravel(), C_draws)
        d_Z = d_Z.reshape(K, n, k)
        if self.flow is None:  # log N(z; 0, I) contributes -z to d log w / d z
            d_Z -= row_weights[..., None] * Z
        else:
            d_Z += self.flow.log_prob_and_backward(
                self._flow_P, self._flow_G, Z.reshape(-1, k),
                row_weights.ravel())[1].reshape(K, n, k)
        d_head = np.empty((n, 2 * k), dtype=self.dtype)
        d_head[:, :k] = d_Z.sum(axis=0)
        # Through z (0.5 eps std) and through -log q, whose derivative in
        # log_var at fixed eps is +1/2 per draw.
        d_head[:, k:] = np.sum(0.5 * d_Z * eps * std, axis=0)
        d_head[:, k:] += 0.5 * row_weights.sum(axis=0)[:, None]
        backward(self.encoder_W, enc, d_head, self.activation,
                 self._g_encoder_W, self._g_encoder_b, input_grad=False)
        return loss + self._l2_penalty_and_grad(alpha, n)
