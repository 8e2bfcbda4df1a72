"""ConditionalVAE: a VAE whose decoder also sees the class, p(x | z, y)."""

import numpy as np
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import BaseVAE
from ._callbacks import fit_task
from ._docs import document_parameters
from ._mixins import LatentTransformerMixin
from ._utils import check_n_samples, finite_mean, transactional


@document_parameters
class ConditionalVAE(LatentTransformerMixin, BaseVAE):
    """Conditional variational autoencoder: encoder q(z|x), decoder p(x|z, y).

    The decoder sees the class y (one-hot) beside the code z, so the code is
    free to describe what the class does not: the style of a digit rather
    than which digit it is. Encoding needs no y; decoding and generating take
    the class to draw: encode one digit and decode it as another to transfer
    its style. Classes are learned in :meth:`fit`, as scikit-learn
    classifiers do (``classes_``).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    solver_ : {"lbfgs", "adam"}
        The solver that ran (``solver``, or what ``"auto"`` chose).

    hidden_layer_sizes_ : tuple of int
        The encoder's hidden layer sizes (``"auto"`` made concrete).

    classes_ : ndarray of shape (n_classes,)
        The class labels seen in :meth:`fit`.

    class_prior_ : ndarray of shape (n_classes,)
        Fraction of the training rows in each class (of their total
        ``sample_weight``, when given).

    n_iter_ : int
        Iterations or epochs run.

    loss_curve_ : list of float
        Training loss after each iteration.

    best_loss_ : float
        Lowest training loss reached.

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def fit(self, X, y, sample_weight=None):
        """Fit the conditional VAE to X with its class labels y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class of each row.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the training objective (a
            weighted mean of the per-row ELBO), in the statistics the network
            starts from and in ``class_prior_``. A weight of zero leaves a row
            out, an integer weight counts it as that many copies. None weighs
            all rows equally.

        Returns
        -------
        self : ConditionalVAE
            The fitted estimator.
        """
        continues = self._continues()
        X, y = self._validate_X(X, reset=not continues, y=y)
        check_classification_targets(y)
        classes, indices = np.unique(y, return_inverse=True)
        if continues and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start continues training on the classes {self.classes_}, "
                f"but y has {classes}. Set warm_start=False to train a new model."
            )
        sample_weight = self._check_sample_weight(sample_weight, X)
        self.classes_ = classes
        counts = np.bincount(indices, weights=sample_weight, minlength=len(classes))
        self.class_prior_ = counts / counts.sum()
        one_hot = np.eye(len(classes), dtype=X.dtype)[indices]
        return self._fit(X, incremental=False, condition=one_hot, y=y,
                         sample_weight=sample_weight)

    def _one_hot(self, y, n_rows):
        """One-hot rows for labels y: one label for every row, or one per row."""
        if y is None:
            raise ValueError(
                f"y is required: the class of each of the {n_rows} rows, or one "
                f"label for all of them, from classes_ = {self.classes_}."
            )
        y = np.asarray(y)
        if y.ndim > 1 and not (y.ndim == 2 and y.shape[1] == 1):
            raise ValueError(
                f"y must be one label or a 1-D array of {n_rows} labels, got an "
                f"array of shape {y.shape}."
            )
        y = y.reshape(-1) if y.ndim else y
        if y.ndim == 1 and y.shape[0] != n_rows:
            raise ValueError(
                f"y has {y.shape[0]} labels but there are {n_rows} rows: give one "
                "label per row, or a single label for all of them."
            )
        y = column_or_1d(np.broadcast_to(y, (n_rows,)))
        if y.dtype.kind != self.classes_.dtype.kind and not (
                y.dtype.kind in "iuf" and self.classes_.dtype.kind in "iuf"):
            raise ValueError(
                f"y contains labels of another type ({y.dtype}) than the classes "
                f"seen in fit: {self.classes_}."
            )
        indices = np.searchsorted(self.classes_, y)
        unknown = (indices >= len(self.classes_)) | (
            self.classes_[np.minimum(indices, len(self.classes_) - 1)] != y)
        if np.any(unknown):
            raise ValueError(
                f"y contains labels not seen in fit: {np.unique(y[unknown])}; "
                f"the classes are {self.classes_}."
            )
        return np.eye(len(self.classes_), dtype=self._network.dtype)[indices]

    def inverse_transform(self, X, y=None):
        """Decode codes as the given classes: the mean of p(x | z, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, e.g. from :meth:`transform`.

        y : label or array-like of shape (n_samples,), default=None
            Class to draw each code as; one label applies to every row.
            Required: None raises a ValueError naming the classes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Decoder means.
        """
        check_is_fitted(self)
        Z = self._check_codes(X)
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
        check_n_samples(n_samples)
        rng = check_random_state(random_state)
        if y is None:
            y = rng.choice(self.classes_, size=n_samples, p=self.class_prior_)
        condition = self._one_hot(y, n_samples)
        Z = self._sample_latent(int(n_samples), rng)
        net = self._network
        X = self._map_rows(net.decoded_mean, Z, n_columns=net.n_features,
                           condition=condition)
        return X, self.classes_[condition.argmax(axis=1)]

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
        if y is not None:
            return self._score_samples(X, self._one_hot(y, len(X)))
        net, noise = self._network, self._score_noise
        with np.errstate(divide="ignore"):  # a class of zero weight: log 0
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
        return finite_mean(self.score_samples(X, y))

