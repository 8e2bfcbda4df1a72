import pickle
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skvae import VAEImputer, VAETransformer


def quiet(function, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function(*args)


def low_rank(n=400, seed=0, noise=0.1):
    """Six features driven by two latent factors, in different units."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    X = z @ rng.normal(size=(2, 6)) + noise * rng.normal(size=(n, 6))
    return X * [1, 10, 0.1, 1, 100, 1] + [0, 5, 0, -3, 1000, 0]


def with_gaps(X, fraction, seed=1):
    rng = np.random.default_rng(seed)
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    return X


@pytest.fixture(scope="module")
def fitted():
    X = low_rank()
    gappy = with_gaps(X, 0.2)
    gappy[:3] = np.nan  # rows with nothing observed
    imputer = quiet(VAEImputer(random_state=0).fit, gappy)
    return X, gappy, imputer


def column_rmse(X, imputed, gaps):
    scale = X.std(axis=0)
    return np.sqrt(np.nanmean(np.where(gaps, (imputed - X) / scale, np.nan) ** 2))


# -- what is imputed ---------------------------------------------------------


def test_imputations_beat_column_means_on_correlated_data(fitted):
    X, gappy, imputer = fitted
    gaps = np.isnan(gappy)
    gaps[:3] = False  # the empty rows can do no better than the mean
    vae = column_rmse(X, imputer.transform(gappy), gaps)
    means = column_rmse(X, np.broadcast_to(np.nanmean(gappy, axis=0), X.shape), gaps)
    # Measured: 0.23 against 1.02 for the means.
    assert vae < 0.4 * means, (vae, means)


def test_the_conditional_mean_of_a_correlated_gaussian():
    """x2 | x1 ~ N(rho x1, 1 - rho^2): the imputed x2 of a row where only x1
    is observed follows rho * x1."""
    rng = np.random.default_rng(0)
    rho = 0.8
    X = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=2000)
    imputer = quiet(VAEImputer(random_state=0).fit, with_gaps(X, 0.2))
    x1 = np.linspace(-1.5, 1.5, 7)
    rows = np.column_stack([x1, np.full(7, np.nan)])
    imputed = imputer.transform(rows)[:, 1]
    # Measured: at most 0.04 away from rho * x1.
    np.testing.assert_allclose(imputed, rho * x1, atol=0.15)


def test_observed_entries_come_back_bit_for_bit(fitted):
    _, gappy, imputer = fitted
    observed = ~np.isnan(gappy)
    imputed = imputer.transform(gappy)
    np.testing.assert_array_equal(imputed[observed], gappy[observed])
    posterior = clone(imputer).set_params(sample_posterior=True)
    drawn = quiet(posterior.fit_transform, gappy)
    np.testing.assert_array_equal(drawn[observed], gappy[observed])


def test_rows_with_nothing_observed_get_the_prior_mean_without_nan(fitted):
    _, gappy, imputer = fitted
    imputed = imputer.transform(np.full((4, 6), np.nan))
    assert np.isfinite(imputed).all()
    # Every empty row gets the same value, close to the data's mean.
    np.testing.assert_array_equal(imputed, np.broadcast_to(imputed[0], imputed.shape))
    spread = np.nanstd(gappy, axis=0)
    # Measured: at most 0.09 spreads away.
    assert np.all(np.abs(imputed[0] - np.nanmean(gappy, axis=0)) < 0.5 * spread)


def test_transform_is_deterministic_and_row_by_row(fitted):
    _, gappy, imputer = fitted
    full = imputer.transform(gappy)
    np.testing.assert_array_equal(imputer.transform(gappy), full)
    np.testing.assert_allclose(imputer.transform(gappy[100:150]), full[100:150],
                               rtol=1e-12)


def test_sample_posterior_draws_completions_that_the_seed_fixes(fitted):
    X, gappy, imputer = fitted
    gaps = np.isnan(gappy)
    gaps[:3] = False

    def draws(seed):
        posterior = VAEImputer(sample_posterior=True, random_state=seed)
        first = quiet(posterior.fit_transform, gappy)
        return first, posterior.transform(gappy)

    first, second = draws(0)
    again, _ = draws(0)
    other, _ = draws(1)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first[gaps], second[gaps])  # each call draws anew
    assert not np.allclose(first[gaps], other[gaps])
    assert np.isfinite(first).all()
    # A draw from p(x_mis | x_obs) misses the truth by the conditional spread
    # twice over (sqrt(2) times the conditional mean's error, if the model is
    # right): more than the mean, not wildly more.
    ratio = column_rmse(X, first, gaps) / column_rmse(X, imputer.transform(gappy),
                                                      gaps)
    # Measured: 1.43.
    assert 1.1 < ratio < 2.0, ratio


def test_float32_in_float32_out(fitted):
    _, gappy, _ = fitted
    gappy32 = gappy.astype(np.float32)
    imputer = quiet(VAEImputer(random_state=0).fit, gappy32)
    imputed = imputer.transform(gappy32)
    assert imputed.dtype == np.float32
    observed = ~np.isnan(gappy32)
    np.testing.assert_array_equal(imputed[observed], gappy32[observed])
    assert imputer.estimator_._network.dtype == np.float32


# -- tables ------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    size = np.where(x + 0.3 * rng.normal(size=n) > 0, "large", "small")
    truth = pd.DataFrame({
        "x": x * 3 + 10,
        "y": 2 * x + 0.2 * rng.normal(size=n),
        "size": pd.Categorical(size, categories=["small", "large", "unused"]),
        "label": np.where(x > 0.5, "hi", "lo").astype(object),
        "flag": x > 0,
        "count": np.round(np.exp(x)).astype(np.int64),
    }, index=np.arange(n) * 3 + 7)
    gaps = rng.random(truth.shape) < 0.2
    gaps[:, 4:] = False  # bool and int64 columns cannot hold a gap
    gaps[0, :4] = True
    gappy = truth.mask(pd.DataFrame(gaps, index=truth.index, columns=truth.columns))
    imputer = quiet(VAEImputer(random_state=0).fit, gappy)
    return truth, gappy, gaps, imputer


def test_a_dataframe_comes_back_with_its_columns_dtypes_and_index(frame):
    truth, gappy, gaps, imputer = frame
    out = imputer.transform(gappy)
    assert list(out.columns) == list(gappy.columns)
    assert (out.dtypes == gappy.dtypes).all()
    assert out.index.equals(gappy.index)
    assert not out.isna().any().any()
    assert set(out["size"]) <= {"small", "large", "unused"}
    assert set(out["label"]) <= {"hi", "lo"}
    observed = ~gaps
    for j, name in enumerate(gappy.columns):
        np.testing.assert_array_equal(out[name].to_numpy()[observed[:, j]],
                                      gappy[name].to_numpy()[observed[:, j]])


def test_missing_categories_are_filled_with_the_likely_category(frame):
    truth, gappy, gaps, imputer = frame
    out = imputer.transform(gappy)
    for j, name in ((2, "size"), (3, "label")):
        rows = gaps[:, j].copy()
        rows[0] = False
        accuracy = np.mean(out[name].to_numpy()[rows] == truth[name].to_numpy()[rows])
        frequent = truth[name].value_counts(normalize=True).max()
        # Measured: 0.94 and 0.99 against 0.53 and 0.7 for the most frequent.
        assert accuracy > frequent + 0.1, (name, accuracy, frequent)


def test_an_unseen_category_is_observed_and_kept(frame):
    _, gappy, _, imputer = frame
    rows = gappy.iloc[:5].copy()
    rows["label"] = ["new", None, "lo", "new", None]
    out = imputer.transform(rows)
    assert list(out["label"].iloc[[0, 2, 3]]) == ["new", "lo", "new"]
    assert set(out["label"].iloc[[1, 4]]) <= {"hi", "lo"}


def test_indicator_and_set_output(frame):
    pd = pytest.importorskip("pandas")
    _, gappy, gaps, _ = frame
    imputer = quiet(VAEImputer(add_indicator=True, random_state=0).fit, gappy)
    names = ["x", "y", "size", "label", "flag", "count",
             "missingindicator_x", "missingindicator_y", "missingindicator_size",
             "missingindicator_label"]
    assert list(imputer.get_feature_names_out()) == names
    out = imputer.transform(gappy)
    assert list(out.columns) == names
    np.testing.assert_array_equal(out.iloc[:, 6:].to_numpy(), gaps[:, :4])
    X = gappy[["x", "y"]].to_numpy()
    arrays = quiet(VAEImputer(add_indicator=True, random_state=0).fit, X)
    assert arrays.transform(X).shape == (len(X), 4)
    arrays.set_output(transform="pandas")
    framed = arrays.transform(X)
    assert isinstance(framed, pd.DataFrame)
    assert list(framed.columns) == ["x0", "x1", "missingindicator_x0",
                                    "missingindicator_x1"]


def test_features_empty_at_fit_are_dropped_unless_kept():
    X = with_gaps(low_rank(n=100), 0.1)
    X[:, 2] = np.nan
    dropped = quiet(VAEImputer(random_state=0).fit, X)
    assert dropped.transform(X).shape == (100, 5)
    assert list(dropped.get_feature_names_out()) == ["x0", "x1", "x3", "x4", "x5"]
    kept = quiet(VAEImputer(keep_empty_features=True, random_state=0).fit, X)
    out = kept.transform(X)
    np.testing.assert_array_equal(out[:, 2], 0)
    assert not np.isnan(out).any()
    assert len(kept.get_feature_names_out()) == 6


# -- in scikit-learn ---------------------------------------------------------


def test_in_a_pipeline_before_a_classifier():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = with_gaps(X, 0.3)
    pipeline = make_pipeline(VAEImputer(random_state=0),
                             LogisticRegression(max_iter=2000))
    with config_context(assume_finite=False):
        quiet(pipeline.fit, X[::2], y[::2])
    assert pipeline.score(X[1::2], y[1::2]) > 0.9


def test_clone_and_pickle_keep_the_imputations(fitted):
    _, gappy, imputer = fitted
    restored = pickle.loads(pickle.dumps(imputer))
    np.testing.assert_array_equal(restored.transform(gappy), imputer.transform(gappy))
    unfitted = clone(imputer)
    assert not hasattr(unfitted, "estimator_")
    assert unfitted.get_params() == imputer.get_params()


def test_the_given_estimator_is_cloned_with_its_settings():
    X = with_gaps(low_rank(n=100), 0.2)
    vae = VAETransformer(n_components=3, max_iter=20)
    imputer = quiet(VAEImputer(vae, random_state=0).fit, X)
    assert not hasattr(vae, "_network")
    assert imputer.estimator_.n_components == 3
    assert imputer.estimator_.n_iter_ <= 20


@pytest.mark.parametrize("placeholder", [0, -1.0, "missing"])
def test_only_nan_marks_a_missing_value(placeholder):
    with pytest.raises(ValueError, match="missing_values=np.nan or None"):
        VAEImputer(missing_values=placeholder).fit(low_rank(n=20))


def test_a_failed_fit_leaves_the_imputer_as_it_was(fitted):
    _, gappy, imputer = fitted
    refit = clone(imputer)
    quiet(refit.fit, gappy)
    before = refit.transform(gappy)
    with pytest.raises(ValueError, match="Every entry of X is missing"):
        refit.fit(np.full((5, 6), np.nan))
    np.testing.assert_array_equal(refit.transform(gappy), before)
