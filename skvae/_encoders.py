"""The inference network q(z | x): a diagonal Gaussian from an MLP.

An MLP maps the input to 2k outputs, read as the posterior mean ``mu`` (first
k columns) and, through a smooth bound, the log-variance ``log_var`` (last k).
Codes are drawn by the reparameterization z = mu + exp(log_var / 2) * eps, so
gradients reach the network through ``mu`` and ``log_var``.

The log-variance is the raw output r softly clipped to LOG_VAR_RANGE = (lo, hi):

    log_var = lo + softplus(r - lo) - softplus(r - hi),

the identity to within 5e-5 for r well inside the range, so that exp cannot
overflow and the posterior standard deviation stays finite and positive
(between exp(lo / 2) and exp(hi / 2), in the standardized units the network
works in) for any input. Its derivative is sigmoid(r - lo) - sigmoid(r - hi).
"""

from scipy.special import expit

from . import _mlp as mlp
from ._activations import inplace_softplus
from ._layout import Part

LOG_VAR_RANGE = (-20.0, 10.0)


def soft_clip_log_var(raw):
    """lo + softplus(raw - lo) - softplus(raw - hi), in raw's dtype."""
    lo, hi = LOG_VAR_RANGE
    low = raw - lo
    inplace_softplus(low)
    high = raw - hi
    inplace_softplus(high)
    low -= high
    low += lo
    return low


def soft_clip_log_var_derivative(raw):
    """d log_var / d raw = sigmoid(raw - lo) - sigmoid(raw - hi)."""
    lo, hi = LOG_VAR_RANGE
    return expit(raw - lo) - expit(raw - hi)


class GaussianEncoder(Part):
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
        Hidden activation (a key of ``_activations.ACTIVATIONS``).
    prefix : str, default="encoder"
        Name prefix of its parameters.
    """

    _VIEWS = ("W", "b", "_grad_W", "_grad_b")

    def __init__(self, n_inputs, n_components, hidden_layer_sizes, activation,
                 prefix="encoder"):
        self.n_components = n_components
        self.activation = activation
        self.prefix = prefix
        self.sizes = [n_inputs, *hidden_layer_sizes, 2 * n_components]

    def shapes(self):
        return mlp.mlp_shapes(self.prefix, self.sizes)

    def bind(self, params, grads):
        n_layers = len(self.sizes) - 1
        self.W, self.b = mlp.mlp_views(params, self.prefix, n_layers)
        self._grad_W, self._grad_b = mlp.mlp_views(grads, self.prefix, n_layers)

    def weights(self):
        return list(zip(self.W, self._grad_W, strict=True))

    def initialize(self, rng):
        mlp.initialize(self.W, self.b, rng, self.activation)

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
        d_heads[:, k:] *= soft_clip_log_var_derivative(outputs[-1][:, k:])
        return mlp.backward(self.W, outputs, d_heads, self.activation, self._grad_W,
                            self._grad_b, input_grad=input_grad)
