"""Model M2 as users break it: any finite input, faults injected mid-fit.

The same promises as tests/test_reliability.py, for the estimators that train
a classifier on rows labeled -1: :class:`~skvae.VAEClassifier` and
:class:`~skvae.ConditionalVAE` on partly labeled data.
"""

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from test_reliability import PROPERTY_SETTINGS, blobs, same, tables

from skvae import ConditionalVAE, VAEClassifier
from skvae._models.auxiliary import AuxiliarySemiSupervisedNetwork
from skvae._models.semisupervised import SemiSupervisedNetwork

SMALL = {"n_components": 2, "hidden_layer_sizes": (8,), "random_state": 0}
SOLVERS = ["lbfgs", "adam"]
FAULTS = [KeyboardInterrupt, FloatingPointError, MemoryError]


def partly_labeled(n, n_classes=3):
    """Labels 0..n_classes-1 on every other row, -1 on the rest."""
    y = np.arange(n) % n_classes
    y[1::2] = -1
    y[:n_classes] = np.arange(n_classes)  # every class labeled at least once
    return y


def make(kind, solver, **params):
    params = {**SMALL, "solver": solver, "max_iter": 6, **params}
    return VAEClassifier(**params) if kind == "classifier" else ConditionalVAE(**params)


def outputs(est, X):
    """What a user reads of a fitted M2 model, each checked finite."""
    n = X.shape[0]
    out = {"score_samples": est.score_samples(X) if hasattr(est, "score_samples")
           else None}
    if isinstance(est, VAEClassifier):
        out["predict_proba"] = est.predict_proba(X)
        out["predict_log_proba"] = est.predict_log_proba(X)
        out["predict"] = est.predict(X)
        assert out["predict_proba"].shape == (n, len(est.classes_))
        np.testing.assert_allclose(out["predict_proba"].sum(axis=1), 1,
                                   rtol=1e-5 if X.dtype == np.float32 else 1e-12)
        assert set(out["predict"]) <= set(est.classes_)
    else:
        out["transform"] = est.transform(X)
        out["score_samples(X, y)"] = est.score_samples(X, np.resize(est.classes_, n))
    for name, value in out.items():
        if value is not None and name != "predict":
            assert np.all(np.isfinite(value)), name
            assert value.dtype == X.dtype, name
    return out


@PROPERTY_SETTINGS
@given(data=tables(), solver=st.sampled_from(SOLVERS),
       kind=st.sampled_from(["classifier", "conditional"]),
       max_iter=st.integers(3, 5))
def test_property_finite_outputs_for_any_finite_input(data, solver, kind, max_iter):
    X, X_new = data
    if X.shape[0] < 4:
        X = np.vstack([X] * 2)
    y = partly_labeled(X.shape[0], n_classes=2)
    est = make(kind, solver, max_iter=max_iter)
    est.fit(X, y)
    outputs(est, X)
    outputs(est, X_new)
    sampled, classes = est.sample(3, random_state=0)
    assert np.all(np.isfinite(sampled)) and sampled.dtype == X.dtype
    assert set(classes) <= set(est.classes_)


def inject(monkeypatch, fault, k):
    """Make the semi-supervised networks' loss_and_grad (M2's, and the SDGM's
    that VAEClassifier fits by default) raise ``fault`` on the k-th call."""
    calls = {"n": 0}

    def patch(network_class):
        original = network_class.loss_and_grad

        def wrapper(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == k:
                raise fault(f"injected at call {k}")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(network_class, "loss_and_grad", wrapper)

    patch(SemiSupervisedNetwork)
    patch(AuxiliarySemiSupervisedNetwork)
    return calls


def assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if a[key] is not None:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ["classifier", "conditional"])
def test_fault_in_first_fit_leaves_estimator_unfitted(monkeypatch, kind, solver,
                                                      fault):
    X, _ = blobs(40)
    y = partly_labeled(40)
    est = make(kind, solver)
    vars_before = copy.deepcopy(vars(est))
    calls = inject(monkeypatch, fault, k=3)
    with pytest.raises(fault):
        est.fit(X, y)
    assert calls["n"] == 3
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert same(vars(est), vars_before)
    monkeypatch.undo()
    est.fit(X, y)
    assert_same_outputs(outputs(est, X), outputs(make(kind, solver).fit(X, y), X))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ["classifier", "conditional"])
def test_fault_in_warm_start_and_refit_keeps_previous_state(monkeypatch, kind,
                                                            solver):
    X, _ = blobs(40)
    y = partly_labeled(40)
    est, twin = make(kind, solver), make(kind, solver)
    est.fit(X, y)
    twin.fit(X, y)
    before = outputs(est, X)
    # A refit on other classes and columns that fails leaves the fit whole.
    X_other, _ = blobs(30, d=3, random_state=1)
    inject(monkeypatch, KeyboardInterrupt, k=2)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X_other, partly_labeled(30, n_classes=2))
    assert_same_outputs(outputs(est, X), before)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    monkeypatch.undo()
    # So does a warm start; continuing afterwards is continuing from before.
    est.set_params(warm_start=True)
    twin.set_params(warm_start=True)
    inject(monkeypatch, MemoryError, k=2)
    with pytest.raises(MemoryError):
        est.fit(X, y)
    assert_same_outputs(outputs(est, X), before)
    monkeypatch.undo()
    est.fit(X, y)
    twin.fit(X, y)
    assert_same_outputs(outputs(est, X), outputs(twin, X))
