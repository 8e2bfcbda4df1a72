"""Tables as they come: mixed-type DataFrames, missing values, draws."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from tolerances import assert_rows_agree

from skvae import ConditionalVAE, VAEClassifier, VAEOutlierDetector, VAETransformer

pd = pytest.importorskip("pandas")


def quiet(estimator, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args)


def mixed(n=120, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    return pd.DataFrame({
        "income": np.exp(1 + 0.5 * z + 0.1 * rng.standard_normal(n)),
        "age": (40 + 10 * z + rng.standard_normal(n)).round().astype(int),
        "owner": np.where(z + 0.3 * rng.standard_normal(n) > 0, "yes", "no"),
        "region": pd.Categorical(rng.choice(["n", "s", "e"], n)),
        "member": z > 0.5,
        "score": rng.standard_normal(n).astype(np.float64),
    })


SMALL = {"max_iter": 30, "random_state": 0}


def test_fit_a_dataframe_and_sample_one_with_its_columns_dtypes_and_categories():
    data = mixed()
    vae = quiet(VAETransformer(**SMALL), data)
    assert list(vae.feature_likelihoods_) == [
        "gaussian", "gaussian", "categorical", "categorical", "categorical",
        "gaussian"]
    assert list(vae.feature_names_in_) == list(data.columns)
    rows = vae.sample(50, random_state=0)
    assert isinstance(rows, pd.DataFrame) and list(rows.columns) == list(data.columns)
    assert rows.dtypes.tolist() == data.dtypes.tolist()
    assert set(rows["owner"]) <= {"yes", "no"}
    assert list(rows["region"].cat.categories) == ["e", "n", "s"]
    pd.testing.assert_frame_equal(rows, vae.sample(50, random_state=0))
    decoded = vae.inverse_transform(vae.transform(data))
    assert decoded.dtypes.tolist() == data.dtypes.tolist()


def test_draws_have_the_spread_of_the_data_and_means_less():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 3)) * [1.0, 3.0, 0.5]
    vae = quiet(VAETransformer(n_components=1, random_state=0), X)
    drawn = vae.sample(4000, random_state=0)
    means = vae.sample(4000, random_state=0, mean=True)
    np.testing.assert_allclose(drawn.std(axis=0) / X.std(axis=0), 1.0, atol=0.15)
    assert np.all(means.std(axis=0) < drawn.std(axis=0))


def test_a_numeric_dataframe_gives_the_arrays_results_bit_for_bit():
    X = mixed()[["income", "score"]]
    from_frame = quiet(VAETransformer(**SMALL), X)
    from_array = quiet(VAETransformer(**SMALL), X.to_numpy())
    np.testing.assert_array_equal(from_frame.transform(X),
                                  from_array.transform(X.to_numpy()))
    np.testing.assert_array_equal(from_frame.score_samples(X),
                                  from_array.score_samples(X.to_numpy()))
    np.testing.assert_array_equal(from_frame.sample(5, random_state=0).to_numpy(),
                                  from_array.sample(5, random_state=0))


def with_gaps(data, fraction=0.2, seed=0):
    rng = np.random.default_rng(seed)
    gapped = data.mask(rng.random(data.shape) < fraction)
    gapped.iloc[0] = None  # a row with nothing observed
    return gapped


@pytest.mark.parametrize("make", [
    lambda: VAETransformer(**SMALL),
    lambda: VAEOutlierDetector(**SMALL),
    lambda: VAEOutlierDetector(n_estimators=1, **SMALL),
    lambda: ConditionalVAE(**SMALL),
    lambda: VAEClassifier(**SMALL),
    lambda: VAEClassifier(n_auxiliary_components=0, **SMALL),
], ids=["transformer", "ensemble", "detector", "conditional", "sdgm", "m2"])
@pytest.mark.parametrize("gaps", [False, True])
def test_every_estimator_fits_and_scores_mixed_rows_with_gaps(make, gaps):
    data = with_gaps(mixed()) if gaps else mixed()
    y = (np.arange(len(data)) % 2) if "Conditional" in type(make()).__name__ or (
        "Classifier" in type(make()).__name__) else None
    estimator = quiet(make(), data) if y is None else quiet(make(), data, y)
    methods = ["score_samples", "transform", "predict", "predict_proba",
               "decision_function"]
    for name in methods:
        if hasattr(estimator, name):
            out = np.asarray(getattr(estimator, name)(data))
            assert np.all(np.isfinite(out)), name
    if hasattr(estimator, "log_likelihood"):
        assert np.all(np.isfinite(estimator.log_likelihood(data, n_samples=8)))


def test_scores_of_a_row_with_gaps_are_densities_of_its_observed_part():
    """Hiding an entry removes its term: the score of the observed part."""
    data = mixed()
    vae = quiet(VAETransformer(**SMALL), data)
    hidden = data.copy()
    hidden["score"] = np.nan
    # The column's own term is the difference, which is then a log density of
    # one Gaussian value: finite, and it averages near the column's entropy.
    difference = vae.score_samples(data) - vae.score_samples(hidden)
    assert np.all(np.isfinite(difference))
    assert abs(difference.mean() + 0.5 * np.log(2 * np.pi * np.e)) < 1.0


def test_gaps_in_an_array_are_masked_and_complete_rows_score_as_before():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((150, 4))
    vae = quiet(VAETransformer(**SMALL), X)
    gapped = X.copy()
    gapped[:5, 1] = np.nan
    scores = vae.score_samples(gapped)
    assert np.all(np.isfinite(scores))
    # The same up to rounding: a chunk with a gap sums the masked terms.
    assert_rows_agree(scores[5:], vae.score_samples(X)[5:], np.float64, 64,
                      scale=np.abs(scores).max())
    assert np.all(np.isfinite(vae.transform(np.full((2, 4), np.nan))))
    fitted_with_gaps = quiet(VAETransformer(**SMALL), gapped)
    assert fitted_with_gaps._network.missing_indicator
    vae.partial_fit(gapped)


def test_unseen_categories_are_treated_as_missing():
    data = mixed()
    vae = quiet(VAETransformer(**SMALL), data)
    unseen = data.copy()
    unseen["owner"] = "maybe"
    missing = data.copy()
    missing["owner"] = None
    np.testing.assert_array_equal(vae.score_samples(unseen),
                                  vae.score_samples(missing))


def test_conditional_draws_rows_of_a_chosen_class():
    data = mixed()
    y = np.where(data["income"] > data["income"].median(), "rich", "poor")
    cvae = quiet(ConditionalVAE(**SMALL), data, y)
    rich, labels = cvae.sample(300, y="rich", random_state=0)
    poor, _ = cvae.sample(300, y="poor", random_state=0)
    assert set(labels) == {"rich"} and rich.dtypes.tolist() == data.dtypes.tolist()
    assert rich["income"].mean() > poor["income"].mean()


def test_a_table_model_survives_pickle_and_clone():
    data = mixed()
    vae = quiet(VAETransformer(**SMALL), data)
    loaded = pickle.loads(pickle.dumps(vae))
    pd.testing.assert_frame_equal(loaded.sample(5, random_state=0),
                                  vae.sample(5, random_state=0))
    np.testing.assert_array_equal(loaded.score_samples(data), vae.score_samples(data))
    assert not hasattr(clone(vae), "_table")


def test_transform_honours_set_output():
    data = mixed()
    vae = quiet(VAETransformer(**SMALL), data).set_output(transform="pandas")
    codes = vae.transform(data)
    assert list(codes.columns) == ["vaetransformer0", "vaetransformer1"]


def test_float32_frame_computes_in_float32():
    data = mixed()[["income", "score"]].astype(np.float32)
    vae = quiet(VAETransformer(**SMALL), data)
    assert vae.transform(data).dtype == np.float32
    assert vae.sample(3, random_state=0).dtypes.tolist() == [np.float32, np.float32]


def test_text_columns_with_likelihood_gaussian_are_refused_clearly():
    with pytest.raises(ValueError, match="needs numeric columns.*'owner'.*auto"):
        VAETransformer(likelihood="gaussian").fit(mixed())


def test_decoder_variance_of_a_table_is_in_each_columns_units():
    data = mixed()
    vae = quiet(VAETransformer(**SMALL), data)
    variance = vae.decoder_variance_
    assert variance.shape == (6,)
    assert np.isnan(variance[2:5]).all() and np.all(variance[[0, 1, 5]] > 0)
    # No more than the column's variance: the model explains part of it.
    assert variance[1] < 2 * data["age"].var()


@pytest.mark.parametrize("make", [VAETransformer, VAEOutlierDetector])
def test_a_table_model_survives_skops_trusting_only_public_classes(make):
    sio = pytest.importorskip("skops.io")
    data = mixed()
    data["size"] = pd.Categorical(["s", "l"] * 60, categories=["s", "l"],
                                  ordered=True)
    model = quiet(make(**SMALL), data)
    saved = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=saved)
    assert all(name.startswith("skvae.") and "._" not in name for name in untrusted)
    loaded = sio.loads(saved, trusted=untrusted)
    np.testing.assert_array_equal(loaded.score_samples(data), model.score_samples(data))
    if hasattr(model, "sample"):
        pd.testing.assert_frame_equal(loaded.sample(5, random_state=0),
                                      model.sample(5, random_state=0))
