"""ConditionalVAE: a VAE whose decoder also sees the class, p(x | z, y)."""

import numpy as np
from scipy.special import logsumexp
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_array, check_random_state, metadata_routing
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._base import BaseVAE, with_variant_parameters


class ConditionalVAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseVAE):
    """Conditional variational autoencoder: encoder q(z|x), decoder p(x|z, y).

    The decoder sees the class y (one-hot) beside the code z, so the code is
    free to describe what the class does not: the style of a digit rather
    than which digit it is. Encoding needs no y; decoding and generating take
    the class to draw: encode one digit and decode it as another to transfer
    its style. Classes are learned in :meth:`fit`, as scikit-learn
    classifiers do (``classes_``).

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent code z.

    hidden_layer_sizes : int or tuple of int, default=(64,)
        Sizes of the encoder's hidden layers; the decoder mirrors them.

    activation : {"relu", "tanh", "softplus", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.

    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder distribution p(x|z, y); ``"bernoulli"`` needs X in [0, 1].

    variance_floor : float, default=1e-3
        Lower bound of the Gaussian likelihood's per-feature variance, as a
        fraction of the training data's mean feature variance.

    beta : float, default=1.0
        Weight of the KL term in training.

    %(variant_parameters)s
    solver : {"lbfgs", "adam"}, default="lbfgs"
        Optimizer; see :class:`VAETransformer`.

    alpha : float, default=1e-4
        L2 penalty on the weights.

    batch_size : int or "auto", default="auto"
        Minibatch size for ``"adam"``; ``"auto"`` is ``min(200, n_samples)``.

    learning_rate_init : float, default=1e-3
        Adam's step size.

    max_iter : int, default=200
        Maximum number of iterations (L-BFGS-B) or epochs (Adam).

    tol : float, default=1e-4
        Improvement that counts for the stopping rule.

    n_iter_no_change : int, default=10
        Iterations without improvement before training stops.

    early_stopping : bool, default=False
        ``"adam"`` only: stop on a held-out validation ELBO.

    validation_fraction : float, default=0.1
        Fraction held out when ``early_stopping``.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the training noise and the scoring noise.

    verbose : int, default=0
        Print the loss after each iteration when positive.

    warm_start : bool, default=False
        Continue training the fitted network on the next call to ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in :meth:`fit`.

    class_prior_ : ndarray of shape (n_classes,)
        Fraction of the training rows in each class.

    n_iter_ : int
        Iterations or epochs run.

    loss_curve_ : list of float
        Training loss after each iteration.

    best_loss_ : float
        Lowest training loss reached.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    VAETransformer : The unconditional model.

    References
    ----------
    .. [1] K. Sohn, H. Lee and X. Yan, "Learning Structured Output
       Representation using Deep Conditional Generative Models", NeurIPS 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import ConditionalVAE
    >>> X, y = load_digits(return_X_y=True)
    >>> cvae = ConditionalVAE(n_components=2, likelihood="bernoulli",
    ...                       random_state=0).fit(X / 16, y)
    >>> style = cvae.transform(X[:1] / 16)        # the style of a 0
    >>> cvae.inverse_transform(style, y=[8]).shape  # drawn as an 8
    (1, 64)
    """

    # return_std is an option of transform, not metadata to route.
    __metadata_request__transform = {"return_std": metadata_routing.UNUSED}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the conditional VAE to X with its class labels y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class of each row.

        Returns
        -------
        self : ConditionalVAE
            The fitted estimator.
        """
        continues = self._continues()
        X, y = validate_data(self, X, y, reset=not continues,
                             dtype=[np.float64, np.float32])
        self._check_likelihood_support(X)
        check_classification_targets(y)
        classes, indices = np.unique(y, return_inverse=True)
        if continues and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start continues training on the classes {self.classes_}, "
                f"but y has {classes}. Set warm_start=False to train a new model."
            )
        self.classes_ = classes
        self.class_prior_ = np.bincount(indices) / len(indices)
        one_hot = np.eye(len(classes), dtype=X.dtype)[indices]
        return self._fit(X, incremental=False, condition=one_hot)

    def _one_hot(self, y, n_rows):
        """One-hot rows for labels y: one label for every row, or one per row."""
        y = column_or_1d(np.broadcast_to(np.asarray(y), (n_rows,)))
        indices = np.searchsorted(self.classes_, y)
        unknown = (indices >= len(self.classes_)) | (
            self.classes_[np.minimum(indices, len(self.classes_) - 1)] != y)
        if np.any(unknown):
            raise ValueError(
                f"y contains labels not seen in fit: {np.unique(y[unknown])}; "
                f"the classes are {self.classes_}."
            )
        return np.eye(len(self.classes_), dtype=self._network.dtype)[indices]

    def transform(self, X, return_std=False):
        """Encode X: the posterior mean of its code, which needs no class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        return_std : bool, default=False
            Also return the posterior standard deviations.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Posterior means, in X's dtype.

        Z_std : ndarray of shape (n_samples, n_components)
            Posterior standard deviations; only when ``return_std`` is True.
        """
        check_is_fitted(self)
        return self._transform(self._validate_X(X, reset=False), return_std)

    def inverse_transform(self, X, y):
        """Decode codes as the given classes: the mean of p(x | z, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, e.g. from :meth:`transform`.

        y : label or array-like of shape (n_samples,)
            Class to draw each code as; one label applies to every row.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Decoder means.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"inverse_transform takes codes with n_components="
                f"{self.n_components} columns, got {Z.shape[1]}."
            )
        net = self._network
        return self._map_rows(net.decoded_mean, Z, n_columns=net.n_features,
                              condition=self._one_hot(y, len(Z)))

    def sample(self, n_samples=1, y=None, random_state=None):
        """Generate data of chosen classes: decode codes drawn from the prior.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        y : label, array-like of shape (n_samples,) or None, default=None
            Class of each sample; None draws classes from ``class_prior_``.

        random_state : int, RandomState instance or None, default=None
            Seeds the codes (and the classes when ``y`` is None).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Decoder means of the sampled codes.

        y : ndarray of shape (n_samples,)
            The class of each sample.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        rng = check_random_state(random_state)
        if y is None:
            y = rng.choice(self.classes_, size=n_samples, p=self.class_prior_)
        y = np.broadcast_to(np.asarray(y), (n_samples,))
        net = self._network
        eps = rng.standard_normal((n_samples, self.n_components)).astype(net.dtype)
        Z = net.sample_prior(eps)
        return net.decoded_mean(Z, self._one_hot(y, n_samples)), y.copy()

    def score_samples(self, X, y=None):
        """Per-sample ELBO of log p(x | y), or of log p(x) without y.

        Without labels the classes are summed out,
        log sum_y p(y) exp(ELBO(x | y)), again a lower bound on log p(x).
        Deterministic and row-wise, like :meth:`VAETransformer.score_samples`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : array-like of shape (n_samples,) or None, default=None
            Classes of the rows, or None to sum them out.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            Lower bound on the log-likelihood of each row, in nats.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        net, noise = self._network, self._score_noise
        if y is not None:
            return self._map_rows(lambda x, c: net.elbo(x, noise, C=c), X,
                                  n_draws=noise.shape[0],
                                  condition=self._one_hot(y, len(X)))
        log_prior = np.log(self.class_prior_)
        classes = np.eye(len(self.classes_), dtype=net.dtype)

        def summed_out(x):
            per_class = [net.elbo(x, noise, C=c) for c in classes]
            return logsumexp(np.array(per_class) + log_prior[:, None], axis=0)

        return self._map_rows(summed_out, X,
                              n_draws=noise.shape[0] * len(self.classes_))

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`, in nats per sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : array-like of shape (n_samples,) or None, default=None
            Classes of the rows, or None to sum them out.

        Returns
        -------
        score : float
            Mean ELBO.
        """
        return float(np.mean(self.score_samples(X, y)))


ConditionalVAE.__doc__ = with_variant_parameters(ConditionalVAE.__doc__)
