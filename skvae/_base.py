"""The estimator layer shared by skvae's models: parameters, validation, fit, inference.

:class:`BaseVAE` validates input, builds a network from the registered parts
(:func:`skvae._objective.build_network`), hands it to a training driver
(:mod:`skvae._training`) and stores what the fit produced; it also runs
inference in row chunks of bounded memory.  :class:`LatentTransformerMixin`
holds the public methods of the models that encode and decode
(:class:`~skvae.VAETransformer`, :class:`~skvae.ConditionalVAE`).  The
mathematics lives in the private modules; this one knows scikit-learn.
"""

import copy
import functools
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state, gen_batches, metadata_routing
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._objective import DECODERS, PRIORS, build_network
from ._solvers import History
from ._training import (
    Settings,
    check_settings,
    first_iteration_at_full_weight,
    fit_adam,
    fit_lbfgs,
)
from .exceptions import DivergenceError

# Noise vectors shared by every row when scoring: a scrambled Sobol sequence
# mapped through the normal quantile function (randomized quasi-Monte Carlo).
# Measured on breast cancer with 4 codes, the RMS error of the mean ELBO over
# 20 seeds was 0.17 nats with 16 Sobol points, 0.49 with 16 antithetic draws,
# 0.84 with 8.
N_SCORE_DRAWS = 16

# Scratch memory per inference chunk, in MiB (scikit-learn's working_memory
# when smaller). On 1,000,000 x 64 float32 rows, 16-32 MiB chunks transformed
# 6.3-6.7 million rows/s, 1 GiB chunks (the working_memory default) 2.9 million.
INFERENCE_CHUNK_MIB = 32

# How far outside [0, 1] Bernoulli data may stray through rounding.
BERNOULLI_TOLERANCE = 1e-6


def transactional(fit_method):
    """Make a fitting method complete or leave the estimator as it was.

    Whatever the exception (divergence, KeyboardInterrupt, MemoryError, ...),
    every attribute is restored to its state before the call: an unfitted
    estimator stays unfitted, a fitted one keeps its previous fit.
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        saved = copy.deepcopy(self.__dict__)
        try:
            return fit_method(self, *args, **kwargs)
        except BaseException as error:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if isinstance(error, DivergenceError):
                raise DivergenceError(
                    f"{error} {type(self).__name__} was left unchanged, as it was "
                    "before this call. Lower learning_rate_init, or raise alpha."
                ) from None
            raise

    return wrapper


def chunk_n_rows(row_bytes, max_n_rows, working_memory):
    """Rows per chunk so that a chunk's scratch fits ``working_memory`` MiB.

    A local copy of the rule of scikit-learn's private
    ``sklearn.utils._chunking.get_chunk_n_rows``, which has no public
    equivalent: at least one row, at most ``max_n_rows``.
    """
    rows = int(working_memory * 2**20 // max(row_bytes, 1))
    return max(1, min(rows, max_n_rows))


class BaseVAE(BaseEstimator):
    """Parameters, validation, training and inference shared by the VAE estimators.

    Not for direct use: see :class:`skvae.VAETransformer`.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "variance_floor": [Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup": [Interval(Integral, 0, None, closed="left")],
        "free_bits": [Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS))],
        "decoder": [StrOptions(set(DECODERS))],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "n_flow_layers": [Interval(Integral, 1, None, closed="left")],
        "flow_hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(64,),
        activation="relu",
        likelihood="gaussian",
        variance_floor=1e-3,
        beta=1.0,
        kl_warmup=0,
        free_bits=0.0,
        n_importance_samples=1,
        prior="normal",
        n_flow_layers=2,
        flow_hidden_layer_sizes=(32,),
        decoder="mlp",
        window=None,
        solver="lbfgs",
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.variance_floor = variance_floor
        self.beta = beta
        self.kl_warmup = kl_warmup
        self.free_bits = free_bits
        self.n_importance_samples = n_importance_samples
        self.prior = prior
        self.n_flow_layers = n_flow_layers
        self.flow_hidden_layer_sizes = flow_hidden_layer_sizes
        self.decoder = decoder
        self.window = window
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # -- validation ----------------------------------------------------------

    def _hidden_sizes(self, name="hidden_layer_sizes"):
        value = getattr(self, name)
        sizes = np.atleast_1d(value)
        if sizes.ndim != 1 or (sizes.size and (
                not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1))):
            raise ValueError(
                f"{name} must be a positive int or a sequence of positive ints, "
                f"got {value!r}."
            )
        return tuple(int(s) for s in sizes)

    def _architecture(self):
        """What warm_start and partial_fit must find unchanged."""
        flow = None
        if self.prior == "flow":
            flow = (self.n_flow_layers, self._hidden_sizes("flow_hidden_layer_sizes"))
        decoder = (self.decoder, self.window if self.decoder != "mlp" else None)
        return (self.n_components, self._hidden_sizes(), self.activation,
                self.likelihood, flow, decoder)

    def _validate_X(self, X, *, reset, y="no_validation"):
        """Check X (and y, if given) like scikit-learn does, plus the likelihood's
        support. Returns X, or (X, y) when y is given."""
        try:
            out = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32])
        except ValueError as error:
            if "could not convert" not in str(error):
                raise
            raise ValueError(
                f"X must be numeric: {error}. Encode text or categorical columns "
                "first, e.g. with OneHotEncoder."
            ) from error
        self._check_likelihood_support(out if isinstance(y, str) else out[0])
        return out

    def _check_likelihood_support(self, X):
        if self.likelihood == "bernoulli":
            # Tolerate rounding, e.g. MinMaxScaler giving 1 + 1e-16.
            low, high = X.min(), X.max()
            if low < -BERNOULLI_TOLERANCE or high > 1 + BERNOULLI_TOLERANCE:
                raise ValueError(
                    "likelihood='bernoulli' needs X in [0, 1], got values in "
                    f"[{float(low)!r}, {float(high)!r}]. Scale X (e.g. with "
                    "MinMaxScaler, clipping new data) or use likelihood='gaussian'."
                )

    def _check_codes(self, Z):
        """Codes for decoding: ``n_components`` columns of floats."""
        Z = check_array(Z, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"Codes must have n_components={self.n_components} columns, got "
                f"{Z.shape[1]}. Pass the output of transform, not the data."
            )
        return Z

    def _continues(self):
        """Whether fit continues training the fitted network (warm_start)."""
        return self.warm_start and hasattr(self, "_network")

    def _as_network_dtype(self, X):
        return X.astype(self._network.dtype, copy=False)

    # -- fitting -------------------------------------------------------------

    def _fit(self, X, *, incremental, condition=None):
        """Train on validated X; a fresh start unless warm or incremental."""
        settings = Settings.from_params(self.get_params())
        check_settings(settings)
        continues = hasattr(self, "_network") if incremental else self._continues()
        if continues:
            self._check_same_architecture()
            X = self._as_network_dtype(X)
        else:
            self._initialize(X, condition)
        self._history.changing_until = first_iteration_at_full_weight(settings)
        try:
            if self.solver == "lbfgs":
                converged = fit_lbfgs(self._network, X, condition, self._rng,
                                      self._history, settings)
            else:
                self._optimizer, converged = fit_adam(
                    self._network, X, condition, self._rng, self._history,
                    self._optimizer, settings, incremental=incremental,
                    score_noise=self._score_noise)
        finally:
            self._store_history()
        if not converged and not incremental:
            warnings.warn(
                f"{self.solver}: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet; raise max_iter or "
                "tol.",
                ConvergenceWarning,
                stacklevel=4,  # _fit, fit, _fit_context wrapper, caller
            )
        return self

    def _initialize(self, X, condition=None):
        random_state = check_random_state(self.random_state)
        # One NumPy Generator for all noise and shuffling: fast draws straight
        # into float32 or float64 buffers.
        self._rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        self._network = self._build_network(X, condition)
        self._fitted_architecture = self._architecture()
        self._network.initialize(X, self._rng, self.variance_floor)
        sobol = qmc.Sobol(self.n_components, scramble=True, seed=self._rng)
        uniform = np.clip(sobol.random(N_SCORE_DRAWS), 1e-12, 1 - 1e-12)
        self._score_noise = ndtri(uniform)[:, None, :].astype(X.dtype)
        self._log_likelihood_seed = int(self._rng.integers(np.iinfo(np.int32).max))
        self._history = History()
        self._optimizer = None
        self._n_features_out = self.n_components

    def _build_network(self, X, condition=None):
        """The untrained network of the registered parts the parameters name."""
        settings = {
            "n_flow_layers": self.n_flow_layers,
            "flow_hidden_layer_sizes": self._hidden_sizes("flow_hidden_layer_sizes"),
            "window": self.window,
        }
        return build_network(
            X.shape[1], self.n_components, self._hidden_sizes(), self.activation,
            self.likelihood, X.dtype, prior=self.prior, decoder=self.decoder,
            n_conditions=0 if condition is None else condition.shape[1],
            settings=settings)

    def _check_same_architecture(self):
        now, then = self._architecture(), self._fitted_architecture
        if now != then:
            raise ValueError(
                "warm_start and partial_fit continue training the fitted network, "
                "so n_components, hidden_layer_sizes, activation, likelihood, "
                "the flow prior's and the decoder's settings must stay as they "
                "were: fitted with "
                f"{then}, now {now}. Set warm_start=False to train a new network."
            )

    def _store_history(self):
        history = self._history
        self.n_iter_ = history.n_iter
        self.loss_curve_ = list(history.loss_curve)
        self.best_loss_ = history.best_loss
        if self.solver == "adam" and self.early_stopping:
            self.validation_scores_ = list(history.validation_scores)
            self.best_validation_score_ = history.best_validation_score

    # -- inference, in chunks of bounded memory ------------------------------

    def _map_rows(self, function, X, n_draws=1, n_columns=None, condition=None):
        """Apply ``function`` to X in row chunks of bounded scratch memory.

        ``function`` maps a chunk (cast to the network's dtype), and the same
        rows of ``condition`` if given, to an array of one value (or
        ``n_columns`` values) per row; the result is returned in X's dtype.
        """
        check_is_fitted(self)
        net = self._network
        width = n_draws * (2 * net.n_features + 4 * sum(net.encoder.sizes[1:-1])
                           + 4 * net.n_components)
        budget = min(get_config()["working_memory"], INFERENCE_CHUNK_MIB)
        chunk = chunk_n_rows(width * net.dtype.itemsize, X.shape[0], budget)
        shape = (X.shape[0],) if n_columns is None else (X.shape[0], n_columns)
        out = np.empty(shape, dtype=X.dtype)
        # A density of a row far from the data can fall below the most negative
        # float (and an error above the largest): report those bounds, never
        # -inf or inf.
        finfo = np.finfo(X.dtype)
        with np.errstate(over="ignore"):
            for rows in gen_batches(X.shape[0], chunk):
                chunk_args = [self._as_network_dtype(X[rows])]
                if condition is not None:
                    chunk_args.append(self._as_network_dtype(condition[rows]))
                out[rows] = np.clip(function(*chunk_args), finfo.min, finfo.max)
        return out

    def _transform(self, X, return_std=False):
        net, k = self._network, self.n_components
        if not return_std:
            return self._map_rows(lambda x: net.encode(x)[0], X, n_columns=k)
        both = self._map_rows(lambda x: np.hstack(net.encode(x)), X, n_columns=2 * k)
        return np.ascontiguousarray(both[:, :k]), np.exp(0.5 * both[:, k:])

    def _score_samples(self, X, condition=None):
        # The true ELBO (beta = 1) whatever the training beta: a lower bound on
        # log p(x), comparable across models, so GridSearchCV can tune beta.
        noise = self._score_noise

        def elbo(x, c=None):
            return self._network.elbo(x, noise, C=c)

        return self._map_rows(elbo, X, n_draws=noise.shape[0], condition=condition)

    def _log_likelihood(self, X, n_samples, random_state):
        # The same n_samples noise vectors for every row: each row still gets
        # an unbiased importance-weighted estimate, and a subset of rows gets
        # exactly those rows of the full result.
        check_is_fitted(self)
        seed = self._log_likelihood_seed if random_state is None else random_state
        rng = check_random_state(seed)
        noise = rng.standard_normal((n_samples, 1, self.n_components))
        noise = noise.astype(self._network.dtype)
        return self._map_rows(lambda x: self._network.log_likelihood(x, noise), X,
                              n_draws=n_samples)

    def _reconstruction_error(self, X):
        return self._map_rows(self._network.reconstruction_error, X)

    def _sample_latent(self, n_samples, random_state):
        rng = check_random_state(random_state)
        eps = rng.standard_normal((n_samples, self.n_components))
        return self._network.sample_prior(eps.astype(self._network.dtype))

    @validate_params(
        {"n_samples": [Interval(Integral, 1, None, closed="left")],
         "random_state": ["random_state"]},
        prefer_skip_nested_validation=True,
    )
    def sample_latent(self, n_samples=1, random_state=None):
        """Draw codes z from the model's prior p(z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of codes to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; None uses NumPy's global random state, as
            :meth:`sample` does.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes drawn from N(0, I), or from the learned flow prior when
            ``prior="flow"``, in the fit dtype.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(50, 4))
        >>> vae = VAETransformer(n_components=2, max_iter=5, random_state=0).fit(X)
        >>> vae.sample_latent(3, random_state=0).shape
        (3, 2)
        """
        check_is_fitted(self)
        return self._sample_latent(n_samples, random_state)


class LatentTransformerMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """The public methods of the VAE estimators that encode and decode."""

    # return_std is an option of transform, not metadata to route.
    __metadata_request__transform = {"return_std": metadata_routing.UNUSED}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def transform(self, X, return_std=False):
        """Encode X: the mean of the posterior q(z|x) of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        return_std : bool, default=False
            Also return the posterior standard deviations, the uncertainty of
            each code.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Posterior means, in X's dtype.

        Z_std : ndarray of shape (n_samples, n_components)
            Posterior standard deviations; only when ``return_std`` is True.
        """
        check_is_fitted(self)
        return self._transform(self._validate_X(X, reset=False), return_std)

    def score(self, X, y=None):
        """Mean ELBO of X, in nats per sample (higher is better).

        Lets :class:`~sklearn.model_selection.GridSearchCV` select models
        without labels.

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


def finite_mean(scores):
    """The mean of finite scores, without overflow when some sit at the
    dtype's limit (far rows): computed on the scores divided by the largest."""
    scores = np.asarray(scores, dtype=np.float64)
    largest = float(np.max(np.abs(scores)))
    if largest <= 1.0:
        return float(np.mean(scores))
    return largest * float(np.mean(scores / largest))


def _check_n_samples(n_samples):
    if not isinstance(n_samples, (Integral, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")


def _read_only(arrays):
    """Read-only views, so fitted weights cannot be changed by accident."""
    views = []
    for a in arrays:
        v = a.view()
        v.flags.writeable = False
        views.append(v)
    return views
