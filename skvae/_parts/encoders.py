"""The inference network q(z | x): a diagonal Gaussian from an MLP.

An MLP maps the input to 2k outputs, read as the posterior mean ``mu`` (first
k columns) and, through a smooth bound, the log-variance ``log_var`` (last k).
Codes are drawn by the reparameterization z = mu + exp(log_var / 2) * eps, so
gradients reach the network through ``mu`` and ``log_var``.

The log-variance is the raw output r, bounded smoothly to LOG_VAR_RANGE =
(lo, hi): exactly r between the knees lo + TAIL and hi - TAIL, and beyond a
knee c the tail c + TAIL * tanh((r - c) / TAIL), which meets r with the same
value and slope and tends to lo or hi. exp cannot overflow, and the
posterior standard deviation stays finite and positive (between exp(lo / 2)
and exp(hi / 2), in the standardized units the network works in) for any
input. Training rarely reaches a tail: then the bound costs two reductions.
"""

import numpy as np

from .._nn import mlp

LOG_VAR_RANGE = (-20.0, 10.0)
TAIL = 5.0


def _tails(raw):
    """Masks of the entries beyond the lower and upper knees, or None."""
    lo, hi = LOG_VAR_RANGE
    if raw.min() >= lo + TAIL and raw.max() <= hi - TAIL:
        return None
    return raw < lo + TAIL, raw > hi - TAIL


def soft_clip_log_var(raw):
    """The log-variance from the raw output: r between the knees, tanh tails."""
    out = raw.copy()
    tails = _tails(raw)
    if tails is not None:
        for mask, knee in zip(tails, (LOG_VAR_RANGE[0] + TAIL, LOG_VAR_RANGE[1] - TAIL),
                              strict=True):
            out[mask] = knee + TAIL * np.tanh((raw[mask] - knee) / TAIL)
    return out


def soft_clip_log_var_backward(raw, d_log_var):
    """d loss / d raw from d loss / d log_var, in place: 1 - tanh^2 in the tails."""
    tails = _tails(raw)
    if tails is not None:
        for mask, knee in zip(tails, (LOG_VAR_RANGE[0] + TAIL, LOG_VAR_RANGE[1] - TAIL),
                              strict=True):
            d_log_var[mask] *= 1 - np.tanh((raw[mask] - knee) / TAIL) ** 2
    return d_log_var


class GaussianEncoder(mlp.MLPPart):
    """q(z | x) = N(mu(x), diag(exp(log_var(x)))).

    Parameters
    ----------
    n_inputs : int
        Width of the input x.
    n_components : int
        Dimension k of z.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of the MLP.
    activation : str
        Hidden activation (a key of ``skvae._nn.activations.ACTIVATIONS``).
    prefix : str, default="encoder"
        Name prefix of its parameters.
    """

    def __init__(self, n_inputs, n_components, hidden_layer_sizes, activation,
                 prefix="encoder"):
        self.n_components = n_components
        self.activation = activation
        self.prefix = prefix
        self.sizes = [n_inputs, *hidden_layer_sizes, 2 * n_components]

    def forward(self, X):
        """Every layer's output (for :meth:`backward`), then mu and log_var."""
        outputs = mlp.forward(self.W, self.b, mlp.bounded(X), self.activation)
        k = self.n_components
        return outputs, outputs[-1][:, :k], soft_clip_log_var(outputs[-1][:, k:])

    def encode(self, X):
        """Posterior mean and log-variance, each of shape (n_samples, k)."""
        return self.forward(X)[1:]

    def backward(self, outputs, d_heads, input_grad=False):
        """Back-propagate d loss / d [mu, log_var] into the weight gradients.

        ``d_heads`` is overwritten. With ``input_grad``, returns d loss / d
        input (of the input the network saw, i.e. after :func:`mlp.bounded`),
        for an encoder whose input is itself computed (a hierarchical prior's
        networks); else None.
        """
        k = self.n_components
        soft_clip_log_var_backward(outputs[-1][:, k:], d_heads[:, k:])
        return mlp.backward(self.W, outputs, d_heads, self.activation, self._grad_W,
                            self._grad_b, input_grad=input_grad)
