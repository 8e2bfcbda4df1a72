"""Masked autoregressive MLPs (MADE), for the flow prior and the autoregressive decoder.

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

As in :mod:`skvae._nn.mlp`, ``W[i]`` has shape (fan_in, fan_out); hidden layers
apply ``activation`` and the last layer is linear.  The first layer's input is
``[X, C]`` (autoregressive inputs first, then the conditioning input).  Output
columns come in ``n_output_blocks`` blocks of D (for a flow: shifts, then
log-scale pre-activations), each block masked like the first.
"""

from collections import namedtuple

import numpy as np

from . import mlp
from .mlp import glorot_uniform

MADEParams = namedtuple("MADEParams", ["W", "b"])


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
    >>> from skvae._nn.made import made_masks
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
        Key of ``skvae._nn.activations.ACTIVATIONS`` for the hidden layers.
    n_context : int, default=0
        Number of conditioning inputs.
    window : int or None, default=None
        How many earlier inputs each output sees; None for all of them.
    n_output_blocks : int, default=1
        Output blocks of D columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.layout import Layout
    >>> from skvae._nn.made import MADE
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
