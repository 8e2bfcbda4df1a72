"""Adam on dask arrays: local SGD on the workers (skvae/_estimator/dask.py).

Most tests run dask's synchronous scheduler with ``num_workers`` set, which
fixes the number of shards as a cluster of that many worker threads would;
two run a LocalCluster in this process. Tolerances: fits with the same seed
and number of shards agree bit for bit on the same chunks; across chunkings
they agree to 1e-9 (float64; measured ~3e-15: the moments that start the
network are sums of blocks). Against in-memory Adam on the same rows, the
noise, the order of the rows and the validation rows differ: the fits
agree in quality (held-out ELBO within 0.25 nats; measured 0.007),
not in parameters.
"""

import copy
import threading
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

da = pytest.importorskip(
    "dask.array", reason="needs the dask extra: pip install 'skvae[dask]'")
import dask  # noqa: E402

import skvae._estimator.dask as skvae_dask  # noqa: E402
from skvae import VAETransformer  # noqa: E402
from skvae._estimator.dask import held_out  # noqa: E402
from skvae.exceptions import DivergenceError  # noqa: E402

PARAMS = dict(n_components=2, hidden_layer_sizes=(12,), solver="adam", max_iter=8,
              batch_size=50, random_state=0)


@pytest.fixture(autouse=True)
def two_worker_threads():
    with dask.config.set(scheduler="sync", num_workers=2):
        yield


def make_data(n=1200, d=6, seed=0):
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(100).standard_normal((3, d))
    return rng.standard_normal((n, 3)) @ mixing + 0.3 * rng.standard_normal((n, d)) + 5


def fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return VAETransformer(**{**PARAMS, **params}).fit(X)


def fitted_state(vae):
    return {"params": vae._network.params.copy(), "n_iter_": vae.n_iter_,
            "loss_curve_": list(vae.loss_curve_),
            "validation_scores_": list(getattr(vae, "validation_scores_", []))}


def assert_same_fit(a, b, rtol=0.0):
    assert a.n_iter_ == b.n_iter_
    if rtol:
        assert_allclose(b._network.params, a._network.params, rtol=rtol, atol=rtol)
        assert_allclose(b.loss_curve_, a.loss_curve_, rtol=rtol)
    else:
        assert fitted_state(a).keys() == fitted_state(b).keys()
        for name, value in fitted_state(a).items():
            assert_array_equal(fitted_state(b)[name], value, err_msg=name)


def test_held_out_rows_do_not_depend_on_the_chunks():
    whole = held_out(7, 0, 1000, 0.1)
    pieces = [held_out(7, start, stop - start, 0.1)
              for start, stop in [(0, 1), (1, 333), (333, 1000)]]
    assert_array_equal(np.concatenate(pieces), whole)
    many = held_out(0, 0, 100_000, 0.1)
    assert abs(many.mean() - 0.1) < 0.005


def test_adam_is_what_auto_means_on_dask_from_100_rows():
    X = make_data(400)
    assert fit(da.from_array(X, chunks=(100, 6)), solver="auto").solver_ == "adam"
    assert fit(da.from_array(X[:60], chunks=(30, 6)), solver="auto",
               batch_size="auto").solver_ == "lbfgs"


def test_fit_is_deterministic_for_a_seed_and_a_number_of_shards():
    X = da.from_array(make_data(), chunks=(300, 6))
    a, b = fit(X, early_stopping=True), fit(X, early_stopping=True)
    assert_same_fit(a, b)
    with dask.config.set(num_workers=3):
        c = fit(X, early_stopping=True)
    assert not np.array_equal(c._network.params, a._network.params)


@pytest.mark.parametrize("params", [dict(early_stopping=True),
                                    dict(kl_warmup=3, average_decay=0.0)])
def test_fit_does_not_depend_on_the_chunking(params):
    X = make_data()
    fits = [fit(da.from_array(X, chunks=(rows, 6)), **params)
            for rows in [1200, 400, 137, (100, 500, 600)]]
    for other in fits[1:]:
        assert_same_fit(fits[0], other, rtol=1e-9)


def test_fit_on_a_local_cluster_equals_the_synchronous_fit():
    distributed = pytest.importorskip("distributed")
    X = da.from_array(make_data(600), chunks=(150, 6))
    expected = fit(X, early_stopping=True)
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                   processes=False, dashboard_address=":0") as cluster,
          distributed.Client(cluster)):
        got = fit(X, early_stopping=True)
    assert_same_fit(expected, got)


LOST = threading.Event()


def leave_once(block, begin, **kwargs):
    """_train_shard, except that the worker training shard 0 in the third
    round leaves the cluster meanwhile, once."""
    import distributed

    if kwargs["iteration"] == 2 and kwargs["index"] == 0 and not LOST.is_set():
        LOST.set()
        worker = distributed.get_worker()
        worker.loop.add_callback(worker.close)
        threading.Event().wait(3)  # the result never reaches the scheduler
    return TRAIN_SHARD(block, begin, **kwargs)


TRAIN_SHARD = skvae_dask._train_shard


def test_a_lost_worker_is_recomputed_into_the_same_model(monkeypatch):
    # The worker that trains shard 0 in the third round leaves the cluster
    # while it trains: its tasks and blocks go to the other worker, which
    # recomputes the shard from the graph and trains the round again.
    distributed = pytest.importorskip("distributed")
    X = da.from_array(make_data(600), chunks=(150, 6))
    expected = fit(X)
    LOST.clear()
    monkeypatch.setattr(skvae_dask, "_train_shard", leave_once)
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                   processes=False, dashboard_address=":0") as cluster,
          distributed.Client(cluster)):
        got = fit(X)
        assert len(cluster.scheduler.workers) == 1
    assert LOST.is_set()
    assert_same_fit(expected, got)


@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
def test_a_failed_round_leaves_the_estimator_as_it_was(monkeypatch, fitted):
    X = da.from_array(make_data(600), chunks=(150, 6))
    vae = VAETransformer(**{**PARAMS, "max_iter": 3, "random_state": 1})
    if fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            vae.fit(X)
    before = copy.deepcopy(vars(vae))
    train_shard = skvae_dask._train_shard

    def fail_in_round_three(block, begin, **kwargs):
        if kwargs["iteration"] == 2 and kwargs["index"] == 1:
            raise MemoryError("worker out of memory")
        return train_shard(block, begin, **kwargs)

    monkeypatch.setattr(skvae_dask, "_train_shard", fail_in_round_three)
    vae.set_params(max_iter=8, random_state=0)
    with pytest.raises(MemoryError):
        vae.fit(X)
    assert vars(vae).keys() == before.keys()
    if fitted:
        assert_array_equal(vae._network.params, before["_network"].params)
        assert vae.n_iter_ == before["n_iter_"] == 3
        assert vae.loss_curve_ == before["loss_curve_"]
        assert_array_equal(vae._optimizer.m, before["_optimizer"].m)
    else:
        assert not hasattr(vae, "_network")


def test_divergence_on_a_worker_leaves_the_estimator_unchanged():
    X = da.from_array(make_data(600), chunks=(150, 6))
    vae = fit(X, max_iter=2)
    params = vae._network.params.copy()
    with pytest.raises(DivergenceError, match="left unchanged"):
        vae.set_params(learning_rate_init=1e6, max_iter=20).fit(X)
    assert_array_equal(vae._network.params, params)


def test_early_stopping_ends_on_the_best_model_of_held_out_rows():
    X = make_data(1200)
    stopping = dict(early_stopping=True, max_iter=300, n_iter_no_change=2, tol=0.01)
    vae = fit(da.from_array(X, chunks=(300, 6)), **stopping)
    assert vae.n_iter_ < 300  # stopped by the rule: no ConvergenceWarning
    assert len(vae.validation_scores_) == vae.n_iter_ == len(vae.loss_curve_)
    assert vae.best_validation_score_ == max(vae.validation_scores_)
    # The model is the best round's, and the score was its mean ELBO on the
    # held-out rows, which are those held_out draws.
    seed, fraction = spy_split(X, **stopping)
    rows = X[held_out(seed, 0, 1200, fraction)]
    assert 90 < len(rows) < 150
    expected = vae._network.elbo(rows, vae._score_noise[:4]).mean()
    assert_allclose(vae.best_validation_score_, expected, rtol=1e-10)


def spy_split(X, **params):
    """The held-out rows' seed and fraction of a dask fit with these params."""
    seen = {}
    shards = skvae_dask.Shards

    class Spy(shards):
        def __init__(self, X, n_shards, split_seed, fraction):
            seen.update(seed=split_seed, fraction=fraction)
            super().__init__(X, n_shards, split_seed, fraction)

    skvae_dask.Shards = Spy
    try:
        fit(da.from_array(X, chunks=(300, 6)), **params)
    finally:
        skvae_dask.Shards = shards
    return seen["seed"], seen["fraction"]


def fitted_attribute_names(estimator):
    return {name for name in vars(estimator)
            if name.endswith("_") and not name.startswith("_")}


@pytest.mark.parametrize("early_stopping", [False, True])
def test_dask_adam_sets_every_attribute_an_in_memory_fit_sets(early_stopping):
    X = make_data(600)
    in_memory = fit(X, early_stopping=early_stopping)
    on_dask = fit(da.from_array(X, chunks=(150, 6)), early_stopping=early_stopping)
    assert fitted_attribute_names(on_dask) == fitted_attribute_names(in_memory)
    for name in fitted_attribute_names(in_memory):
        a, b = getattr(in_memory, name), getattr(on_dask, name)
        assert type(a) is type(b), name
        assert np.shape(a) == np.shape(b), name
    assert on_dask.solver_ == "adam" and on_dask._network.dtype == np.float64
    assert type(on_dask._optimizer) is type(in_memory._optimizer)
    assert on_dask._optimizer.m.dtype == np.float64


def test_quality_is_that_of_in_memory_adam():
    X = make_data(1500)
    X_test = make_data(2000, seed=1)
    params = dict(max_iter=200, batch_size="auto", early_stopping=True)
    in_memory = fit(X, **params)
    on_dask = fit(da.from_array(X, chunks=(500, 6)), **params)
    assert abs(on_dask.score(X_test) - in_memory.score(X_test)) < 0.25


def test_float32_trains_in_float32():
    X = make_data(600).astype(np.float32)
    vae = fit(da.from_array(X, chunks=(150, 6)))
    assert vae._network.dtype == np.float32
    assert vae._optimizer.m.dtype == vae._optimizer.average.dtype == np.float32


def test_partial_fit_is_one_round_and_continues_the_optimizer():
    X = da.from_array(make_data(600), chunks=(150, 6))
    vae = VAETransformer(**PARAMS)
    vae.partial_fit(X)
    steps = vae._optimizer.t
    vae.partial_fit(X)
    # Two shards of 300 rows, batches of 50: six steps a round. The shards
    # step at sqrt(2) times the learning rate; the estimator keeps its own.
    assert vae.n_iter_ == 2 and steps == 6 and vae._optimizer.t == 12
    assert vae._optimizer.learning_rate_init == vae._resolved_params(
        600)["learning_rate_init"]


def test_a_too_large_batch_warns_at_the_caller():
    X = da.from_array(make_data(100), chunks=(50, 6))
    with pytest.warns(UserWarning, match="larger than the 100") as caught:
        fit(X, batch_size=500, early_stopping=False, max_iter=1)
    assert caught[0].filename == __file__


def test_callbacks_see_every_round_and_can_stop_it():
    pytest.importorskip("sklearn.callback")

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
            return self.ends.count("epoch") >= self.n

    X = da.from_array(make_data(600), chunks=(150, 6))
    recorder = StopAfter(3)
    vae = VAETransformer(**{**PARAMS, "max_iter": 50, "tol": 0, "early_stopping": True})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stop, not a cap
        vae.set_callbacks(recorder).fit(X)
    assert vae.n_iter_ == 3 and len(vae.validation_scores_) == 3
    assert recorder.ends[-1] == "fit"
