import pickle
import warnings

import numpy as np
import pytest
from gradcheck import partly_labeled_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from tolerances import assert_rows_agree

from skvae import VAEClassifier

SMALL = {"n_components": 2, "hidden_layer_sizes": (16,), "max_iter": 20,
         "random_state": 0}


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def digits():
    return partly_labeled_digits(400)


@pytest.fixture(scope="module")
def fitted(digits):
    X, _, partial = digits
    return fit(VAEClassifier(**SMALL), X, partial)


def test_minus_one_is_not_a_class(fitted, digits):
    X, _, _ = digits
    np.testing.assert_array_equal(fitted.classes_, np.arange(10))
    assert fitted.predict_proba(X).shape == (400, 10)
    assert set(fitted.predict(X)) <= set(range(10))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_proba_rows_sum_to_one_row_by_row(digits, dtype):
    X, _, partial = digits
    clf = fit(VAEClassifier(**SMALL), X.astype(dtype), partial)
    proba = clf.predict_proba(X[:50].astype(dtype))
    assert proba.dtype == dtype
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=10 * np.finfo(dtype).eps)
    log_proba = clf.predict_log_proba(X[:50].astype(dtype))
    for i in (0, 17, 49):
        row = X[i:i + 1].astype(dtype)
        # log p(y|x) sums 64 per-pixel terms of about a nat each; a probability
        # moves by its log-probability's rounding, relative to itself.
        assert_rows_agree(clf.predict_log_proba(row), log_proba[i:i + 1], dtype, 64)
        assert_rows_agree(clf.predict_proba(row), proba[i:i + 1], dtype, 64, scale=0)


def test_predictions_agree_with_the_probabilities(fitted, digits):
    X, _, _ = digits
    log_proba = fitted.predict_log_proba(X)
    np.testing.assert_allclose(np.exp(log_proba), fitted.predict_proba(X))
    np.testing.assert_array_equal(fitted.predict(X),
                                  fitted.classes_[log_proba.argmax(axis=1)])


def test_score_is_accuracy(fitted, digits):
    X, y, _ = digits
    assert fitted.score(X, y) == pytest.approx(np.mean(fitted.predict(X) == y))


@pytest.mark.parametrize("params", [
    # M2, small and quick
    dict(n_auxiliary_components=0, likelihood="bernoulli", n_components=8,
         hidden_layer_sizes=(64,), classification_weight=1.0),
    # the defaults, the SDGM (0.903 here; 0.929 after its 200 epochs)
    dict(),
])
def test_learns_from_few_labels(digits, params):
    X, y, partial = digits
    clf = fit(VAEClassifier(**params, max_iter=60, random_state=0), X, partial)
    unlabeled = partial == -1
    assert np.mean(clf.predict(X[unlabeled]) == y[unlabeled]) > 0.75


def test_unlabeled_rows_change_the_classifier(digits):
    X, _, partial = digits
    labeled = partial != -1
    with_unlabeled = fit(VAEClassifier(**SMALL), X, partial)
    labeled_only = fit(VAEClassifier(**SMALL), X[labeled], partial[labeled])
    assert not np.allclose(with_unlabeled.predict_proba(X),
                           labeled_only.predict_proba(X))


def test_same_random_state_gives_identical_results(fitted, digits):
    X, _, partial = digits
    again = fit(VAEClassifier(**SMALL), X, partial)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))


def test_string_labels_with_an_object_minus_one(digits):
    X, y, partial = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"], dtype=object)
    labels = np.where(partial == -1, -1, names[y]).astype(object)
    clf = fit(VAEClassifier(**SMALL), X, labels)
    assert set(clf.classes_) == set(names)
    assert set(clf.predict(X)) <= set(names)


def test_bad_labels_get_clear_errors(fitted, digits):
    X, y, _ = digits
    with pytest.raises(ValueError, match="Every row of y is -1"):
        VAEClassifier(**SMALL).fit(X, np.full_like(y, -1))
    with pytest.raises(ValueError, match="object array with the integer -1"):
        VAEClassifier(**SMALL).fit(X[:4], ["a", "-1", "b", "a"])
    with pytest.raises(ValueError, match="at least two classes"):
        VAEClassifier(**SMALL).fit(X[:4], [3, -1, 3, -1])
    with pytest.raises(ValueError, match="labels not seen in fit"):
        fitted.sample(2, y=[1, 42])
    with pytest.raises(ValueError, match="Unknown label type"):
        VAEClassifier(**SMALL).fit(X[:4], [0.5, 1.5, -1, 0.5])


def test_sample_draws_the_classes_asked_for(fitted):
    X_new, y_new = fitted.sample(6, y=3, random_state=0)
    assert X_new.shape == (6, 64) and np.all(y_new == 3)


def test_pickle_round_trip(fitted, digits):
    X, _, _ = digits
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.predict_proba(X), fitted.predict_proba(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_works_in_cross_validation(digits):
    X, y, _ = digits
    scores = cross_val_score(VAEClassifier(**{**SMALL, "max_iter": 5}), X[:150],
                             y[:150], cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))
