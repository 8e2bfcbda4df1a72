import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy.special import log_softmax as scipy_log_softmax
from tolerances import assert_rows_agree

from skvae._nn.activations import ACTIVATIONS
from skvae._nn.layout import Layout
from skvae._parts.classifiers import (
    SoftmaxClassifier,
    log_softmax,
    log_softmax_backward,
)


def make_classifier(hidden, activation="tanh", dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    classifier = SoftmaxClassifier(5, 4, hidden, activation)
    layout = Layout(classifier.shapes())
    params = rng.standard_normal(layout.size).astype(dtype)
    grads = np.zeros(layout.size, dtype=dtype)
    classifier.bind(layout.views(params), layout.views(grads))
    X = rng.standard_normal((7, 5)).astype(dtype)
    return classifier, params, grads, X, rng


def test_log_softmax_matches_scipy_and_stays_finite():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(log_softmax(logits), scipy_log_softmax(logits, axis=1))
    assert np.all(np.isfinite(log_softmax(logits)))
    assert log_softmax(logits.astype(np.float32)).dtype == np.float32


def test_log_softmax_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    logits, weights = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    loss = lambda: np.sum(weights * log_softmax(logits))  # noqa: E731
    analytic = log_softmax_backward(log_softmax(logits), weights)
    assert relative_error(analytic, numerical_gradient(loss, logits)) < 1e-8


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(), (6,), (6, 3)])
def test_backward_matches_finite_differences(activation, hidden):
    classifier, params, grads, X, rng = make_classifier(hidden, activation)
    weights = rng.standard_normal((X.shape[0], 4))

    def loss():
        return np.sum(weights * classifier.forward(X)[0])

    log_q, outputs = classifier.forward(X)
    classifier.backward(outputs, log_q, weights)
    assert relative_error(grads.copy(), numerical_gradient(loss, params)) < 1e-6


def test_float32_gradient_matches_float64():
    c64, p64, g64, X, rng = make_classifier((6,))
    c32, p32, g32, _, _ = make_classifier((6,), dtype=np.float32)
    p32[...] = p64
    weights = rng.standard_normal((X.shape[0], 4))
    for classifier, X_in in ((c64, X), (c32, X.astype(np.float32))):
        log_q, outputs = classifier.forward(X_in)
        assert log_q.dtype == X_in.dtype
        classifier.backward(outputs, log_q, weights.astype(X_in.dtype))
    assert g32.dtype == np.float32
    assert relative_error(g32.astype(np.float64), g64) < 1e-5


def test_probabilities_sum_to_one_row_by_row():
    classifier, _, _, X, _ = make_classifier((6,))
    proba = np.exp(classifier.log_proba(X))
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    # Each row's probabilities are those of the row alone.
    full = classifier.log_proba(X)
    assert_rows_agree(classifier.log_proba(X[2:3]), full[2:3], X.dtype, 6,
                      np.max(np.abs(full)))
