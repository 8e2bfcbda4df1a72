"""Data-parallel training and lazy inference on dask arrays (the ``skvae[dask]`` extra).

The estimators hand dask input here (:func:`is_dask` decides, without
importing dask); NumPy input never comes near this module.

Training (``solver="lbfgs"``): :class:`DaskSource` is the data source
(:mod:`skvae._estimator.source`) through which a dask array takes the
estimators' one fit path, ``BaseVAE._fit``; only what differs from data in
memory lives here.  The ELBO and its gradient are sums over rows, so the
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

import sys
import uuid

import numpy as np
from scipy.special import ndtri
from sklearn.base import clone
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from .._train.drivers import lbfgs_rounds, objective_at
from .diagnostics import kl_terms
from .fitted import copy_fitted_settings

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
        if estimator.solver == "adam" or incremental:
            raise ValueError(
                f"solver={estimator.solver!r} does not train on dask arrays: Adam "
                "updates the weights after every minibatch, one process at a "
                "time. Use solver='lbfgs', which trains on all the blocks in "
                "parallel, or wrap the estimator in dask_ml.wrappers.Incremental, "
                "which calls partial_fit on one block after another."
            )
        if estimator.free_bits != "auto" and estimator.free_bits:
            raise ValueError(
                f"free_bits={estimator.free_bits} does not train on dask arrays: "
                "its KL term is a maximum over means of all the rows, not a sum "
                "over blocks. Use free_bits=0, or fit on a NumPy array."
            )
        if condition is not None:
            raise ValueError("A condition y cannot train on dask arrays.")
        if sample_weight is not None:
            raise ValueError(
                "sample_weight does not train on dask arrays yet. Fit on a NumPy "
                "array, or drop or repeat rows instead."
            )
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
        """L-BFGS-B, whatever solver trained the network before: what "auto"
        means for a dask array."""
        return "lbfgs"

    def fit_lbfgs(self, network, rng, history, settings, on_iteration):
        return fit_lbfgs(network, self.X, self.n_rows, rng, history, settings,
                         on_iteration)

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
    first = start * per_row
    generator = np.random.Philox(key=seed, counter=first // 4)  # 4 words a step
    skip = first % 4
    words = generator.random_raw(skip + n_rows * per_row)[skip:]
    uniform = ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return ndtri(uniform).astype(dtype).reshape(n_rows, per_row)


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
