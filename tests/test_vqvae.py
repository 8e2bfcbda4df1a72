import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import VQVAETransformer
from skvae.exceptions import DivergenceError


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600], X[600:900] / 16


@pytest.fixture(scope="module")
def small():
    return np.random.default_rng(0).random((40, 5))


def quiet_fit(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X)


SMALL = dict(n_groups=2, n_codes=4, code_dim=2, hidden_layer_sizes=(8,),
             max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def fitted(small):
    return quiet_fit(VQVAETransformer(**SMALL), small)


@parametrize_with_checks(
    [VQVAETransformer()],
    # scikit-learn's reason for its stochastic estimators (KMeans, ...): rows
    # land in different minibatches and codes restart at different rows.
    expected_failed_checks=lambda estimator: {
        "check_sample_weight_equivalence_on_dense_data": (
            "sample_weight is not equivalent to removing/repeating samples."),
    },
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# -- learning, not just running ----------------------------------------------


def test_training_compresses_well_and_uses_every_codebook(digits):
    X_train, _, X_test = digits
    vq = quiet_fit(VQVAETransformer(likelihood="bernoulli", batch_size=50,
                                    max_iter=30, random_state=0), X_train)
    error = np.mean(np.sum((X_test - vq.decode(vq.encode(X_test))) ** 2, axis=1))
    # Every pixel at its training mean: about 4; these 16 bits: about 1.7.
    mean_error = np.mean(np.sum((X_test - X_train.mean(axis=0)) ** 2, axis=1))
    assert error < 0.5 * mean_error
    assert np.all(vq.perplexity_ >= vq.n_codes / 2)


@pytest.mark.parametrize("threshold", [0.0, 0.1])
def test_codes_moved_out_of_reach_come_back_only_with_restarts(digits, threshold):
    X_train = digits[0]
    vq = quiet_fit(VQVAETransformer(likelihood="bernoulli", max_iter=5,
                                    dead_code_threshold=threshold, random_state=0),
                   X_train)
    # Half of each codebook far from every encoder output: those codes die.
    far = vq._network.codebook_params
    far.codebook[:, 8:] = 1e3
    far.counts[:, 8:] = 0
    for _ in range(5):
        vq.partial_fit(X_train)
    in_use = np.count_nonzero(vq.encode(X_train)[:, :, None] == np.arange(16),
                              axis=0) > 0
    if threshold:
        assert in_use.sum(axis=1).min() > 8
    else:
        assert not in_use[:, 8:].any()


# -- the API -----------------------------------------------------------------


def test_codes_vectors_and_decodings_agree(fitted, small):
    codes = fitted.encode(small)
    assert codes.shape == (40, 2) and codes.dtype == np.intp
    assert codes.min() >= 0 and codes.max() < 4
    Z = fitted.transform(small)
    assert Z.shape == (40, 4)
    expected = fitted.codebook_[np.arange(2), codes].reshape(40, 4)
    np.testing.assert_array_equal(Z, expected)
    decoded = fitted.decode(codes)
    assert decoded.shape == (40, 5) and decoded.dtype == np.float64
    np.testing.assert_array_equal(fitted.inverse_transform(Z), decoded)
    # inverse_transform snaps vectors to their nearest codes first.
    np.testing.assert_array_equal(fitted.inverse_transform(Z + 1e-3), decoded)
    np.testing.assert_array_equal(fitted.decode(codes.astype(float)), decoded)


def test_code_statistics_are_counted_over_the_training_data(fitted, small):
    codes = fitted.encode(small)
    for g in range(2):
        np.testing.assert_array_equal(fitted.code_counts_[g],
                                      np.bincount(codes[:, g], minlength=4))
    p = fitted.code_counts_ / 40
    expected = np.exp(-np.sum(p * np.log(np.where(p > 0, p, 1)), axis=1))
    np.testing.assert_allclose(fitted.perplexity_, expected)
    np.testing.assert_allclose(fitted.code_probabilities_,
                               (fitted.code_counts_ + 1) / 44)


def test_score_is_log_likelihood_at_the_code_plus_its_log_prior(fitted, small):
    scores = fitted.score_samples(small)
    net, codes = fitted._network, fitted.encode(small)
    log_prior = np.log(fitted.code_probabilities_)[np.arange(2), codes].sum(axis=1)
    np.testing.assert_allclose(scores, net.log_prob_given_codes(small, codes)
                               + log_prior)
    assert fitted.score(small) == pytest.approx(scores.mean())


def test_sample_draws_codes_from_the_training_frequencies(fitted):
    samples = fitted.sample(7, random_state=1, mean=True)
    rng = np.random.RandomState(1)
    codes = np.stack([rng.choice(4, size=7, p=p) for p in fitted.code_probabilities_],
                     axis=1)
    np.testing.assert_array_equal(samples, fitted.decode(codes))
    np.testing.assert_array_equal(samples, fitted.sample(7, random_state=1, mean=True))
    drawn = fitted.sample(7, random_state=1)  # x ~ p(x | z_q) around the means
    np.testing.assert_array_equal(drawn, fitted.sample(7, random_state=1))
    assert not np.array_equal(drawn, samples) and drawn.dtype == samples.dtype


def test_same_random_state_gives_bit_identical_results(small):
    a = quiet_fit(VQVAETransformer(**SMALL), small)
    b = quiet_fit(VQVAETransformer(**SMALL), small)
    np.testing.assert_array_equal(a._network.params, b._network.params)
    np.testing.assert_array_equal(a.score_samples(small), b.score_samples(small))


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_float32_is_computed_and_returned_in_float32(small, likelihood):
    X = small.astype(np.float32)
    vq = quiet_fit(VQVAETransformer(likelihood=likelihood, **SMALL), X)
    assert vq._network.params.dtype == vq.codebook_.dtype == np.float32
    for values in (vq.transform(X), vq.inverse_transform(vq.transform(X)),
                   vq.score_samples(X), vq.decode(vq.encode(X)), vq.sample(2)):
        assert values.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scores_stay_finite_on_extreme_rows(small, dtype):
    X = small.astype(dtype)
    vq = quiet_fit(VQVAETransformer(**SMALL), X)
    extreme = np.vstack([X[:3] * 1e6, -X[:3] * 1e6])
    scores = vq.score_samples(extreme)
    assert np.all(np.isfinite(scores))
    assert scores.max() < vq.score_samples(X).min()
    assert np.all(np.isfinite(vq.transform(extreme)))


def test_partial_fit_runs_one_epoch_and_accumulates_code_counts(small):
    vq = VQVAETransformer(**SMALL)
    vq.partial_fit(small[:20]).partial_fit(small[20:])
    assert vq.n_iter_ == 2 and len(vq.loss_curve_) == 2
    assert vq.code_counts_.sum(axis=1).tolist() == [40, 40]
    vq.set_params(n_codes=5)
    with pytest.raises(ValueError, match="must stay as they were"):
        vq.partial_fit(small)


def test_pickle_round_trip(fitted, small):
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(copy.score_samples(small),
                                  fitted.score_samples(small))
    np.testing.assert_array_equal(copy.transform(small), fitted.transform(small))


def test_pipeline_and_pandas_output(digits):
    pd = pytest.importorskip("pandas")
    X_train, y_train, _ = digits
    vq = VQVAETransformer(likelihood="bernoulli", max_iter=10, random_state=0)
    pipe = make_pipeline(vq, LogisticRegression(max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_train, y_train)
    assert pipe.score(X_train, y_train) > 0.5
    vq.set_output(transform="pandas")
    Z = vq.transform(pd.DataFrame(X_train[:3]))
    assert list(Z.columns[:2]) == ["vqvaetransformer0", "vqvaetransformer1"]


def test_codebook_is_read_only_and_needs_a_fit(fitted):
    assert fitted.codebook_.shape == (2, 4, 2)
    with pytest.raises(ValueError, match="read-only"):
        fitted.codebook_[0, 0, 0] = 1.0
    with pytest.raises(NotFittedError):
        _ = VQVAETransformer().codebook_


def test_convergence_warning_and_divergence(small):
    with pytest.warns(ConvergenceWarning, match="adam: maximum iterations") as record:
        VQVAETransformer(**SMALL).fit(small)
    assert record[0].filename == __file__  # points at the caller, not skvae
    vq = VQVAETransformer(**{**SMALL, "max_iter": 50}, learning_rate_init=1e8,
                          variance_floor=1e-3)
    with pytest.raises(DivergenceError, match="diverged.*left unchanged"):
        vq.fit(small * 1e3)
    assert not hasattr(vq, "n_iter_")  # left unfitted, as it was


def test_verbose_prints_progress(small, capsys):
    quiet_fit(VQVAETransformer(**SMALL, verbose=1), small)
    assert "Iteration 1, loss = " in capsys.readouterr().out


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "X, message",
    [
        (np.full((4, 3), np.nan), "contains NaN"),
        (np.full((4, 3), np.inf), "contains infinity"),
        (np.empty((0, 3)), "0 sample"),
        ([["a", "b"], ["c", "d"]], "X must be numeric"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_training_data_is_refused_clearly(X, message, method):
    with pytest.raises(ValueError, match=message):
        getattr(VQVAETransformer(), method)(X)


@pytest.mark.parametrize("method", ["transform", "encode", "score_samples"])
def test_bad_data_to_encode_is_refused_clearly(fitted, small, method):
    with pytest.raises(ValueError, match="has 4 features, but VQVAETransformer is "
                                         "expecting 5"):
        getattr(fitted, method)(small[:, :4])
    with pytest.raises(ValueError, match="contains NaN"):
        getattr(fitted, method)(np.full((2, 5), np.nan))
    with pytest.raises(ValueError, match="X must be numeric"):
        getattr(fitted, method)([["a"] * 5])


def test_bernoulli_needs_data_in_the_unit_interval(small):
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\].*MinMaxScaler"):
        VQVAETransformer(likelihood="bernoulli").fit(small * 2)
    vq = quiet_fit(VQVAETransformer(likelihood="bernoulli", **SMALL), small)
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        vq.score_samples(small - 0.5)


@pytest.mark.parametrize(
    "codes, message",
    [
        (np.zeros((3, 3), dtype=int), "n_groups=2 columns, got 3"),
        (np.full((3, 2), 4), r"in \[0, n_codes=4\)"),
        (np.full((3, 2), -1), r"in \[0, n_codes=4\)"),
        (np.full((3, 2), 0.5), "must be integers"),
    ],
)
def test_bad_codes_are_refused_clearly(fitted, codes, message):
    with pytest.raises(ValueError, match=message):
        fitted.decode(codes)


def test_inverse_transform_needs_quantized_vectors(fitted, small):
    with pytest.raises(ValueError, match="n_groups \\* code_dim = 4 columns, got 5"):
        fitted.inverse_transform(small)


@pytest.mark.parametrize(
    "params",
    [
        {"n_groups": 0}, {"n_codes": 0}, {"code_dim": 1.5},
        {"hidden_layer_sizes": (3, 0)}, {"hidden_layer_sizes": "wide"},
        {"activation": "gelu"}, {"likelihood": "poisson"}, {"variance_floor": 0},
        {"commitment_cost": -1}, {"decay": 1.0}, {"dead_code_threshold": 1.0},
        {"learning_rate_init": 0}, {"batch_size": 0}, {"max_iter": 0}, {"tol": -1},
        {"n_iter_no_change": 0}, {"random_state": "seed"},
    ],
)
def test_invalid_parameters_are_refused_at_fit(small, params):
    vq = VQVAETransformer(**params)  # nothing is checked in __init__
    with pytest.raises(ValueError, match="hidden_layer_sizes|parameter of "
                                         "VQVAETransformer"):
        vq.fit(small)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_sample_counts_are_refused(fitted, bad):
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_scores_are_finite_for_rows_far_from_the_data(dtype, likelihood):
    rng = np.random.default_rng(0)
    X = rng.random((60, 5)).astype(dtype)
    vq = quiet_fit(VQVAETransformer(2, 4, hidden_layer_sizes=(8,), max_iter=3,
                                    likelihood=likelihood, random_state=0), X)
    if likelihood == "bernoulli":
        far = np.array([[0, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=dtype)
    else:
        big = np.finfo(dtype).max / 10
        far = np.array([[1e30, 0, 0, 0, 0], [big, -big, big, -big, big]], dtype=dtype)
    scores = vq.score_samples(far)
    assert scores.dtype == dtype and np.all(np.isfinite(scores))
    assert np.isfinite(vq.score(far))
    assert np.all(np.isfinite(vq.transform(far)))
    if likelihood == "gaussian":
        assert np.all(scores < vq.score_samples(X).min())


# -- the data's units ------------------------------------------------------------


def relative_reconstruction_error(X):
    """Mean squared error of decode(encode(X)) over X's mean feature variance,
    with the default settings."""
    vq = quiet_fit(VQVAETransformer(random_state=0), X)
    return np.mean((X - vq.decode(vq.encode(X))) ** 2) / np.mean(X.var(axis=0))


def test_reconstruction_does_not_depend_on_the_data_offset_and_scale():
    # The Gaussian head standardizes the data, as the VAE's does: before it,
    # X + 2000 reconstructed at 1.02 times the data's variance and X * 1e-6 at
    # 1.00 (every group on one code), against 0.026 on X.
    X, _ = make_blobs(n_samples=500, n_features=8, centers=5, random_state=0)
    on_X = relative_reconstruction_error(X)
    assert on_X < 0.1
    for shifted_or_scaled in (X + 2000, X * 1e-6):
        assert relative_reconstruction_error(shifted_or_scaled) == pytest.approx(
            on_X, rel=0.1)


def test_scores_are_densities_of_the_original_data(small):
    # Scaling X by c scales the density by c^-d: the log-Jacobian is added.
    a = quiet_fit(VQVAETransformer(**SMALL), small)
    b = quiet_fit(VQVAETransformer(**SMALL), small * 10)
    np.testing.assert_array_equal(a.encode(small), b.encode(small * 10))
    np.testing.assert_allclose(b.score_samples(small * 10),
                               a.score_samples(small) - small.shape[1] * np.log(10))


def test_state_saved_before_scaling_loads_with_the_identity(fitted, small):
    # A VQ-VAE saved before the network scaled its data has no scaler in its
    # state: it worked on the data as they are.
    state = fitted.__getstate__()
    state["_network"] = {key: value for key, value in state["_network"].items()
                         if not key.startswith("scaler_")}
    old = VQVAETransformer.__new__(VQVAETransformer)
    old.__setstate__(state)
    assert old._network.scaler.scale == 1.0 and not old._network.scaler.shift.any()
    assert old._network.head.var_floor == fitted._network.head.var_floor


def test_batch_size_warning_points_at_the_caller(small):
    with pytest.warns(UserWarning, match="batch_size=50 is larger") as record:
        quiet_fit(VQVAETransformer(**{**SMALL, "max_iter": 1}, batch_size=50), small)
    assert record[0].filename == __file__


def test_loss_curve_display_draws_a_fitted_vq_vae(fitted):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skvae.plotting import LossCurveDisplay

    display = LossCurveDisplay.from_estimator(fitted)
    assert len(display.line_.get_xdata()) == fitted.n_iter_
    assert display.ax_.get_xlabel() == "epoch"
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(VQVAETransformer())
