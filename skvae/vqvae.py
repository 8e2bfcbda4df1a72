"""VQVAETransformer: a vector-quantized autoencoder as a scikit-learn transformer."""

from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted

from ._estimator.callbacks import CallbackSupportMixin, fit_task
from ._estimator.persistence import PersistenceMixin
from ._estimator.utils import finite_mean, transactional, warn_not_converged
from ._estimator.validation import ValidationMixin, check_sample_weight
from ._estimator.vqfit import VQFitMixin


class VQVAETransformer(VQFitMixin, ValidationMixin, PersistenceMixin,
                       CallbackSupportMixin, ClassNamePrefixFeaturesOutMixin,
                       TransformerMixin, BaseEstimator):
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
    n_groups_, n_codes_, code_dim_ : int
        The fitted model's ``n_groups``, ``n_codes`` and ``code_dim``.
        Inference reads the settings of the fit, frozen in these
        attributes, never the parameters: ``set_params`` changes the next
        fit, not this model (user guide, "Settings take effect at fit").

    likelihood_ : {"gaussian", "bernoulli"}
        The decoder distribution the model was fitted with.

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
            warn_not_converged("adam", self.max_iter)
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
        X, sample_weight = self._start_partial_fit(X, sample_weight)
        self._train(X, incremental=True, y=y, sample_weight=sample_weight)
        return self

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
        return self._encode_codes(X)

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
        return self._map_chunks(net.decoded_mean, codes, out)

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
                              n_columns=self.n_groups_ * self.code_dim_)

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
        width = self.n_groups_ * self.code_dim_
        if Z.shape[1] != width:
            raise ValueError(
                f"inverse_transform takes n_groups * code_dim = {width} columns, "
                f"got {Z.shape[1]}. Pass the output of transform, not the data."
            )
        net = self._network
        return self._map_rows(
            lambda z: net.decoded_mean(net.quantize(net._as_groups(z))), Z,
            n_columns=net.n_features)

    def sample(self, n_samples=1, random_state=None, *, mean=False):
        """Generate data: x ~ p(x | z_q), codes drawn from their training frequencies.

        Each group's code is drawn independently from
        ``code_probabilities_``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Seeds the codes drawn and the draws given them.

        mean : bool, default=False
            Return the decoder means of the sampled codes (what
            :meth:`decode` gives) instead of draws.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, in the fit dtype.
        """
        check_is_fitted(self)
        validate_parameter_constraints(
            {"n_samples": [Interval(Integral, 1, None, closed="left")],
             "random_state": ["random_state"]},
            {"n_samples": n_samples, "random_state": random_state},
            caller_name="sample",
        )
        rng = check_random_state(random_state)
        codes = np.empty((n_samples, self.n_groups_), dtype=np.intp)
        for group, p in enumerate(self.code_probabilities_):
            codes[:, group] = rng.choice(self.n_codes_, size=n_samples, p=p)
        if mean:
            return self.decode(codes)
        net = self._network
        tiny = np.finfo(net.dtype).eps
        uniform = np.clip(rng.random_sample((n_samples, net.n_features)), tiny,
                          1 - tiny)
        g = self.n_groups_

        def draw(codes_and_noise):
            return net.decoded_draw(codes_and_noise[:, :g].astype(np.intp),
                                    codes_and_noise[:, g:])

        out = np.empty((n_samples, net.n_features), dtype=net.dtype)
        return self._map_chunks(draw, np.hstack([codes, uniform]).astype(net.dtype),
                                out)

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
