"""The estimators' parameter documentation, written once and checked at import.

Each estimator's docstring holds the marker ``%(parameters)s`` where its
Parameters section goes. :func:`document_parameters` builds that section
from the estimator's signature, in signature order, taking each default from
the signature itself (so the docs cannot drift from the code) and each
description from :data:`PARAMETERS` (or the estimator's own overrides). A
missing marker, or a parameter without a description, raises at import.
"""

import inspect
import textwrap

# name -> (type, description). Descriptions are plain numpydoc text.
PARAMETERS = {
    "n_components": ("int", "Dimension of the latent code z."),
    "classification_weight": ("float", """
        Weight alpha of the classification loss on the labeled rows in
        semi-supervised training (some rows labeled -1): the loss adds alpha
        times the mean over the labeled rows of -log q(y|x) to the mean
        negative ELBO over all rows, i.e. alpha * N / N_labeled per labeled
        row, the scaling of Kingma et al. (2014), whose reference value is
        alpha = 0.1. On digits with 50 labels, 0.1 left VAEClassifier at
        0.36 test accuracy and 10 reached 0.90: with few labels, the
        unlabeled rows' term otherwise decides what the classes are."""),
    "hidden_layer_sizes": ("int or tuple of int", """
        Sizes of the encoder's hidden layers; the decoder mirrors them in
        reverse. ``()`` gives a linear encoder and decoder."""),
    "activation": ('{"relu", "tanh", "softplus", "logistic", "identity"}',
                   "Activation of the hidden layers."),
    "likelihood": ('{"gaussian", "bernoulli"}', """
        Decoder distribution p(x|z). ``"gaussian"`` learns a mean per sample
        and a variance per feature (never below ``variance_floor`` times the
        mean feature variance of the training data). ``"bernoulli"`` needs X
        in [0, 1] (binary, or intensities such as scaled pixels)."""),
    "variance_floor": ("float", """
        Lower bound of the Gaussian likelihood's per-feature variance, as a
        fraction of the training data's mean feature variance, so the
        variance follows the data's scale and cannot collapse to zero.
        Raising it keeps nearly constant features from dominating the
        likelihood. Unused by the Bernoulli likelihood."""),
    "beta": ("float", """
        Weight of the KL term in the training objective; ``beta != 1`` is the
        beta-VAE. Scores always use the true ELBO (``beta = 1``)."""),
    "kl_warmup": ("int", """
        Iterations (L-BFGS-B, in rounds of 20) or epochs (Adam) over which the
        KL weight ramps linearly from 0 to ``beta`` (Bowman et al. 2016);
        0 means no warm-up. The stopping rule (``tol``,
        ``n_iter_no_change``) compares losses only once the weight is full."""),
    "free_bits": ("float", """
        Nats per latent dimension below which that dimension's KL, averaged
        over the batch, is not penalized (Kingma et al. 2016): keeps codes
        from collapsing to the prior. With ``prior="flow"``, whose KL does not
        split by dimension, the total KL is held above
        ``n_components * free_bits``. 0 is the plain objective."""),
    "n_importance_samples": ("int", """
        Noise draws per row in training. With K > 1 the objective is the
        importance-weighted bound of Burda et al. (2016), tighter than the
        ELBO, at K times the decoder's cost; it needs ``beta=1``,
        ``kl_warmup=0`` and ``free_bits=0``."""),
    "prior": ('{"normal", "flow"}', """
        The prior p(z): the standard normal, or a learned autoregressive-flow
        prior (Chen et al. 2017): ``n_flow_layers`` MADE-style affine
        autoregressive transforms of N(0, I). Its density takes one pass per
        layer; sampling draws sequentially, ``n_components`` passes per
        layer. With it the KL term is estimated by Monte Carlo."""),
    "n_flow_layers": ("int", "Affine autoregressive layers of the flow prior."),
    "flow_hidden_layer_sizes": ("int or tuple of int",
                                "Hidden layer sizes of each flow layer's MADE."),
    "decoder": ('{"mlp", "autoregressive"}', """
        The decoder p(x|z). ``"autoregressive"`` is a masked (MADE) network
        conditioned on z: p(x|z) = prod_j p(x_j | x_<j, z), each feature
        seeing the ``window`` features before it (Chen et al. 2017). Its
        likelihood takes one pass, but decoding and sampling generate
        feature by feature: ``n_features`` sequential steps."""),
    "window": ("int or None", """
        Earlier features each autoregressive conditional sees; None for all
        of them. A small window leaves the global structure to the code z
        (a "lossy" code)."""),
    "solver": ('{"lbfgs", "adam"}', """
        ``"lbfgs"``: SciPy's L-BFGS-B on the full data with the noise held
        fixed, so that the objective it sees is deterministic; good for small
        and medium data. ``"adam"``: minibatch Adam with fresh noise every
        step; supports ``partial_fit`` and ``early_stopping``."""),
    "alpha": ("float", """
        Strength of the L2 penalty on the weights, added to the mean loss of
        each batch as ``alpha / (2 * n_batch) * ||W||^2`` (as in
        :class:`~sklearn.neural_network.MLPRegressor`)."""),
    "batch_size": ('int or "auto"', """
        Minibatch size for ``"adam"``; ``"auto"`` is ``min(200, n_samples)``."""),
    "learning_rate_init": ("float", "Adam's step size."),
    "max_iter": ("int", "Maximum number of iterations (L-BFGS-B) or epochs (Adam)."),
    "tol": ("float", """
        An iteration improves when the loss falls by more than ``tol`` (or the
        validation score rises by more than ``tol``); L-BFGS-B also stops
        when its projected gradient falls below ``tol``."""),
    "n_iter_no_change": ("int", """
        Training stops after more than this many iterations in a row without
        improvement."""),
    "early_stopping": ("bool", """
        ``"adam"`` only: hold out ``validation_fraction`` of the data, stop when
        its mean ELBO stops improving, and keep the best parameters."""),
    "validation_fraction": ("float", """
        Fraction of the training data held out when ``early_stopping``."""),
    "random_state": ("int, RandomState instance or None", """
        Seeds the initial weights, the training noise and the shuffling, and
        the fixed noise used by the scores. Pass an int for reproducible,
        bit-identical results."""),
    "verbose": ("int", "Print the loss after each iteration when positive."),
    "warm_start": ("bool", """
        Continue training the fitted network on the next call to ``fit``."""),
}


def _format_default(value):
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def document_parameters(cls=None, *, overrides=None):
    """Put the Parameters section of ``cls.__init__`` in place of its marker.

    A class decorator: ``@document_parameters`` or
    ``@document_parameters(overrides={name: (type, description)})``.
    """
    if cls is None:
        return lambda cls: document_parameters(cls, overrides=overrides)
    docs = {**PARAMETERS, **(overrides or {})}
    marker = "    %(parameters)s\n"
    if cls.__doc__.count(marker) != 1:
        raise RuntimeError(f"{cls.__name__}'s docstring needs one {marker.strip()!r}.")
    entries = []
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        if name not in docs:
            raise RuntimeError(f"{cls.__name__}: no documentation for {name!r}.")
        kind, text = docs[name]
        description = textwrap.indent(textwrap.dedent(text).strip(), " " * 8)
        entries.append(f"    {name} : {kind}, "
                       f"default={_format_default(parameter.default)}\n{description}\n")
    cls.__doc__ = cls.__doc__.replace(marker, "\n".join(entries))
    return cls
