"""VAETransformer: a variational autoencoder as a scikit-learn transformer."""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._estimator.base import BaseVAE
from ._estimator.callbacks import fit_task
from ._estimator.docs import document_parameters
from ._estimator.mixins import LatentTransformerMixin
from ._estimator.utils import check_n_samples, read_only, transactional


@document_parameters
class VAETransformer(LatentTransformerMixin, BaseVAE):
    """Variational autoencoder: a non-linear, probabilistic PCA.

    An encoder network maps each sample x to a Gaussian posterior
    q(z|x) = N(mu(x), diag(sigma^2(x))) over ``n_components`` latent
    variables; a decoder network maps a code z back to a distribution
    p(x|z) over the data (Gaussian with learned per-feature variance, or
    Bernoulli for data in [0, 1]).  Both are trained together by maximizing
    the evidence lower bound (ELBO)

        E_q[log p(x|z)] - beta * KL(q(z|x) || N(0, I)),

    using the reparameterization z = mu + sigma * eps.  ``transform`` returns
    the posterior mean mu(x); ``inverse_transform`` the decoder mean.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    solver_ : {"lbfgs", "adam"}
        The solver of the last call that trained (``solver``, or what
        ``"auto"`` chose; Adam for :meth:`partial_fit`).

    hidden_layer_sizes_ : tuple of int
        The encoder's hidden layer sizes (``"auto"`` made concrete).

    n_components_ : int
        Dimension of the fitted model's latent code (``n_components`` at
        fit). Inference reads the settings of the fit, frozen in these
        attributes, never the parameters: ``set_params`` changes the next
        fit, not this model (user guide, "Settings take effect at fit").

    likelihood_ : {"auto", "gaussian", "bernoulli"} or dict
        The ``likelihood`` the model was fitted with (``feature_likelihoods_``
        says what it chose for each column).

    prior_ : {"normal", "flow", "hierarchical"}
        The prior the model was fitted with.

    n_iter_ : int
        Iterations (L-BFGS-B) or epochs (Adam) run, over all calls to ``fit``
        with ``warm_start`` or to ``partial_fit``.

    loss_curve_ : list of float
        Training loss (negative mean ELBO plus penalty) after each iteration.

    best_loss_ : float
        Lowest training loss reached.

    validation_scores_ : list of float
        Mean ELBO of the validation data after each epoch; only with
        ``solver="adam"`` and ``early_stopping=True``.

    best_validation_score_ : float
        Best of ``validation_scores_``; only with ``early_stopping=True``.

    kl_per_component_ : ndarray of shape (n_components,)
        Mean KL(q(z_k|x) || N(0, 1)) of each latent dimension over the rows
        of the last ``fit`` (or ``partial_fit`` batch), weighted by
        ``sample_weight``, in nats: an upper bound on the information the
        dimension carries about x, near 0 for a dimension left at the prior.
        With ``prior="normal"`` they sum to the mean KL term of the ELBO.
        The flow prior's KL does not split by dimension: they then measure
        each dimension's departure from the flow's base distribution
        N(0, I), and do not sum to its KL.

    active_components_ : ndarray of shape (n_components,), dtype bool
        Latent dimensions in use: ``kl_per_component_`` above 0.1 nats.

    encoder_coefs_ : list of ndarray
        Read-only weight matrices of the encoder, input to output. The last
        one has ``2 * n_components`` columns: the posterior means, then the
        log-variances.

    encoder_intercepts_ : list of ndarray
        Read-only bias vectors of the encoder.

    decoder_coefs_ : list of ndarray
        Read-only weight matrices of the decoder, code to output.

    decoder_intercepts_ : list of ndarray
        Read-only bias vectors of the decoder.

    decoder_variance_ : ndarray of shape (n_features,)
        Per-feature variance of the Gaussian likelihood, in the data's units
        (Gaussian columns only; NaN for a table's other columns).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    feature_likelihoods_ : ndarray of shape (`n_features_in_`,)
        The likelihood of each input column, "gaussian", "bernoulli" or
        "categorical", as ``likelihood`` chose it at fit (see the user
        guide's "Tables as they come").

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.neural_network.MLPRegressor : The MLP conventions followed here.

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes",
       ICLR 2014.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
       Autoencoders", ICLR 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VAETransformer(n_components=2, likelihood="bernoulli", random_state=0)
    >>> Z = vae.fit_transform(X / 16)
    >>> Z.shape
    (1797, 2)
    >>> vae.inverse_transform(Z).shape
    (1797, 64)
    >>> bool(vae.score(X / 16) > vae.score(X[::-1, ::-1] / 16))
    True
    """

    # -- training ------------------------------------------------------------

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def fit(self, X, y=None, sample_weight=None):
        """Fit the VAE to X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the training objective (a
            weighted mean of the per-row ELBO) and in the statistics the
            network starts from. A weight of zero leaves a row out, an
            integer weight counts it as that many copies. None weighs all
            rows equally.

        Returns
        -------
        self : VAETransformer
            The fitted estimator.
        """
        X = self._validate_X(X, reset=not self._continues())
        sample_weight = self._check_sample_weight(sample_weight, X)
        return self._fit(X, incremental=False, y=y, sample_weight=sample_weight)

    def _check_solver(self):
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for solver='adam' (or 'auto', which "
                "trains minibatches with Adam in partial_fit), not 'lbfgs'."
            )
        return True

    @available_if(_check_solver)
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch of Adam over X, continuing from the current state.

        Only with ``solver="adam"`` or ``"auto"``. The first call initializes
        the network; ``early_stopping`` is not used. Always one epoch of
        Adam, also after a ``fit`` that L-BFGS-B trained (``solver="auto"``
        on fewer than 100 rows): Adam continues from the fitted weights,
        with moment estimates of its own.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the training objective (a
            weighted mean of the per-row ELBO) and in the statistics the
            network starts from. A weight of zero leaves a row out, an
            integer weight counts it as that many copies. None weighs all
            rows equally.

        Returns
        -------
        self : VAETransformer
            The updated estimator.
        """
        X = self._validate_X(X, reset=not hasattr(self, "_network"))
        sample_weight = self._check_sample_weight(sample_weight, X)
        return self._fit(X, incremental=True, y=y, sample_weight=sample_weight)

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit the VAE to X and return the posterior means of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as in :meth:`fit`.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Posterior means, in X's dtype.
        """
        X = self._validate_X(X, reset=not self._continues())
        sample_weight = self._check_sample_weight(sample_weight, X)
        return self._fit(X, incremental=False, y=y,
                         sample_weight=sample_weight)._transform(X)

    # -- the latent space ----------------------------------------------------

    def inverse_transform(self, X):
        """Decode codes: the mean of p(x|z) for each row z of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features) or DataFrame
            Decoder means: reconstructions for a Gaussian column,
            probabilities in (0, 1) for a Bernoulli one, the most probable
            category for a categorical one. Fitted on a DataFrame: a
            DataFrame of its columns and dtypes (integer columns rounded).
        """
        check_is_fitted(self)
        return self._decode(self._check_codes(X))

    def sample(self, n_samples=1, random_state=None, *, mean=False):
        """Generate data: draw x ~ p(x | z) for codes z drawn from the prior p(z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Seeds the codes drawn from the prior and the draws given them;
            None uses NumPy's global random state, so repeated calls give new
            samples (as :meth:`sklearn.mixture.GaussianMixture.sample` does).

        mean : bool, default=False
            Return the decoder means of the sampled codes (what
            :meth:`inverse_transform` gives) instead of draws: smoother rows,
            e.g. images without pixel noise, but not samples of the model:
            their spread is smaller than the data's.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features) or DataFrame
            The samples, in the fit dtype; fitted on a DataFrame, a DataFrame
            of its columns, dtypes and categories.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(200, 3)) * [1.0, 2.0, 3.0]
        >>> vae = VAETransformer(n_components=2, random_state=0).fit(X)
        >>> vae.sample(2000, random_state=0).std(axis=0).round(0)
        array([1., 2., 3.])
        """
        check_is_fitted(self)
        check_n_samples(n_samples)
        rng = check_random_state(random_state)
        Z = self._sample_latent(int(n_samples), rng)
        return self._decode(Z, rng=None if mean else rng)

    # -- scores --------------------------------------------------------------

    def score_samples(self, X):
        """Per-sample ELBO, a lower bound on log p(x) in nats.

        The expectation over q(z|x) is estimated with one fixed set of
        noise vectors (drawn at fit time from ``random_state``) shared by all
        rows, so the result is deterministic and row-wise. It uses
        ``beta = 1`` whatever the training ``beta``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            ELBO of each sample; higher means more likely.
        """
        check_is_fitted(self)
        return self._score_samples(self._validate_X(X, reset=False))

    def log_likelihood(self, X, n_samples=1000, random_state=None):
        """Importance-weighted estimate of log p(x) for each sample.

        log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) with K = ``n_samples``
        codes drawn from q(z|x): a lower bound on log p(x) that tightens as K
        grows, and is never looser than the ELBO on average. Computed with
        logsumexp in chunks of rows, and of draws when one row's draws would
        exceed the chunk's memory, so that memory stays bounded whatever
        ``n_samples`` (the same result up to rounding). With
        ``prior="hierarchical"`` each draw is a pair (z1_k, z2_k) from
        q(z1|x) q(z2|z1), weighted by p(x|z1_k) p(z1_k|z2_k) p(z2_k) /
        (q(z1_k|x) q(z2_k|z1_k)): the same bound for the model with both
        layers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        n_samples : int, default=1000
            Number K of importance samples per row.

        random_state : int, RandomState instance or None, default=None
            Seeds the K noise vectors, shared by all rows. None uses a seed
            drawn at fit time, so that repeated calls agree, like
            :meth:`score_samples`, whose noise is also fixed at fit time.

        Returns
        -------
        log_px : ndarray of shape (n_samples,)
            Estimated log-likelihood of each sample, in nats.
        """
        check_is_fitted(self)
        check_n_samples(n_samples)
        return self._log_likelihood(self._validate_X(X, reset=False),
                                    int(n_samples), random_state)

    def reconstruction_error(self, X):
        """Per-sample error of the decoded posterior mean.

        Sum over features of the squared error (Gaussian likelihood) or of
        the binary cross-entropy (Bernoulli likelihood) between X and the
        decoder mean at z = mu(x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        error : ndarray of shape (n_samples,)
            Reconstruction error of each sample; lower is better.
        """
        check_is_fitted(self)
        return self._reconstruction_error(self._validate_X(X, reset=False))

    # -- fitted weights, read-only views of the flat parameter buffer -------

    @property
    def encoder_coefs_(self):
        check_is_fitted(self)
        return read_only(self._network.encoder.W)

    @property
    def encoder_intercepts_(self):
        check_is_fitted(self)
        return read_only(self._network.encoder.b)

    @property
    def decoder_coefs_(self):
        check_is_fitted(self)
        return read_only(self._network.decoder.W)

    @property
    def decoder_intercepts_(self):
        check_is_fitted(self)
        return read_only(self._network.decoder.b)

    @property
    def decoder_variance_(self):
        check_is_fitted(self)
        net = self._network
        head = net.decoder.head
        if not hasattr(head, "var"):
            raise AttributeError(
                "decoder_variance_ exists for likelihood='gaussian' only."
            )
        if isinstance(net.scaler.scale, float):
            return read_only([head.var * net.scaler.scale**2])[0]
        gaussian = head.gaussian_columns()  # a table: its Gaussian columns
        variance = np.full(net.n_features, np.nan, dtype=head.var.dtype)
        variance[gaussian] = head.var * net.scaler.scale[gaussian] ** 2
        return read_only([variance])[0]

