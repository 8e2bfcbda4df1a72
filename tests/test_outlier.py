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
    # The transformer with the single VAE's defaults.
    params = dict(n_components=2, random_state=0, solver="adam",
                  learning_rate_init=1e-2, hidden_layer_sizes=(128,),
                  variance_floor=0.1, early_stopping=False, alpha=1e-4,
                  free_bits=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(**params).fit(X)
    by_type = {t: fitted(X, score_type=t, n_estimators=1).score_samples(X_new)
               for t in SCORE_TYPES}
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


# -- the ensemble (n_estimators > 1) ----------------------------------------


@pytest.fixture(scope="module")
def contaminated():
    """A noisy plane in 5-D whose training rows hold 15% rows far off it."""
    rng = np.random.default_rng(1)
    basis = rng.standard_normal((2, 5))

    def plane(n):
        return rng.standard_normal((n, 2)) @ basis + 0.05 * rng.standard_normal((n, 5))

    X = np.vstack([plane(340), 3 * rng.standard_normal((60, 5))])
    X_test = np.vstack([plane(100), 3 * rng.standard_normal((20, 5))])
    return X, X_test, np.repeat([False, True], [100, 20])


def ensemble(X, random_state=0, **params):
    return VAEOutlierDetector(random_state=random_state, **params).fit(X)


def test_auto_is_an_ensemble_for_tables_and_one_vae_for_images(contaminated):
    X = contaminated[0]
    detector = ensemble(X)
    assert detector.n_estimators_ == 5 and detector.score_type_ == "elbo_at_mean"
    assert len(detector.estimators_) == 5 and not hasattr(detector, "_network")
    wide = np.random.default_rng(0).random((80, 64))
    single = VAEOutlierDetector(max_iter=2, random_state=0).fit(wide)
    assert single.n_estimators_ == 1 and single.score_type_ == "reconstruction"
    assert not hasattr(single, "estimators_")
    # Refitted as the other kind, nothing of the first fit is left.
    single.set_params(n_estimators=2).fit(wide)
    assert len(single.estimators_) == 2 and not hasattr(single, "loss_curve_")


def test_ensemble_ranks_anomalies_in_contaminated_training_data(contaminated):
    X, X_test, is_anomaly = contaminated
    scores = ensemble(X).score_samples(X_test)
    assert np.mean(scores[is_anomaly][:, None] < scores[~is_anomaly][None, :]) > 0.97


def test_trimming_leaves_out_the_rows_each_member_scores_lowest(contaminated):
    X = contaminated[0]
    detector = ensemble(X, n_estimators=2, max_samples=200, n_trim_rounds=1)
    assert [len(rows) for rows in detector.estimators_samples_] == [200, 200]
    for rows in detector.estimators_samples_:
        assert np.all(np.diff(rows) > 0)  # drawn without replacement
    # Without trimming, the members fit the off-plane rows too, and rank them
    # less far below the plane.
    X_test, is_anomaly = contaminated[1:]
    gap = {}
    for rounds in (0, 2):
        scores = ensemble(X, n_trim_rounds=rounds).score_samples(X_test)
        gap[rounds] = np.median(scores[~is_anomaly]) - np.median(scores[is_anomaly])
    assert gap[2] > gap[0]


def test_ensemble_score_is_the_mean_of_standardized_member_scores(contaminated):
    X, X_test, _ = contaminated
    detector = ensemble(X, n_estimators=3)
    Z = (X_test - detector.feature_center_) / detector.feature_scale_
    expected = np.mean([
        (_elbo_at_mean(member, Z) - center) / scale
        for member, center, scale in zip(detector.estimators_,
                                         detector.member_centers_,
                                         detector.member_scales_, strict=True)
    ], axis=0)
    np.testing.assert_allclose(detector.score_samples(X_test), expected, rtol=1e-10)
    # Each member's scores on its own rows are centred and scaled to one.
    for member, rows, center, scale in zip(
            detector.estimators_, detector.estimators_samples_,
            detector.member_centers_, detector.member_scales_, strict=True):
        own = (_elbo_at_mean(member, (X[rows] - detector.feature_center_)
                             / detector.feature_scale_) - center) / scale
        assert np.median(own) == pytest.approx(0, abs=1e-9)
        assert 1.4826 * np.median(np.abs(own)) == pytest.approx(1)


def _elbo_at_mean(member, X):
    """log p(x | z = mu(x)) - KL, from the member's public pieces."""
    mu = member.transform(X)
    X_hat = member.inverse_transform(mu)
    var = member._network.decoder.head.var * member._network.scaler.scale**2
    log_px = -0.5 * np.sum((X - X_hat) ** 2 / var + np.log(2 * np.pi * var), axis=1)
    mean, std = member.transform(X, return_std=True)
    kl = 0.5 * np.sum(mean**2 + std**2 - 1 - 2 * np.log(std), axis=1)
    return log_px - kl


def test_ensemble_is_deterministic_and_row_wise(contaminated):
    X, X_test, _ = contaminated
    first, second = ensemble(X), ensemble(X)
    np.testing.assert_array_equal(first.score_samples(X_test),
                                  second.score_samples(X_test))
    full = first.score_samples(X_test)
    one_by_one = np.concatenate([first.score_samples(X_test[i:i + 1])
                                 for i in range(len(X_test))])
    np.testing.assert_allclose(one_by_one, full, rtol=1e-10)
    assert not np.array_equal(full, ensemble(X, random_state=1).score_samples(X_test))


def test_ensemble_ranking_ignores_each_features_units_and_offset(contaminated):
    X, X_test, _ = contaminated
    scale = np.array([1e-3, 1.0, 50.0, 7.0, 1e4])
    offset = np.array([5.0, -2.0, 1e3, 0.0, -7.0])
    plain = ensemble(X).score_samples(X_test)
    rescaled = ensemble(X * scale + offset).score_samples(X_test * scale + offset)
    np.testing.assert_array_equal(np.argsort(rescaled), np.argsort(plain))
    np.testing.assert_allclose(rescaled, plain, rtol=1e-6, atol=1e-6)


def test_ensemble_keeps_float32_and_survives_extreme_and_constant_features(
        contaminated):
    X, X_test, _ = contaminated
    X = np.column_stack([X, np.zeros(len(X)), np.repeat([0.0, 1.0], [390, 10])])
    X_test = np.column_stack([X_test, np.zeros(len(X_test)), np.zeros(len(X_test))])
    X_test[0, 5], X_test[1, 0] = 3.0, 1e30
    detector = ensemble(X.astype(np.float32))
    scores = detector.score_samples(X_test.astype(np.float32))
    assert scores.dtype == np.float32 and np.all(np.isfinite(scores))
    # A value a constant training feature never took, and a huge one, rank last.
    assert set(np.argsort(scores)[:2]) == {0, 1}
    assert np.all(np.isfinite(detector.predict_proba(X_test)))


def test_zero_weights_leave_rows_out_of_the_members_samples(contaminated):
    X = contaminated[0]
    weight = np.ones(len(X))
    weight[::2] = 0
    detector = VAEOutlierDetector(n_estimators=2, random_state=0).fit(
        X, sample_weight=weight)
    for rows in detector.estimators_samples_:
        assert np.all(weight[rows] > 0)
        assert len(rows) == 200


@pytest.mark.parametrize(
    "params",
    [{"n_estimators": 0}, {"max_samples": 0}, {"max_samples": 1.5},
     {"trim_fraction": 0.5}, {"n_trim_rounds": -1},
     {"estimator": VAEOutlierDetector()}],
)
def test_invalid_ensemble_parameters_are_refused(contaminated, params):
    with pytest.raises(ValueError, match="parameter of VAEOutlierDetector"):
        VAEOutlierDetector(**params).fit(contaminated[0])


def test_a_given_member_is_cloned_not_fitted(contaminated):
    member = VAETransformer(n_components=1, hidden_layer_sizes=(4,), solver="lbfgs",
                            max_iter=10)
    detector = ensemble(contaminated[0], n_estimators=2, estimator=member)
    assert not hasattr(member, "n_iter_")
    assert all(m.n_components == 1 for m in detector.estimators_)
    assert len({m.random_state for m in detector.estimators_}) == 2
