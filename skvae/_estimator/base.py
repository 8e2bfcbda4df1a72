"""The estimator layer shared by skvae's models: parameters, validation, fit, inference.

:class:`BaseVAE` validates input, builds a network from the registered parts
(:func:`skvae._models.vae.build_network`), trains it through a training
driver (:mod:`skvae._train.drivers`) and stores what the fit produced; it
also runs inference in row chunks of bounded memory.  Its ``_fit`` is the one
fit path of NumPy and dask data alike: the data sit behind a data source
(:mod:`skvae._estimator.source`), while the settings, the callbacks, the
history, the latent diagnostics and the convergence warning live here once.
The public methods of the models that encode and decode
(:class:`~skvae.VAETransformer`, :class:`~skvae.ConditionalVAE`) are in
:mod:`skvae._estimator.mixins`.  The mathematics lives in the private
modules; this one knows scikit-learn.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc
from sklearn.base import (
    BaseEstimator,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._models.vae import build_network
from .._nn.activations import ACTIVATIONS
from .._parts.decoders import DECODERS
from .._parts.priors import PRIORS
from .._train.drivers import (
    Settings,
    check_settings,
    first_iteration_at_full_weight,
    resolve_alpha,
    resolve_early_stopping,
    resolve_free_bits,
    resolve_learning_rate,
    resolve_tol,
)
from .._train.solvers import History
from .callbacks import (
    CallbackSupportMixin,
    iteration_tasks,
    snapshot_network,
)
from .dask import is_dask
from .diagnostics import active_components
from .fitted import check_start, freeze_settings, freeze_start
from .inference import InferenceMixin
from .persistence import PersistenceMixin, load_vae_network, vae_network_state
from .source import data_source
from .utils import HistoryMixin, warn_not_converged
from .validation import ValidationMixin, check_not_array_api

# Noise vectors shared by every row when scoring: a scrambled Sobol sequence
# mapped through the normal quantile function (randomized quasi-Monte Carlo):
# for the same number of points its error of the mean ELBO is smaller than
# that of independent or antithetic draws (the user guide gives the figures).
N_SCORE_DRAWS = 16




class BaseVAE(InferenceMixin, HistoryMixin, ValidationMixin, PersistenceMixin,
              CallbackSupportMixin, BaseEstimator):
    """Parameters, validation, training and inference shared by the VAE estimators.

    Not for direct use: see :class:`skvae.VAETransformer`.
    """

    _lazy_dask = True  # dask arrays train and score on their blocks
    _models_tables = True  # DataFrames of mixed types, and missing values
    # What inference reads of the parameters, frozen by the fit (see .fitted).
    _fitted_settings = ("n_components", "likelihood", "prior")

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            StrOptions({"auto"}), "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions({"auto", "gaussian", "bernoulli"}), dict],
        "variance_floor": [Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup": [Interval(Integral, 0, None, closed="left")],
        "free_bits": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS))],
        "decoder": [StrOptions(set(DECODERS))],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "n_flow_layers": [Interval(Integral, 1, None, closed="left")],
        "flow_hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "n_top_components": [Interval(Integral, 1, None, closed="left")],
        "top_hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "solver": [StrOptions({"auto", "lbfgs", "adam"})],
        "alpha": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")
        ],
        "learning_rate_init": [
            StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")
        ],
        "average_decay": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes="auto",
        activation="relu",
        likelihood="auto",
        variance_floor=1e-3,
        beta=1.0,
        kl_warmup=0,
        free_bits="auto",
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
        self.n_top_components = n_top_components
        self.top_hidden_layer_sizes = top_hidden_layer_sizes
        self.decoder = decoder
        self.window = window
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.average_decay = average_decay
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A missing entry adds no term; the autoregressive decoder reads them all.
        tags.input_tags.allow_nan = self.decoder != "autoregressive"
        return tags

    # -- validation ----------------------------------------------------------

    def _architecture(self):
        """What warm_start and partial_fit must find unchanged."""
        prior = None
        if self.prior == "flow":
            prior = ("flow", self.n_flow_layers,
                     self._hidden_sizes("flow_hidden_layer_sizes"))
        elif self.prior == "hierarchical":
            prior = ("hierarchical", self.n_top_components,
                     self._hidden_sizes("top_hidden_layer_sizes"))
        decoder = (self.decoder, self.window if self.decoder != "mlp" else None)
        return (self.n_components, self._continued_hidden_sizes(), self.activation,
                self.likelihood, prior, decoder)

    def _continued_hidden_sizes(self):
        """The hidden layer sizes a continued fit asks for: ``"auto"`` keeps
        the fitted ones (it was resolved from the first fit's rows)."""
        if (isinstance(self.hidden_layer_sizes, str)
                and hasattr(self, "hidden_layer_sizes_")):
            return self.hidden_layer_sizes_
        return self._hidden_sizes()

    def _check_codes(self, Z):
        """Codes for decoding: ``n_components`` columns of floats."""
        if is_dask(Z):  # checked lazily, per block
            from . import dask as _dask
            return _dask.validate(self, Z, reset=False, codes=True)
        check_not_array_api(Z)
        Z = check_array(Z, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"Codes must have n_components={self.n_components_} columns, got "
                f"{Z.shape[1]}. Pass the output of transform, not the data."
            )
        return Z

    def _continues(self):
        """Whether fit continues training the fitted network (warm_start)."""
        return self.warm_start and hasattr(self, "_network")

    def _as_network_dtype(self, X):
        return X.astype(self._network.dtype, copy=False)

    # -- fitting -------------------------------------------------------------

    def _fit(self, X, *, incremental, condition=None, y=None, sample_weight=None):
        """Train on validated X; a fresh start unless warm or incremental.

        The one fit path for every kind of data: X (NumPy, or dask blocks on
        the workers) goes behind a data source (:mod:`.source`), which
        answers what the fit needs of the data. ``sample_weight`` (validated,
        or None) weighs the rows of X; ``y`` is what ``fit`` was given, for
        callbacks.
        """
        continues = hasattr(self, "_network") if incremental else self._continues()
        if continues:
            self._check_same_architecture()
        source = data_source(self, X, incremental=incremental, condition=condition,
                             sample_weight=sample_weight,
                             dtype=self._network.dtype if continues else None)
        solver = source.solver(self.solver, incremental,
                               self.solver_ if continues else None)
        self.solver_ = solver  # the solver of the last call that trained
        if not continues:
            # partial_fit's first rows do not say how many the network
            # will see: they do not bound the "auto" width.
            self._initialize(source.initialization_rows, source.condition,
                             source.sample_weight,
                             n_rows=None if incremental else source.n_rows)
        settings = Settings.from_params(self._resolved_params(source.n_rows, solver))
        check_settings(settings)
        self._history.changing_until = first_iteration_at_full_weight(settings)
        self._history.stop_requested = False
        lbfgs = solver == "lbfgs"
        try:
            with iteration_tasks(self, "lbfgs-iter" if lbfgs else "epoch", source.X,
                                 y, source.sample_weight, self._fitted_attributes
                                 ) as on_iteration:
                if lbfgs:
                    # Adam's moments would not describe the weights L-BFGS-B
                    # leaves: a later partial_fit starts them afresh.
                    self._optimizer = None
                    converged = source.fit_lbfgs(self._network, self._rng,
                                                 self._history, settings, on_iteration)
                else:
                    self._optimizer, converged = source.fit_adam(
                        self._network, self._rng, self._history, self._optimizer,
                        settings, incremental=incremental,
                        score_noise=self._score_noise, on_iteration=on_iteration)
        finally:
            self._store_history()
        self.kl_per_component_ = source.mean_kl(self)
        self.active_components_ = active_components(self.kl_per_component_)
        if not converged and not incremental:
            warn_not_converged(solver, self.max_iter)
        return self

    def _resolved_params(self, n_samples, solver=None):
        """The estimator's parameters with every "auto" made concrete, for
        training with ``solver`` (default: ``solver_``)."""
        solver = self.solver_ if solver is None else solver
        params = self.get_params()
        params["solver"] = solver
        params["alpha"] = resolve_alpha(self.alpha, self._network_spec["n_features"])
        params["free_bits"] = resolve_free_bits(
            self.free_bits, solver, self.n_importance_samples)
        params["learning_rate_init"] = resolve_learning_rate(
            self.learning_rate_init, self.hidden_layer_sizes_)
        params["tol"] = resolve_tol(self.tol, solver, self._network_spec["n_features"])
        params["early_stopping"] = resolve_early_stopping(
            self.early_stopping, solver, n_samples, self.validation_fraction)
        return params

    def _initialize(self, X, condition=None, sample_weight=None, n_rows=None):
        """Build and start the network from X; ``n_rows``: the rows of the
        fit, which bound the "auto" hidden width."""
        random_state = check_random_state(self.random_state)
        # One NumPy Generator for all noise and shuffling: fast draws straight
        # into float32 or float64 buffers.
        self._rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        freeze_settings(self)
        freeze_start(self)
        self.hidden_layer_sizes_ = self._hidden_sizes(n_rows=n_rows)
        # What builds the network, kept as plain data for persistence.
        self._network_spec = self._make_network_spec(X, condition, sample_weight)
        self._network = self._build_network(self._network_spec)
        self._fitted_architecture = self._architecture()
        self.feature_likelihoods_ = np.asarray(self._column_likelihoods(X.shape[1]),
                                               dtype=object)
        self._network.initialize(X, self._rng, self.variance_floor, sample_weight)
        sobol = qmc.Sobol(self._network.noise_dims, scramble=True, seed=self._rng)
        uniform = np.clip(sobol.random(N_SCORE_DRAWS), 1e-12, 1 - 1e-12)
        self._score_noise = ndtri(uniform)[:, None, :].astype(X.dtype)
        self._log_likelihood_seed = int(self._rng.integers(np.iinfo(np.int32).max))
        self._history = History()
        self._optimizer = None
        self._n_features_out = self.n_components

    def _fitted_attributes(self, params):
        """What makes a copy of this estimator the model with ``params``."""
        return {"_network": snapshot_network(self._network, params)}

    def _network_state(self, network):
        return vae_network_state(network, self._network_spec)

    def _load_network(self, state):
        return load_vae_network(state, self._build_network)

    def _make_network_spec(self, X, condition=None, sample_weight=None):
        """The arguments of :func:`~skvae._models.vae.build_network` that the
        parameters name, as plain data."""
        settings = {
            "n_flow_layers": self.n_flow_layers,
            "flow_hidden_layer_sizes": self._hidden_sizes("flow_hidden_layer_sizes"),
            "n_top_components": self.n_top_components,
            "top_hidden_layer_sizes": self._hidden_sizes("top_hidden_layer_sizes"),
            "window": self.window,
        }
        spec = dict(
            n_features=X.shape[1], n_components=self.n_components,
            hidden_layer_sizes=self.hidden_layer_sizes_, activation=self.activation,
            likelihood=self._head_spec(), dtype=X.dtype.name, prior=self.prior,
            decoder=self.decoder,
            n_conditions=0 if condition is None else condition.shape[1],
            settings=settings)
        if not is_dask(X) and np.isnan(X).any():
            spec["missing_indicator"] = True  # the encoder sees the mask
        return spec

    def _head_spec(self):
        """The network's likelihood: the table's column layout, or one name."""
        table = getattr(self, "_table", None)
        if table is not None:
            return table.head_spec()
        return "gaussian" if self.likelihood == "auto" else self.likelihood

    def _output(self, M):
        """Model-matrix rows as the user's data: a table of the fitted
        columns and dtypes when fitted on one, else the array itself."""
        table = getattr(self, "_table", None)
        return M if table is None else table.decode(M)

    def _build_network(self, spec):
        """The untrained network of the registered parts ``spec`` names."""
        return build_network(**spec)

    def _check_same_architecture(self):
        now, then = self._architecture(), self._fitted_architecture
        if now != then:
            raise ValueError(
                "warm_start and partial_fit continue training the fitted network, "
                "so n_components, hidden_layer_sizes, activation, likelihood, "
                "the prior's and the decoder's settings (and a classifier's "
                "n_auxiliary_components) must stay as they were: fitted with "
                f"{then}, now {now}. Set warm_start=False to train a new network."
            )
        check_start(self, "Set warm_start=False to train a new network.")
