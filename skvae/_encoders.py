"""The inference network q(z | x): a diagonal Gaussian from an MLP.

An MLP maps the input to 2k outputs, read as the posterior mean ``mu`` (first
k columns) and log-variance ``log_var`` (last k).  Codes are drawn by the
reparameterization z = mu + exp(log_var / 2) * eps, so gradients reach the
network through ``mu`` and ``log_var``.
"""

from . import _mlp as mlp
from ._layout import Part


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
        outputs = mlp.forward(self.W, self.b, X, self.activation)
        k = self.n_components
        return outputs, outputs[-1][:, :k], outputs[-1][:, k:]

    def encode(self, X):
        """Posterior mean and log-variance, each of shape (n_samples, k)."""
        return self.forward(X)[1:]

    def backward(self, outputs, d_heads):
        """Back-propagate d loss / d [mu, log_var] into the weight gradients."""
        mlp.backward(self.W, outputs, d_heads, self.activation, self._grad_W,
                     self._grad_b, input_grad=False)
