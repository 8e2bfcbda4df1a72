"""The estimator base shared by skvae's models: parameters, validation, fit wiring.

It validates input, builds a :class:`~skvae._objective.VAENetwork`, hands it
to a solver from :mod:`skvae._solvers`, and stores what the fit produced.  The
mathematics lives in those modules; this one knows scikit-learn.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._flow import AutoregressiveFlowPrior
from ._made import AutoregressiveDecoder
from ._objective import VAENetwork
from ._solvers import Adam, History, run_adam, run_lbfgs
from ._variants import kl_weight

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

# L-BFGS-B iterations per draw of the training noise.
LBFGS_ROUND = 20


class BaseVAE(BaseEstimator):
    """Parameters, validation and training shared by the VAE estimators.

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
        "prior": [StrOptions({"normal", "flow"})],
        "decoder": [StrOptions({"mlp", "autoregressive"})],
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

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

    def _validate_X(self, X, *, reset):
        """Check X like scikit-learn does, plus the likelihood's support."""
        try:
            X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        except ValueError as error:
            if "could not convert" not in str(error):
                raise
            raise ValueError(
                f"X must be numeric: {error}. Encode text or categorical columns "
                "first, e.g. with OneHotEncoder."
            ) from error
        self._check_likelihood_support(X)
        return X

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

    def _continues(self):
        """Whether fit continues training the fitted network (warm_start)."""
        return self.warm_start and hasattr(self, "_network")

    def _as_network_dtype(self, X):
        return X.astype(self._network.dtype, copy=False)

    # -- fitting -------------------------------------------------------------

    def _fit(self, X, *, incremental, condition=None):
        """Train on validated X; a fresh start unless warm or incremental."""
        hidden = self._hidden_sizes()
        if self.n_importance_samples > 1 and (
                self.beta != 1 or self.kl_warmup or self.free_bits):
            raise ValueError(
                "n_importance_samples > 1 trains on the importance-weighted bound, "
                "which has no separate KL term to weigh: use it with beta=1, "
                "kl_warmup=0 and free_bits=0 (got beta="
                f"{self.beta}, kl_warmup={self.kl_warmup}, "
                f"free_bits={self.free_bits})."
            )
        continues = hasattr(self, "_network") if incremental else self._continues()
        if continues:
            self._check_same_architecture()
            X = self._as_network_dtype(X)
        else:
            self._initialize(X, hidden, condition)
        self._history.changing_until = self._first_iteration_at_full_kl_weight()
        try:
            if self.solver == "lbfgs":
                converged = self._fit_lbfgs(X, condition)
            else:
                converged = self._fit_adam(X, incremental, condition)
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

    def _initialize(self, X, hidden, condition=None):
        random_state = check_random_state(self.random_state)
        # One NumPy Generator for all noise and shuffling: fast draws straight
        # into float32 or float64 buffers.
        self._rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        flow = None
        if self.prior == "flow":
            flow = AutoregressiveFlowPrior(
                self.n_components, self.n_flow_layers,
                self._hidden_sizes("flow_hidden_layer_sizes"), self.activation)
        n_conditions = 0 if condition is None else condition.shape[1]
        ar_decoder = None
        if self.decoder == "autoregressive":
            ar_decoder = AutoregressiveDecoder(
                X.shape[1], self.n_components + n_conditions, tuple(reversed(hidden)),
                self.activation, self.likelihood, window=self.window)
        self._network = VAENetwork(X.shape[1], self.n_components, hidden,
                                   self.activation, self.likelihood, X.dtype, flow,
                                   ar_decoder, n_conditions)
        self._fitted_architecture = self._architecture()
        self._network.initialize(X, self._rng, self.variance_floor)
        sobol = qmc.Sobol(self.n_components, scramble=True, seed=self._rng)
        uniform = np.clip(sobol.random(N_SCORE_DRAWS), 1e-12, 1 - 1e-12)
        self._score_noise = ndtri(uniform)[:, None, :].astype(X.dtype)
        self._log_likelihood_seed = int(self._rng.integers(np.iinfo(np.int32).max))
        self._history = History()
        self._optimizer = None
        self._n_features_out = self.n_components

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

    def _fit_lbfgs(self, X, condition=None):
        eps = np.empty(self._noise_shape(X.shape[0]), dtype=X.dtype)
        # Common random numbers: the noise is fixed within a round, so L-BFGS-B
        # sees a deterministic objective, and redrawn between rounds, so the
        # model cannot fit one particular draw (held fixed for a whole run,
        # longer runs gave lower held-out ELBO).
        n_iter_end = self._history.n_iter + self.max_iter
        while self._history.n_iter < n_iter_end:
            self._rng.standard_normal(out=eps, dtype=X.dtype)
            beta = self._kl_weight()  # fixed within a round, like the noise
            run_lbfgs(
                lambda beta=beta: self._loss_and_grad(X, eps, beta, condition),
                self._network.params, self._network.grad, self._history,
                max_iter=min(LBFGS_ROUND, n_iter_end - self._history.n_iter),
                tol=self.tol, n_iter_no_change=self.n_iter_no_change,
                verbose=self.verbose,
            )
            if self._history.stalled(self.n_iter_no_change):
                return True
        return False

    def _fit_adam(self, X, incremental, condition=None):
        net, rng = self._network, self._rng
        # Rows are shuffled as one array, [X, condition], so they stay paired.
        d = X.shape[1]
        data = X if condition is None else np.hstack([X, condition.astype(X.dtype)])

        def split(rows):
            return (rows, None) if condition is None else (rows[:, :d], rows[:, d:])

        validation_score = None
        if self.early_stopping and not incremental:
            data, held_out = self._validation_split(data)
            X_val, C_val = split(held_out)
            noise = self._score_noise
            validation_score = lambda: float(  # noqa: E731
                np.mean(net.elbo(X_val, noise, C=C_val)))
        n = data.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else self.batch_size
        if batch_size > n:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n} training "
                "samples; using all of them in each batch.",
                stacklevel=5,
            )
            batch_size = n
        eps_buffer = np.empty(np.prod(self._noise_shape(batch_size)), dtype=X.dtype)

        def loss_and_grad(batch):
            shape = self._noise_shape(batch.shape[0])
            eps = eps_buffer[: np.prod(shape)].reshape(shape)
            rng.standard_normal(out=eps, dtype=X.dtype)
            X_batch, C_batch = split(batch)
            return self._loss_and_grad(X_batch, eps, self._kl_weight(), C_batch)

        if self._optimizer is None or not incremental:
            self._optimizer = Adam(net.params.size, net.dtype, self.learning_rate_init)
        return run_adam(
            loss_and_grad, net.params, net.grad, self._optimizer, self._history, data,
            batch_size=batch_size, max_iter=1 if incremental else self.max_iter,
            tol=self.tol, n_iter_no_change=self.n_iter_no_change, rng=rng,
            validation_score=validation_score, verbose=self.verbose,
        )

    def _noise_shape(self, n_rows):
        """One noise vector per row, or K of them for the importance-weighted bound."""
        if self.n_importance_samples == 1:
            return (n_rows, self.n_components)
        return (self.n_importance_samples, n_rows, self.n_components)

    def _loss_and_grad(self, X, eps, beta, condition=None):
        net = self._network
        if self.n_importance_samples > 1:
            return net.iwae_loss_and_grad(X, eps, self.alpha, condition)
        return net.loss_and_grad(X, eps, beta, self.alpha, self.free_bits, condition)

    def _first_iteration_at_full_kl_weight(self):
        """The iteration from which the objective stops changing, counted as
        History counts (from 1): the stopping rule compares losses only
        from there. The weight changes per epoch (Adam) or per round of
        L-BFGS-B iterations, and reaches beta at iteration kl_warmup."""
        if not self.kl_warmup:
            return 0
        step = 1 if self.solver == "adam" else LBFGS_ROUND
        return -(-self.kl_warmup // step) * step + 1

    def _kl_weight(self):
        """beta, ramped up linearly over the first kl_warmup iterations."""
        return kl_weight(self._history.n_iter, self.beta, self.kl_warmup)

    def _validation_split(self, X):
        n = X.shape[0]
        n_val = int(round(self.validation_fraction * n))
        if n_val < 1 or n_val >= n:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"leaves {n_val} of {n} samples for validation; each side needs at "
                "least one. Use more samples, change validation_fraction, or set "
                "early_stopping=False."
            )
        order = self._rng.permutation(n)
        return X[order[n_val:]], X[order[:n_val]]

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
        width = n_draws * (2 * net.n_features + 4 * sum(net.hidden_layer_sizes)
                           + 4 * net.n_components)
        budget = min(get_config()["working_memory"], INFERENCE_CHUNK_MIB)
        chunk = get_chunk_n_rows(row_bytes=width * net.dtype.itemsize,
                                 max_n_rows=X.shape[0], working_memory=budget)
        shape = (X.shape[0],) if n_columns is None else (X.shape[0], n_columns)
        out = np.empty(shape, dtype=X.dtype)
        for rows in gen_batches(X.shape[0], chunk):
            chunk_args = [self._as_network_dtype(X[rows])]
            if condition is not None:
                chunk_args.append(self._as_network_dtype(condition[rows]))
            out[rows] = function(*chunk_args)
        return out

    def _transform(self, X, return_std=False):
        net, k = self._network, self.n_components
        if not return_std:
            return self._map_rows(lambda x: net.encode(x)[0], X, n_columns=k)
        both = self._map_rows(lambda x: np.hstack(net.encode(x)), X, n_columns=2 * k)
        return np.ascontiguousarray(both[:, :k]), np.exp(0.5 * both[:, k:])

    def _score_samples(self, X):
        # The true ELBO (beta = 1) whatever the training beta: a lower bound on
        # log p(x), comparable across models, so GridSearchCV can tune beta.
        noise = self._score_noise
        return self._map_rows(lambda x: self._network.elbo(x, noise), X,
                              n_draws=noise.shape[0])

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

    def _inverse_transform(self, Z):
        net = self._network
        return self._map_rows(net.decoded_mean, Z,
                              n_columns=net.n_features)

    @validate_params(
        {"n_samples": [Interval(Integral, 1, None, closed="left")],
         "random_state": ["random_state"]},
        prefer_skip_nested_validation=True,
    )
    def sample_latent(self, n_samples=1, random_state=None):
        """Draw codes z from the model's prior p(z).

        The standard normal N(0, I), or the learned flow prior when
        ``prior="flow"``: the codes that :meth:`sample` decodes.

        Parameters
        ----------
        n_samples : int, default=1
            Number of codes to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds the standard normal noise that the prior transforms.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes drawn from the prior, in the fit dtype.

        Examples
        --------
        >>> from skvae import VAETransformer
        >>> from skvae.datasets import make_patterns
        >>> X, _ = make_patterns(n_samples=50, random_state=0)
        >>> vae = VAETransformer(prior="flow", likelihood="bernoulli",
        ...                      hidden_layer_sizes=(8,), max_iter=200, tol=1e-2,
        ...                      random_state=0).fit(X)
        >>> vae.sample_latent(3, random_state=0).shape
        (3, 2)
        """
        check_is_fitted(self)
        rng = check_random_state(random_state)
        eps = rng.standard_normal((n_samples, self.n_components))
        return self._network.sample_prior(eps.astype(self._network.dtype))

    def _sample(self, n_samples, random_state):
        check_is_fitted(self)
        rng = check_random_state(random_state)
        eps = rng.standard_normal((n_samples, self.n_components))
        Z = self._network.sample_prior(eps.astype(self._network.dtype))
        return self._inverse_transform(Z)


def _read_only(arrays):
    """Read-only views, so fitted weights cannot be changed by accident."""
    views = []
    for a in arrays:
        v = a.view()
        v.flags.writeable = False
        views.append(v)
    return views


# The parameters of the model variants, documented once for every estimator.
VARIANT_PARAMETERS_DOC = """\
    kl_warmup : int, default=0
        Iterations (L-BFGS-B, in rounds of 20) or epochs (Adam) over which the
        KL weight ramps linearly from 0 to ``beta`` (Bowman et al. 2016);
        0 means no warm-up. The stopping rule (``tol``,
        ``n_iter_no_change``) compares losses only once the weight is full.

    free_bits : float, default=0.0
        Nats per latent dimension below which that dimension's KL, averaged
        over the batch, is not penalized (Kingma et al. 2016): keeps codes
        from collapsing to the prior. With ``prior="flow"``, whose KL does not
        split by dimension, the total KL is held above
        ``n_components * free_bits``. 0 is the plain objective.

    n_importance_samples : int, default=1
        Noise draws per row in training. With K > 1 the objective is the
        importance-weighted bound of Burda et al. (2016), tighter than the
        ELBO, at K times the decoder's cost; it needs ``beta=1``,
        ``kl_warmup=0`` and ``free_bits=0``.

    prior : {"normal", "flow"}, default="normal"
        The prior p(z): the standard normal, or a learned autoregressive-flow
        prior (Chen et al. 2017): ``n_flow_layers`` MADE-style affine
        autoregressive transforms of N(0, I). Its density takes one pass per
        layer; :meth:`sample` draws sequentially, ``n_components`` passes per
        layer. With it the KL term is estimated by Monte Carlo.

    n_flow_layers : int, default=2
        Affine autoregressive layers of the flow prior.

    flow_hidden_layer_sizes : int or tuple of int, default=(32,)
        Hidden layer sizes of each flow layer's MADE.

    decoder : {"mlp", "autoregressive"}, default="mlp"
        The decoder p(x|z). ``"autoregressive"`` is a masked (MADE) network
        conditioned on z: p(x|z) = prod_j p(x_j | x_<j, z), each feature
        seeing the ``window`` features before it (Chen et al. 2017). Its
        likelihood takes one pass, but :meth:`inverse_transform` and
        :meth:`sample` generate feature by feature: ``n_features``
        sequential steps.

    window : int or None, default=None
        Earlier features each autoregressive conditional sees; None for all
        of them. A small window leaves the global structure to the code z
        (a "lossy" code).
"""


def with_variant_parameters(docstring):
    """Put the variant parameters' documentation in place of its marker."""
    return docstring.replace("    %(variant_parameters)s\n", VARIANT_PARAMETERS_DOC)

