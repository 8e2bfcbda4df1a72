"""Masked autoregressive MLPs (MADE) and the autoregressive decoder built on one.

MADE (Germain et al., 2015) turns a dense MLP over D inputs into an
autoregressive one by multiplying each weight matrix by a fixed 0/1 mask, so
that output j depends only on inputs i < j; here optionally only on the
``window`` inputs ``j - window <= i <= j - 1``.  An optional conditioning input
``C`` (the code z for a decoder, a one-hot y for a conditional model) may reach
every output.

Masks come from an *interval* per unit: the set of autoregressive inputs the
unit may depend on, ``[lo, hi]`` (empty when ``hi < lo``).  Input i owns
``[i, i]``; a conditioning input owns the empty set; output j owns
``[max(0, j - window), j - 1]``.  A connection src -> dst is kept exactly when
src's interval lies inside dst's, so by transitivity every path from input i
to output j stays inside output j's interval: that is the autoregressive
property, windowed or not.  With no window every interval starts at 0 and the
rule is MADE's degree rule ``m(dst) >= m(src)`` (strict into the outputs).

Hidden units are given intervals deterministically (no random state): their
upper ends ``hi`` are spread evenly over ``-1 .. D - 2`` (``-1``, context only,
when there is a conditioning input; an upper end of D - 1 could reach no
output) and, with a window, their lengths cycle through ``1 .. window``.

Weights are stored dense in the flat buffer and multiplied by their mask on
every pass, and weight gradients are masked, so entries outside the mask have
no effect and zero gradient whatever an optimizer or a test writes into them.

As in :mod:`skvae._mlp`, ``W[i]`` has shape (fan_in, fan_out); hidden layers
apply ``activation`` and the last layer is linear.  The first layer's input is
``[X, C]`` (autoregressive inputs first, then the conditioning input).  Output
columns come in ``n_output_blocks`` blocks of D (for a flow: shifts, then
log-scale pre-activations), each block masked like the first.
"""

from collections import namedtuple

import numpy as np

from . import _mlp as mlp
from ._activations import ACTIVATIONS
from ._likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_grad,
    bernoulli_mean,
    gaussian_log_prob,
    gaussian_log_prob_grads,
    variance_floor,
)
from ._mlp import glorot_uniform

MADEParams = namedtuple("MADEParams", ["W", "b"])
DecoderParams = namedtuple("DecoderParams", ["W", "b", "log_var_above_floor"])


def _connect(src_lo, src_hi, dst_lo, dst_hi):
    """Mask[i, j]: unit i's interval (empty if hi < lo) lies inside unit j's."""
    src_empty = (src_hi < src_lo)[:, None]
    inside = (dst_lo[None, :] <= src_lo[:, None]) & (src_hi[:, None] <= dst_hi[None, :])
    return src_empty | inside


def made_masks(n_inputs, hidden_layer_sizes, *, n_context=0, window=None,
               n_output_blocks=1):
    """Boolean masks of a MADE network, one per layer, of shape (fan_in, fan_out).

    Parameters
    ----------
    n_inputs : int
        Number D of autoregressive inputs (and of outputs per block).
    hidden_layer_sizes : tuple of int
        Hidden layer sizes; empty for a single masked linear layer.
    n_context : int, default=0
        Number of conditioning inputs, visible to every output.
    window : int or None, default=None
        Output j sees inputs ``j - window .. j - 1``; None means all ``i < j``.
    n_output_blocks : int, default=1
        Number of output blocks of D columns, each masked alike.

    Returns
    -------
    masks : list of ndarray of bool

    Examples
    --------
    >>> from skvae._made import made_masks
    >>> made_masks(3, ())[0].astype(int)
    array([[0, 1, 1],
           [0, 0, 1],
           [0, 0, 0]])
    >>> made_masks(3, (), window=1)[0].astype(int)
    array([[0, 1, 0],
           [0, 0, 1],
           [0, 0, 0]])
    """
    if window is not None and window < 1:
        raise ValueError(
            f"window={window!r}: give a positive number of earlier inputs each "
            "output may see, or None for all of them."
        )
    D = n_inputs
    w = D if window is None else min(int(window), D)
    # Inputs: [i, i] for the autoregressive ones, empty for the context.
    lo = np.concatenate([np.arange(D), np.zeros(n_context, dtype=int)])
    hi = np.concatenate([np.arange(D), np.full(n_context, -1)])
    first_top = -1 if n_context else 0
    n_tops = max(D - 1 - first_top, 1)
    masks = []
    for size in hidden_layer_sizes:
        h = np.arange(size)
        h_hi = first_top + (h * n_tops) // size
        length = 1 + h % w if window is not None else h_hi + 1
        h_lo = np.where(h_hi < 0, 0, np.maximum(h_hi - length + 1, 0))
        masks.append(_connect(lo, hi, h_lo, h_hi))
        lo, hi = h_lo, h_hi
    j = np.arange(D)
    out = _connect(lo, hi, np.maximum(j - w, 0), j - 1)
    masks.append(np.tile(out, (1, n_output_blocks)))
    return masks


class MADE:
    """A masked autoregressive MLP: structure only, parameters passed as views.

    The object holds the masks and sizes (it is small and pickles as is); the
    weights live in the owner's flat buffer, laid out by :meth:`shapes` and
    read back as views by :meth:`params`.

    Parameters
    ----------
    n_inputs : int
        Number D of autoregressive inputs.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes.
    activation : str
        Key of ``_activations.ACTIVATIONS`` for the hidden layers.
    n_context : int, default=0
        Number of conditioning inputs.
    window : int or None, default=None
        How many earlier inputs each output sees; None for all of them.
    n_output_blocks : int, default=1
        Output blocks of D columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._layout import Layout
    >>> from skvae._made import MADE
    >>> made = MADE(4, (8,), "tanh", n_context=2, window=2)
    >>> layout = Layout(made.shapes("ar"))
    >>> params = np.zeros(layout.size)
    >>> P = made.params(layout.views(params), "ar")
    >>> made.initialize(P, np.random.default_rng(0))
    >>> X, C = np.ones((5, 4)), np.ones((5, 2))
    >>> made.forward(made.masked(P.W), P.b, X, C)[-1].shape
    (5, 4)
    """

    def __init__(self, n_inputs, hidden_layer_sizes, activation, *, n_context=0,
                 window=None, n_output_blocks=1):
        self.n_inputs = n_inputs
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        self.activation = activation
        self.n_context = n_context
        self.window = window
        self.n_output_blocks = n_output_blocks
        self.masks = made_masks(n_inputs, self.hidden_layer_sizes,
                                n_context=n_context, window=window,
                                n_output_blocks=n_output_blocks)

    def shapes(self, prefix):
        """``[(name, shape)]`` of the weights and biases, for a Layout."""
        shapes = []
        for i, mask in enumerate(self.masks):
            shapes += [(f"{prefix}.W{i}", mask.shape),
                       (f"{prefix}.b{i}", mask.shape[1:])]
        return shapes

    def params(self, views, prefix):
        """The weight and bias views out of a Layout's ``{name: view}``."""
        layers = range(len(self.masks))
        return MADEParams([views[f"{prefix}.W{i}"] for i in layers],
                          [views[f"{prefix}.b{i}"] for i in layers])

    def initialize(self, P, rng):
        """Glorot-uniform weights (zero outside the masks), zero biases."""
        for W, b, mask in zip(P.W, P.b, self.masks, strict=True):
            W[...] = glorot_uniform(rng, *W.shape, self.activation, W.dtype) * mask
            b[...] = 0

    def masked(self, W):
        """The effective weights ``W[i] * mask[i]``, computed once per pass."""
        return [w * m for w, m in zip(W, self.masks, strict=True)]

    def forward(self, Wm, b, X, C=None):
        """Run the network on the inputs X and the conditioning input C.

        ``Wm`` are the masked weights from :meth:`masked`.  Returns
        ``[[X, C], h_1, ..., h_L, output]`` (every layer kept for backward).
        """
        inputs = X if C is None else np.concatenate([X, C], axis=1)
        return mlp.forward(Wm, b, inputs, self.activation)

    def backward(self, Wm, outputs, delta, gW, gb, *, input_grad=True):
        """Back-propagate ``delta`` = dLoss/d(output) through the masked network.

        Writes the masked dLoss/dW[i] into ``gW[i]`` and dLoss/db[i] into
        ``gb[i]``, and returns dLoss/d[X, C] of shape (n, D + n_context)
        (None when ``input_grad`` is False).
        """
        delta = mlp.backward(Wm, outputs, delta, self.activation, gW, gb,
                             input_grad=input_grad)
        for g, mask in zip(gW, self.masks, strict=True):
            g *= mask
        return delta


class AutoregressiveDecoder:
    """p(x | z) = prod_j p(x_j | x_<j (windowed), z) with a MADE conditioned on z.

    The MADE maps ``[x, z]`` to one output per feature, ``a_j``, which sees
    only the earlier features in the window and all of z: the Bernoulli logit,
    or the Gaussian mean (the Gaussian variance is per feature,
    ``var_floor + exp(s_j)``, as in VAENetwork's decoder).

    log p(x | z) takes one pass (teacher forcing: the observed x is the
    input).  Generation cannot: feature j needs the features before it, so
    :meth:`generate` makes D sequential steps.  The first layer is updated
    incrementally by one rank-one term per step, so with one hidden layer the
    D steps do the arithmetic of about one dense pass, O(n (D + k) H), in D
    small NumPy calls each; each further hidden layer of size H costs
    O(n H^2) per step, i.e. D times what it costs in a pass.

    Parameters
    ----------
    n_features, n_components : int
        Data dimension D and code dimension k.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of the MADE.
    activation : str
        Hidden activation.
    likelihood : {"bernoulli", "gaussian"}
    window : int or None, default=None
        How many earlier features each conditional sees; None for all.

    Attributes
    ----------
    made : MADE
    var_floor : float
        Lower bound of the Gaussian variance (0 for Bernoulli).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._layout import Layout
    >>> from skvae._made import AutoregressiveDecoder
    >>> dec = AutoregressiveDecoder(4, 2, (8,), "tanh", "bernoulli", window=2)
    >>> layout = Layout(dec.shapes())
    >>> P = dec.params(layout.views(np.zeros(layout.size)))
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((10, 4)) < 0.5).astype(float)
    >>> dec.initialize(P, X, rng)
    >>> dec.log_prob(P, X, rng.standard_normal((10, 2))).shape
    (10,)
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes, activation,
                 likelihood, window=None, prefix="decoder"):
        self.n_features = n_features
        self.n_components = n_components
        self.likelihood = likelihood
        self.prefix = prefix
        self.var_floor = 0.0
        self.made = MADE(n_features, hidden_layer_sizes, activation,
                         n_context=n_components, window=window)

    def shapes(self):
        """``[(name, shape)]`` of every decoder parameter, for a Layout."""
        shapes = self.made.shapes(self.prefix)
        if self.likelihood == "gaussian":
            shapes.append((f"{self.prefix}.log_var_above_floor", (self.n_features,)))
        return shapes

    def params(self, views):
        """The decoder's views out of a Layout's ``{name: view}``."""
        W, b = self.made.params(views, self.prefix)
        return DecoderParams(W, b, views.get(f"{self.prefix}.log_var_above_floor"))

    def var(self, P):
        """Gaussian per-feature variance, var_floor + exp(s)."""
        return self.var_floor + np.exp(P.log_var_above_floor)

    def initialize(self, P, X, rng, var_floor_fraction=1e-3):
        """Draw the weights; start the output at the data's mean and variance.

        The Gaussian variance stays above ``var_floor_fraction`` times the
        data's mean feature variance.
        """
        self.made.initialize(P, rng)
        mean = X.mean(axis=0)
        if self.likelihood == "bernoulli":
            p = np.clip(mean, 1e-3, 1 - 1e-3)
            P.b[-1][...] = np.log(p) - np.log1p(-p)
        else:
            var = X.var(axis=0)
            self.var_floor = variance_floor(var, var_floor_fraction)
            P.b[-1][...] = mean
            P.log_var_above_floor[...] = np.log(var + self.var_floor)

    def output(self, P, X, Z):
        """The per-feature outputs a_j(x_<j, z), all at once: shape (n, D)."""
        return self.made.forward(self.made.masked(P.W), P.b, X, Z)[-1]

    def _log_prob_of_output(self, P, X, a):
        if self.likelihood == "bernoulli":
            return bernoulli_log_prob(X, a)
        # gaussian_log_prob adds a float64 constant: keep the input's dtype.
        return gaussian_log_prob(X, a, self.var(P)).astype(X.dtype, copy=False)

    def log_prob(self, P, X, Z):
        """log p(x | z), one pass.

        ``X`` has shape (n, D) and ``Z`` shape (..., n, k), e.g. a stack of
        noise draws; X is repeated over Z's leading axes.  Returns shape
        ``Z.shape[:-1]``.
        """
        lead = Z.shape[:-1]
        D = self.n_features
        X_rep = np.broadcast_to(X, (*lead, D)).reshape(-1, D)
        a = self.output(P, X_rep, Z.reshape(-1, self.n_components))
        return self._log_prob_of_output(P, X_rep, a).reshape(lead)

    def log_prob_and_backward(self, P, G, X, Z, row_weights):
        """log p(x_i | z_i) per row, and the gradient of sum_i w_i log p(x_i | z_i).

        Writes the gradient with respect to every decoder parameter into the
        views ``G`` (from :meth:`params` on the gradient buffer) and returns
        it with respect to each z_i.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        Z : ndarray of shape (n, k)
        row_weights : ndarray of shape (n,)
            w_i, e.g. -1/n for the mean loss or IWAE's normalized weights.

        Returns
        -------
        log_px : ndarray of shape (n,)
        d_Z : ndarray of shape (n, k)
        """
        Wm = self.made.masked(P.W)
        outputs = self.made.forward(Wm, P.b, X, Z)
        a = outputs[-1]
        w = row_weights[:, None]
        if self.likelihood == "bernoulli":
            log_px = bernoulli_log_prob(X, a)
            d_a = bernoulli_log_prob_grad(X, a)
        else:
            var = self.var(P)
            log_px = gaussian_log_prob(X, a, var).astype(X.dtype, copy=False)
            d_a, d_var = gaussian_log_prob_grads(X, a, var)
            # d/ds_j = sum_i w_i d log p_i / d var_j * exp(s_j)
            g_s = G.log_var_above_floor
            np.dot(row_weights, d_var, out=g_s)
            g_s *= var - self.var_floor
        d_a *= w
        d_in = self.made.backward(Wm, outputs, d_a, G.W, G.b)
        return log_px, d_in[:, self.n_features:]

    def generate(self, P, Z, noise=None):
        """Generate x from z feature by feature (D sequential steps).

        Parameters
        ----------
        Z : ndarray of shape (n, k)
        noise : ndarray of shape (n, D) or None
            None: each x_j is its conditional mean given the features already
            generated (deterministic, for ``inverse_transform``).  Otherwise
            x_j is drawn from its conditional with this noise: uniform(0, 1)
            draws for Bernoulli (x_j = [u_j < sigmoid(a_j)]), standard normal
            draws for Gaussian (x_j = a_j + sqrt(var_j) eps_j).

        Returns
        -------
        X : ndarray of shape (n, D)
        """
        D = self.n_features
        made = self.made
        act = ACTIVATIONS[made.activation]
        Wm = made.masked(P.W)
        n = Z.shape[0]
        X = np.zeros((n, D), dtype=Z.dtype)
        # First-layer pre-activation from z alone; each generated x_j adds
        # x_j * W0[j], the only change the step makes to it.
        pre = Z @ Wm[0][D:]
        pre += P.b[0]
        std = np.sqrt(self.var(P)) if self.likelihood == "gaussian" else None
        hidden = len(Wm) > 1
        for j in range(D):
            if hidden:
                H = pre.copy()
                act(H)
                for W, bias in zip(Wm[1:-1], P.b[1:-1], strict=True):
                    H = H @ W
                    H += bias
                    act(H)
                a_j = H @ Wm[-1][:, j] + P.b[-1][j]
            else:
                a_j = pre[:, j]
            if self.likelihood == "bernoulli":
                p_j = bernoulli_mean(a_j)
                x_j = p_j if noise is None else (noise[:, j] < p_j).astype(Z.dtype)
            else:
                x_j = a_j if noise is None else a_j + std[j] * noise[:, j]
            X[:, j] = x_j
            pre += np.outer(x_j, Wm[0][j])
        return X
