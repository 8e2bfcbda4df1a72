"""The classifier q(y | x): an MLP whose outputs are read through a softmax.

A part (:class:`skvae._nn.layout.Part`) like the encoder: its weights live in
the model's flat buffer.  The MLP maps x to one logit a_c per class; the
class probabilities are softmax(a), kept as their logarithms,

    log q(c | x) = a_c - logsumexp_c' a_c',

so that no probability underflows to a log of zero.  A loss L that depends
on the log-probabilities back-propagates to the logits through

    dL / da_c = g_c - q_c sum_c' g_c',    g = dL / d log q,

the Jacobian of the log-softmax (:func:`log_softmax_backward`).
"""

import numpy as np

from .._nn import mlp


def log_softmax(logits):
    """log softmax over the last axis, in the logits' dtype."""
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    shifted -= np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return shifted


def log_softmax_backward(log_q, d_log_q):
    """d L / d logits from ``d_log_q`` = d L / d log q, with log q = log_softmax."""
    return d_log_q - np.exp(log_q) * np.sum(d_log_q, axis=-1, keepdims=True)


class SoftmaxClassifier(mlp.MLPPart):
    """q(y | x) = softmax(MLP(x)), over ``n_classes`` classes.

    Parameters
    ----------
    n_inputs : int
        Width of the input x.
    n_classes : int
        Number of classes.
    hidden_layer_sizes : tuple of int
        Hidden layer sizes of the MLP; ``()`` is multinomial logistic
        regression.
    activation : str
        Hidden activation (a key of ``skvae._nn.activations.ACTIVATIONS``).
    prefix : str, default="classifier"
        Name prefix of its parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._parts.classifiers import SoftmaxClassifier
    >>> from skvae._nn.layout import bind_new
    >>> classifier = SoftmaxClassifier(4, 3, (8,), "relu")
    >>> layout, params, grads = bind_new([classifier])
    >>> classifier.initialize(np.random.default_rng(0))
    >>> log_q = classifier.log_proba(np.ones((2, 4)))
    >>> log_q.shape, np.allclose(np.exp(log_q).sum(axis=1), 1)
    ((2, 3), True)
    """

    def __init__(self, n_inputs, n_classes, hidden_layer_sizes, activation,
                 prefix="classifier"):
        self.n_classes = n_classes
        self.activation = activation
        self.prefix = prefix
        self.sizes = [n_inputs, *hidden_layer_sizes, n_classes]

    def forward(self, X):
        """log q(y | x) of shape (n, n_classes), and every layer's output
        (for :meth:`backward`)."""
        outputs = mlp.forward(self.W, self.b, mlp.bounded(X), self.activation)
        return log_softmax(outputs[-1]), outputs

    def log_proba(self, X):
        """log q(y | x), of shape (n_samples, n_classes)."""
        return self.forward(X)[0]

    def backward(self, outputs, log_q, d_log_q, input_grad=False):
        """Back-propagate d loss / d log q(y | x) into the weight gradients.

        With ``input_grad``, returns d loss / d input (of the input the
        network saw, i.e. after :func:`mlp.bounded`), for a classifier whose
        input is itself computed (the auxiliary model's [x, a]); else None.
        """
        d_logits = log_softmax_backward(log_q, d_log_q)
        return mlp.backward(self.W, outputs, d_logits, self.activation, self._grad_W,
                            self._grad_b, input_grad=input_grad)
