"""The autoregressive decoder: a MADE conditioned on the code (Chen et al. 2017)."""

import numpy as np
from scipy.special import ndtri

from ..._nn import mlp
from ..._nn.activations import ACTIVATIONS
from ..._nn.layout import Part
from ..._nn.made import MADE, MADEParams


class AutoregressiveDecoder(Part):
    """p(x | z) = prod_j p(x_j | x_<j (windowed), z) with a MADE conditioned on z.

    The MADE maps ``[x, z]`` to one output per feature, ``a_j``, which sees
    only the earlier features in the window and all of z; the head reads it
    as the Bernoulli logit or the Gaussian mean (with the head's per-feature
    variance).

    log p(x | z) takes one pass (teacher forcing: the observed x is the
    input).  Generation cannot: feature j needs the features before it, so
    :meth:`generate` makes d sequential steps.  The first layer is updated
    incrementally by one rank-one term per step, so with one hidden layer the
    d steps do the arithmetic of about one dense pass, O(n (d + k) H), in d
    small NumPy calls each; each further hidden layer of size H costs
    O(n H^2) per step, i.e. d times what it costs in a pass.

    Parameters
    ----------
    n_features : int
        Data dimension d.
    n_inputs : int
        Width of the conditioning input: k, plus the condition's columns.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of the MADE.
    activation : str
        Hidden activation.
    head : BernoulliHead or GaussianHead
        The likelihood.
    window : int or None, default=None
        How many earlier features each conditional sees; None for all.
    prefix : str, default="decoder"
        Name prefix of its parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._parts.decoders.autoregressive import AutoregressiveDecoder
    >>> from skvae._parts.heads.bernoulli import BernoulliHead
    >>> from skvae._nn.layout import bind_new
    >>> dec = AutoregressiveDecoder(4, 2, (8,), "tanh", BernoulliHead(4), window=2)
    >>> layout, params, grads = bind_new([dec])
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((10, 4)) < 0.5).astype(float)
    >>> dec.initialize(X, rng, 1e-3)
    >>> dec.log_prob(X, rng.standard_normal((10, 2))).shape
    (10,)
    """

    _VIEWS = ("W", "b", "_grad_W", "_grad_b")

    def __init__(self, n_features, n_inputs, hidden_layer_sizes, activation, head,
                 window=None, prefix="decoder"):
        self.n_features = n_features
        self.head = head
        self.prefix = prefix
        self.made = MADE(n_features, hidden_layer_sizes, activation,
                         n_context=n_inputs, window=window)

    @classmethod
    def from_settings(cls, n_features, n_inputs, hidden_layer_sizes, activation,
                      head, settings):
        """Build from ``settings["window"]``."""
        return cls(n_features, n_inputs, hidden_layer_sizes, activation, head,
                   window=settings["window"])

    def shapes(self):
        return self.made.shapes(self.prefix) + self.head.shapes()

    def bind(self, params, grads):
        self.W, self.b = self.made.params(params, self.prefix)
        self._grad_W, self._grad_b = self.made.params(grads, self.prefix)
        self.head.bind(params, grads)

    def weights(self):
        return list(zip(self.W, self._grad_W, strict=True))

    def initialize(self, X, rng, var_floor_fraction, sample_weight=None):
        self.made.initialize(MADEParams(self.W, self.b), rng)
        self.head.initialize(X, self.b[-1], var_floor_fraction, sample_weight)

    def output(self, X, Z):
        """The per-feature outputs a_j(x_<j, z), all at once: shape (n, d)."""
        return self.made.forward(self.made.masked(self.W), self.b, mlp.bounded(X),
                                 Z)[-1]

    def _refuse_mask(self, mask):
        if mask is not None:
            raise ValueError(
                "decoder='autoregressive' needs every entry of a row: it reads "
                "the earlier features to predict the later ones. Impute the "
                "missing values first (e.g. with skvae.VAEImputer), or use "
                "decoder='mlp'.")

    def log_prob(self, X, Z, mask=None):
        self._refuse_mask(mask)
        lead = Z.shape[:-1]
        d = self.n_features
        X_rep = np.broadcast_to(X, (*lead, d)).reshape(-1, d)
        a = self.output(X_rep, Z.reshape(-1, Z.shape[-1]))
        return self.head.log_prob(X_rep, a).reshape(lead)

    def forward(self, X, Z, mask=None):
        self._refuse_mask(mask)
        Wm = self.made.masked(self.W)
        outputs = self.made.forward(Wm, self.b, mlp.bounded(X), Z)
        log_px, head_cache = self.head.forward(X, outputs[-1])
        return log_px, (Wm, outputs, head_cache)

    def backward(self, cache, row_weights):
        Wm, outputs, head_cache = cache
        d_a = self.head.backward(head_cache, row_weights)
        d_in = self.made.backward(Wm, outputs, d_a, self._grad_W, self._grad_b)
        return d_in[:, self.n_features:]

    def mean(self, Z):
        """Each feature's conditional mean given the ones generated before it."""
        return self.generate(Z)

    def draw(self, Z, uniform):
        """x ~ p(x | z), feature by feature, given uniform(0, 1) noise (n, d)."""
        if hasattr(self.head, "var"):  # the Gaussian head draws from normal noise
            return self.generate(Z, ndtri(uniform).astype(Z.dtype, copy=False))
        return self.generate(Z, uniform)

    def reconstruction_error(self, X, Z, mask=None):
        """Teacher-forced: each feature predicted from the true earlier ones."""
        self._refuse_mask(mask)
        return self.head.reconstruction_error(X, self.output(X, Z))

    def generate(self, Z, noise=None):
        """Generate x from codes Z of shape (n, width), feature by feature.

        ``noise`` None gives each x_j its conditional mean given the features
        already generated (deterministic); otherwise x_j is drawn with the
        head's :meth:`sample` from this noise of shape (n, d) (uniform(0, 1)
        for Bernoulli, standard normal for Gaussian).
        """
        d = self.n_features
        made = self.made
        act = ACTIVATIONS[made.activation]
        Wm = made.masked(self.W)
        X = np.zeros((Z.shape[0], d), dtype=Z.dtype)
        # First-layer pre-activation from z alone; each generated x_j adds
        # x_j * W0[j], the only change the step makes to it.
        pre = Z @ Wm[0][d:]
        pre += self.b[0]
        hidden = len(Wm) > 1
        for j in range(d):
            if hidden:
                H = pre.copy()
                act(H)
                for W, bias in zip(Wm[1:-1], self.b[1:-1], strict=True):
                    H = H @ W
                    H += bias
                    act(H)
                a_j = H @ Wm[-1][:, j] + self.b[-1][j]
            else:
                a_j = pre[:, j]
            if noise is None:
                x_j = self.head.mean(a_j)
            else:
                x_j = self.head.sample(a_j, noise[:, j], j)
            X[:, j] = x_j
            pre += np.outer(x_j, Wm[0][j])
        return X
