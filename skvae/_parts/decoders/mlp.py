"""The MLP decoder: a dense network from the code to the head's outputs."""


from ..._nn import mlp


class MLPDecoder(mlp.MLPPart):
    """An MLP from ``[z, c]`` to the head's per-feature outputs.

    Parameters
    ----------
    n_features : int
        Data dimension d: the head's columns (``head.n_columns``).
    n_inputs : int
        Width of the input: k, plus the condition's columns.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes, in order from the code.
    activation : str
        Hidden activation.
    head : head of :mod:`skvae._parts.heads`
        The likelihood; the network's last layer has its ``n_outputs``.
    prefix : str, default="decoder"
        Name prefix of its parameters.
    """

    def __init__(self, n_features, n_inputs, hidden_layer_sizes, activation, head,
                 prefix="decoder"):
        self.n_features = n_features
        self.activation = activation
        self.head = head
        self.prefix = prefix
        self.sizes = [n_inputs, *hidden_layer_sizes, head.n_outputs]

    @classmethod
    def from_settings(cls, n_features, n_inputs, hidden_layer_sizes, activation,
                      head, settings):
        """Build from the estimator's settings (this decoder has none)."""
        return cls(n_features, n_inputs, hidden_layer_sizes, activation, head)

    def shapes(self):
        return super().shapes() + self.head.shapes()

    def bind(self, params, grads):
        super().bind(params, grads)
        self.head.bind(params, grads)

    def initialize(self, X, rng, var_floor_fraction, sample_weight=None):
        super().initialize(rng)
        self.head.initialize(X, self.b[-1], var_floor_fraction, sample_weight)

    def output(self, Z):
        """The per-feature outputs a(z) for codes of shape (n, width)."""
        return mlp.forward(self.W, self.b, Z, self.activation)[-1]

    def log_prob(self, X, Z, mask=None):
        lead = Z.shape[:-1]
        a = self.output(Z.reshape(-1, Z.shape[-1]))
        a = a.reshape(*lead, a.shape[-1])
        if mask is None:
            return self.head.log_prob(X, a)
        return self.head.log_prob(X, a, mask)

    def forward(self, X, Z, mask=None):
        outputs = mlp.forward(self.W, self.b, Z, self.activation)
        if mask is None:
            log_px, head_cache = self.head.forward(X, outputs[-1])
        else:
            log_px, head_cache = self.head.forward(X, outputs[-1], mask)
        return log_px, (outputs, head_cache)

    def backward(self, cache, row_weights):
        outputs, head_cache = cache
        d_a = self.head.backward(head_cache, row_weights)
        return mlp.backward(self.W, outputs, d_a, self.activation, self._grad_W,
                            self._grad_b)

    def mean(self, Z):
        return self.head.mean(self.output(Z))

    def draw(self, Z, uniform):
        """x ~ p(x | z) given uniform(0, 1) noise of shape (n, n_features)."""
        return self.head.draw(self.output(Z), uniform)

    def reconstruction_error(self, X, Z, mask=None):
        if mask is None:
            return self.head.reconstruction_error(X, self.output(Z))
        return self.head.reconstruction_error(X, self.output(Z), mask)
