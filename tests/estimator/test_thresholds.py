"""The detector's threshold, probabilities and training-set attributes."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import VAEOutlierDetector
from skvae._estimator.thresholds import (
    outlier_probability,
    robust_spread,
    score_threshold,
    weighted_quantile,
)


def test_weighted_quantile_equals_the_quantile_of_repeated_values():
    rng = np.random.default_rng(0)
    values = rng.normal(size=30)
    weights = rng.integers(0, 4, size=30)
    repeated = np.repeat(values, weights)
    for q in (0.05, 0.1, 0.25, 0.5, 0.9):
        assert weighted_quantile(values, q, weights) == np.quantile(
            repeated, q, method="inverted_cdf")
    assert weighted_quantile(values, 0.1) == np.percentile(values, 10)


def test_threshold_and_spread_are_weighted_like_repetition():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=40)
    weights = rng.integers(1, 4, size=40)
    repeated = np.repeat(scores, weights)
    for contamination in (0.1, "auto"):
        assert score_threshold(scores, contamination, weights) == pytest.approx(
            score_threshold(repeated, contamination, np.ones(len(repeated))))
    assert robust_spread(np.ones(5)) == 1.0  # no spread at all: unit scale


def test_outlier_probability_is_a_half_at_the_threshold_and_monotone():
    decision = np.linspace(-5, 5, 11)
    p = outlier_probability(decision, 2.0)
    assert p[5] == 0.5 and np.all(np.diff(p) < 0)
    assert outlier_probability([-1e6, 1e6], 1.0).tolist() == [1.0, 0.0]


@pytest.fixture(scope="module")
def detector_and_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2)) @ [[1.0, 0.5, 0.2], [0.0, 1.0, -0.5]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector = VAEOutlierDetector(2, max_iter=30, random_state=0).fit(X)
    return detector, X


def test_predict_proba_rows_sum_to_one_and_agree_with_predict(detector_and_data):
    detector, X = detector_and_data
    new = np.vstack([X, 5 * np.random.default_rng(1).normal(size=(50, 3))])
    proba = detector.predict_proba(new)
    assert proba.shape == (len(new), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(detector.predict(new),
                                  np.where(proba[:, 1] > 0.5, -1, 1))
    # Monotone: a higher score never gets a higher outlier probability.
    order = np.argsort(detector.score_samples(new))
    assert np.all(np.diff(proba[order, 1]) <= 0)


def test_training_scores_and_labels_are_the_training_rows(detector_and_data):
    detector, X = detector_and_data
    np.testing.assert_array_equal(detector.training_scores_, detector.score_samples(X))
    np.testing.assert_array_equal(detector.training_labels_, detector.predict(X))
    # contamination=0.1: a tenth of the training rows is flagged.
    assert np.mean(detector.training_labels_ == -1) == pytest.approx(0.1, abs=0.01)
    assert detector.score_scale_ > 0
