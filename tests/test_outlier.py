import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from tolerances import assert_rows_agree

from skvae import VAEOutlierDetector, VAETransformer

SCORE_TYPES = ["reconstruction", "elbo", "log_likelihood"]


@pytest.fixture(scope="module")
def data():
    """Normal rows on a 2-D plane in 5-D, and rows far off that plane."""
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((2, 5))
    X = rng.standard_normal((300, 2)) @ basis + 0.05 * rng.standard_normal((300, 5))
    X_new = rng.standard_normal((50, 2)) @ basis + 0.05 * rng.standard_normal((50, 5))
    off_plane = rng.standard_normal((10, 5)) * 3
    return X, X_new, off_plane


def fitted(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return VAEOutlierDetector(n_components=2, random_state=0, **params).fit(X)


@pytest.mark.parametrize("score_type", SCORE_TYPES)
def test_outliers_rank_below_inliers(data, score_type):
    X, X_new, off_plane = data
    detector = fitted(X, score_type=score_type)
    inlier, outlier = detector.score_samples(X_new), detector.score_samples(off_plane)
    assert outlier.max() < np.median(inlier)
    assert np.mean(outlier[:, None] < inlier[None, :]) > 0.95
    assert np.all(detector.predict(off_plane) == -1)


@pytest.mark.parametrize("score_type", SCORE_TYPES)
def test_every_score_is_row_wise(data, score_type):
    X, X_new, _ = data
    detector = fitted(X, score_type=score_type)
    full = detector.score_samples(X_new)
    one_by_one = np.concatenate([detector.score_samples(X_new[i:i + 1])
                                 for i in range(len(X_new))])
    # Up to the rounding of the 64-unit hidden layer's sums (tolerances.py).
    assert_rows_agree(one_by_one, full, X_new.dtype, 64, np.max(np.abs(full)))
    np.testing.assert_array_equal(detector.score_samples(X_new[::-1]), full[::-1])


def test_scores_match_the_model_they_share(data):
    X, X_new, _ = data
    # The transformer with the detector's defaults.
    params = dict(n_components=2, random_state=0, solver="adam",
                  learning_rate_init=1e-2, hidden_layer_sizes=(128,),
                  variance_floor=0.1, early_stopping=False, alpha=1e-4,
                  free_bits=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(**params).fit(X)
    by_type = {t: fitted(X, score_type=t).score_samples(X_new) for t in SCORE_TYPES}
    np.testing.assert_allclose(by_type["elbo"], vae.score_samples(X_new))
    np.testing.assert_allclose(by_type["reconstruction"],
                               -vae.reconstruction_error(X_new))
    # The importance-weighted estimate bounds log p(x) more tightly.
    assert by_type["log_likelihood"].mean() > by_type["elbo"].mean()


@pytest.mark.parametrize("contamination", [0.05, 0.2])
def test_predict_flags_the_contamination_of_the_training_set(data, contamination):
    X = data[0]
    detector = fitted(X, contamination=contamination)
    flagged = np.mean(detector.predict(X) == -1)
    assert flagged == pytest.approx(contamination, abs=1 / len(X))
    np.testing.assert_allclose(detector.decision_function(X),
                               detector.score_samples(X) - detector.offset_)
    np.testing.assert_array_equal(detector.fit_predict(X), detector.predict(X))


def test_auto_contamination_is_three_robust_deviations_below_the_median(data):
    X = data[0]
    detector = fitted(X, contamination="auto")
    scores = detector.score_samples(X)
    median = np.median(scores)
    mad = np.median(np.abs(scores - median))
    assert detector.offset_ == pytest.approx(median - 3 * 1.4826 * mad)
    # The threshold sits in the training scores' tail: few rows are flagged.
    assert np.mean(detector.predict(X) == -1) < 0.15


@pytest.mark.parametrize(
    "params",
    [{"score_type": "likelihood"}, {"contamination": 0.7}, {"contamination": 0},
     {"contamination": "some"}, {"log_likelihood_samples": 0}],
)
def test_invalid_parameters_are_refused(data, params):
    with pytest.raises(ValueError, match="parameter of VAEOutlierDetector"):
        VAEOutlierDetector(**params).fit(data[0])


@pytest.mark.parametrize(
    "X, message",
    [
        (np.full((2, 5), np.nan), "contains NaN"),
        (np.full((2, 5), np.inf), "contains infinity"),
        (np.empty((0, 5)), "0 sample"),
        (np.ones(5), "Expected 2D array"),
        ([["a"] * 5], "X must be numeric"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "score_samples", "decision_function",
                                    "predict"])
def test_bad_data_is_refused_clearly(data, method, X, message):
    detector = VAEOutlierDetector() if method == "fit" else fitted(data[0])
    with pytest.raises(ValueError, match=message):
        getattr(detector, method)(X)


def test_bad_input_is_refused_clearly(data):
    X = data[0]
    detector = fitted(X)
    with pytest.raises(ValueError, match="has 4 features"):
        detector.predict(X[:, :4])
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        VAEOutlierDetector(likelihood="bernoulli").fit(X)
