"""Training on and scoring dask arrays (skvae/_estimator/dask.py, the dask extra).

Most tests run dask's synchronous scheduler; one runs a two-worker
LocalCluster in this process. Tolerances: with the same seed, fits of the
same data in different chunkings agree to 1e-9 (float64, measured ~1e-13:
only the order of the float64 sums of blocks differs); a dask fit and the
in-memory fit start from the same weights but draw different training noise,
so they agree in quality (held-out ELBO within 0.5 nats), not in parameters.
Lazy outputs are the in-memory method applied to each block, exactly; against
one in-memory call on all the rows they agree to 1e-12 (float64) or 1e-5
(float32), as BLAS may round a row differently in a product of more rows.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from tolerances import assert_rows_agree

da = pytest.importorskip(
    "dask.array", reason="needs the dask extra: pip install 'skvae[dask]'")
import dask  # noqa: E402

from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer  # noqa: E402
from skvae._estimator.dask import (  # noqa: E402
    loss_and_grad,
    moment_rows,
    moments,
    row_noise,
)
from skvae._models.objectives import ELBO, IWAE  # noqa: E402
from skvae._models.vae import build_network  # noqa: E402

PARAMS = dict(n_components=2, hidden_layer_sizes=(12,), solver="lbfgs", max_iter=30,
              random_state=0)


@pytest.fixture(autouse=True)
def synchronous_scheduler():
    with dask.config.set(scheduler="sync"):
        yield


def make_data(n=1200, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)) @ rng.standard_normal((3, d)) + 0.3 * (
        rng.standard_normal((n, d))) + 5.0


def fit(X, estimator=VAETransformer, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator(**{**PARAMS, **params}).fit(X)


def error_of(function):
    with pytest.raises(ValueError) as info:
        function()
    return str(info.value)


def test_import_skvae_does_not_import_dask():
    code = (
        "import sys, numpy as np, skvae\n"
        "X = np.random.default_rng(0).normal(size=(40, 3))\n"
        "skvae.VAETransformer(max_iter=2).fit(X).transform(X)\n"
        "assert 'dask' not in sys.modules and 'distributed' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)


def test_row_noise_depends_on_the_row_not_on_the_chunking():
    whole = row_noise(7, 0, 100, 3, np.float64)
    pieces = [row_noise(7, start, stop - start, 3, np.float64)
              for start, stop in [(0, 1), (1, 38), (38, 39), (39, 100)]]
    assert_array_equal(np.vstack(pieces), whole)
    assert not np.array_equal(row_noise(8, 0, 100, 3, np.float64), whole)
    many = row_noise(0, 0, 50_000, 2, np.float32)
    assert many.dtype == np.float32
    assert abs(many.mean()) < 0.02 and abs(many.std() - 1) < 0.02


@pytest.mark.parametrize("objective, prior", [
    (ELBO(beta=0.5), "normal"), (IWAE(3), "normal"), (ELBO(), "flow")])
def test_blockwise_loss_and_gradient_equal_the_whole_batch(objective, prior):
    X = make_data(300, 5)
    net = build_network(5, 2, (8,), "tanh", "gaussian", np.float64, prior=prior,
                        settings={"n_flow_layers": 2, "flow_hidden_layer_sizes": (8,)})
    net.initialize(X, np.random.default_rng(0))
    rows = row_noise(3, 0, 300, objective.n_draws * 2, np.float64)
    eps = rows.reshape(300, objective.n_draws, 2).transpose(1, 0, 2).copy()
    expected = net.loss_and_grad(X, eps, objective, 0.1)
    expected_grad = net.grad.copy()
    net.grad[...] = 0
    X_dask = da.from_array(X, chunks=((50, 137, 13, 100), 5))
    eps_dask = da.from_array(rows, chunks=(X_dask.chunks[0], -1))
    loss = loss_and_grad(net, X_dask, eps_dask, objective, 0.1, 300)
    assert_allclose(loss, expected, rtol=1e-12)
    assert_allclose(net.grad, expected_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("likelihood, dtype", [
    ("gaussian", np.float64), ("gaussian", np.float32), ("bernoulli", np.float64)])
def test_initialisation_from_moments_equals_initialisation_from_the_data(
        likelihood, dtype):
    X = make_data(500, 6).astype(dtype)
    if likelihood == "bernoulli":
        X = (X > 5).astype(dtype)
    n_rows, mean, var = moments(da.from_array(X, chunks=(111, 6)))
    assert n_rows == 500
    assert_allclose(mean, X.mean(axis=0, dtype=np.float64), rtol=1e-12)
    assert_allclose(var, X.var(axis=0, dtype=np.float64), rtol=1e-10)
    from_data = VAETransformer(**PARAMS, likelihood=likelihood)
    from_moments = clone(from_data)
    from_data._initialize(X)
    from_moments._initialize(moment_rows(mean, var, X.dtype))
    a, b = from_data._network, from_moments._network
    # Moments summed block by block and in one pass round differently: in
    # float32 to a few eps (1.2e-7) of values of order 5, hence 1e-5.
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    assert b.dtype == dtype
    assert_allclose(b.params, a.params, rtol=rtol, atol=rtol)
    assert_allclose(b.scaler.shift, a.scaler.shift, rtol=rtol, atol=rtol)
    assert_allclose(b.scaler.scale, a.scaler.scale, rtol=rtol)
    assert_allclose(getattr(b.decoder.head, "var_floor", 0),
                    getattr(a.decoder.head, "var_floor", 0), rtol=rtol)
    assert_array_equal(from_moments._score_noise, from_data._score_noise)


def test_fit_does_not_depend_on_the_chunking():
    X = make_data()
    fits = [fit(da.from_array(X, chunks=(rows, 6)))
            for rows in [1200, 400, 137, (100, 500, 600)]]
    for other in fits[1:]:
        assert other.n_iter_ == fits[0].n_iter_
        assert_allclose(other.loss_curve_, fits[0].loss_curve_, rtol=1e-9)
        assert_allclose(other._network.params, fits[0]._network.params,
                        rtol=1e-9, atol=1e-9)
    again = fit(da.from_array(X, chunks=(137, 6)))
    assert_array_equal(again._network.params, fits[2]._network.params)


@pytest.mark.parametrize("params", [
    dict(n_importance_samples=3), dict(prior="flow", kl_warmup=10)])
def test_iwae_flow_prior_and_kl_warmup_do_not_depend_on_the_chunking(params):
    X = make_data(400)
    a = fit(da.from_array(X, chunks=(400, 6)), max_iter=25, **params)
    b = fit(da.from_array(X, chunks=(90, 6)), max_iter=25, **params)
    assert_allclose(b.loss_curve_, a.loss_curve_, rtol=1e-9)
    assert_allclose(b._network.params, a._network.params, rtol=1e-9, atol=1e-9)


def test_fit_reaches_the_quality_of_the_in_memory_fit():
    X, X_test = make_data(2000, seed=0), make_data(1000, seed=1)
    in_memory = fit(X, max_iter=60)
    on_dask = fit(da.from_array(X, chunks=(300, 6)), max_iter=60)
    assert on_dask._network.dtype == np.float64
    assert abs(on_dask.score(X_test) - in_memory.score(X_test)) < 0.5
    assert abs(on_dask.loss_curve_[0] - in_memory.loss_curve_[0]) < 0.05 * abs(
        in_memory.loss_curve_[0])


def test_fit_on_a_local_cluster_equals_the_synchronous_fit():
    distributed = pytest.importorskip("distributed")
    X = make_data(600)
    expected = fit(da.from_array(X, chunks=(150, 6)))
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                   processes=False, dashboard_address=":0") as cluster,
          distributed.Client(cluster)):
        got = fit(da.from_array(X, chunks=(150, 6)))
        Z = got.transform(da.from_array(X, chunks=(100, 6))).compute()
    assert_allclose(got._network.params, expected._network.params, rtol=1e-12,
                    atol=1e-12)
    assert_allclose(Z, got.transform(X), rtol=1e-12, atol=1e-12)


def test_float32_fits_and_scores_in_float32():
    X = make_data().astype(np.float32)
    vae = fit(da.from_array(X, chunks=(300, 6)), max_iter=5)
    assert vae._network.dtype == np.float32
    Z = vae.transform(da.from_array(X, chunks=(300, 6)))
    assert Z.dtype == np.float32 and Z.compute().dtype == np.float32


def test_warm_start_and_the_convergence_warning():
    X = da.from_array(make_data(400), chunks=(100, 6))
    vae = VAETransformer(**{**PARAMS, "max_iter": 3}, warm_start=True, tol=0)
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        vae.fit(X)
    with pytest.warns(ConvergenceWarning):
        vae.fit(X)
    assert vae.n_iter_ == 6 and len(vae.loss_curve_) == 6


def test_warm_start_on_dask_after_adam_continues_with_adam():
    # A dask fit that continues an in-memory Adam fit trains with Adam (on
    # the workers), whatever the chunks.
    X = make_data(400)

    def continued(chunks, **params):
        vae = VAETransformer(**{**PARAMS, "solver": "auto", "max_iter": 5, **params},
                             warm_start=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            vae.partial_fit(X)
            vae.fit(da.from_array(X, chunks=chunks))
        return vae

    a, b = continued((100, 6)), continued((400, 6))
    assert a.solver_ == "adam" and a.n_iter_ == 1 + 5
    assert_allclose(a._network.params, b._network.params, rtol=0, atol=1e-12)


def _third_block_bad(X, value, column=1):
    X = X.copy()
    X[250, column] = value  # rows 200-299: the third block of 100 rows
    return X


def test_a_missing_value_in_a_block_is_refused_with_what_to_do():
    X = _third_block_bad(make_data(500), np.nan)
    message = error_of(lambda: fit(da.from_array(X, chunks=(100, 6)), max_iter=2))
    assert "contains NaN" in message and "in memory" in message


@pytest.mark.parametrize("value", [np.inf])
def test_a_non_finite_third_block_raises_the_in_memory_error(value):
    X = _third_block_bad(make_data(500), value)
    expected = error_of(lambda: fit(X, max_iter=2))
    X_dask = da.from_array(X, chunks=(100, 6))
    assert error_of(lambda: fit(X_dask, max_iter=2)) == expected
    fitted = fit(make_data(500), max_iter=2)
    lazy = fitted.score_samples(da.from_array(X, chunks=(100, 6)))  # no error yet
    assert error_of(lazy.compute) == error_of(lambda: fitted.score_samples(X))


def test_wrong_feature_counts_raise_the_in_memory_error():
    X = make_data(500)
    fitted = fit(X, max_iter=2)
    expected = error_of(lambda: fitted.transform(X[:, :5]))
    assert "X has 5 features" in expected
    # From the metadata, at once ...
    assert error_of(lambda: fitted.transform(da.from_array(X[:, :5]))) == expected
    assert error_of(lambda: fitted.inverse_transform(da.ones((4, 3)))) == error_of(
        lambda: fitted.inverse_transform(np.ones((4, 3))))

    # ... and from a block whose metadata lie, when it is computed.
    def drop_a_column_of_the_third_block(block, block_info=None):
        return block[:, :5] if block_info[0]["chunk-location"][0] == 2 else block

    lying = da.from_array(X, chunks=(100, 6)).map_blocks(
        drop_a_column_of_the_third_block, dtype=X.dtype)
    assert error_of(lambda: fit(lying, max_iter=2)) == expected


def test_bernoulli_range_is_checked_per_block():
    X = (make_data(500) > 5).astype(float)
    X[250, 0] = 1.5
    expected = error_of(lambda: fit(X, likelihood="bernoulli", max_iter=2))
    got = error_of(lambda: fit(da.from_array(X, chunks=(100, 6)),
                               likelihood="bernoulli", max_iter=2))
    assert got == expected  # the third block holds both the 0 and the 1.5


def test_free_bits_are_refused_with_lbfgs_only():
    X = da.from_array(make_data(200), chunks=(100, 6))
    assert "Use free_bits=0" in error_of(lambda: fit(X, free_bits=0.5))
    vae = fit(X, solver="adam", free_bits=0.5, max_iter=2)
    assert vae.solver_ == "adam"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lazy_inference_equals_in_memory_row_by_row(dtype):
    # Each block is computed by the in-memory method: exactly its result on
    # the block's rows, and one in-memory call on all rows up to rounding (a
    # BLAS product of fewer rows may round a row differently).
    X = make_data(700).astype(dtype)
    vae = fit(X, max_iter=10)
    chunks = (70, 230, 400)
    blocks = np.split(np.arange(700), np.cumsum(chunks)[:-1])
    Z = vae.transform(X)
    methods = {
        "transform": (vae.transform, X),
        "score_samples": (vae.score_samples, X),
        "log_likelihood": (lambda x: vae.log_likelihood(x, n_samples=30), X),
        "reconstruction_error": (vae.reconstruction_error, X),
        "inverse_transform": (vae.inverse_transform, Z),
        "transform std": (lambda x: vae.transform(x, return_std=True)[1], X),
    }
    for name, (method, data) in methods.items():
        lazy = method(da.from_array(data, chunks=(chunks, -1)))
        expected = method(data)
        assert isinstance(lazy, da.Array), name
        assert lazy.shape == expected.shape and lazy.dtype == expected.dtype, name
        got = lazy.compute()
        per_block = np.concatenate([method(data[rows]) for rows in blocks])
        assert_array_equal(got, per_block, err_msg=name)
        # The longest sum behind a value: log_likelihood's 30 draws (the hidden
        # layer has 12 units), of terms no larger than the values themselves.
        assert_rows_agree(got, expected, dtype, 30, scale=np.max(np.abs(expected)),
                          err_msg=name)


def test_detector_fits_on_dask_and_predicts_lazily():
    X = make_data(600)
    X_dask = da.from_array(X, chunks=(150, 6))
    detector = fit(X_dask, VAEOutlierDetector, solver="lbfgs", contamination=0.1,
                   max_iter=10)
    assert detector.offset_ == np.percentile(detector.score_samples(X), 10)
    for method in ["score_samples", "decision_function", "predict"]:
        lazy = getattr(detector, method)(X_dask)
        assert isinstance(lazy, da.Array), method
        assert_allclose(lazy.compute(), getattr(detector, method)(X), rtol=1e-12)


def test_conditional_scores_with_labels_on_dask():
    X, y = make_data(300), np.repeat([0, 1, 2], 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cvae = ConditionalVAE(**{**PARAMS, "max_iter": 5}).fit(X, y)
    X_dask = da.from_array(X, chunks=(70, 6))
    for lazy, expected in [(cvae.score_samples(X_dask, y), cvae.score_samples(X, y)),
                           (cvae.score_samples(X_dask), cvae.score_samples(X))]:
        assert isinstance(lazy, da.Array)
        assert_allclose(lazy.compute(), expected, rtol=1e-12)


def test_dask_dataframe_fits_like_the_dask_array():
    dd = pytest.importorskip(
        "dask.dataframe", reason="dask DataFrames need dask[dataframe]: pyarrow")
    import pandas as pd

    X = make_data(600)
    frame = pd.DataFrame(X, columns=list("abcdef"))
    from_frame = fit(dd.from_pandas(frame, npartitions=3), max_iter=10)
    from_array = fit(da.from_array(X, chunks=(200, 6)), max_iter=10)
    assert_array_equal(from_frame.feature_names_in_, list("abcdef"))
    assert_allclose(from_frame._network.params, from_array._network.params,
                    rtol=1e-9, atol=1e-9)
    Z = from_frame.transform(dd.from_pandas(frame, npartitions=4))
    assert_allclose(Z.compute(), from_frame.transform(frame), rtol=1e-12, atol=1e-12)


def nullable_frame(n=600):
    """A table of pandas' nullable dtypes (Float64, Int64) holding <NA>."""
    import pandas as pd

    frame = pd.DataFrame(make_data(n), columns=list("abcdef"))
    frame["a"] = frame["a"].astype("Float64")
    frame["b"] = (frame["b"] > 5).astype("Int64")
    frame.loc[n - 50, "a"] = pd.NA  # in the last partition
    frame.loc[n - 40, "b"] = pd.NA
    return frame


def test_a_dask_dataframe_with_pandas_missing_values_raises_the_in_memory_error():
    dd = pytest.importorskip(
        "dask.dataframe", reason="dask DataFrames need dask[dataframe]: pyarrow")
    frame = nullable_frame()
    expected = error_of(lambda: fit(frame, max_iter=2))
    assert expected.startswith("Input X contains NaN")
    assert error_of(lambda: fit(dd.from_pandas(frame, npartitions=3),
                                max_iter=2)) == expected
    fitted = fit(nullable_frame().fillna(0), max_iter=2)
    lazy = fitted.transform(dd.from_pandas(frame, npartitions=3))  # no error yet
    assert error_of(lazy.compute) == error_of(lambda: fitted.transform(frame))


def test_a_dask_dataframe_of_nullable_dtypes_fits_as_in_memory():
    dd = pytest.importorskip(
        "dask.dataframe", reason="dask DataFrames need dask[dataframe]: pyarrow")
    frame = nullable_frame().fillna(0)
    in_memory = fit(frame, max_iter=5)
    on_dask = fit(dd.from_pandas(frame, npartitions=3), max_iter=5)
    assert on_dask._network.dtype == in_memory._network.dtype == np.float64
    Z = on_dask.transform(dd.from_pandas(frame, npartitions=2)).compute()
    assert Z.dtype == in_memory.transform(frame).dtype
    assert_allclose(Z, on_dask.transform(frame), rtol=1e-12, atol=1e-12)


def test_adam_trains_through_dask_ml_incremental():
    wrappers = pytest.importorskip(
        "dask_ml.wrappers",
        reason="dask-ml (with numba and pyarrow) is heavy and not in the dask extra")
    X = da.from_array(make_data(600), chunks=(100, 6))
    incremental = wrappers.Incremental(
        VAETransformer(**{**PARAMS, "solver": "adam"}), shuffle_blocks=False)
    incremental.fit(X)  # one partial_fit (one epoch of Adam) per block
    vae = incremental.estimator_
    assert vae.n_iter_ == X.numblocks[0]
    incremental.partial_fit(X)  # a second pass continues the same estimator
    assert incremental.estimator_.n_iter_ == 2 * X.numblocks[0]
    Z = incremental.estimator_.transform(X)
    assert isinstance(Z, da.Array) and Z.compute().shape == (600, 2)


def fitted_attribute_names(estimator):
    return {name for name in vars(estimator)
            if name.endswith("_") and not name.startswith("_")}


def test_dask_fit_sets_every_attribute_an_in_memory_fit_sets():
    X = make_data(400)
    in_memory = fit(X)
    on_dask = fit(da.from_array(X, chunks=(150, 6)))
    assert fitted_attribute_names(on_dask) == fitted_attribute_names(in_memory)
    assert on_dask.kl_per_component_.shape == (PARAMS["n_components"],)
    assert on_dask.kl_per_component_.dtype == np.float64
    assert np.all(np.isfinite(on_dask.kl_per_component_))
    assert on_dask.active_components_.dtype == bool


def test_a_dask_detector_fit_sets_every_attribute_an_in_memory_fit_sets():
    X = make_data(400)
    in_memory = fit(X, VAEOutlierDetector, n_estimators=1)
    on_dask = fit(da.from_array(X, chunks=(150, 6)), VAEOutlierDetector)
    assert on_dask.n_estimators_ == 1
    assert fitted_attribute_names(on_dask) == fitted_attribute_names(in_memory)
    for name in fitted_attribute_names(in_memory):
        assert type(getattr(on_dask, name)) is type(getattr(in_memory, name)), name


def test_dask_kl_per_component_is_the_mean_over_the_blocks():
    # The latent diagnostics of a dask fit are those of its model on the same
    # rows in memory (sums of blocks instead of one mean: float64 rounding).
    from skvae._estimator.diagnostics import mean_kl

    X = make_data(400)
    vae = fit(da.from_array(X, chunks=(150, 6)))
    Z, Z_std = vae.transform(X, return_std=True)
    assert_allclose(vae.kl_per_component_, mean_kl(Z, Z_std), rtol=1e-10)


@pytest.mark.parametrize("on_dask", [False, True], ids=["in-memory", "dask"])
def test_convergence_warning_points_at_the_caller(on_dask):
    X = make_data(200)
    data = da.from_array(X, chunks=(70, 6)) if on_dask else X
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        VAETransformer(**{**PARAMS, "max_iter": 3}).fit(data)
    (warning,) = [w for w in caught if w.category is ConvergenceWarning]
    assert warning.filename == __file__


def test_callbacks_see_every_iteration_of_a_dask_fit():
    callback = pytest.importorskip("sklearn.callback")  # noqa: F841

    class StopAfter:
        def __init__(self, n):
            self.n, self.ends = n, []

        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, **kwargs):
            self.ends.append(context.task_name)
            return self.ends.count("lbfgs-iter") >= self.n

    X = da.from_array(make_data(300), chunks=(100, 6))
    recorder = StopAfter(4)
    vae = VAETransformer(**{**PARAMS, "max_iter": 50, "tol": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stop, not a cap
        vae.set_callbacks(recorder).fit(X)
    assert vae.n_iter_ == 4 and recorder.ends[-1] == "fit"
