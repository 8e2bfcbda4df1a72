"""VQVAETransformer: a vector-quantized autoencoder as a scikit-learn transformer."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._callbacks import (
    FIT_TASK_FRAMES,
    CallbackSupportMixin,
    fit_task,
    iteration_tasks,
    reported_chunks,
    snapshot_network,
)
from ._persistence import PersistenceMixin, load_vq_network, vq_network_state
from ._quantizer import perplexity
from ._solvers import Adam, History, run_adam
from ._utils import finite_mean, transactional
from ._validation import check_not_array_api, check_sample_weight
from ._vqnetwork import VQNetwork

# How far outside [0, 1] Bernoulli data may stray through rounding.
BERNOULLI_TOLERANCE = 1e-6

# Scratch memory per inference chunk, in MiB (scikit-learn's working_memory
# when smaller), as in the VAE estimators.
INFERENCE_CHUNK_MIB = 32


class VQVAETransformer(PersistenceMixin, CallbackSupportMixin,
                       ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                       BaseEstimator):
    """Vector-quantized autoencoder (VQ-VAE): a learned discrete code per sample.

    An encoder network maps each sample x to ``n_groups`` vectors of
    ``code_dim`` entries; each vector is replaced by the nearest of the
    ``n_codes`` vectors of its group's codebook, so that a sample is coded
    by ``n_groups`` integers, ``n_groups * log2(n_codes)`` bits (van den
    Oord et al. 2017). A decoder network maps the chosen code vectors back
    to a distribution p(x|z) over the data (Gaussian with learned
    per-feature variance, or Bernoulli for data in [0, 1]).

    Encoder and decoder are trained together with Adam on

        -log p(x | decoder(z_q)) + commitment_cost * ||z_e - sg(z_q)||^2,

    z_e the encoder's output, z_q its codes, sg a stopped gradient; the
    decoder's gradient passes the quantization unchanged (straight-through
    estimator). The codebooks follow exponential moving averages of the
    encoder outputs assigned to each code, and codes that fall out of use
    are restarted at encoder outputs of the current batch.

    Each group has its own codebook: the groups are different outputs of
    the encoder, feeding different inputs of the decoder, with nothing to
    share, and separate codebooks give ``n_groups * n_codes`` code vectors
    for the same number of bits (as product quantization does).

    Parameters
    ----------
    n_groups : int, default=4
        Number of code vectors, and of integer codes, per sample.

    n_codes : int, default=16
        Size of each group's codebook.

    code_dim : int, default=4
        Length of each code vector; the decoder reads ``n_groups * code_dim``
        inputs. It sets the space in which each group's codes are placed, not
        how many bits a sample gets (that is ``n_groups * log2(n_codes)``).
        Small vectors are easy to cover with ``n_codes`` codes; on digits, 2
        and 4 did equally well and 8 or 16 worse (see the user guide).

    hidden_layer_sizes : int or tuple of int, default=(256,)
        Sizes of the encoder's hidden layers; the decoder mirrors them in
        reverse. ``()`` gives a linear encoder and decoder.

    activation : {"relu", "tanh", "softplus", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.

    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder distribution p(x|z). ``"gaussian"`` learns a mean per code
        and a variance per feature (never below ``variance_floor`` times the
        mean feature variance of the training data). ``"bernoulli"`` needs X
        in [0, 1].

    variance_floor : float, default=1.0
        Lower bound of the Gaussian likelihood's per-feature variance, as a
        fraction of the training data's mean feature variance. Unused by the
        Bernoulli likelihood. The default, far above the VAE's, keeps the
        reconstruction term close to a squared error: with a low floor the
        likelihood rewards nearly constant features most, and the codes
        spend their bits on them.

    commitment_cost : float, default=0.25
        Weight of the commitment loss ||z_e - sg(z_q)||^2 (summed over the
        code vectors' entries), which keeps the encoder's outputs near their
        codes. The paper uses 0.25 and found 0.1 to 2 to work alike.

    decay : float, default=0.99
        Decay of the codebook's moving averages, in [0, 1): each batch moves
        a code ``1 - decay`` of the way towards the mean of the encoder
        outputs assigned to it. 0 replaces each code by that mean (a k-means
        step per batch).

    dead_code_threshold : float, default=0.1
        A code whose moving-average count of rows per batch falls below this
        fraction of its fair share (batch rows / ``n_codes``) is moved to the
        encoder output of a random row of the batch. 0 never restarts codes.

    learning_rate_init : float, default=1e-3
        Adam's step size.

    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.

    max_iter : int, default=200
        Maximum number of epochs.

    tol : float, default=1e-4
        An epoch improves when the training loss falls by more than ``tol``.

    n_iter_no_change : int, default=10
        Training stops after more than this many epochs in a row without
        improvement.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and codes, the shuffling and the code
        restarts. Pass an int for reproducible, bit-identical results.

    verbose : int, default=0
        Print the loss after each epoch when positive.

    Attributes
    ----------
    codebook_ : ndarray of shape (n_groups, n_codes, code_dim)
        Read-only code vectors of each group.

    code_counts_ : ndarray of shape (n_groups, n_codes)
        How many training samples use each code: counted over the training
        data once :meth:`fit` ends; summed over the batches of
        :meth:`partial_fit`, each counted after its epoch. With
        ``sample_weight``, their total weight (float).

    code_probabilities_ : ndarray of shape (n_groups, n_codes)
        The prior over codes: ``code_counts_`` plus one, normalized per group
        (Laplace's rule, so that a code unused in training keeps a small
        probability). :meth:`sample` draws from it and :meth:`score_samples`
        adds its log.

    perplexity_ : ndarray of shape (n_groups,)
        exp(entropy) of each group's code frequencies in ``code_counts_``:
        the number of codes in effective use, from 1 to ``n_codes``.

    n_iter_ : int
        Epochs run, over all calls to :meth:`fit` or :meth:`partial_fit`.

    loss_curve_ : list of float
        Training loss (negative mean log-likelihood plus the commitment
        term) after each epoch.

    best_loss_ : float
        Lowest training loss reached.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    skvae.VAETransformer : Continuous codes with a Gaussian posterior.
    sklearn.cluster.KMeans : Vector quantization of the data itself.

    Notes
    -----
    Training uses Adam only: the codebook's moving averages and the
    straight-through gradient are not the gradient of one objective, so
    there is no function for L-BFGS-B to minimize. The codebook and its
    moving averages are stored beside the network's weights, with a zero
    gradient, so that Adam leaves them unchanged.

    References
    ----------
    .. [1] A. van den Oord, O. Vinyals and K. Kavukcuoglu, "Neural Discrete
       Representation Learning", NeurIPS 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VQVAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> vq = VQVAETransformer(n_groups=4, n_codes=16, likelihood="bernoulli",
    ...                       max_iter=30, random_state=0).fit(X / 16)
    >>> codes = vq.encode(X / 16)
    >>> codes.shape
    (1797, 4)
    >>> vq.decode(codes).shape
    (1797, 64)
    >>> vq.transform(X / 16).shape
    (1797, 16)
    >>> bool(vq.perplexity_.min() > 8)
    True
    """

    _parameter_constraints: dict = {
        "n_groups": [Interval(Integral, 1, None, closed="left")],
        "n_codes": [Interval(Integral, 1, None, closed="left")],
        "code_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "variance_floor": [Interval(Real, 0, None, closed="neither")],
        "commitment_cost": [Interval(Real, 0, None, closed="left")],
        "decay": [Interval(Real, 0, 1, closed="left")],
        "dead_code_threshold": [Interval(Real, 0, 1, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [
            StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_groups=4,
        n_codes=16,
        *,
        code_dim=4,
        hidden_layer_sizes=(256,),
        activation="relu",
        likelihood="gaussian",
        variance_floor=1.0,
        commitment_cost=0.25,
        decay=0.99,
        dead_code_threshold=0.1,
        learning_rate_init=1e-3,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        random_state=None,
        verbose=0,
    ):
        self.n_groups = n_groups
        self.n_codes = n_codes
        self.code_dim = code_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.variance_floor = variance_floor
        self.commitment_cost = commitment_cost
        self.decay = decay
        self.dead_code_threshold = dead_code_threshold
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- validation ----------------------------------------------------------

    def _hidden_sizes(self):
        sizes = np.atleast_1d(self.hidden_layer_sizes)
        if sizes.ndim != 1 or (sizes.size and (
                not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1))):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a sequence of "
                f"positive ints, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _architecture(self):
        """What partial_fit must find unchanged."""
        return (self.n_groups, self.n_codes, self.code_dim, self._hidden_sizes(),
                self.activation, self.likelihood)

    def _validate_X(self, X, *, reset):
        """Check X like scikit-learn does, plus the likelihood's support."""
        check_not_array_api(X)
        try:
            X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        except ValueError as error:
            if "could not convert" not in str(error):
                raise
            raise ValueError(
                f"X must be numeric: {error}. Encode text or categorical columns "
                "first, e.g. with OneHotEncoder."
            ) from error
        if self.likelihood == "bernoulli":
            # Tolerate rounding, e.g. MinMaxScaler giving 1 + 1e-16.
            low, high = X.min(), X.max()
            if low < -BERNOULLI_TOLERANCE or high > 1 + BERNOULLI_TOLERANCE:
                raise ValueError(
                    "likelihood='bernoulli' needs X in [0, 1], got values in "
                    f"[{float(low)!r}, {float(high)!r}]. Scale X (e.g. with "
                    "MinMaxScaler, clipping new data) or use likelihood='gaussian'."
                )
        return X

    def _validate_codes(self, codes):
        codes = check_array(codes, dtype=None)
        if not np.issubdtype(codes.dtype, np.integer):
            if not (np.issubdtype(codes.dtype, np.floating)
                    and np.array_equal(codes, np.round(codes))):
                raise ValueError(
                    f"codes must be integers, got dtype {codes.dtype}. Pass the "
                    "output of encode."
                )
        if codes.shape[1] != self.n_groups:
            raise ValueError(
                f"decode takes codes with n_groups={self.n_groups} columns, got "
                f"{codes.shape[1]}. Pass the output of encode."
            )
        if codes.min() < 0 or codes.max() >= self.n_codes:
            raise ValueError(
                f"codes must be in [0, n_codes={self.n_codes}), got values in "
                f"[{codes.min()}, {codes.max()}]."
            )
        return codes.astype(np.intp)

    # -- fitting -------------------------------------------------------------

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def fit(self, X, y=None, sample_weight=None):
        """Fit the VQ-VAE to X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the loss (weighted means), in
            the codebook's moving averages and restarts, in the statistics
            the network starts from, and in ``code_counts_`` (then sums of
            weights). A weight of zero leaves a row out, an integer weight
            counts it as that many copies. None weighs all rows equally.

        Returns
        -------
        self : VQVAETransformer
            The fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        sample_weight = check_sample_weight(sample_weight, X)
        self._initialize(X, sample_weight)
        converged = self._train(X, incremental=False, y=y, sample_weight=sample_weight)
        if not converged:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet; raise max_iter or tol.",
                ConvergenceWarning,
                # fit, fit_task, _fit_context, transactional, caller
                stacklevel=4 + FIT_TASK_FRAMES,
            )
        return self

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch of Adam over X, continuing from the current state.

        The first call initializes the network and the codebooks from X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as in :meth:`fit`: in the loss
            (weighted means), in the codebook's moving averages and restarts,
            in the statistics the network starts from, and in
            ``code_counts_`` (then sums of weights). A weight of zero leaves
            a row out, an integer weight counts it as that many copies. None
            weighs all rows equally.

        Returns
        -------
        self : VQVAETransformer
            The updated estimator.
        """
        first = not hasattr(self, "_network")
        X = self._validate_X(X, reset=first)
        sample_weight = check_sample_weight(sample_weight, X)
        if first:
            self._initialize(X, sample_weight)
        else:
            self._check_same_architecture()
            X = X.astype(self._network.dtype, copy=False)
            if sample_weight is not None:
                sample_weight = sample_weight.astype(X.dtype, copy=False)
        self._train(X, incremental=True, y=y, sample_weight=sample_weight)
        return self

    def _initialize(self, X, sample_weight=None):
        random_state = check_random_state(self.random_state)
        self._rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        # What builds the network, kept as plain data for persistence.
        self._network_spec = dict(
            n_features=X.shape[1], n_groups=self.n_groups, n_codes=self.n_codes,
            code_dim=self.code_dim, hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation, likelihood=self.likelihood,
            dtype=X.dtype.name)
        self._network = VQNetwork(**self._network_spec)
        self._network.initialize(X, self._rng, self.variance_floor, sample_weight)
        self._fitted_architecture = self._architecture()
        self._history = History()
        self._optimizer = Adam(self._network.params.size, X.dtype,
                               self.learning_rate_init)
        self._n_features_out = self.n_groups * self.code_dim
        self.code_counts_ = np.zeros((self.n_groups, self.n_codes), dtype=np.int64)

    def _network_state(self, network):
        return vq_network_state(network, self._network_spec)

    def _load_network(self, state):
        return load_vq_network(state)

    def _check_same_architecture(self):
        now, then = self._architecture(), self._fitted_architecture
        if now != then:
            raise ValueError(
                "partial_fit continues training the fitted network, so "
                "n_groups, n_codes, code_dim, hidden_layer_sizes, activation "
                f"and likelihood must stay as they were: fitted with {then}, "
                f"now {now}. Call fit to train a new network."
            )

    def _train(self, X, incremental, y=None, sample_weight=None):
        """Epochs of Adam with codebook updates; then count the codes of X.

        ``y`` is what ``fit`` was given, for callbacks. The weights travel
        with the rows as a last column, so that shuffling keeps them paired.
        """
        net, rng = self._network, self._rng
        n = X.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else self.batch_size
        if batch_size > n:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n} training "
                "samples; using all of them in each batch.",
                stacklevel=4,
            )
            batch_size = n

        weighted = sample_weight is not None
        data = np.hstack([X, sample_weight[:, None]]) if weighted else X

        def loss_and_grad(batch):
            return net.training_step(
                batch[:, :-1] if weighted else batch, rng,
                commitment_cost=self.commitment_cost, decay=self.decay,
                dead_code_threshold=self.dead_code_threshold,
                sample_weight=batch[:, -1] if weighted else None)

        if self._optimizer is None:  # discarded: start Adam afresh
            self._optimizer = Adam(net.params.size, net.dtype, self.learning_rate_init)
        max_iter = 1 if incremental else self.max_iter
        self._history.stop_requested = False
        try:
            with iteration_tasks(
                    self, "epoch", X, y, sample_weight,
                    lambda params: self._fitted_attributes(params, X, sample_weight)
            ) as on_iteration:
                return run_adam(
                    loss_and_grad, net.params, net.grad, self._optimizer,
                    self._history, data, batch_size=batch_size, max_iter=max_iter,
                    tol=self.tol, n_iter_no_change=self.n_iter_no_change, rng=rng,
                    verbose=self.verbose, on_iteration=on_iteration,
                    batch_weight=(lambda batch: float(np.sum(batch[:, -1])))
                    if weighted else None,
                )
        finally:
            # Also after a diverged epoch: run_adam has put back the
            # parameters of its start, codebook included.
            history = self._history
            self.n_iter_ = history.n_iter
            self.loss_curve_ = list(history.loss_curve)
            self.best_loss_ = history.best_loss
            counts = self._count_codes(X, sample_weight)
            if incremental:
                counts = counts + self.code_counts_
            self.code_counts_ = counts
            self.perplexity_ = perplexity(counts)
            self.code_probabilities_ = (counts + 1) / (
                counts.sum(axis=1, keepdims=True) + self.n_codes)

    def _fitted_attributes(self, params, X, sample_weight=None):
        """What makes a copy of this estimator the model with ``params``:
        the network, and the code statistics of X under it."""
        fitted = copy.copy(self)
        fitted._network = snapshot_network(self._network, params)
        counts = fitted._count_codes(X, sample_weight)
        return {"_network": fitted._network, "code_counts_": counts,
                "perplexity_": perplexity(counts),
                "code_probabilities_": (counts + 1) / (
                    counts.sum(axis=1, keepdims=True) + self.n_codes)}

    def _count_codes(self, X, sample_weight=None):
        """Rows of X per code (int64), or their total weight (float64)."""
        codes = self._map_rows(self._network.encode_codes, X, self.n_groups,
                               dtype=np.intp)
        dtype = np.int64 if sample_weight is None else np.float64
        counts = np.zeros((self.n_groups, self.n_codes), dtype=dtype)
        for group in range(self.n_groups):
            counts[group] = np.bincount(codes[:, group], weights=sample_weight,
                                        minlength=self.n_codes)
        return counts

    # -- inference, in chunks of bounded memory ------------------------------

    def _map_rows(self, function, X, n_columns=None, dtype=None):
        """Apply ``function`` to X in row chunks of bounded scratch memory.

        ``function`` maps a chunk (cast to the network's dtype) to one value
        or ``n_columns`` values per row; the result has ``dtype``, or X's.
        """
        net = self._network
        q = net.quantizer
        width = (2 * net.n_features + 4 * sum(net.hidden_layer_sizes)
                 + 2 * q.n_groups * q.n_codes * (q.code_dim + 1))
        budget = min(get_config()["working_memory"], INFERENCE_CHUNK_MIB)
        chunk = get_chunk_n_rows(row_bytes=width * net.dtype.itemsize,
                                 max_n_rows=X.shape[0], working_memory=budget)
        shape = (X.shape[0],) if n_columns is None else (X.shape[0], n_columns)
        out = np.empty(shape, dtype=X.dtype if dtype is None else dtype)
        with reported_chunks(self, gen_batches(X.shape[0], chunk)) as batches:
            for rows in batches:
                out[rows] = function(X[rows].astype(net.dtype, copy=False))
        return out

    def _log_prior(self, codes):
        """log of the codes' prior probability, summed over the groups."""
        log_p = np.log(self.code_probabilities_)
        return log_p[np.arange(self.n_groups), codes].sum(axis=1)

    # -- codes ---------------------------------------------------------------

    def encode(self, X):
        """The integer code of each sample: the nearest code of each group.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_groups), dtype intp
            Index, in ``[0, n_codes)``, of each group's code.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_rows(self._network.encode_codes, X, self.n_groups,
                              dtype=np.intp)

    def decode(self, codes):
        """Decoder means of integer codes.

        Parameters
        ----------
        codes : array-like of shape (n_samples, n_groups)
            Integer codes in ``[0, n_codes)``, e.g. from :meth:`encode`.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Decoder means, in the fit dtype: reconstructions for the Gaussian
            likelihood, probabilities in (0, 1) for the Bernoulli likelihood.
        """
        check_is_fitted(self)
        codes = self._validate_codes(codes)
        net = self._network
        out = np.empty((codes.shape[0], net.n_features), dtype=net.dtype)
        for rows in gen_batches(codes.shape[0], 4096):
            out[rows] = net.decoded_mean(codes[rows])
        return out

    def transform(self, X):
        """Quantize X: the code vectors of each sample, side by side.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to quantize.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_groups * code_dim)
            The chosen code vector of each group, group after group, in X's
            dtype. Continuous, so that it chains in a Pipeline.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        net = self._network
        return self._map_rows(lambda x: net.code_vectors(net.encode_codes(x)), X,
                              self.n_groups * self.code_dim)

    def inverse_transform(self, X):
        """Decode quantized vectors, after snapping them to the nearest codes.

        Each group's vector is first replaced by its nearest code vector, so
        the output of :meth:`transform` decodes as it is and other vectors
        decode as their nearest codes do (the decoder is only trained on
        code vectors).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_groups * code_dim)
            Quantized vectors, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Decoder means, in X's dtype.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        width = self.n_groups * self.code_dim
        if Z.shape[1] != width:
            raise ValueError(
                f"inverse_transform takes n_groups * code_dim = {width} columns, "
                f"got {Z.shape[1]}. Pass the output of transform, not the data."
            )
        net = self._network
        return self._map_rows(
            lambda z: net.decoded_mean(net.quantize(net._as_groups(z))), Z,
            net.n_features)

    def sample(self, n_samples=1, random_state=None):
        """Generate data: decode codes drawn from the training code frequencies.

        Each group's code is drawn independently from
        ``code_probabilities_``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Seeds the codes drawn.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Decoder means of the sampled codes, in the fit dtype.
        """
        check_is_fitted(self)
        validate_parameter_constraints(
            {"n_samples": [Interval(Integral, 1, None, closed="left")],
             "random_state": ["random_state"]},
            {"n_samples": n_samples, "random_state": random_state},
            caller_name="sample",
        )
        rng = check_random_state(random_state)
        codes = np.empty((n_samples, self.n_groups), dtype=np.intp)
        for group, p in enumerate(self.code_probabilities_):
            codes[:, group] = rng.choice(self.n_codes, size=n_samples, p=p)
        return self.decode(codes)

    # -- scores --------------------------------------------------------------

    def score_samples(self, X):
        """Log-likelihood of each sample at its code, plus the code's log prior.

        log p(x | decoder(z_q(x))) + sum_g log P(c_g(x)), with P the
        ``code_probabilities_``: the log of one term of the mixture
        sum_c P(c) p(x | c) from which :meth:`sample` draws, hence a lower
        bound on that model's log p(x). Deterministic and row-wise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        log_p : ndarray of shape (n_samples,)
            Score of each sample in nats; higher means more likely.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        net = self._network

        def score(x):
            codes = net.encode_codes(x)
            return net.log_prob_given_codes(x, codes) + self._log_prior(codes)

        return self._map_rows(score, X)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`, in nats per sample (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return finite_mean(self.score_samples(X))

    # -- fitted state --------------------------------------------------------

    @property
    def codebook_(self):
        check_is_fitted(self)
        codebook = self._network.codebook.view()
        codebook.flags.writeable = False
        return codebook
