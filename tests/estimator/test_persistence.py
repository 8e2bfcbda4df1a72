"""Saving and loading: pickle, joblib and skops keep plain data and rebuild the rest."""

import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import (
    ConditionalVAE,
    VAEClassifier,
    VAEOutlierDetector,
    VAETransformer,
    VQVAETransformer,
)

CASES = {
    "lbfgs": lambda: VAETransformer(3, max_iter=15, random_state=0),
    "adam-flow": lambda: VAETransformer(3, solver="adam", prior="flow", max_iter=3,
                                        random_state=0),
    "autoregressive": lambda: VAETransformer(3, decoder="autoregressive", window=2,
                                             max_iter=10, random_state=0),
    "conditional": lambda: ConditionalVAE(3, max_iter=10, random_state=0),
    # Rows labeled -1: the network adds a classifier and the labels' statistics.
    "conditional-partial": lambda: ConditionalVAE(3, max_iter=10, random_state=0),
    "classifier": lambda: VAEClassifier(3, max_iter=3, random_state=0),
    # The skip deep generative model: two more networks, the same state.
    "classifier-sdgm": lambda: VAEClassifier(3, n_auxiliary_components=2, max_iter=3,
                                             random_state=0),
    "detector": lambda: VAEOutlierDetector(3, max_iter=3, n_estimators=1,
                                           random_state=0),
    "vqvae": lambda: VQVAETransformer(2, 4, hidden_layer_sizes=(8,), max_iter=3,
                                      random_state=0),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)) @ rng.normal(size=(5, 5))
    return X, np.arange(120) % 3


def fit(name, X, y, dtype=np.float64):
    estimator = CASES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if name in ("conditional-partial", "classifier", "classifier-sdgm"):
            partial = np.where(np.arange(len(y)) % 2, y, -1)
            return estimator.fit(X.astype(dtype), partial)
        if isinstance(estimator, ConditionalVAE):
            return estimator.fit(X.astype(dtype), y)
        return estimator.fit(X.astype(dtype))


def assert_same_outputs(a, b, X):
    if hasattr(a, "score_samples"):
        np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    if hasattr(a, "predict_proba"):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    if hasattr(a, "transform"):
        np.testing.assert_array_equal(a.transform(X), b.transform(X))
    if hasattr(a, "decision_function"):
        np.testing.assert_array_equal(a.predict(X), b.predict(X))


def assert_same_state(a, b, path="network"):
    """Every attribute of the rebuilt network (recursively) equals the original's:
    nothing learned outside the parameter buffer is forgotten on the way."""
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
        assert a.dtype == b.dtype, path
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            if isinstance(key, str) and ("grad" in key or key.startswith("_g_")):
                continue  # gradients are scratch, not saved
            assert_same_state(a[key], b[key], f"{path}[{key!r}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), path
        assert_same_state(vars(a), vars(b), path)
    else:
        assert a == b, path


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_skops_trusts_only_the_public_class_and_scores_bit_for_bit(name, dtype, data):
    sio = pytest.importorskip("skops.io")
    X, y = data
    estimator = fit(name, X, y, dtype)
    blob = sio.dumps(estimator)
    untrusted = sio.get_untrusted_types(data=blob)
    cls = type(estimator)
    assert untrusted == [f"{cls.__module__}.{cls.__name__}"]
    loaded = sio.loads(blob, trusted=untrusted)
    assert_same_outputs(estimator, loaded, X.astype(dtype))
    network = loaded._network
    assert network.params.dtype == dtype
    assert_same_state(estimator._network, network)


@pytest.mark.parametrize("name", list(CASES))
def test_pickle_and_joblib_round_trips_rebuild_the_views(name, data):
    X, y = data
    estimator = fit(name, X, y)
    for loaded in (pickle.loads(pickle.dumps(estimator)), copy.deepcopy(estimator)):
        assert_same_outputs(estimator, loaded, X)
        network = loaded._network
        first_weights = getattr(network, "encoder_W", None) or network.encoder.W
        assert np.shares_memory(first_weights[0], network.params)
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    assert_same_outputs(estimator, joblib.load(buffer), X)


def test_saved_state_holds_no_private_objects(data):
    X, y = data
    state = fit("adam-flow", X, y).__getstate__()
    allowed = (np.ndarray, np.generic, str, int, float, bool, type(None), list, tuple,
               dict)

    def walk(value, path):
        assert isinstance(value, allowed), f"{path}: {type(value)}"
        items = (value.items() if isinstance(value, dict)
                 else enumerate(value) if isinstance(value, (list, tuple)) else ())
        for key, item in items:
            walk(item, f"{path}[{key!r}]")

    walk(state, "state")
    assert "grad" not in str(sorted(state["_network"]))


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_saved_model_takes_about_the_size_of_its_weights(solver, dtype, data):
    X, y = data
    vae = VAETransformer(4, hidden_layer_sizes=(64,), solver=solver, max_iter=3,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(np.tile(X, (1, 4)).astype(dtype))
    weights = vae._network.params.nbytes
    size = len(pickle.dumps(vae))
    if solver == "adam":
        # Adam's two moments, the average of its iterates and the last
        # iterate are kept for partial_fit, until discarded.
        assert size < 5 * weights + 8192
        size = len(pickle.dumps(vae.discard_optimizer_state()))
    assert size < 1.05 * weights + 8192, (size, weights)


def test_training_continues_identically_after_a_round_trip(data):
    X, _ = data
    vae = VAETransformer(3, solver="adam", max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    loaded = pickle.loads(pickle.dumps(vae))
    vae.partial_fit(X)
    loaded.partial_fit(X)  # same Adam moments, same random generator state
    np.testing.assert_array_equal(vae.transform(X), loaded.transform(X))
    assert vae.loss_curve_ == loaded.loss_curve_


@pytest.mark.parametrize("name", ["adam-flow", "vqvae"])
def test_discarded_optimizer_state_restarts_adam(name, data):
    X, y = data
    estimator = fit(name, X, y).discard_optimizer_state()
    assert estimator._optimizer is None
    estimator.partial_fit(X)
    assert estimator._optimizer.t > 0


# -- names from a file are looked up in fixed tables, never called --------------


@pytest.fixture
def spy(monkeypatch):
    """A zero-argument callable on np.random, where a name from a file
    looked up by getattr would reach it; records its calls."""
    calls = []
    monkeypatch.setattr(np.random, "skvae_spy", lambda: calls.append(1),
                        raising=False)
    return calls


def test_a_tampered_generator_name_is_refused_and_nothing_called(spy, data):
    X, y = data
    state = fit("lbfgs", X, y).__getstate__()
    state["_rng"] = {**state["_rng"], "bit_generator": "skvae_spy"}
    with pytest.raises(ValueError, match="bit generator 'skvae_spy'.*nothing"):
        VAETransformer.__new__(VAETransformer).__setstate__(state)
    assert not spy


@pytest.mark.parametrize(("key", "name"), [("activation", "system"),
                                           ("likelihood", "skvae_spy"),
                                           ("prior", "__class__"),
                                           ("decoder", "eval"),
                                           ("dtype", "object")])
@pytest.mark.parametrize("model", ["lbfgs", "vqvae"])
def test_a_tampered_part_name_is_refused(key, name, model, data):
    X, y = data
    state = fit(model, X, y).__getstate__()
    spec = state["_network"]["spec"]
    if key not in spec:
        pytest.skip(f"a {model} spec names no {key}")
    state["_network"] = {**state["_network"], "spec": {**spec, key: name}}
    estimator = CASES[model]()
    with pytest.raises(ValueError, match=f"the {key} '{name}'"):
        type(estimator).__new__(type(estimator)).__setstate__(state)


def test_skops_refuses_an_edited_generator_name_and_calls_nothing(spy, data):
    sio = pytest.importorskip("skops.io")
    import zipfile

    X, y = data
    blob = sio.dumps(fit("adam-flow", X, y))
    source, edited = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "schema.json":
                # The name is stored as JSON text: "\"PCG64\"".
                assert content.count(b'\\"PCG64\\"') == 1
                content = content.replace(b'\\"PCG64\\"', b'\\"skvae_spy\\"')
            target.writestr(item, content)
    with pytest.raises(ValueError, match="bit generator 'skvae_spy'"):
        sio.loads(edited.getvalue(), trusted=["skvae.transformer.VAETransformer"])
    assert not spy
