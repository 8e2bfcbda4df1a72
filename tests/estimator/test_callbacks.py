"""scikit-learn's callback API: one task per iteration, progress bars, scoring."""

import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer, VQVAETransformer

callback = pytest.importorskip("sklearn.callback")


class Recorder:
    """Records every task end: its name, and the fitted estimator's score."""

    def __init__(self, stop_after=None):
        self.ends = []
        self.begins = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        self.begins.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, X=None, fitted_estimator=None):
        if fitted_estimator is None:
            score = None
        elif hasattr(fitted_estimator, "score"):
            score = fitted_estimator.score(X)
        else:  # the detector
            score = float(np.mean(fitted_estimator.score_samples(X)))
        self.ends.append((context.task_name, score))
        iterations = sum(name in ("lbfgs-iter", "epoch") for name, _ in self.ends)
        return self.stop_after is not None and iterations >= self.stop_after

    def iterations(self):
        return [score for name, score in self.ends
                if name in ("lbfgs-iter", "epoch") and score is not None]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6)) @ rng.normal(size=(6, 6))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("estimator", [
    VAETransformer(2, solver="lbfgs", max_iter=25, random_state=0),
    VAETransformer(2, solver="adam", max_iter=4, random_state=0),
    VQVAETransformer(2, 4, hidden_layer_sizes=(8,), max_iter=3, random_state=0),
], ids=["lbfgs", "adam", "vqvae"])
def test_one_task_end_per_iteration(estimator, data):
    X, _ = data
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.set_callbacks(recorder).fit(X)
    scores = recorder.iterations()
    assert len(scores) == estimator.n_iter_
    # After the last iteration one empty subtask is begun, then ended without
    # a model (as LogisticRegression does); the root task "fit" ends last.
    assert recorder.begins[0] == "fit"
    assert recorder.begins.count(recorder.ends[0][0]) == estimator.n_iter_ + 1
    assert recorder.ends[-2][1] is None and recorder.ends[-1][0] == "fit"
    # The fitted estimator of an iteration is the model at that iteration.
    assert recorder.ends[-1][1] == pytest.approx(scores[-1])
    assert recorder.ends[-1][1] == estimator.score(X)
    assert len(set(scores)) == len(scores)


def test_partial_fit_is_one_epoch_task(data):
    X, _ = data
    recorder = Recorder()
    vae = VAETransformer(2, solver="adam", random_state=0).set_callbacks(recorder)
    vae.partial_fit(X).partial_fit(X)
    assert [name for name, _ in recorder.ends] == ["epoch", "epoch", "fit"] * 2


def test_a_callback_can_stop_training(data):
    X, _ = data
    for solver in ("lbfgs", "adam"):
        vae = VAETransformer(2, solver=solver, max_iter=50, tol=0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)  # a stop, not a cap
            vae.set_callbacks(Recorder(stop_after=3)).fit(X)
        assert vae.n_iter_ == 3


@pytest.mark.parametrize("estimator", [
    ConditionalVAE(2, max_iter=3, random_state=0),
    VAEOutlierDetector(2, max_iter=3, n_estimators=1, random_state=0),
], ids=["conditional", "detector"])
def test_every_estimator_reports_its_iterations(estimator, data):
    X, y = data
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.set_callbacks(recorder).fit(X, y)
    assert len(recorder.iterations()) == estimator.n_iter_
    assert recorder.ends[-1][0] == "fit"


def test_scoring_monitor_scores_each_iteration_when_given_y(data):
    X, y = data
    # ScoringMonitor scores only when fit gets a y; the VAE ignores it.
    monitor = callback.ScoringMonitor(
        scoring=lambda estimator, X, y: {"elbo": estimator.score(X)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(2, solver="lbfgs", max_iter=5, random_state=0)
        vae.set_callbacks(monitor)
        vae.fit(X, y)
    rows = monitor.get_logs().data
    elbo = [row["elbo"] for row in rows if row["task_name"] == "lbfgs-iter"]
    assert len(elbo) == 5 and elbo[-1] == pytest.approx(vae.score(X))


def test_progress_bar_in_a_pipeline_and_a_search(data):
    pytest.importorskip("rich")
    X, y = data
    pipe = make_pipeline(StandardScaler(),
                         VAETransformer(2, max_iter=10, random_state=0),
                         LogisticRegression())
    pipe.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
        search = GridSearchCV(VAETransformer(2, max_iter=3, random_state=0),
                              {"beta": [0.5, 1.0]}, cv=2)
        search.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
        search.fit(X)
    assert pipe.score(X, y) > 0.5
    assert not hasattr(pipe[1], "_parent_callback_ctx")


@pytest.mark.parametrize("method", ["transform", "score_samples"])
def test_inference_over_several_chunks_reports_each(method, data):
    X, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(2, max_iter=3, random_state=0).fit(X)
    recorder = Recorder()
    vae.set_callbacks(recorder)
    big = np.tile(X, (50, 1))
    with config_context(working_memory=1):  # MiB: several chunks
        result = getattr(vae, method)(big)
        n_chunks = recorder.ends.count(("chunk", None))
        assert n_chunks > 1 and recorder.ends[-1] == ("inference", None)
        np.testing.assert_array_equal(result,
                                      getattr(vae.set_callbacks(), method)(big))
    getattr(vae, method)(X[:5])  # one chunk: nothing to report
    assert not hasattr(vae, "_callback_fit_ctx")


def test_a_failed_fit_keeps_the_callbacks(data):
    X, _ = data
    recorder = Recorder()
    vae = VAETransformer(2, max_iter=3).set_callbacks(recorder)
    with pytest.raises(ValueError):
        vae.fit(np.vstack([X, [[np.inf] * 6]]))
    assert vae._skl_callbacks == [recorder] and vae._skl_callbacks[0] is recorder
