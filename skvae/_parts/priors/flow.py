"""The autoregressive flow (AF) prior of the Variational Lossy Autoencoder.

Chen et al. (2017) define a learned prior p(z) over k dimensions by pushing
eps ~ N(0, I) through L affine autoregressive transforms.  Layer l maps its
input y to its output x by

    x_j = m_j(x_<j) + exp(log_s_j(x_<j)) * y_j,

with (m, log_s) produced by a MADE (:mod:`skvae._nn.made`) applied to x, and the
order of the dimensions is reversed between layers so that every dimension
gets to condition on every other.  Sampling (eps -> z) is sequential: x_j
needs x_<j, so each layer takes k MADE passes.  The density direction
(z -> eps) is parallel: with x known, one MADE pass gives every m_j and
log_s_j, and y = (x - m) * exp(-log_s).  Hence

    log p(z) = log N(eps; 0, I) - sum_l sum_j log_s_lj

costs L MADE passes, which is what the training objective needs.

The log-scale is bounded: the MADE's second output block t is mapped to
``log_s = LOG_SCALE_BOUND * tanh(t / LOG_SCALE_BOUND)``, so each layer scales
by a factor within [exp(-3), exp(3)] and neither direction can overflow; near
t = 0 it is the identity, and its derivative, ``1 - (log_s / bound)^2``, needs
only the forward output.

Layer l's parameters are named ``{prefix}.layer{l}.W{i}`` / ``.b{i}``;
layer 0 is the one applied first when sampling.
"""

import numpy as np

from ..._nn.gaussian import posterior_log_density, standard_normal_log_density
from ..._nn.layout import Part
from ..._nn.made import MADE

LOG_SCALE_BOUND = 3.0


class AutoregressiveFlowPrior:
    """p(z) from ``n_flow_layers`` MADE affine autoregressive transforms of N(0, I).

    Structure only: the parameters live in the owner's flat buffer (see
    :meth:`shapes` and :meth:`params`), as for :class:`skvae._nn.made.MADE`.

    Parameters
    ----------
    n_components : int
        Dimension k of z.
    n_flow_layers : int
        Number L of affine autoregressive layers.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of each layer's MADE.
    activation : str
        Hidden activation of the MADEs.
    prefix : str, default="prior"
        Prefix of the parameter names.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._parts.priors.flow import AutoregressiveFlowPrior
    >>> from skvae._nn.layout import Layout
    >>> flow = AutoregressiveFlowPrior(3, 2, (16,), "tanh")
    >>> layout = Layout(flow.shapes())
    >>> P = flow.params(layout.views(np.zeros(layout.size)))
    >>> flow.initialize(P, np.random.default_rng(0))
    >>> Z = np.zeros((1, 3))
    >>> bool(np.allclose(flow.log_prob(P, Z), -1.5 * np.log(2 * np.pi)))
    True
    """

    def __init__(self, n_components, n_flow_layers, hidden_layer_sizes, activation,
                 prefix="prior"):
        self.n_components = n_components
        self.n_flow_layers = n_flow_layers
        self.prefix = prefix
        self.made = MADE(n_components, hidden_layer_sizes, activation,
                         n_output_blocks=2)

    def _layer_prefix(self, layer):
        return f"{self.prefix}.layer{layer}"

    def shapes(self):
        """``[(name, shape)]`` of every flow parameter, for a Layout."""
        shapes = []
        for layer in range(self.n_flow_layers):
            shapes += self.made.shapes(self._layer_prefix(layer))
        return shapes

    def params(self, views):
        """One ``MADEParams`` of views per layer, from a Layout's ``{name: view}``."""
        return [self.made.params(views, self._layer_prefix(layer))
                for layer in range(self.n_flow_layers)]

    def initialize(self, P, rng):
        """Glorot-uniform hidden weights and zero output layers: p(z) starts at N(0, I).

        Every layer then is the identity, so the flow is a permutation of eps.
        """
        for layer in P:
            self.made.initialize(layer, rng)
            layer.W[-1][...] = 0

    def _shift_log_scale(self, Wm, b, X):
        """One MADE pass: every layer's outputs, m and log_s."""
        outputs = self.made.forward(Wm, b, X)
        k = self.n_components
        m = outputs[-1][:, :k]
        log_s = np.tanh(outputs[-1][:, k:] / LOG_SCALE_BOUND)
        log_s *= LOG_SCALE_BOUND
        return outputs, m, log_s

    def _to_noise(self, P, Z):
        """Run the density direction z -> eps, keeping what backward needs."""
        cache = []
        X = Z
        log_det = np.zeros(Z.shape[0], dtype=Z.dtype)
        for layer in range(self.n_flow_layers - 1, -1, -1):
            Wm = self.made.masked(P[layer].W)
            outputs, m, log_s = self._shift_log_scale(Wm, P[layer].b, X)
            inv_scale = np.exp(-log_s)
            Y = (X - m) * inv_scale
            log_det -= log_s.sum(axis=1)
            cache.append((Wm, outputs, log_s, inv_scale, Y))
            X = Y[:, ::-1] if layer > 0 else Y
        return X, log_det, cache

    def inverse(self, P, Z):
        """The noise eps that :meth:`sample` maps to Z, in one pass per layer."""
        return self._to_noise(P, Z)[0]

    def log_prob(self, P, Z):
        """log p(z) for Z of shape (..., k): one MADE pass per layer."""
        lead = Z.shape[:-1]
        eps, log_det, _ = self._to_noise(P, Z.reshape(-1, self.n_components))
        log_pz = log_det + standard_normal_log_density(eps)
        return log_pz.reshape(lead)

    def log_prob_forward(self, P, Z):
        """log p(z_i) per row of Z (n, k), and what :meth:`backward` needs."""
        eps, log_det, cache = self._to_noise(P, Z)
        log_pz = log_det + standard_normal_log_density(eps)
        return log_pz, (eps, cache)

    def backward(self, G, state, row_weights):
        """The gradient of sum_i w_i log p(z_i), from :meth:`log_prob_forward`.

        Writes the gradient with respect to every flow parameter into ``G``
        (from :meth:`params` on the gradient buffer) and returns it with
        respect to each z_i, shape (n, k).
        """
        k = self.n_components
        eps, cache = state
        w = row_weights[:, None]
        d_Y = -eps * w
        # cache[i] is the i-th layer applied in the density direction,
        # layer L - 1 - i; walk it back from the noise to z.
        for i in range(self.n_flow_layers - 1, -1, -1):
            layer = self.n_flow_layers - 1 - i
            Wm, outputs, log_s, inv_scale, Y = cache[i]
            if layer > 0:
                d_Y = d_Y[:, ::-1]
            # y = (x - m) exp(-log_s); log p also holds -sum_j log_s_j.
            d_X = d_Y * inv_scale
            d_out = np.empty((eps.shape[0], 2 * k), dtype=eps.dtype)
            d_out[:, :k] = -d_X
            d_log_s = -d_Y * Y - w
            # log_s = B tanh(t / B): d log_s / d t = 1 - (log_s / B)^2.
            d_out[:, k:] = d_log_s * (1 - (log_s / LOG_SCALE_BOUND) ** 2)
            d_X += self.made.backward(Wm, outputs, d_out, G[layer].W, G[layer].b)
            d_Y = d_X
        return d_Y

    def log_prob_and_backward(self, P, G, Z, row_weights):
        """log p(z_i) per row, and the gradient of sum_i w_i log p(z_i).

        Writes the gradient with respect to every flow parameter into ``G``
        (from :meth:`params` on the gradient buffer) and returns it with
        respect to each z_i.

        Parameters
        ----------
        Z : ndarray of shape (n, k)
        row_weights : ndarray of shape (n,)

        Returns
        -------
        log_pz : ndarray of shape (n,)
        d_Z : ndarray of shape (n, k)
        """
        log_pz, state = self.log_prob_forward(P, Z)
        return log_pz, self.backward(G, state, row_weights)

    def sample(self, P, eps):
        """Map noise eps ~ N(0, I) of shape (n, k) to z.

        Sequential: k MADE passes per layer, L k in all.
        """
        k = self.n_components
        Y = eps
        for layer in range(self.n_flow_layers):
            if layer > 0:
                Y = Y[:, ::-1]
            Wm = self.made.masked(P[layer].W)
            X = np.zeros_like(Y)
            for j in range(k):
                _, m, log_s = self._shift_log_scale(Wm, P[layer].b, X)
                X[:, j] = m[:, j] + np.exp(log_s[:, j]) * Y[:, j]
            Y = X
        return Y


class FlowPrior(Part):
    """A learned autoregressive-flow prior (Chen et al. 2017): the flow as a part.

    Its KL does not split by dimension: the one-draw estimate
    log q(z|x) - log p(z) is a single group.

    Parameters
    ----------
    n_components : int
        Dimension k of z.
    n_flow_layers : int
        Affine autoregressive layers.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of each layer's MADE.
    activation : str
        Hidden activation of the MADEs.
    """

    _VIEWS = ("_params", "_grads")
    noise_dims = 0

    def __init__(self, n_components, n_flow_layers, hidden_layer_sizes, activation):
        self.n_components = n_components
        self.flow = AutoregressiveFlowPrior(n_components, n_flow_layers,
                                            hidden_layer_sizes, activation)

    @classmethod
    def from_settings(cls, n_components, activation, settings):
        """Build from the settings ``n_flow_layers``, ``flow_hidden_layer_sizes``."""
        return cls(n_components, settings["n_flow_layers"],
                   tuple(settings["flow_hidden_layer_sizes"]), activation)

    def shapes(self):
        return self.flow.shapes()

    def bind(self, params, grads):
        self._params = self.flow.params(params)
        self._grads = self.flow.params(grads)

    def weights(self):
        return [(W, gW) for P, G in zip(self._params, self._grads, strict=True)
                for W, gW in zip(P.W, G.W, strict=True)]

    def initialize(self, rng):
        self.flow.initialize(self._params, rng)  # starts as N(0, I)

    def kl_terms(self, mu, log_var, eps, Z, noise=None):
        log_pz, state = self.flow.log_prob_forward(self._params, Z)
        return (posterior_log_density(eps, log_var) - log_pz)[:, None], state

    def kl_backward(self, cache, kl_coef, beta, mu, log_var, eps, Z):
        # -log p(z) reaches z (and the flow's parameters); log q at fixed
        # eps contributes -1/2 per dimension to d/d log_var.
        coef = np.broadcast_to(kl_coef, (Z.shape[0], 1)).astype(Z.dtype)
        d_Z = self.flow.backward(self._grads, cache, -beta * coef[:, 0])
        return None, -(0.5 * beta * coef), d_Z

    def kl(self, mu, log_var, eps, Z, noise=None):
        return np.mean(posterior_log_density(eps, log_var) - self.log_density(Z),
                       axis=0)

    def log_density(self, Z, noise=None):
        return self.flow.log_prob(self._params, Z)

    def log_density_forward(self, Z, noise=None):
        return self.flow.log_prob_forward(self._params, Z)

    def log_density_backward(self, cache, row_weights):
        return self.flow.backward(self._grads, cache, row_weights)

    def sample(self, eps, noise=None):
        return self.flow.sample(self._params, eps)
