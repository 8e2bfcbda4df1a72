"""Where each parameter array sits in one flat buffer.

All of a model's parameters live in one contiguous 1-D array.  Each weight
matrix or bias vector is a reshaped view of a slice of it, so an optimizer
updates the flat array in place and every layer sees the change, and the
gradient, laid out the same way, is written straight into views of its own
flat array: nothing is packed or unpacked per iteration.
"""

import math

import numpy as np


class Layout:
    """Named shapes laid end to end in a flat buffer.

    Parameters
    ----------
    shapes : list of (str, tuple of int)
        Name and shape of each parameter array, in buffer order.
    """

    def __init__(self, shapes):
        self.shapes = dict(shapes)
        if len(self.shapes) != len(shapes):
            raise ValueError("Parameter names must be unique.")
        self.slices = {}
        start = 0
        for name, shape in shapes:
            stop = start + math.prod(shape)
            self.slices[name] = slice(start, stop)
            start = stop
        self.size = start

    def views(self, buffer):
        """Return ``{name: view}`` of ``buffer`` reshaped per parameter."""
        if buffer.shape != (self.size,):
            raise ValueError(
                f"Buffer has shape {buffer.shape}, the layout needs ({self.size},)."
            )
        return {
            name: buffer[self.slices[name]].reshape(shape)
            for name, shape in self.shapes.items()
        }

    def empty(self, dtype):
        """A new uninitialised flat buffer for this layout."""
        return np.empty(self.size, dtype=dtype)


def bind_new(parts, dtype=np.float64):
    """Lay the parts' arrays end to end in new zero buffers, and bind each part.

    Parameters
    ----------
    parts : sequence of Part
        The parts, in buffer order; their array names must be unique.
    dtype : numpy dtype, default=np.float64
        Dtype of both buffers.

    Returns
    -------
    layout : Layout
        Where each part's arrays sit.
    params, grads : ndarray of shape (layout.size,)
        The parameter and gradient buffers, zero, each part bound to views of
        them.

    Examples
    --------
    >>> from skvae._nn.layout import Part, bind_new
    >>> class Bias(Part):
    ...     def shapes(self):
    ...         return [("bias", (3,))]
    ...     def bind(self, params, grads):
    ...         self.b = params["bias"]
    >>> part = Bias()
    >>> layout, params, grads = bind_new([part])
    >>> params += 1.0  # the part sees the buffer
    >>> part.b
    array([1., 1., 1.])
    """
    layout = Layout([shape for part in parts for shape in part.shapes()])
    params = np.zeros(layout.size, dtype=dtype)
    grads = np.zeros(layout.size, dtype=dtype)
    param_views, grad_views = layout.views(params), layout.views(grads)
    for part in parts:
        part.bind(param_views, grad_views)
    return layout, params, grads


class Part:
    """A piece of a model whose arrays live in the model's flat buffers.

    A part declares its arrays with :meth:`shapes` (names unique across the
    model, by the part's prefix), and receives views of the parameter and
    gradient buffers in :meth:`bind`.  The views it keeps are named in
    ``_VIEWS``: pickling drops them (they would come back as copies cut off
    from the buffers) and the owner binds the part again after loading.
    """

    _VIEWS = ()

    def shapes(self):
        """``[(name, shape)]`` of the part's arrays, in buffer order."""
        return []

    def bind(self, params, grads):
        """Keep views of the part's arrays out of ``{name: view}`` dicts."""

    def weights(self):
        """``[(W, dW)]`` of the weight matrices the L2 penalty applies to."""
        return []

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in self._VIEWS:
            state.pop(name, None)
        return state
