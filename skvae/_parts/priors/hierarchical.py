"""A hierarchical prior: p(z1) is itself a small VAE over a top-level code z2.

The two-stochastic-layer model of Burda et al. (2016),

    p(x, z1, z2) = p(x | z1) p(z1 | z2) p(z2),   q(z1, z2 | x) = q(z1 | x) q(z2 | z1),

fits the parts design as a prior on z1,

    p(z1) = integral p(z1 | z2) p(z2) dz2,   p(z2) = N(0, I),

with p(z1 | z2) a diagonal Gaussian from an MLP (the "top decoder") and its
own inference network q(z2 | z1), a diagonal Gaussian from another MLP (the
"top encoder"). Both are :class:`~skvae._parts.encoders.GaussianEncoder` networks;
z2 = mu2(z1) + exp(log_var2(z1) / 2) * eps2 with the prior's own noise eps2
(``noise_dims`` = dimension of z2).

The density p(z1) has no closed form. The prior gives, for one draw of z2,

    log p(z1) ~ log p(z1 | z2) + log p(z2) - log q(z2 | z1),

whose exponential is an unbiased estimate of p(z1) (importance sampling with
q(z2 | z1)), hence a lower bound on log p(z1) in expectation. So

- the ELBO of the whole model, E_q[log p(x|z1)] - KL, has
  KL = E[log q(z1|x) - log p(z1|z2)] + E_q(z1|x)[KL(q(z2|z1) || N(0, I))]:
  the z1 term is sampled (one draw can be negative), the z2 term closed form
  (Burda et al.; ANCHORS); :meth:`kl_terms` returns both per dimension, the k
  sampled ones of z1 then the ``noise_dims`` analytic ones of z2, so free bits
  hold each latent dimension of either layer (Kingma et al. 2016 group by
  layer the same way);
- the importance-weighted bound (:class:`skvae._models.objectives.IWAE`, and
  ``log_likelihood``) uses :meth:`log_density_forward`, the one-draw
  estimate above with the K-th draw of eps2: its weights are
  log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1), the
  bound of the joint model, which rises to log p(x) as K grows.

Sampling: z2 = eps2, z1 = m1(z2) + exp(lv1(z2) / 2) * eps1.

At initialization the top decoder's last layer is zero, so p(z1 | z2) =
N(0, I) (to within the log-variance's soft clip) whatever z2: the model
starts as the plain VAE, and the top layer must earn its keep.
"""

from typing import NamedTuple

import numpy as np

from ..._nn.gaussian import (
    gaussian_log_density_grads,
    gaussian_log_density_terms,
    posterior_log_density,
    posterior_log_density_terms,
    reparameterize,
    reparameterize_backward,
    standard_normal_log_density,
)
from ..._nn.layout import Part
from ..encoders import GaussianEncoder
from .normal import standard_normal_kl_grads, standard_normal_kl_terms


class TopDraw(NamedTuple):
    """One draw of z2 per row of z1, and what the backward pass needs of it."""

    Z: np.ndarray  # z1, (n, k)
    noise: np.ndarray  # eps2, (n, m)
    enc_outputs: list  # q(z2 | z1)'s layer outputs
    mu2: np.ndarray
    log_var2: np.ndarray
    std2: np.ndarray
    Z2: np.ndarray  # mu2 + std2 * noise
    dec_outputs: list  # p(z1 | z2)'s layer outputs
    mean1: np.ndarray
    log_var1: np.ndarray


class HierarchicalPrior(Part):
    """p(z1) = integral p(z1 | z2) N(z2; 0, I) dz2, with q(z2 | z1) to infer z2.

    Parameters
    ----------
    n_components : int
        Dimension k of z1.
    n_top_components : int
        Dimension of z2, the prior's own noise columns (``noise_dims``).
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of q(z2 | z1); p(z1 | z2) mirrors them in reverse.
    activation : str
        Hidden activation of both networks.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._parts.priors.hierarchical import HierarchicalPrior
    >>> from skvae._nn.layout import bind_new
    >>> prior = HierarchicalPrior(3, 2, (8,), "tanh")
    >>> layout, params, grads = bind_new([prior])
    >>> prior.initialize(np.random.default_rng(0))
    >>> rng = np.random.default_rng(1)
    >>> prior.sample(rng.standard_normal((4, 3)), rng.standard_normal((4, 2))).shape
    (4, 3)
    """

    def __init__(self, n_components, n_top_components, hidden_layer_sizes,
                 activation):
        self.n_components = n_components
        self.noise_dims = n_top_components
        hidden = tuple(hidden_layer_sizes)
        self.top_encoder = GaussianEncoder(n_components, n_top_components, hidden,
                                           activation, prefix="prior.top_encoder")
        self.top_decoder = GaussianEncoder(n_top_components, n_components,
                                           hidden[::-1], activation,
                                           prefix="prior.top_decoder")

    @classmethod
    def from_settings(cls, n_components, activation, settings):
        """Build from the settings ``n_top_components``, ``top_hidden_layer_sizes``."""
        return cls(n_components, settings["n_top_components"],
                   tuple(settings["top_hidden_layer_sizes"]), activation)

    @property
    def _networks(self):
        return (self.top_encoder, self.top_decoder)

    def shapes(self):
        return [shape for net in self._networks for shape in net.shapes()]

    def bind(self, params, grads):
        for net in self._networks:
            net.bind(params, grads)

    def weights(self):
        return [pair for net in self._networks for pair in net.weights()]

    def initialize(self, rng):
        for net in self._networks:
            net.initialize(rng)
        self.top_decoder.W[-1][...] = 0  # p(z1 | z2) starts as N(0, I)

    # -- forward: one draw of z2 per row of z1 --------------------------------

    def _forward(self, Z, noise):
        """z2 ~ q(z2 | z1) by the noise, and log p(z1_j | z2) per dimension.

        Z (n, k) and noise (n, noise_dims); returns the per-dimension
        log-densities (n, k) and the cache the backward pass reads.
        """
        enc_outputs, mu2, log_var2 = self.top_encoder.forward(Z)
        Z2, std2 = reparameterize(mu2, log_var2, noise)
        dec_outputs, mean1, log_var1 = self.top_decoder.forward(Z2)
        log_p1 = gaussian_log_density_terms(Z, mean1, log_var1)
        return log_p1, TopDraw(Z, noise, enc_outputs, mu2, log_var2, std2, Z2,
                               dec_outputs, mean1, log_var1)

    def _backward(self, draw, w_p1, d_mu2, d_log_var2, d_Z2):
        """The gradient in z1 of sum w_p1 * log p(z1_j | z2), plus terms in
        z2's posterior whose gradients are given: d_mu2 and d_log_var2
        directly, d_Z2 through z2. Writes both networks' gradients.
        """
        n, k, m = draw.Z.shape[0], self.n_components, self.noise_dims
        # log N(z; m, e^lv): d/dm = u, d/dlv, and d/dz = -u.
        u, d_log_var1 = gaussian_log_density_grads(draw.Z, draw.mean1, draw.log_var1)
        d_dec = np.empty((n, 2 * k), dtype=draw.Z.dtype)
        d_dec[:, :k] = w_p1 * u
        d_dec[:, k:] = w_p1 * d_log_var1
        d_Z2 = d_Z2 + self.top_decoder.backward(draw.dec_outputs, d_dec,
                                                input_grad=True)
        # z2 = mu2 + exp(log_var2 / 2) * noise.
        d_mu2_draw, d_log_var2_draw = reparameterize_backward(d_Z2, draw.noise,
                                                              draw.std2)
        d_enc = np.empty((n, 2 * m), dtype=draw.Z.dtype)
        d_enc[:, :m] = d_mu2 + d_mu2_draw
        d_enc[:, m:] = d_log_var2 + d_log_var2_draw
        return -w_p1 * u + self.top_encoder.backward(draw.enc_outputs, d_enc,
                                                     input_grad=True)

    # -- the prior protocol (see skvae._parts.priors) ----------------------------

    def kl_terms(self, mu, log_var, eps, Z, noise):
        # log q(z1_j|x) - log p(z1_j|z2) by the draw, then KL(q(z2|z1)||N(0,I))_i.
        log_p1, draw = self._forward(Z, noise)
        k = self.n_components
        terms = np.empty((Z.shape[0], k + self.noise_dims), dtype=Z.dtype)
        terms[:, :k] = posterior_log_density_terms(eps, log_var) - log_p1
        terms[:, k:] = standard_normal_kl_terms(draw.mu2, draw.log_var2)
        return terms, draw

    def kl_backward(self, cache, kl_coef, beta, mu, log_var, eps, Z):
        k = self.n_components
        coef = beta * np.broadcast_to(kl_coef, (Z.shape[0], k + self.noise_dims))
        coef = coef.astype(Z.dtype, copy=False)
        coef_1, coef_2 = coef[:, :k], coef[:, k:]
        kl_mu2, kl_log_var2 = standard_normal_kl_grads(cache.mu2, cache.log_var2)
        d_Z = self._backward(cache, -coef_1, coef_2 * kl_mu2, coef_2 * kl_log_var2,
                             0.0)
        # log q(z1|x) at fixed eps contributes -1/2 per dimension to d/d log_var.
        return None, -0.5 * coef_1, d_Z

    def kl(self, mu, log_var, eps, Z, noise):
        lead = Z.shape[:-1]
        k, m = self.n_components, self.noise_dims
        noise = np.broadcast_to(noise, (*lead, m)).reshape(-1, m)
        log_p1, draw = self._forward(Z.reshape(-1, k), noise)
        kl2 = np.sum(standard_normal_kl_terms(draw.mu2, draw.log_var2), axis=1)
        one_draw = (posterior_log_density(eps, log_var)
                    - (log_p1.sum(axis=1) - kl2).reshape(lead))
        return np.mean(one_draw, axis=0)

    def log_density(self, Z, noise):
        lead = Z.shape[:-1]
        noise = np.broadcast_to(noise, (*lead, self.noise_dims))
        log_pz, _ = self.log_density_forward(Z.reshape(-1, self.n_components),
                                             noise.reshape(-1, self.noise_dims))
        return log_pz.reshape(lead)

    def log_density_forward(self, Z, noise):
        log_p1, draw = self._forward(Z, noise)
        log_pz = (log_p1.sum(axis=1) + standard_normal_log_density(draw.Z2)
                  - posterior_log_density(noise, draw.log_var2))
        return log_pz, draw

    def log_density_backward(self, cache, row_weights):
        Z, Z2 = cache.Z, cache.Z2
        w = row_weights[:, None].astype(Z.dtype, copy=False)
        w_p1 = np.broadcast_to(w, Z.shape)
        # log p(z2) = log N(z2; 0, I): d/dz2 = -z2; -log q(z2|z1) at fixed
        # noise: +1/2 per dimension in d/d log_var2.
        d_log_var2 = np.broadcast_to(0.5 * w, Z2.shape)
        return self._backward(cache, w_p1, 0.0, d_log_var2, -w * Z2)

    def sample(self, eps, noise):
        mean1, log_var1 = self.top_decoder.encode(noise)
        return reparameterize(mean1, log_var1, eps)[0]
