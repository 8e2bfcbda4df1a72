"""Data-parallel training and lazy inference on dask arrays (the ``skvae[dask]`` extra).

The estimators hand dask input here (:func:`is_dask` decides, without
importing dask); NumPy input never comes near this module.

Training: :class:`DaskSource` is the data source
(:mod:`skvae._estimator.source`) through which a dask array takes the
estimators' one fit path, ``BaseVAE._fit``; only what differs from data in
memory lives here.

With ``solver="adam"`` (what "auto" means from 100 rows, as in memory),
:func:`fit_adam` trains by local SGD (:mod:`skvae._train.local_sgd`): the
rows are split once into one shard of consecutive rows per worker thread
(:class:`Shards`), and each round every worker runs one epoch of the
in-memory minibatch Adam driver on its shard (at sqrt(shards) times the
learning rate), from the parameters and the optimizer state the client
sends; the client averages what comes back (the iterates, Adam's moments,
the Polyak averages). Validation rows are drawn row by row from a
counter-based generator (:func:`held_out`), stay in their shards and are
scored there, in the same round trip as the next round's training. Per
round, the network and the optimizer state (a few parameter vectors) go out
once to every worker, and the same comes back from every shard; the data
stay where the shards put them. The result depends on the
seed and on the number of shards, not on the chunks.

With ``solver="lbfgs"``, the ELBO and its gradient are sums over rows, so the
L-BFGS-B rounds of :func:`skvae._train.drivers.lbfgs_rounds` run on the client
while every loss-and-gradient evaluation maps over the persisted blocks on the
workers.  Each block returns its rows' summed loss and summed gradient (one
float64 row of ``1 + n_params`` values); dask sums them on the workers, and
only that vector comes back.  The client divides by the number of rows and
adds the L2 penalty once, as :meth:`~skvae._models.vae.VAENetwork.loss_and_grad`
does for all rows at once.  Per evaluation, the network (its parameter vector
and a few hundred bytes of structure) goes out and ``1 + n_params`` floats
come back; the data stay where they are.

The training noise of a row is a function of the round's seed and of the
row's global index (:func:`row_noise`: Philox, a counter-based generator,
advanced to the row), so a fit does not depend on how the array is chunked.
It is not the noise of the in-memory fit, which draws from one stream in
order: the two fits start from the same weights and reach the same quality,
not the same parameters.

Validation (finite values, dtype, feature count, the Bernoulli range) runs
per block on the workers with the in-memory messages; the data-based
initialisation (the scaler's mean and scale, the decoder's output bias and
variance floor) uses per-feature means and variances reduced on the workers,
and so do the latent diagnostics (``kl_per_component_``): per-block sums.

Inference: :func:`map_rows` maps the estimator's in-memory ``_map_rows`` over
the blocks lazily, so the results are dask arrays, row-wise equal to the
in-memory ones.

dask itself is imported only where it is used, so that this module (and
``import skvae``) imports without it.
"""

import dataclasses
import functools
import os
import sys
import uuid
import warnings

import numpy as np
from scipy.special import ndtri
from sklearn.base import clone
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from .._train.drivers import (
    N_VALIDATION_DRAWS,
    RELATIVE_PATIENCE,
    check_validation_rows,
    lbfgs_rounds,
    minibatch_size,
    objective_at,
    resolve_solver,
)
from .._train.local_sgd import run_local_sgd, shard_learning_rate, shard_round
from .._train.solvers import Adam
from .diagnostics import kl_terms
from .fitted import copy_fitted_settings
from .utils import warn_at_caller

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def is_dask(X):
    """Whether X is a dask collection; never imports dask (a dask collection
    can only exist once dask has been imported)."""
    dask = sys.modules.get("dask")
    is_collection = getattr(dask, "is_dask_collection", None)
    return is_collection is not None and is_collection(X)


def _name(what):
    # Explicit, unique graph keys: dask then does not hash the arguments
    # (the network, the estimator) to name the tasks.
    return f"skvae-{what}-{uuid.uuid4().hex}"


# -- validation, per block on the workers -----------------------------------


def _as_array(X):
    """A 2-D dask array of floats from a dask array or DataFrame, and a
    one-row NumPy or pandas stand-in of the same columns and dtype."""
    columns = getattr(X, "columns", None)
    if columns is not None:  # a dask DataFrame
        import pandas as pd

        dtypes = X.dtypes
        numeric = pd.api.types.is_numeric_dtype
        bad = [str(c) for c, t in dtypes.items() if not numeric(t)]
        if bad:
            raise ValueError(
                f"X must be numeric: columns {bad} are not. Encode text or "
                "categorical columns first, e.g. with OneHotEncoder."
            )
        dtype = (np.dtype(np.float32) if all(t == np.float32 for t in dtypes)
                 else np.dtype(np.float64))
        stand_in = pd.DataFrame(np.zeros((1, len(columns)), dtype), columns=columns)
        # Cast by pandas, per partition: pandas' missing value <NA> (nullable
        # dtypes) becomes NaN, which the blocks' check refuses as in memory.
        return X.astype(dtype).to_dask_array(), stand_in
    if hasattr(X, "to_dask_array"):  # a dask Series: refused like a 1-D array
        X = X.to_dask_array()
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"X must be numeric, got dtype {X.dtype}. Encode text or categorical "
            "columns first, e.g. with OneHotEncoder."
        )
    dtype = X.dtype if X.dtype in FLOAT_DTYPES else np.dtype(np.float64)
    shape = (1, X.shape[1]) if X.ndim == 2 else (1,) * X.ndim
    return X.astype(dtype), np.zeros(shape, dtype)


def validate(estimator, X, *, reset, codes=False):
    """The dask counterpart of ``estimator._validate_X`` (or of ``_check_codes``).

    What the metadata tell (dimensions, feature count and names, dtype) is
    checked now, by running the in-memory check on a one-row stand-in, so
    ``n_features_in_`` and ``feature_names_in_`` are set as in memory; what
    only the values tell is checked lazily, per block, when the result is
    computed. Returns a lazy dask array of the fit dtype, one block of columns.
    """
    X, stand_in = _as_array(X)
    if codes:
        estimator._check_codes(stand_in)
    else:
        estimator._validate_X(stand_in, reset=reset)
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    checker = clone(estimator)
    checker.n_features_in_ = X.shape[1]
    copy_fitted_settings(estimator, checker)
    likelihood = estimator.likelihood if reset else estimator.likelihood_
    return X.map_blocks(_checked_block, checker=checker, target=X.dtype, codes=codes,
                        likelihood=likelihood, dtype=X.dtype,
                        meta=np.empty((0, 0), X.dtype), name=_name("checked"))


def _checked_block(block, *, checker, target, codes, likelihood):
    """One block checked as the in-memory methods check all of X."""
    if block.shape[0] == 0:
        return block.astype(target)
    if codes:
        return checker._check_codes(block).astype(target, copy=False)
    if np.isnan(block).any():
        raise ValueError(
            "Input X contains NaN. skvae models missing values in memory only: "
            "compute X into memory (X.compute()) to fit or score it with its "
            "gaps, or impute them first.")
    block = validate_data(checker, block, reset=False, dtype=target)
    checker._check_likelihood_support(block, likelihood)
    return block


# -- lazy inference ------------------------------------------------------------


def map_rows(estimator, function, X, n_draws=1, n_columns=None, condition=None):
    """``estimator._map_rows`` mapped lazily over X's blocks of rows.

    ``condition`` (a NumPy array of one row per row of X) is split into X's
    row chunks. Returns a dask array of X's dtype.
    """
    import dask.array as da

    args = [X, "ik"]
    if condition is not None:
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError(
                "A condition y needs X's row chunks: call X.compute_chunk_sizes() "
                "first (or to_dask_array(lengths=True) on a dask DataFrame)."
            )
        args += [da.from_array(np.asarray(condition), chunks=(X.chunks[0], -1)), "il"]
    index, new_axes = ("i", {}) if n_columns is None else ("ij", {"j": n_columns})
    return da.blockwise(
        _rows_block, index, *args, new_axes=new_axes, concatenate=True,
        dtype=X.dtype, meta=np.empty((0,) * len(index), X.dtype),
        name=_name("rows"), estimator=estimator, function=function,
        n_draws=n_draws, n_columns=n_columns,
    )


def _rows_block(block, condition=None, *, estimator, function, n_draws, n_columns):
    return estimator._map_rows(function, block, n_draws=n_draws,
                               n_columns=n_columns, condition=condition)


# -- training ----------------------------------------------------------------


class DaskSource:
    """Training data on dask workers, for the one fit path of
    :meth:`BaseVAE._fit <skvae._estimator.base.BaseVAE._fit>` (the data
    source protocol is in :mod:`skvae._estimator.source`).

    Refuses, with what to do instead, what does not train on blocks yet;
    then persists X's blocks on the workers for the whole fit and reduces
    the row count and the initialization statistics there.
    """

    condition = sample_weight = None  # refused below

    def __init__(self, estimator, X, *, incremental, condition=None,
                 sample_weight=None, dtype=None):
        if condition is not None:
            raise ValueError("A condition y cannot train on dask arrays.")
        if sample_weight is not None:
            raise ValueError(
                "sample_weight does not train on dask arrays yet. Fit on a NumPy "
                "array, or drop or repeat rows instead."
            )
        self._free_bits = estimator.free_bits
        if dtype is not None:
            X = X.astype(dtype)
        X = X.persist()  # the blocks stay on the workers for the whole fit
        if any(np.isnan(c) for c in X.chunks[0]):
            X.compute_chunk_sizes()  # the row offsets key the noise
        self.X = X
        self.n_rows, mean, var = moments(X)
        if self.n_rows == 0:  # the in-memory error
            check_array(np.empty((0, X.shape[1]), X.dtype), estimator=estimator)
        self.initialization_rows = moment_rows(mean, var, X.dtype)

    def solver(self, solver, incremental, fitted_solver=None):
        """As for data in memory: the solver that trained the network before,
        or what "auto" means for this many rows. L-BFGS-B refuses free bits."""
        if fitted_solver is None:
            fitted_solver = resolve_solver(solver, self.n_rows, incremental)
        if fitted_solver == "lbfgs" and self._free_bits != "auto" and self._free_bits:
            raise ValueError(
                f"free_bits={self._free_bits} does not train on dask arrays with "
                "solver='lbfgs': its KL term is a maximum over means of all the "
                "rows, not a sum over blocks. Use free_bits=0, solver='adam', or "
                "fit on a NumPy array."
            )
        return fitted_solver

    def fit_lbfgs(self, network, rng, history, settings, on_iteration):
        return fit_lbfgs(network, self.X, self.n_rows, rng, history, settings,
                         on_iteration)

    def fit_adam(self, network, rng, history, optimizer, settings, *, incremental,
                 score_noise, on_iteration):
        return fit_adam(network, self.X, self.n_rows, rng, history, optimizer,
                        settings, incremental=incremental, score_noise=score_noise,
                        on_iteration=on_iteration)

    def mean_kl(self, estimator):
        """The mean over the rows of KL(q(z_k|x) || N(0, 1)), from per-block
        sums reduced on the workers."""
        k = estimator.n_components_
        parts = self.X.map_blocks(
            _block_kl_sums, chunks=((1,) * self.X.numblocks[0], (k,)),
            dtype=np.float64, meta=np.empty((0, 0)), name=_name("kl"),
            estimator=estimator)
        return parts.sum(axis=0).compute() / self.n_rows


def _block_kl_sums(block, *, estimator):
    if block.shape[0] == 0:
        return np.zeros((1, estimator.n_components_))
    Z, Z_std = estimator._transform(block, return_std=True)
    return kl_terms(Z, Z_std).sum(axis=0)[None]


def moments(X):
    """Number of rows, per-feature mean and variance (float64), in two passes
    of per-block sums reduced on the workers (as NumPy's two-pass variance)."""
    n_blocks, d = X.numblocks[0], X.shape[1]

    def summed(function, width, **kwargs):
        parts = X.map_blocks(function, chunks=((1,) * n_blocks, (width,)),
                             dtype=np.float64, meta=np.empty((0, 0)),
                             name=_name(function.__name__), **kwargs)
        return parts.sum(axis=0).compute()

    sums = summed(_block_sums, d + 1)
    n_rows = int(sums[0])
    mean = sums[1:] / max(n_rows, 1)
    var = summed(_block_squares, d, mean=mean) / max(n_rows, 1)
    return n_rows, mean, var


def _block_sums(block):
    return np.concatenate([[block.shape[0]], block.sum(axis=0, dtype=np.float64)])[None]


def _block_squares(block, *, mean):
    return np.sum((block - mean) ** 2, axis=0)[None]


def moment_rows(mean, var, dtype):
    """Two rows whose per-feature mean and variance are ``mean`` and ``var``.

    The data-based initialisation (:meth:`VAENetwork.initialize`: the scaler,
    the head's output bias and variance floor) reads X only through these
    two statistics, so these rows start the network as all of X would.
    """
    spread = np.sqrt(var)
    return np.array([mean + spread, mean - spread], dtype=dtype)


def row_noise(seed, start, n_rows, per_row, dtype):
    """Standard normal noise of rows ``start`` to ``start + n_rows``.

    Row i gets the normal quantiles of words ``i * per_row`` to ``(i + 1) *
    per_row`` of the Philox stream keyed by ``seed``; Philox's counter jumps
    straight to any word, so a block's noise does not depend on the blocks
    before it.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._estimator.dask import row_noise
    >>> whole = row_noise(0, 0, 10, 3, np.float64)
    >>> np.array_equal(whole[4:], row_noise(0, 4, 6, 3, np.float64))
    True
    """
    uniform = _row_uniform(seed, start, n_rows, per_row)
    return ndtri(uniform).astype(dtype).reshape(n_rows, per_row)


def held_out(seed, start, n_rows, fraction):
    """Which of rows ``start`` to ``start + n_rows`` are held out for validation.

    Each row independently with probability ``fraction``, from its own word of
    the Philox stream keyed by ``seed`` (as :func:`row_noise`): the held-out
    rows do not depend on the chunks, the shards or the number of workers.
    """
    return _row_uniform(seed, start, n_rows, 1) < fraction


def _row_uniform(seed, start, n_rows, per_row):
    """Uniform (0, 1) values, ``per_row`` a row, from the Philox stream keyed
    by ``seed``, starting at row ``start``."""
    first = start * per_row
    generator = np.random.Philox(key=seed, counter=first // 4)  # 4 words a step
    skip = first % 4
    words = generator.random_raw(skip + n_rows * per_row)[skip:]
    return ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _noise_block(block, *, seed, per_row, target, block_info=None):
    start = block_info[0]["array-location"][0][0]
    return row_noise(seed, start, block.shape[0], per_row, target)


def fit_lbfgs(network, X, n_rows, rng, history, settings, on_iteration=None):
    """Rounds of L-BFGS-B on the blocks of X; True when the stopping rule ended
    them. The dask counterpart of :func:`skvae._train.drivers.fit_lbfgs`: the same
    rounds and stopping rule (:func:`skvae._train.drivers.lbfgs_rounds`), the noise
    keyed by row instead of drawn in order."""
    per_row = objective_at(settings, 0).n_draws * network.noise_dims

    def noise(seed):
        return X.map_blocks(_noise_block, seed=seed, per_row=per_row,
                            target=network.dtype, dtype=network.dtype,
                            chunks=(X.chunks[0], (per_row,)),
                            meta=np.empty((0, 0), network.dtype),
                            name=_name("noise")).persist()

    fixed_noise = noise(int(rng.integers(2**63)))
    return lbfgs_rounds(
        network, history, settings, lambda: noise(int(rng.integers(2**63))),
        lambda eps, objective: loss_and_grad(network, X, eps, objective,
                                             settings.alpha, n_rows),
        fixed_noise, on_iteration)


def loss_and_grad(network, X, eps, objective, alpha, n_rows):
    """``network.loss_and_grad`` on all of X, summed over its blocks on the
    workers; writes the gradient into ``network.grad``."""
    import dask.array as da

    width = network.params.size + 1
    parts = da.blockwise(
        _block_loss_and_grad, "ij", X, "ik", eps, "il", new_axes={"j": width},
        adjust_chunks={"i": 1}, concatenate=True, dtype=np.float64,
        meta=np.empty((0, 0)), name=_name("loss-and-grad"),
        network=network, objective=objective,
    )
    total = parts.sum(axis=0).compute()
    network.grad[...] = total[1:] / n_rows
    return float(total[0] / n_rows) + network._l2_penalty_and_grad(alpha, n_rows)


def _block_loss_and_grad(X, eps, *, network, objective):
    """[sum of the rows' losses, sum of their gradients] of one block.

    ``loss_and_grad`` gives the block's mean (without the penalty, alpha=0),
    so it is scaled by the block's rows.
    """
    out = np.zeros((1, network.params.size + 1))
    n = X.shape[0]
    if n == 0:
        return out
    net = network.astype(network.dtype)  # own buffers: threads may share `network`
    eps = np.ascontiguousarray(
        eps.reshape(n, objective.n_draws, -1).transpose(1, 0, 2))
    # As run_lbfgs does on the client: a non-finite loss is handled there.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = net.loss_and_grad(X, eps, objective, 0.0)
    out[0, 0] = float(loss) * n
    out[0, 1:] = net.grad
    out[0, 1:] *= n
    return out


# -- training with Adam: local SGD on shards of rows -------------------------


def worker_threads():
    """How many tasks the scheduler runs at once: the threads of the
    distributed client's workers; else dask's ``num_workers`` setting, or 1
    for the synchronous scheduler and the CPU count for the local ones."""
    import dask
    from dask.base import get_scheduler
    from dask.local import get_sync

    client = _distributed_client()
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    configured = dask.config.get("num_workers", None)
    if configured:
        return int(configured)
    return 1 if get_scheduler() is get_sync else os.cpu_count() or 1


class Shards:
    """X split into ``n_shards`` shards of consecutive rows, one block each,
    persisted on the workers, with the rows each holds out for validation.

    Shard w holds rows ``w * n // n_shards`` up to ``(w + 1) * n // n_shards``
    whatever X's chunks; the held-out rows are drawn row by row
    (:func:`held_out`). Making the shards moves rows between workers once,
    at the start of the fit; after that only the model and the optimizer
    state travel.
    """

    def __init__(self, X, n_shards, split_seed, fraction):
        n = X.shape[0]
        bounds = [w * n // n_shards for w in range(n_shards + 1)]
        self.data = X.rechunk({0: tuple(np.diff(bounds))}).persist()
        self.starts = bounds[:-1]
        self.split = {"seed": split_seed, "fraction": fraction}
        counts = self.compute(_count_rows, "count")
        self.n_train = [train for train, _ in counts]
        self.n_held_out = sum(val for _, val in counts)

    def map(self, function, what, shared=None, **arguments):
        """Lazy ``function(block, [shared,] index=w, start=..., split=...,
        **arguments)`` of each shard w, as dask Delayed objects; ``shared``
        is a Delayed from :func:`share`."""
        from dask.delayed import Delayed
        from dask.highlevelgraph import HighLevelGraph

        name = _name(what)
        extra = () if shared is None else (shared.key,)
        layer = {
            (name, w): (functools.partial(function, index=w, start=start,
                                          split=self.split, **arguments),
                        (self.data.name, w, 0), *extra)
            for w, start in enumerate(self.starts)
        }
        dependencies = [self.data] + ([] if shared is None else [shared])
        graph = HighLevelGraph.from_collections(name, layer, dependencies)
        return [Delayed((name, w), graph, layer=name)
                for w in range(len(self.starts))]

    def compute(self, function, what, **arguments):
        import dask

        return list(dask.compute(*self.map(function, what, **arguments)))


def share(value):
    """A dask Delayed of ``value`` for the tasks of one computation.

    With a distributed client, ``value`` is scattered to every worker and the
    graph holds only its key: a graph's contents are kept in the client's and
    the scheduler's logs of recent messages (``distributed.admin.low-level-
    log-length``, 1,000 messages), which would keep every round's parameters
    and optimizer state alive. With the local schedulers it is put in the graph.
    """
    from dask.delayed import Delayed

    client = _distributed_client()
    if client is None:
        key = _name("shared")
        return Delayed(key, {key: value})
    future = client.scatter(value, broadcast=True, hash=False)
    return Delayed(future.key, {future.key: future})


def _distributed_client():
    """The distributed Client that dask computes with now, or None."""
    from dask.base import get_scheduler

    client = getattr(get_scheduler(), "__self__", None)
    return client if hasattr(client, "scatter") else None


def _held_out_of(block, start, split):
    return held_out(split["seed"], start, block.shape[0], split["fraction"])


def _count_rows(block, *, index, start, split):
    n_held_out = int(np.count_nonzero(_held_out_of(block, start, split)))
    return block.shape[0] - n_held_out, n_held_out


def _train_shard(block, begin, *, index, start, split, n_train, settings, seed,
                 iteration, learning_rate):
    """A round of local SGD on one shard (:func:`shard_round`) from ``begin``
    (the network and the optimizer), on ``n_train`` of the shard's training
    rows: every shard takes the same steps."""
    rows = np.flatnonzero(~_held_out_of(block, start, split))
    rng = np.random.default_rng([seed, iteration, index])
    if rows.size > n_train:  # drop a few rows at random, other ones each round
        rows = np.delete(rows, rng.choice(rows.size, rows.size - n_train,
                                          replace=False))
    X = block if rows.size == block.shape[0] else block[rows]
    return shard_round(begin.network, X, begin.optimizer, settings, rng, iteration,
                       learning_rate)


def _score_shard(block, begin, *, index, start, split, noise):
    """[summed validation ELBO, count] of one shard's held-out rows under
    ``begin``'s network."""
    rows = block[_held_out_of(block, start, split)]
    # Own buffers: threads may share the network.
    network = begin.network.astype(begin.network.dtype)
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for first in range(0, rows.shape[0], SCORE_ROWS):
            elbo = network.elbo(rows[first:first + SCORE_ROWS], noise)
            total += float(np.sum(elbo, dtype=np.float64))
    return total, rows.shape[0]


# Held-out rows scored at once on a worker (bounds its scratch memory).
SCORE_ROWS = 8192


class _RoundStart:
    """What every shard's round starts from: the network and the optimizer
    (an object of its own, which dask does not search for tasks)."""

    def __init__(self, network, optimizer):
        self.network, self.optimizer = network, optimizer


def fit_adam(network, X, n_rows, rng, history, optimizer, settings, *, incremental,
             score_noise, on_iteration=None):
    """Rounds of local SGD with Adam on shards of X's rows, one per worker
    thread (:mod:`skvae._train.local_sgd`); the dask counterpart of
    :func:`skvae._train.drivers.fit_adam`. Returns the optimizer (new unless
    ``incremental`` continues one) and whether the stopping rule ended
    training.

    Each round, every worker runs one epoch of minibatch Adam on its shard,
    at the learning rate times sqrt(number of shards), and the client
    averages the iterates, the moments and the Polyak averages; with early
    stopping, the same round trip scores the previous round's model on the
    shards' held-out rows. The result depends on the
    seed and on the number of shards, not on X's chunks.
    """
    import dask

    validate = settings.early_stopping and not incremental
    fraction = settings.validation_fraction if validate else 0.0
    expected_train = n_rows - int(round(fraction * n_rows))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch_size = minibatch_size(settings.batch_size, expected_train, stacklevel=1)
    for warning in caught:
        warn_at_caller(str(warning.message), warning.category)
    n_shards = min(worker_threads(), max(1, expected_train // batch_size))
    split_seed, seed = (int(s) for s in rng.integers(2**63, size=2))
    shards = Shards(X, n_shards, split_seed, fraction)
    if validate:
        check_validation_rows(shards.n_held_out, n_rows, fraction)
    n_train = min(shards.n_train)
    settings = dataclasses.replace(settings, batch_size=min(batch_size, n_train))
    if optimizer is None or not incremental:
        optimizer = Adam(network.params.size, network.dtype,
                         settings.learning_rate_init,
                         average_decay=settings.average_decay)
    noise = score_noise[:N_VALIDATION_DRAWS]
    learning_rate = shard_learning_rate(optimizer.learning_rate_init, n_shards)

    def run_round(network, optimizer, iteration, score):
        begin = share(_RoundStart(network, optimizer))
        tasks = []
        if iteration is not None:
            tasks += shards.map(_train_shard, "round", begin, n_train=n_train,
                                settings=settings, seed=seed, iteration=iteration,
                                learning_rate=learning_rate)
        if score:
            tasks += shards.map(_score_shard, "score", begin, noise=noise)
        results = list(dask.compute(*tasks))
        rounds = results[:n_shards] if iteration is not None else None
        if not score:
            return rounds, None
        scores = results[-n_shards:]
        return rounds, sum(s for s, _ in scores) / sum(n for _, n in scores)

    converged = run_local_sgd(
        run_round, network, optimizer, history,
        max_iter=1 if incremental else settings.max_iter, tol=settings.tol,
        n_iter_no_change=settings.n_iter_no_change, validate=validate,
        verbose=settings.verbose, relative_patience=RELATIVE_PATIENCE,
        on_iteration=on_iteration)
    return optimizer, converged
