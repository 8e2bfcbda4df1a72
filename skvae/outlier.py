"""VAEOutlierDetector: rank rows by how unlikely a VAE finds them."""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import OutlierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._estimator.base import BaseVAE
from ._estimator.callbacks import fit_task
from ._estimator.dask import is_dask
from ._estimator.docs import DETECTOR_PARAMETERS, document_parameters
from ._estimator.ensemble import (
    combined_scores,
    feature_standardizer,
    fit_members,
    model_scores,
)
from ._estimator.fitted import freeze_settings
from ._estimator.thresholds import (
    outlier_probability,
    robust_spread,
    score_threshold,
)
from ._estimator.utils import transactional
from .transformer import VAETransformer

# n_estimators="auto": an ensemble for inputs narrower than this; wider ones
# (images such as 8x8 digits and up) get one VAE on all rows.
ENSEMBLE_MAX_FEATURES = 64
AUTO_N_ESTIMATORS = 5


def default_member():
    """The ensemble's member when ``estimator=None``: a small VAE, a short fit."""
    return VAETransformer(
        n_components=2, hidden_layer_sizes=(16,), solver="lbfgs", max_iter=40,
        variance_floor=1e-3, alpha=1e-4, free_bits=0.0, early_stopping=False,
    )


# What a fit of one kind leaves that a later fit of the other must drop.
ENSEMBLE_STATE = ("estimators_", "estimators_samples_", "member_centers_",
                  "member_scales_", "feature_center_", "feature_scale_")
SINGLE_STATE = ("_network", "_network_spec", "_fitted_architecture", "_history",
                "n_components_", "prior_",
                "_optimizer", "_rng", "_score_noise", "_n_features_out",
                "_log_likelihood_seed", "solver_", "hidden_layer_sizes_", "loss_curve_",
                "best_loss_", "kl_per_component_",
                "active_components_", "validation_scores_", "best_validation_score_")

# The settings every fit of a detector freezes, an ensemble's or a continued
# one's (a new single VAE freezes all of _fitted_settings).
DETECTOR_SETTINGS = ("likelihood", "log_likelihood_samples")


def _is_single_vae(detector):
    """Whether the detector is one VAE, or not fitted yet (then the method
    exists and says the detector is not fitted)."""
    return getattr(detector, "n_estimators_", 1) == 1


@document_parameters(overrides=DETECTOR_PARAMETERS)
class VAEOutlierDetector(OutlierMixin, BaseVAE):
    """Anomaly detection with a variational autoencoder.

    Fits VAEs to the training data, which may hold some anomalies, and
    scores new rows by how well the models explain them: the ELBO, the
    importance-weighted log-likelihood, or the reconstruction error. Higher
    scores mean more normal, as in scikit-learn's other detectors.

    For tables (fewer than 64 features) the default is an ensemble, as an
    isolation forest is one: five small VAEs, each fitted to 256 rows drawn
    without replacement from the standardized features and trimmed twice
    (refitted without the quarter of its rows it scores lowest), score a
    row by the mean of their standardized ELBOs at the posterior mean. Wider
    inputs such as images get one VAE on all rows, scored by its
    reconstruction error. The user guide's section on anomaly detection
    gives the benchmarks behind both.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    n_estimators_ : int
        Number of VAEs fitted (``n_estimators``, or what ``"auto"`` chose).

    score_type_ : str
        The score each VAE gives (``score_type``, or what ``"auto"`` chose).

    likelihood_ : {"auto", "gaussian", "bernoulli"} or dict
        The likelihood whose support new rows are checked against
        (``likelihood`` at fit). Inference reads the settings of the fit,
        frozen in these attributes, never the parameters: ``set_params``
        changes the next fit, not this detector (user guide, "Settings take
        effect at fit").

    log_likelihood_samples_ : int
        Importance samples per row of the ``"log_likelihood"`` score
        (``log_likelihood_samples`` at fit).

    estimators_ : list of VAETransformer
        The ensemble's fitted members; only when ``n_estimators_ > 1``.

    estimators_samples_ : list of ndarray
        Indices of the training rows each member was fitted to; only when
        ``n_estimators_ > 1``.

    member_centers_, member_scales_ : ndarray of shape (`n_estimators_`,)
        Median and robust spread of each member's scores on its own rows,
        which standardize them; only when ``n_estimators_ > 1``.

    feature_center_, feature_scale_ : ndarray of shape (`n_features_in_`,)
        Per-feature mean and standard deviation the ensemble standardizes
        the input with (1 for a constant feature); only when
        ``n_estimators_ > 1``.

    offset_ : float
        Threshold on :meth:`score_samples`: rows scoring below it are
        outliers; ``decision_function = score_samples - offset_``.

    training_scores_ : ndarray of shape (n_samples,)
        :meth:`score_samples` of the training rows (higher is more normal),
        as :class:`~sklearn.neighbors.LocalOutlierFactor` keeps
        ``negative_outlier_factor_``. PyOD's ``decision_scores_`` (higher
        is more abnormal) is ``-training_scores_``.

    training_labels_ : ndarray of shape (n_samples,)
        :meth:`predict` of the training rows: +1 inlier, -1 outlier. PyOD's
        ``labels_`` (1 outlier, 0 inlier) is ``training_labels_ == -1``.

    score_scale_ : float
        Robust spread of ``training_scores_`` (1.4826 median absolute
        deviations, weighted by ``sample_weight``): the unit in which
        :meth:`predict_proba` measures distances from the threshold.

    n_iter_ : int
        Iterations or epochs run; for an ensemble, the most any member ran
        (its first fit and its trimming rounds).

    solver_ : {"lbfgs", "adam"}
        The solver that ran (``solver``, or what ``"auto"`` chose); this
        and the attributes below describe the single VAE and are set only
        when ``n_estimators_`` is 1.

    hidden_layer_sizes_ : tuple of int
        The encoder's hidden layer sizes (``"auto"`` made concrete).

    n_components_ : int
        Dimension of the single VAE's latent code (``n_components`` at fit).

    prior_ : {"normal", "flow", "hierarchical"}
        The prior the single VAE was fitted with.

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
    VAETransformer : The same model as a transformer.
    sklearn.ensemble.IsolationForest : Tree-based anomaly detection.
    sklearn.covariance.EllipticEnvelope : Gaussian anomaly detection.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEOutlierDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)) @ [[1.0, 0.5, 0.2], [0.0, 1.0, -0.5]]
    >>> detector = VAEOutlierDetector(n_components=2, random_state=0).fit(X)
    >>> detector.predict([[0.0, 0.0, 0.0], [4.0, -4.0, 4.0]])
    array([ 1, -1])
    """

    _parameter_constraints: dict = {
        **BaseVAE._parameter_constraints,
        "score_type": [StrOptions({"auto", "elbo_at_mean", "elbo", "log_likelihood",
                                   "reconstruction"})],
        "n_estimators": [StrOptions({"auto"}),
                         Interval(Integral, 1, None, closed="left")],
        "max_samples": [Interval(Integral, 1, None, closed="left"),
                        Interval(Real, 0, 1, closed="right")],
        "trim_fraction": [Interval(Real, 0, 0.5, closed="left")],
        "n_trim_rounds": [Interval(Integral, 0, None, closed="left")],
        "estimator": [None, VAETransformer],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "log_likelihood_samples": [Interval(Integral, 1, None, closed="left")],
    }
    _fitted_settings = (*BaseVAE._fitted_settings, "log_likelihood_samples")

    def __init__(
        self,
        n_components=6,
        *,
        score_type="auto",
        contamination=0.1,
        log_likelihood_samples=100,
        n_estimators="auto",
        max_samples=256,
        trim_fraction=0.25,
        n_trim_rounds=2,
        estimator=None,
        hidden_layer_sizes=(128,),
        activation="relu",
        likelihood="auto",
        variance_floor=0.1,
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
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-2,
        average_decay=0.98,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
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
        self.score_type = score_type
        self.contamination = contamination
        self.log_likelihood_samples = log_likelihood_samples
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.trim_fraction = trim_fraction
        self.n_trim_rounds = n_trim_rounds
        self.estimator = estimator

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def fit(self, X, y=None, sample_weight=None):
        """Fit the VAE to X and set the outlier threshold from its scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, mostly normal.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the training objective (a
            weighted mean of the per-row ELBO), in the statistics the network
            starts from, and in the threshold: ``contamination`` is then a
            fraction of the total weight (the inverted-CDF weighted quantile
            of the training scores). A weight of zero leaves a row out, an
            integer weight counts it as that many copies.

        Returns
        -------
        self : VAEOutlierDetector
            The fitted detector.
        """
        X = self._validate_X(X, reset=not self._continues())
        n_estimators = self._resolve_n_estimators(X)
        single = n_estimators == 1
        sample_weight = self._check_sample_weight(sample_weight, X)
        self._forget(SINGLE_STATE if not single else ENSEMBLE_STATE)
        self.n_estimators_ = n_estimators
        self.score_type_ = self._resolve_score_type()
        freeze_settings(self, DETECTOR_SETTINGS)
        if single:
            self._fit(X, incremental=False, y=y, sample_weight=sample_weight)
        else:
            self._fit_ensemble(X, sample_weight)
        # The threshold is an exact quantile: a dask array's scores (one float
        # per row) are computed into memory.
        scores = np.asarray(self._scores(X))
        self.offset_ = score_threshold(scores, self.contamination, sample_weight)
        self.score_scale_ = robust_spread(scores, sample_weight)
        self.training_scores_ = scores
        self.training_labels_ = np.where(scores - self.offset_ >= 0, 1, -1)
        return self

    def _resolve_n_estimators(self, X):
        if self.n_estimators != "auto":
            if self.n_estimators > 1 and is_dask(X):
                raise ValueError(
                    f"n_estimators={self.n_estimators} needs X in memory; a dask "
                    "array trains one VAE: set n_estimators=1."
                )
            return self.n_estimators
        if is_dask(X) or np.shape(X)[-1] >= ENSEMBLE_MAX_FEATURES:
            return 1
        return AUTO_N_ESTIMATORS

    def _resolve_score_type(self):
        if self.score_type != "auto":
            return self.score_type
        return "reconstruction" if self.n_estimators_ == 1 else "elbo_at_mean"

    def _forget(self, names):
        """Drop what a fit of the other kind (single VAE or ensemble) left."""
        for name in names:
            self.__dict__.pop(name, None)

    def _fit_ensemble(self, X, sample_weight):
        """Fit ``n_estimators_`` trimmed members to subsamples of the
        standardized X, and the statistics that standardize their scores."""
        table = getattr(self, "_table", None)
        numeric = None if table is None else np.array(
            [kind == "gaussian" for kind in table.likelihoods])
        center, scale = feature_standardizer(X, sample_weight, numeric)
        template = default_member() if self.estimator is None else self.estimator

        def score(member, rows):
            return model_scores(member, rows, self.score_type_,
                                self.log_likelihood_samples)

        members, samples, centers, scales = fit_members(
            template, (X - center) / scale, sample_weight,
            check_random_state(self.random_state), self.n_estimators_,
            self.max_samples, self.trim_fraction, self.n_trim_rounds, score,
            table=None if table is None else table.for_model_matrix())
        self.estimators_ = members
        self.estimators_samples_ = samples
        self.member_centers_ = np.array(centers)
        self.member_scales_ = np.array(scales)
        self.feature_center_, self.feature_scale_ = center, scale
        self.feature_likelihoods_ = members[0].feature_likelihoods_
        self.n_iter_ = max(member.n_iter_ for member in members)

    def _scores(self, X):
        if self.n_estimators_ == 1:
            return model_scores(self, X, self.score_type_,
                                self.log_likelihood_samples_)
        Z = ((X - self.feature_center_) / self.feature_scale_).astype(X.dtype,
                                                                     copy=False)
        return combined_scores(
            self.estimators_, self.member_centers_, self.member_scales_, Z,
            lambda member, rows: model_scores(member, rows, self.score_type_,
                                              self.log_likelihood_samples_))

    def __setstate__(self, state):
        # A detector saved before the ensemble existed is one VAE: its new
        # parameters take their defaults, except n_estimators, which is 1.
        if "n_estimators" not in state:
            signature = inspect.signature(type(self).__init__).parameters
            defaults = {name: p.default for name, p in signature.items()
                        if p.default is not p.empty}
            state = {**defaults, **state, "n_estimators": 1}
            if "offset_" in state:
                state = {"n_estimators_": 1, "score_type_": state["score_type"],
                         **state}
        super().__setstate__(state)

    def _frozen_in(self, state):
        return self._fitted_settings if "_network" in state else DETECTOR_SETTINGS

    @available_if(_is_single_vae)
    def sample_latent(self, n_samples=1, random_state=None):
        """Draw codes z from the single VAE's prior p(z).

        Only a detector that is one VAE (``n_estimators_ == 1``) has a
        latent space to draw from; an ensemble's members each have their own
        (``estimators_``).

        Parameters
        ----------
        n_samples : int, default=1
            Number of codes to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; None uses NumPy's global random state.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes drawn from the prior, in the fit dtype.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAEOutlierDetector
        >>> X = np.random.default_rng(0).normal(size=(80, 70))
        >>> detector = VAEOutlierDetector(n_components=2, max_iter=5,
        ...                               random_state=0).fit(X)
        >>> detector.n_estimators_, detector.sample_latent(3, random_state=0).shape
        (1, (3, 2))
        """
        return super().sample_latent(n_samples, random_state)

    def score_samples(self, X):
        """How normal each row is: higher is more normal.

        The ELBO, the importance-weighted log-likelihood or minus the
        reconstruction error, as chosen by ``score_type``; deterministic and
        row-wise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Normality score of each row.
        """
        check_is_fitted(self)
        return self._scores(self._validate_X(X, reset=False))

    def decision_function(self, X):
        """Score shifted by the threshold: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 where ``decision_function(X) >= 0``, else -1.
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def predict_proba(self, X):
        """Probability of each row being an inlier and an outlier.

        A logistic of :meth:`decision_function` in units of the training
        scores' robust spread: P(outlier) is
        ``1 / (1 + exp(decision_function(X) / score_scale_))``. It is 1/2 at
        the threshold, so that ``predict`` labels a row an outlier exactly
        when its P(outlier) exceeds 1/2, and it decreases as the score rises. It ranks
        rows as the scores do; as a probability it is a monotone rescaling,
        not a calibration against labelled outliers (PyOD's ``"linear"`` and
        ``"unify"`` rescalings are others). To calibrate on labels, fit a
        :class:`~sklearn.linear_model.LogisticRegression` to
        ``decision_function``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Column 0: P(inlier); column 1: P(outlier). Rows sum to one.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAEOutlierDetector
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 2)) @ [[1.0, 0.5, 0.2], [0.0, 1.0, -0.5]]
        >>> detector = VAEOutlierDetector(n_components=2, random_state=0).fit(X)
        >>> detector.predict_proba([[0.0, 0.0, 0.0], [4.0, -4.0, 4.0]]).round(2)
        array([[0.99, 0.01],
               [0.  , 1.  ]])
        """
        decision = self.decision_function(X)
        # Computed in float64, returned in the scores' dtype (float32 stays).
        outlier = outlier_probability(decision, self.score_scale_).astype(
            decision.dtype, copy=False)
        return np.column_stack([1 - outlier, outlier])
