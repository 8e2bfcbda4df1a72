"""The private machinery of :class:`skvae.VQVAETransformer`: its parameter
constraints, validation of codes, network set-up, the training loop (Adam
epochs with codebook updates), code counts and chunked inference.

The estimator module keeps the public methods and their documentation.
"""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
)

from .._models.vq import VQNetwork
from .._nn.activations import ACTIVATIONS
from .._parts.heads import HEADS
from .._parts.quantizer import perplexity
from .._train.drivers import minibatch_size
from .._train.solvers import Adam, History, run_adam
from .callbacks import FIT_TASK_FRAMES, iteration_tasks, snapshot_network
from .fitted import check_start, freeze_settings, freeze_start
from .inference import RowChunksMixin
from .persistence import load_vq_network, vq_network_state
from .utils import HistoryMixin

# Rows per minibatch of batch_size="auto", at most the number of rows.
AUTO_BATCH_SIZE = 200


class VQFitMixin(RowChunksMixin, HistoryMixin):
    """Constraints, set-up, training and chunked inference of the VQ-VAE."""

    _parameter_constraints: dict = {
        "n_groups": [Interval(Integral, 1, None, closed="left")],
        "n_codes": [Interval(Integral, 1, None, closed="left")],
        "code_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions(set(HEADS))],
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
    # What inference reads of the parameters, frozen by the fit (see .fitted).
    _fitted_settings = ("n_groups", "n_codes", "code_dim", "likelihood")

    def _architecture(self):
        """What partial_fit must find unchanged."""
        return (self.n_groups, self.n_codes, self.code_dim, self._hidden_sizes(),
                self.activation, self.likelihood)

    def _validate_codes(self, codes):
        codes = check_array(codes, dtype=None)
        if not np.issubdtype(codes.dtype, np.integer):
            if not (np.issubdtype(codes.dtype, np.floating)
                    and np.array_equal(codes, np.round(codes))):
                raise ValueError(
                    f"codes must be integers, got dtype {codes.dtype}. Pass the "
                    "output of encode."
                )
        if codes.shape[1] != self.n_groups_:
            raise ValueError(
                f"decode takes codes with n_groups={self.n_groups_} columns, got "
                f"{codes.shape[1]}. Pass the output of encode."
            )
        if codes.min() < 0 or codes.max() >= self.n_codes_:
            raise ValueError(
                f"codes must be in [0, n_codes={self.n_codes_}), got values in "
                f"[{codes.min()}, {codes.max()}]."
            )
        return codes.astype(np.intp)

    def _start_partial_fit(self, X, sample_weight):
        """Validated X and weights; the network built on the first call."""
        first = not hasattr(self, "_network")
        X = self._validate_X(X, reset=first)
        sample_weight = self._check_sample_weight(sample_weight, X)
        if first:
            self._initialize(X, sample_weight)
            return X, sample_weight
        self._check_same_architecture()
        X = X.astype(self._network.dtype, copy=False)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(X.dtype, copy=False)
        return X, sample_weight

    def _initialize(self, X, sample_weight=None):
        freeze_settings(self)
        freeze_start(self)
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
        check_start(self, "Call fit to train a new network.")

    def _train(self, X, incremental, y=None, sample_weight=None):
        """Epochs of Adam with codebook updates; then count the codes of X.

        ``y`` is what ``fit`` was given, for callbacks. The weights travel
        with the rows as a last column, so that shuffling keeps them paired.
        """
        net, rng = self._network, self._rng
        n = X.shape[0]
        # _train, fit (or partial_fit), fit_task, _fit_context, transactional,
        # caller
        batch_size = minibatch_size(self.batch_size, n, AUTO_BATCH_SIZE,
                                    stacklevel=5 + FIT_TASK_FRAMES)

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
        self._optimizer.learning_rate_init = float(self.learning_rate_init)
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
            self._store_history()
            counts = self._count_codes(X, sample_weight)
            if incremental:
                counts = counts + self.code_counts_
            self.code_counts_ = counts
            self.perplexity_ = perplexity(counts)
            self.code_probabilities_ = (counts + 1) / (
                counts.sum(axis=1, keepdims=True) + self.n_codes_)

    def _fitted_attributes(self, params, X, sample_weight=None):
        """What makes a copy of this estimator the model with ``params``:
        the network, and the code statistics of X under it."""
        fitted = copy.copy(self)
        fitted._network = snapshot_network(self._network, params)
        counts = fitted._count_codes(X, sample_weight)
        return {"_network": fitted._network, "code_counts_": counts,
                "perplexity_": perplexity(counts),
                "code_probabilities_": (counts + 1) / (
                    counts.sum(axis=1, keepdims=True) + self.n_codes_)}

    def _count_codes(self, X, sample_weight=None):
        """Rows of X per code (int64), or their total weight (float64)."""
        codes = self._encode_codes(X)
        dtype = np.int64 if sample_weight is None else np.float64
        counts = np.zeros((self.n_groups_, self.n_codes_), dtype=dtype)
        for group in range(self.n_groups_):
            counts[group] = np.bincount(codes[:, group], weights=sample_weight,
                                        minlength=self.n_codes_)
        return counts

    # -- inference, in chunks of bounded memory ------------------------------

    def _row_width(self, n_draws=1):
        """Scratch values per row of inference: data, hidden layers, and the
        distances to every code."""
        net = self._network
        q = net.quantizer
        return (2 * net.n_features + 4 * sum(net.hidden_layer_sizes)
                + 2 * q.n_groups * q.n_codes * (q.code_dim + 1))

    def _as_network_dtype(self, X):
        """Data in the network's dtype; integer codes as they are."""
        if not np.issubdtype(X.dtype, np.floating):
            return X
        return X.astype(self._network.dtype, copy=False)

    def _encode_codes(self, X):
        """Integer codes of validated X, shape (n, n_groups), dtype intp."""
        out = np.empty((X.shape[0], self.n_groups_), dtype=np.intp)
        return self._map_chunks(self._network.encode_codes, X, out)

    def _log_prior(self, codes):
        """log of the codes' prior probability, summed over the groups."""
        log_p = np.log(self.code_probabilities_)
        return log_p[np.arange(self.n_groups_), codes].sum(axis=1)

