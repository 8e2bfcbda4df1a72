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
        alpha = 0.1. With few labels a larger weight is needed, or the
        unlabeled rows' term decides what the classes are (the user guide's
        semi-supervised section gives the measurements)."""),
    "n_auxiliary_components": ("int", """
        Dimension of the auxiliary variable a of the skip deep generative
        model (SDGM, Maaløe et al. 2016); 0 fits model M2. With ka > 0 a is
        drawn from q(a|x); the classifier q(y|a, x) and the encoder
        q(z|a, y, x) see [x, a], and the generative model adds p(a|z, y) and
        decodes p(x|a, z, y). Each network has the hidden layers
        ``hidden_layer_sizes``. Prediction estimates p(x|y) by importance
        sampling over the fixed draws of a and z. Needs ``free_bits=0``
        (``"auto"`` is 0 here). It costs a few times M2's fit time; the
        user guide's semi-supervised section compares the two
        (``benchmarks/bench_semisupervised.py``)."""),
    "hidden_layer_sizes": ('"auto", int or tuple of int', """
        Sizes of the encoder's hidden layers; the decoder mirrors them in
        reverse. ``()`` gives a linear encoder and decoder. ``"auto"`` is one
        layer twice as wide as the input, between 64 and 512 units, and no
        wider than the rows of ``fit`` when those are more than 64
        (``hidden_layer_sizes_`` says what was used; a warm start and
        ``partial_fit`` keep it)."""),
    "activation": ('{"relu", "tanh", "softplus", "logistic", "identity"}',
                   "Activation of the hidden layers."),
    "likelihood": ('{"auto", "gaussian", "bernoulli"} or dict', """
        Decoder distribution p(x|z), one likelihood per column; log p(x|z)
        is the sum of the columns' terms. ``"gaussian"`` learns a mean per
        sample and a variance per feature (never below ``variance_floor``
        times the mean feature variance of the training data).
        ``"bernoulli"`` needs values in [0, 1] (binary, or intensities such
        as scaled pixels). ``"categorical"`` (per column) is a softmax over
        the column's categories. ``"auto"`` chooses from the dtypes: on a
        DataFrame, bool, category, object and string columns are
        categorical, numeric columns whose values are exactly 0 and 1 are
        Bernoulli and other numeric columns Gaussian, each standardized on
        its own; an array is Gaussian throughout. A dict
        ``{column: likelihood}`` (names for a DataFrame, positions for an
        array) sets some columns, the rest ``"auto"``.
        ``feature_likelihoods_`` says what was used."""),
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
    "free_bits": ('"auto" or float', """
        Nats per latent dimension below which that dimension's KL, averaged
        over the batch, is not penalized (Kingma et al. 2016): keeps codes
        from collapsing to the prior. With ``prior="flow"``, whose KL does not
        split by dimension, the total KL is held above
        ``n_components * free_bits``. With ``prior="hierarchical"`` each
        dimension of either layer is held on its own: the ``n_components``
        terms log q(z1|x) - log p(z1|z2) (estimated by one draw) and the
        ``n_top_components`` terms KL(q(z2|z1) || N(0, I)). 0 is the plain
        objective. ``"auto"`` is 0.25 when Adam trains the ELBO
        (``n_importance_samples=1``) and 0 otherwise (the importance-weighted
        bound has no KL term; L-BFGS-B, which trains small data and dask
        arrays, was not measured with free bits). It keeps more codes in
        use at a small cost in held-out ELBO (user guide, "The defaults")."""),
    "n_importance_samples": ("int", """
        Noise draws per row in training. With K > 1 the objective is the
        importance-weighted bound of Burda et al. (2016), tighter than the
        ELBO, at K times the decoder's cost; it needs ``beta=1``,
        ``kl_warmup=0`` and ``free_bits=0`` (``"auto"`` is then 0)."""),
    "prior": ('{"normal", "flow", "hierarchical"}', """
        The prior p(z): the standard normal; a learned autoregressive-flow
        prior (Chen et al. 2017): ``n_flow_layers`` MADE-style affine
        autoregressive transforms of N(0, I), whose density takes one pass
        per layer and whose sampling draws sequentially, ``n_components``
        passes per layer; or ``"hierarchical"``, a second stochastic layer
        (Burda et al. 2016): p(z) = integral p(z | z2) N(z2; 0, I) dz2 over a
        top-level code z2 of ``n_top_components`` dimensions, with p(z | z2)
        and the inference network q(z2 | z) diagonal Gaussians from MLPs of
        ``top_hidden_layer_sizes``. ``transform`` still returns z's
        posterior mean; scores, ``log_likelihood`` and ``sample`` account
        for both layers. With either learned prior the KL term is estimated
        by Monte Carlo."""),
    "n_flow_layers": ("int", "Affine autoregressive layers of the flow prior."),
    "flow_hidden_layer_sizes": ("int or tuple of int",
                                "Hidden layer sizes of each flow layer's MADE."),
    "n_top_components": ("int", """
        Dimension of the top-level code z2 of ``prior="hierarchical"``
        (unused by the other priors)."""),
    "top_hidden_layer_sizes": ("int or tuple of int", """
        Hidden layer sizes of the inference network q(z2 | z) of
        ``prior="hierarchical"``; the network of p(z | z2) mirrors them in
        reverse. Unused by the other priors."""),
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
    "solver": ('{"auto", "lbfgs", "adam"}', """
        ``"lbfgs"``: SciPy's L-BFGS-B on the full data with the noise held
        fixed within rounds of 20 iterations, so that the objective it sees
        is deterministic; stops when the loss under one fixed noise draw
        stops falling. ``"adam"``: minibatch Adam with fresh noise every
        step; supports ``partial_fit`` and ``early_stopping``. ``"auto"``:
        Adam from 100 rows on, L-BFGS-B below (the rule's measurements are
        in the user guide);
        ``solver_`` says which ran. See the user guide's "Defaults". A
        warm start trains with ``solver`` from the fitted weights (``"auto"``
        keeps the solver that trained them)."""),
    "alpha": ('"auto" or float', """
        Strength of the L2 penalty on the weights, added to the mean loss of
        each batch as ``alpha / (2 * n_batch) * ||W||^2`` (as in
        :class:`~sklearn.neural_network.MLPRegressor`). ``"auto"`` is
        ``1e-3 * n_features`` (0.064 for the 8x8 digits, 0.784 for 784
        pixels): the negative ELBO is a sum over the features, so the
        penalty grows with them. On 784-pixel binarized digits it raised the
        held-out ELBO by about 3 nats over ``alpha=1e-4``, for 15 to 55%
        more epochs."""),
    "batch_size": ('int or "auto"', """
        Minibatch size for ``"adam"``; ``"auto"`` is ``min(100, n_samples)``."""),
    "learning_rate_init": ('"auto" or float', """
        Adam's step size. ``"auto"`` is ``2e-3 * (512 / width) ** 0.25`` for
        hidden layers of the given width (2e-3 for 512 units, 2.8e-3 for
        128)."""),
    "average_decay": ("float in [0, 1)", """
        Adam only: the model is an exponential moving average of Adam's
        iterates (Polyak averaging), ``a = average_decay * a + (1 -
        average_decay) * w`` after every step, bias-corrected as Adam's
        moments; validation, early stopping and the fitted model use the
        average, while training continues from the iterate (also across
        ``partial_fit`` calls; after early stopping, from the best model).
        ``0`` turns averaging off: the model is the last iterate. 0.98
        averages over about 50 steps; on binarized 784-pixel digits it raised
        the held-out ELBO of ``VAETransformer`` by about 3 nats and reached
        the PyTorch reference's final ELBO about 8 epochs sooner (user guide,
        "The defaults"). :class:`~skvae.VAEClassifier` defaults to 0: there
        it changed nothing on digits, and on short fits of few rows the
        average lags."""),
    "max_iter": ("int", "Maximum number of iterations (L-BFGS-B) or epochs (Adam)."),
    "tol": ('"auto" or float', """
        An iteration improves when the loss falls by more than ``tol`` (or the
        validation score rises by more than ``tol``), in nats per row;
        L-BFGS-B also stops when its projected gradient falls below ``tol``.
        ``"auto"`` is 1e-4 nats per input feature with Adam (0.0064 for the
        8x8 digits, 0.0784 for 784 pixels: the ELBO is a sum over the
        features) and 1e-4 with L-BFGS-B. It ends fits whose validation
        ELBO creeps up by hundredths of a nat per epoch (user guide, "The
        defaults")."""),
    "n_iter_no_change": ("int", """
        Training stops after more than this many iterations in a row without
        improvement."""),
    "early_stopping": ('"auto" or bool', """
        Adam only: hold out ``validation_fraction`` of the data, stop when its
        mean ELBO (on 4 fixed noise draws) has not improved by ``tol`` for
        more than ``max(n_iter_no_change, best epoch / 4)`` epochs, and keep
        the best parameters. ``"auto"``: on for Adam when the validation
        split holds at least 10 rows."""),
    "validation_fraction": ("float", """
        Fraction of the training data held out when ``early_stopping``."""),
    "random_state": ("int, RandomState instance or None", """
        Seeds the initial weights, the training noise and the shuffling, and
        the fixed noise used by the scores. Pass an int for reproducible,
        bit-identical results."""),
    "verbose": ("int", "Print the loss after each iteration when positive."),
    "warm_start": ("bool", """
        Continue training the fitted network on the next call to ``fit``,
        with ``solver``; its architecture must stay as it was (user guide,
        "Settings take effect at fit")."""),
}


# The detector's own parameters, and those whose meaning it changes.
DETECTOR_PARAMETERS = {
    "n_components": ("int", """
        Dimension of the latent code z of the single VAE (``n_estimators_``
        is 1). The ensemble's members take theirs from ``estimator``."""),
    "score_type": ('{"auto", "elbo_at_mean", "elbo", "log_likelihood", '
                   '"reconstruction"}', """
        What each VAE scores a row by: ``"elbo"``, the per-sample ELBO;
        ``"elbo_at_mean"``, the ELBO with its expectation over q(z|x)
        replaced by one decoding of the posterior mean,
        log p(x | z = mu(x)) - KL(q(z|x) || p(z)), deterministic and one
        decoding per row; ``"log_likelihood"``, the importance-weighted
        estimate of log p(x) with ``log_likelihood_samples`` samples;
        ``"reconstruction"``, minus the squared error of the decoded
        posterior mean. ``"auto"`` is ``"elbo_at_mean"`` for an ensemble and
        ``"reconstruction"`` for a single VAE (``score_type_`` says which).
        An ensemble's score is the mean of its members' scores, each
        standardized as described under ``n_estimators``. An ensemble reads
        it at fit, as its trimming ranks rows by it; a single VAE reads it at
        each call, so that one fitted network gives every score (``offset_``
        stays that of the score at fit)."""),
    "n_estimators": ('"auto" or int', """
        Number of VAEs. With more than one, each member (a clone of
        ``estimator``) is fitted to ``max_samples`` rows drawn without
        replacement, trimmed (``trim_fraction``, ``n_trim_rounds``), and
        scores rows by ``score_type``; :meth:`score_samples` averages the
        members' scores after standardizing each by the median and the
        robust spread (1.4826 median absolute deviations) of its scores on
        its own rows, so that no member outweighs another. The input is
        standardized feature by feature first (mean and standard deviation
        of the training data; a constant feature keeps the scale 1), so the
        ranking does not depend on the units or offsets of the features.
        ``"auto"`` is 5 for inputs with fewer than 64 features and 1 (one VAE
        on all rows, trained with this detector's own parameters, on the
        data as given) for wider inputs such as images, and for dask
        arrays. ``n_estimators_`` says which ran."""),
    "max_samples": ("int or float", """
        Rows each ensemble member is fitted to: an int (at most the number
        of rows with a positive weight), or a float in (0, 1], that fraction
        of them. Unused by a single VAE."""),
    "trim_fraction": ("float in [0, 0.5)", """
        Each trimming round gives weight zero to this fraction of a member's
        rows, those it scores lowest, and continues training on the rest:
        the training data may hold the anomalies, and a model that fits them
        scores them as normal. Unused by a single VAE."""),
    "n_trim_rounds": ("int", """
        Trimming rounds after each member's first fit; each re-selects the
        rows and trains for half the member's ``max_iter``. 0 fits each
        member once to all its rows."""),
    "estimator": ("VAETransformer or None", """
        The ensemble's member, cloned for each with its own ``random_state``.
        ``None`` is ``VAETransformer(n_components=2,
        hidden_layer_sizes=(16,), solver="lbfgs", max_iter=40,
        variance_floor=1e-3, alpha=1e-4, free_bits=0.0,
        early_stopping=False)``: small and briefly trained, as the
        subsampled trees of an isolation forest are. Unused by a single
        VAE."""),
    "contamination": ('"auto" or float in (0, 0.5]', """
        Expected fraction of outliers in the training data; sets ``offset_``
        to that quantile of the training scores. ``"auto"`` sets it instead
        at three robust standard deviations (1.4826 median absolute
        deviations) below the median training score, which may flag none."""),
    "log_likelihood_samples": ("int", """
        Importance samples per row when ``score_type="log_likelihood"``."""),
    "variance_floor": ("float", """
        Lower bound of the Gaussian likelihood's per-feature variance, as a
        fraction of the training data's mean feature variance. Higher than
        :class:`VAETransformer`'s 1e-3: nearly constant features (such as
        the border pixels of digits) then cannot claim a tiny variance, so
        training spends its capacity on the features that vary
        (docs/benchmarks.rst gives the measurement)."""),
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
