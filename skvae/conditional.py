"""ConditionalVAE: a VAE whose decoder also sees the class, p(x | z, y)."""

from numbers import Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._estimator.base import BaseVAE
from ._estimator.callbacks import fit_task
from ._estimator.docs import document_parameters
from ._estimator.labels import HIDDEN_LAYER_SIZES_DOC, LabelsMixin
from ._estimator.mixins import LatentTransformerMixin
from ._estimator.utils import finite_mean, transactional


@document_parameters(overrides={"hidden_layer_sizes": HIDDEN_LAYER_SIZES_DOC})
class ConditionalVAE(LabelsMixin, LatentTransformerMixin, BaseVAE):
    """Conditional variational autoencoder: encoder q(z|x), decoder p(x|z, y).

    The decoder sees the class y (one-hot) beside the code z, so the code is
    free to describe what the class does not: the style of a digit rather
    than which digit it is. Encoding needs no y; decoding and generating take
    the class to draw: encode one digit and decode it as another to transfer
    its style. Classes are learned in :meth:`fit`, as scikit-learn
    classifiers do (``classes_``).

    Partly labeled data: rows whose label is -1 are unlabeled,
    scikit-learn's convention for semi-supervised learning (as in
    :class:`~sklearn.semi_supervised.LabelSpreading`); -1 is then no class.
    With unlabeled rows the model is M2 of Kingma et al. (2014): a classifier
    q(y|x) is trained beside the VAE, each unlabeled row contributes its ELBO
    under every class weighted by q(y|x) plus the entropy of q(y|x), and each
    labeled row adds ``classification_weight`` times its log q(y|x), scaled
    by N / N_labeled (the share of labeled rows does not change the weight of
    the classification term as a whole). On fully
    labeled data no classifier is trained and ``classification_weight`` is
    unused. :class:`VAEClassifier` is the same model as a classifier.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    solver_ : {"lbfgs", "adam"}
        The solver that ran (``solver``, or what ``"auto"`` chose).

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

    classes_ : ndarray of shape (n_classes,)
        The class labels seen in :meth:`fit`; never -1, which marks an
        unlabeled row.

    class_prior_ : ndarray of shape (n_classes,)
        Fraction of the labeled training rows in each class (of their total
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

    feature_likelihoods_ : ndarray of shape (`n_features_in_`,)
        The likelihood of each input column, "gaussian", "bernoulli" or
        "categorical", as ``likelihood`` chose it at fit (see the user
        guide's "Tables as they come").

    See Also
    --------
    VAETransformer : The unconditional model.
    VAEClassifier : The same model on partly labeled data, as a classifier.

    References
    ----------
    .. [1] K. Sohn, H. Lee and X. Yan, "Learning Structured Output
       Representation using Deep Conditional Generative Models", NeurIPS 2015.
    .. [2] D. P. Kingma, D. J. Rezende, S. Mohamed and M. Welling,
       "Semi-Supervised Learning with Deep Generative Models", NeurIPS 2014.

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

    _parameter_constraints: dict = {
        **BaseVAE._parameter_constraints,
        "classification_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        classification_weight=10.0,
        hidden_layer_sizes="auto",
        activation="relu",
        likelihood="auto",
        variance_floor=1e-3,
        beta=1.0,
        kl_warmup=0,
        free_bits=0.0,
        n_importance_samples=1,
        prior="normal",
        n_flow_layers=2,
        flow_hidden_layer_sizes=(32,),
        n_top_components=2,
        top_hidden_layer_sizes=(32,),
        decoder="mlp",
        window=None,
        solver="auto",
        alpha="auto",
        batch_size="auto",
        learning_rate_init="auto",
        average_decay=0.98,
        max_iter=200,
        tol="auto",
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            likelihood=likelihood,
            variance_floor=variance_floor,
            beta=beta,
            kl_warmup=kl_warmup,
            free_bits=free_bits,
            n_importance_samples=n_importance_samples,
            prior=prior,
            n_flow_layers=n_flow_layers,
            flow_hidden_layer_sizes=flow_hidden_layer_sizes,
            n_top_components=n_top_components,
            top_hidden_layer_sizes=top_hidden_layer_sizes,
            decoder=decoder,
            window=window,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            average_decay=average_decay,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.classification_weight = classification_weight

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
            Class of each row, or -1 for an unlabeled row (scikit-learn's
            convention). String labels work when every row is labeled; with
            unlabeled rows pass an object array holding the integer -1 (an
            array of strings turns -1 into the string '-1', which is refused).

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
        return self._fit_labels(X, y, sample_weight)

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
        X_original : ndarray of shape (n_samples, n_features) or DataFrame
            Decoder means (the most probable category of a categorical
            column); fitted on a DataFrame, a DataFrame of its columns and
            dtypes.
        """
        check_is_fitted(self)
        Z = self._check_codes(X)
        return self._decode(Z, condition=self._one_hot(y, len(Z)))

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
            Classes of the rows, or None to sum them out; rows labeled -1
            (unlabeled) have theirs summed out, so that partly labeled data
            scores as it was fitted (e.g. in cross-validation).

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            Lower bound on the log-likelihood of each row, in nats.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        if y is None:
            return self._summed_out_scores(X)
        condition = self._one_hot(y, len(X), allow_unlabeled=True)
        labeled = condition.any(axis=1)
        if labeled.all():
            return self._score_samples(X, condition)
        scores = self._summed_out_scores(X)
        if labeled.any():
            scores[labeled] = self._score_samples(X[labeled], condition[labeled])
        return scores

    def _summed_out_scores(self, X):
        """log sum_y p(y) exp(ELBO(x | y)) of each row of validated X."""
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
            Classes of the rows, or None to sum them out; rows labeled -1
            have theirs summed out.

        Returns
        -------
        score : float
            Mean ELBO.
        """
        return finite_mean(self.score_samples(X, y))

