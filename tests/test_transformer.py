import pickle
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tolerances import assert_rows_agree

from skvae import VAETransformer
from skvae._models.vae import VAENetwork
from skvae.exceptions import DivergenceError


@pytest.fixture(scope="module")
def digits():
    """Digits scaled to [0, 1], split 70/30 stratified."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def small():
    return np.random.default_rng(0).random((40, 5))


def quiet_fit(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X)


# -- learning, not just running ----------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_training_raises_held_out_elbo_far_above_untrained(digits, solver):
    X_train, X_test, _, _ = digits
    params = dict(n_components=8, likelihood="bernoulli", solver=solver, random_state=0)
    untrained = VAETransformer(**params)
    untrained._initialize(untrained._validate_X(X_train, reset=True))
    trained = quiet_fit(VAETransformer(**params), X_train)
    gain = trained.score(X_test) - untrained.score(X_test)
    # The initial decoder already models each pixel independently at its mean
    # (about -28.9 nats); the trained codes add about 3.5 to 4.5 nats.
    assert gain > 3, gain


# A beta-VAE with beta < 1 keeps more of each image in its code. Trained for
# 100 epochs without early stopping (which stops on the ELBO, not on what
# neighbours read), its 8-D codes reach 5-NN accuracy 0.965 to 0.974 here
# over seeds 0-3; PCA's is 0.954.
CODES = dict(n_components=8, likelihood="bernoulli", beta=0.2, early_stopping=False,
             max_iter=100, random_state=0)


def test_codes_are_at_least_as_useful_as_pca_for_5nn(digits):
    X_train, X_test, y_train, y_test = digits
    vae = quiet_fit(VAETransformer(**CODES), X_train)
    pca = PCA(8).fit(X_train)

    def accuracy(transform):
        knn = KNeighborsClassifier(5).fit(transform(X_train), y_train)
        return knn.score(transform(X_test), y_test)

    assert accuracy(vae.transform) >= accuracy(pca.transform)


def test_log_likelihood_bounds_the_elbo_and_tightens():
    # Standardized breast cancer data with 4 codes leaves a clear gap between
    # the ELBO and log p(x) (about 1 nat) for the estimate to close.
    X = StandardScaler().fit_transform(load_breast_cancer().data)
    vae = quiet_fit(VAETransformer(4, solver="lbfgs", hidden_layer_sizes=(64,),
                                   random_state=0, max_iter=200), X[:400])
    X_test = X[400:]
    elbo = vae.score_samples(X_test).mean()

    def estimate(K):  # averaged over seeds: the bound holds in expectation
        return np.mean([vae.log_likelihood(X_test, K, random_state=seed).mean()
                        for seed in range(3)])

    estimates = [estimate(K) for K in (10, 100, 1000)]
    assert elbo < estimates[0] < estimates[1] < estimates[2]
    # Towards a limit: each tenfold of samples gains less than the last.
    assert estimates[2] - estimates[1] < estimates[1] - estimates[0]
    np.testing.assert_array_equal(vae.log_likelihood(X_test, 50),
                                  vae.log_likelihood(X_test, 50))


def test_reconstruction_error_is_lower_on_data_like_the_training_data(digits):
    X_train, X_test, _, _ = digits
    vae = quiet_fit(VAETransformer(8, random_state=0, max_iter=100), X_train)
    scrambled = np.random.default_rng(0).permuted(X_test, axis=1)
    assert vae.reconstruction_error(X_test).mean() < vae.reconstruction_error(
        scrambled).mean()
    error = vae.reconstruction_error(X_test)
    expected = ((X_test - vae.inverse_transform(vae.transform(X_test))) ** 2).sum(1)
    np.testing.assert_allclose(error, expected, rtol=1e-10)


# -- scikit-learn integration ------------------------------------------------


def test_pipeline_with_classifier(digits):
    X_train, X_test, y_train, y_test = digits
    vae = VAETransformer(**{**CODES, "likelihood": "gaussian"})
    pipe = make_pipeline(StandardScaler(), vae, LogisticRegression(max_iter=1000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_train, y_train)
    # Measured 0.88 (chance is 0.1).
    assert pipe.score(X_test, y_test) > 0.85


def test_grid_search_selects_by_elbo_without_labels():
    # Data with a known three-dimensional latent structure: the true ELBO,
    # averaged over held-out folds, must prefer 3 codes to 1, and beta = 1
    # (the objective scores measure) to beta = 4.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 3)) @ rng.standard_normal((3, 10))
    X += 0.1 * rng.standard_normal(X.shape)
    search = GridSearchCV(VAETransformer(random_state=0, max_iter=100),
                          {"n_components": [1, 3], "beta": [1.0, 4.0]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert search.best_params_ == {"n_components": 3, "beta": 1.0}
    assert search.best_score_ == scores.max()


def test_clone_and_pickle(small):
    vae = quiet_fit(VAETransformer(2, random_state=0, max_iter=20), small)
    copy = clone(vae)
    assert copy.get_params() == vae.get_params()
    with pytest.raises(NotFittedError):
        copy.transform(small)
    restored = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(restored.transform(small), vae.transform(small))
    np.testing.assert_array_equal(restored.score_samples(small),
                                  vae.score_samples(small))
    # The restored weights are still views of one buffer.
    assert restored.encoder_coefs_[0].base is restored._network.params


def test_set_output_pandas(small):
    pd = pytest.importorskip("pandas")
    vae = VAETransformer(3, random_state=0, max_iter=5).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Z = vae.fit_transform(pd.DataFrame(small, columns=list("abcde")))
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["vaetransformer0", "vaetransformer1", "vaetransformer2"]
    np.testing.assert_array_equal(vae.feature_names_in_, list("abcde"))


# -- determinism and dtypes --------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_same_random_state_gives_bit_identical_parameters(small, solver):
    def fit(seed):
        vae = VAETransformer(2, solver=solver, random_state=seed, max_iter=15)
        return quiet_fit(vae, small)._network.params

    np.testing.assert_array_equal(fit(3), fit(3))
    assert not np.array_equal(fit(3), fit(4))


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_float32_is_computed_and_returned_in_float32(small, solver):
    X = small.astype(np.float32)
    vae = quiet_fit(VAETransformer(2, solver=solver, random_state=0, max_iter=10), X)
    assert vae._network.params.dtype == np.float32
    assert all(W.dtype == np.float32 for W in vae.encoder_coefs_ + vae.decoder_coefs_)
    Z = vae.transform(X)
    assert Z.dtype == np.float32
    assert vae.inverse_transform(Z).dtype == np.float32
    assert vae.score_samples(X).dtype == np.float32
    assert vae.log_likelihood(X, 10).dtype == np.float32
    assert vae.sample(3, random_state=0).dtype == np.float32
    # float64 input to a float32 model comes back in float64.
    assert vae.transform(small).dtype == np.float64


def test_every_score_is_row_wise(small):
    # One row at a time, and the rows reversed, give exactly those rows of
    # the full result: no noise per call or per position.
    vae = quiet_fit(VAETransformer(2, random_state=0, max_iter=10), small)
    scores = {
        "score_samples": vae.score_samples,
        "log_likelihood": lambda X: vae.log_likelihood(X, 50),
        "reconstruction_error": vae.reconstruction_error,
    }
    for name, score in scores.items():
        full = score(small)
        scale = np.max(np.abs(full))
        one_by_one = np.concatenate([score(small[i:i + 1]) for i in range(5)])
        # Up to the rounding of the 64-unit hidden layer's sums (tolerances.py).
        assert_rows_agree(one_by_one, full[:5], small.dtype, 64, scale, name)
        assert_rows_agree(score(small[::-1]), full[::-1], small.dtype, 64, scale,
                          name)


def test_chunked_inference_matches_one_pass(small):
    vae = quiet_fit(VAETransformer(2, random_state=0, max_iter=10), small)
    Z, scores = vae.transform(small), vae.score_samples(small)
    ll, errors = vae.log_likelihood(small, 20), vae.reconstruction_error(small)
    with config_context(working_memory=0.0001):  # forces chunks of one row
        for chunked, whole in ((vae.transform(small), Z),
                               (vae.score_samples(small), scores),
                               (vae.log_likelihood(small, 20), ll),
                               (vae.reconstruction_error(small), errors)):
            # Up to the rounding of the 64-unit hidden layer's sums.
            assert_rows_agree(chunked, whole, small.dtype, 64, np.max(np.abs(whole)))


# -- solver behaviour ----------------------------------------------------------


def test_partial_fit_exists_only_for_adam(small):
    assert not hasattr(VAETransformer(solver="lbfgs"), "partial_fit")
    vae = VAETransformer(2, solver="adam", random_state=0, learning_rate_init=0.01)
    for _ in range(30):
        vae.partial_fit(small)
    assert vae.n_iter_ == 30 and len(vae.loss_curve_) == 30
    assert vae.loss_curve_[-1] < vae.loss_curve_[0]


def test_warm_start_continues_and_refuses_a_new_architecture(small):
    vae = quiet_fit(VAETransformer(2, random_state=0, max_iter=5, warm_start=True),
                    small)
    first = vae._network
    quiet_fit(vae, small)
    assert vae.n_iter_ == 10 and vae._network is first
    vae.set_params(n_components=3)
    with pytest.raises(ValueError, match="must stay as they were"):
        vae.fit(small)


def test_convergence_warning_at_max_iter(small):
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        VAETransformer(random_state=0, max_iter=2).fit(small)


def test_early_stopping_records_validation_scores(digits):
    X_train = digits[0][:300]
    vae = quiet_fit(VAETransformer(2, solver="adam", early_stopping=True,
                                   random_state=0, max_iter=30), X_train)
    assert len(vae.validation_scores_) == vae.n_iter_
    assert vae.best_validation_score_ == max(vae.validation_scores_)


def test_divergence_leaves_the_estimator_as_it_was(small):
    vae = VAETransformer(2, solver="adam", learning_rate_init=1e8, random_state=0)
    with pytest.raises(DivergenceError, match="diverged.*left unchanged"):
        vae.fit(small * 100)
    assert vars(vae) == vars(clone(vae))  # still unfitted
    fitted = quiet_fit(VAETransformer(2, solver="adam", random_state=0, max_iter=5),
                       small)
    before = fitted.score_samples(small)
    fitted.set_params(learning_rate_init=1e8, warm_start=True)
    with pytest.raises(DivergenceError):
        fitted.fit(small * 100)
    np.testing.assert_array_equal(fitted.score_samples(small), before)
    assert fitted.n_iter_ == 5


def test_verbose_prints_progress(small, capsys):
    quiet_fit(VAETransformer(random_state=0, max_iter=3, verbose=1), small)
    assert "Iteration 1, loss = " in capsys.readouterr().out


# -- fitted attributes and other methods -------------------------------------


def test_fitted_weights_are_read_only_and_shaped(small):
    vae = VAETransformer(3, hidden_layer_sizes=(7, 4))
    assert not hasattr(vae, "encoder_coefs_")
    quiet_fit(vae, small)
    assert [W.shape for W in vae.encoder_coefs_] == [(5, 7), (7, 4), (4, 6)]
    assert [W.shape for W in vae.decoder_coefs_] == [(3, 4), (4, 7), (7, 5)]
    assert [b.shape for b in vae.decoder_intercepts_] == [(4,), (7,), (5,)]
    assert vae.decoder_variance_.shape == (5,) and np.all(vae.decoder_variance_ > 0)
    with pytest.raises(ValueError, match="read-only"):
        vae.encoder_coefs_[0][0, 0] = 1.0
    bernoulli = quiet_fit(VAETransformer(likelihood="bernoulli", max_iter=2), small)
    with pytest.raises(AttributeError, match="gaussian"):
        _ = bernoulli.decoder_variance_


def test_sample_and_inverse_transform(small):
    vae = quiet_fit(VAETransformer(2, likelihood="bernoulli", random_state=0,
                                   max_iter=10), small)
    means = vae.sample(6, random_state=1, mean=True)
    assert means.shape == (6, 5)
    assert np.all((means > 0) & (means < 1))
    np.testing.assert_array_equal(means, vae.sample(6, random_state=1, mean=True))
    codes = np.random.RandomState(1).standard_normal((6, 2))
    np.testing.assert_array_equal(means, vae.inverse_transform(codes))
    draws = vae.sample(6, random_state=1)
    assert set(np.unique(draws)) <= {0.0, 1.0}  # draws from the Bernoulli model
    np.testing.assert_array_equal(draws, vae.sample(6, random_state=1))


def test_score_is_the_mean_true_elbo_whatever_beta(small):
    vae = quiet_fit(VAETransformer(2, beta=3.0, random_state=0, max_iter=10), small)
    scores = vae.score_samples(small)
    assert vae.score(small) == pytest.approx(scores.mean())
    net, noise = vae._network, vae._score_noise
    np.testing.assert_allclose(scores, net.elbo(small, noise, beta=1.0))
    assert np.all(scores > net.elbo(small, noise, beta=3.0))


# -- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "X, message",
    [
        (np.full((4, 3), np.inf), "contains infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.ones(3), "Expected 2D array"),
        ([["a", "b"], ["c", "d"]], "X must be numeric"),
        (np.ones((3, 2)) + 1j, "Complex data not supported"),
    ],
)
def test_bad_training_data_is_refused_clearly(X, message):
    with pytest.raises(ValueError, match=message):
        VAETransformer().fit(X)


def test_bernoulli_needs_data_in_the_unit_interval(small):
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\].*MinMaxScaler"):
        VAETransformer(likelihood="bernoulli").fit(small * 2)
    quiet_fit(VAETransformer(likelihood="bernoulli", max_iter=2), small + 1e-9)
    vae = quiet_fit(VAETransformer(likelihood="bernoulli", max_iter=2), small)
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        vae.score_samples(small - 0.5)


@pytest.mark.parametrize("method", ["transform", "score_samples", "log_likelihood",
                                    "reconstruction_error"])
def test_wrong_number_of_features_is_refused(small, method):
    vae = quiet_fit(VAETransformer(max_iter=2), small)
    with pytest.raises(ValueError, match="has 4 features, but VAETransformer is "
                                         "expecting 5"):
        getattr(vae, method)(small[:, :4])


@pytest.mark.parametrize("method", ["score_samples", "log_likelihood",
                                    "reconstruction_error", "transform"])
@pytest.mark.parametrize(
    "X, message",
    [
        (np.full((2, 5), np.inf), "contains infinity"),
        (np.empty((0, 5)), "0 sample"),
        ([["a"] * 5], "X must be numeric"),
    ],
)
def test_bad_data_to_score_is_refused_clearly(small, method, X, message):
    vae = quiet_fit(VAETransformer(max_iter=2), small)
    with pytest.raises(ValueError, match=message):
        getattr(vae, method)(X)


@pytest.mark.parametrize("method", ["log_likelihood", "reconstruction_error"])
def test_bernoulli_scores_need_data_in_the_unit_interval(small, method):
    vae = quiet_fit(VAETransformer(likelihood="bernoulli", max_iter=2), small)
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        getattr(vae, method)(small + 1)


def test_inverse_transform_needs_codes(small):
    vae = quiet_fit(VAETransformer(2, max_iter=2), small)
    with pytest.raises(ValueError, match="n_components=2 columns, got 5"):
        vae.inverse_transform(small)


@pytest.mark.parametrize(
    "params",
    [
        {"n_components": 0}, {"n_components": 1.5}, {"hidden_layer_sizes": (3, 0)},
        {"hidden_layer_sizes": "wide"}, {"activation": "gelu"},
        {"likelihood": "poisson"}, {"beta": -1}, {"solver": "sgd"}, {"alpha": -1e-4},
        {"batch_size": 0}, {"batch_size": "big"}, {"learning_rate_init": 0},
        {"max_iter": 0}, {"tol": -1}, {"n_iter_no_change": 0},
        {"early_stopping": "yes"}, {"validation_fraction": 1.0},
        {"random_state": "seed"}, {"warm_start": 2.5}, {"variance_floor": 0},
        {"kl_warmup": -1}, {"free_bits": -0.1}, {"n_importance_samples": 0},
        {"prior": "laplace"}, {"decoder": "pixelcnn"}, {"n_flow_layers": 0},
    ],
)
def test_invalid_parameters_are_refused_at_fit(small, params):
    vae = VAETransformer(**params)  # nothing is checked in __init__
    message = "hidden_layer_sizes|parameter of VAETransformer"
    with pytest.raises(ValueError, match=message):
        vae.fit(small)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_sample_counts_are_refused(small, bad):
    vae = quiet_fit(VAETransformer(max_iter=2), small)
    with pytest.raises(ValueError, match="positive int"):
        vae.sample(bad)
    with pytest.raises(ValueError, match="positive int"):
        vae.log_likelihood(small, n_samples=bad)


def test_early_stopping_needs_room_for_a_validation_set():
    with pytest.raises(ValueError, match="each side needs at least one"):
        VAETransformer(solver="adam", early_stopping=True).fit(np.ones((3, 2)))


def test_transform_can_return_the_posterior_standard_deviation(small):
    vae = quiet_fit(VAETransformer(2, random_state=0, max_iter=10), small)
    Z, Z_std = vae.transform(small, return_std=True)
    mu, log_var = vae._network.encode(small)
    np.testing.assert_array_equal(Z, vae.transform(small))
    np.testing.assert_allclose(Z_std, np.exp(0.5 * log_var))
    assert Z_std.shape == Z.shape and np.all(Z_std > 0)


@pytest.mark.parametrize("solver, first_round", [("adam", 1), ("lbfgs", 20)])
def test_kl_warmup_starts_from_the_reconstruction_objective(small, solver,
                                                            first_round):
    # The KL weight is 0 at iteration 0 (for L-BFGS-B, over its first round of
    # 20 iterations): that training is exactly training with beta = 0.
    params = dict(n_components=2, solver=solver, random_state=0, tol=0,
                  n_iter_no_change=10**6)
    warm = quiet_fit(VAETransformer(kl_warmup=1000, max_iter=first_round, **params),
                     small)
    no_kl = quiet_fit(VAETransformer(beta=0.0, max_iter=first_round, **params), small)
    np.testing.assert_array_equal(warm._network.params, no_kl._network.params)
    assert warm.loss_curve_ == no_kl.loss_curve_
    # Afterwards the weight grows and the two runs part.
    warm = quiet_fit(VAETransformer(kl_warmup=4, max_iter=2 * first_round, **params),
                     small)
    no_kl = quiet_fit(VAETransformer(beta=0.0, max_iter=2 * first_round, **params),
                      small)
    assert warm.loss_curve_[:first_round] == no_kl.loss_curve_[:first_round]
    assert warm.loss_curve_[first_round:] != no_kl.loss_curve_[first_round:]


@pytest.mark.parametrize("decoder", ["mlp", "autoregressive"])
def test_variance_floor_bounds_the_gaussian_variance(small, decoder):
    # A constant feature would drive its variance to zero without the floor.
    X = np.hstack([small, np.full((len(small), 1), 0.5)])
    floor = 0.2 * X.var(axis=0).mean()
    vae = quiet_fit(VAETransformer(2, variance_floor=0.2, decoder=decoder,
                                   max_iter=30, random_state=0), X)
    var = vae.decoder_variance_  # in the data's units: the floor is too
    scale = vae._network.scaler.scale
    assert vae._network.decoder.head.var_floor * scale**2 == pytest.approx(floor,
                                                                           rel=1e-12)
    assert np.all(var > floor)
    # The constant feature's variance heads for the floor.
    assert var[-1] == var.min() and var[-1] < 1.5 * floor


@pytest.mark.parametrize("solver, per_round", [("adam", 1), ("lbfgs", 20)])
def test_kl_warmup_ramps_the_kl_weight_linearly_to_beta(small, solver, per_round,
                                                        monkeypatch):
    # The objective sees beta * min(1, t / kl_warmup) at iteration t (for
    # L-BFGS-B, t at the start of each round of 20 iterations), then beta.
    seen = []
    loss_and_grad = VAENetwork.loss_and_grad

    def spy(self, X, eps, objective, *args, **kwargs):
        seen.append(objective.beta)
        return loss_and_grad(self, X, eps, objective, *args, **kwargs)

    monkeypatch.setattr(VAENetwork, "loss_and_grad", spy)
    quiet_fit(VAETransformer(2, solver=solver, beta=0.5, kl_warmup=3 * per_round,
                             max_iter=5 * per_round, tol=0, n_iter_no_change=10**6,
                             random_state=0), small)
    assert sorted(set(seen)) == [0.0, 0.5 / 3, 1.0 / 3, 0.5]
    assert seen == sorted(seen)  # ramps up, never back


@pytest.mark.parametrize("solver, first_full, after", [("adam", 11, 2),
                                                       ("lbfgs", 21, 1)])
def test_stopping_waits_for_the_end_of_the_kl_warmup(small, solver, first_full,
                                                     after):
    # With an impossible tol nothing after the first compared step counts as
    # an improvement: Adam stops two epochs after the first compared one;
    # L-BFGS-B (whose gtol=tol also ends each round after one iteration)
    # one round after it, the fixed-draw loss not having fallen by tol. The
    # first compared step is the first with the full KL weight.
    params = dict(n_components=2, solver=solver, tol=1e9, n_iter_no_change=1,
                  random_state=0)
    assert quiet_fit(VAETransformer(**params), small).n_iter_ == 1 + after
    warm = quiet_fit(VAETransformer(kl_warmup=10, **params), small)
    assert warm.n_iter_ == first_full + after


def test_free_bits_above_every_kl_leaves_only_a_constant(small):
    # With free_bits far above any dimension's KL, the KL term is the constant
    # n_components * free_bits: its gradient vanishes, so training is beta=0
    # training bit for bit, and the loss curve is that curve shifted.
    params = dict(n_components=2, solver="adam", random_state=0, max_iter=5,
                  tol=0, n_iter_no_change=10**6)
    held = quiet_fit(VAETransformer(free_bits=100.0, **params), small)
    no_kl = quiet_fit(VAETransformer(beta=0.0, **params), small)
    np.testing.assert_array_equal(held._network.params, no_kl._network.params)
    np.testing.assert_allclose(np.array(held.loss_curve_) - 200.0,
                               no_kl.loss_curve_, rtol=0, atol=1e-10)


def test_free_bits_keeps_every_latent_dimension_in_use(digits):
    X = digits[0]
    params = dict(n_components=8, likelihood="bernoulli", solver="adam",
                  learning_rate_init=3e-3, random_state=0)

    def kl_per_dimension(vae):
        mu, log_var = vae._network.encode(X)
        return (-0.5 * (1 + log_var - mu**2 - np.exp(log_var))).mean(axis=0)

    plain = kl_per_dimension(quiet_fit(VAETransformer(free_bits=0.0, **params), X))
    auto = kl_per_dimension(quiet_fit(VAETransformer(**params), X))  # 0.25
    held = kl_per_dimension(quiet_fit(VAETransformer(free_bits=0.5, **params), X))
    # Without free bits about half the dimensions collapse to the prior.
    assert np.sum(plain > 0.1) < 8
    assert np.all(auto > 0.2)
    assert np.all(held > 0.4)


@pytest.mark.parametrize("params", [{"beta": 2.0}, {"kl_warmup": 5},
                                    {"free_bits": 0.1}])
def test_importance_weighted_training_refuses_kl_options(small, params):
    with pytest.raises(ValueError, match="no separate KL term"):
        VAETransformer(n_importance_samples=3, **params).fit(small)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_importance_weighted_training_records_the_bound(small, solver):
    vae = quiet_fit(VAETransformer(2, n_importance_samples=4, solver=solver,
                                   random_state=0, max_iter=20, tol=0,
                                   n_iter_no_change=100), small)
    assert len(vae.loss_curve_) == vae.n_iter_ == 20
    assert np.all(np.isfinite(vae.loss_curve_))
    # Adam's per-epoch loss is one noisy batch: compare the last five epochs.
    assert np.mean(vae.loss_curve_[-5:]) < vae.loss_curve_[0]


def test_flow_prior_round_trips_and_samples_from_the_learned_prior(small):
    vae = quiet_fit(VAETransformer(2, prior="flow", random_state=0, max_iter=30),
                    small)
    restored = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(restored.score_samples(small),
                                  vae.score_samples(small))
    np.testing.assert_array_equal(restored.sample(5, random_state=0),
                                  vae.sample(5, random_state=0))
    # sample() decodes flow samples, not raw N(0, I) draws.
    eps = np.random.RandomState(0).standard_normal((5, 2))
    assert not np.allclose(vae.sample(5, random_state=0), vae.inverse_transform(eps))
    net = restored._network  # the flow's weights are still views of the buffer
    assert np.shares_memory(net.prior.weights()[0][0], net.params)


def test_warm_start_refuses_a_changed_prior(small):
    vae = quiet_fit(VAETransformer(2, warm_start=True, max_iter=2), small)
    vae.set_params(prior="flow")
    with pytest.raises(ValueError, match="the prior's and the decoder's"):
        vae.fit(small)
    with pytest.raises(ValueError, match="flow_hidden_layer_sizes must be"):
        VAETransformer(prior="flow", flow_hidden_layer_sizes=(4, 0)).fit(small)


def test_autoregressive_decoder_round_trips_and_generates(digits):
    X = (digits[0][:300] > 0.5).astype(float)
    vae = quiet_fit(VAETransformer(4, likelihood="bernoulli", decoder="autoregressive",
                                   window=3, random_state=0, max_iter=20), X)
    restored = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(restored.score_samples(X), vae.score_samples(X))
    Z = vae.transform(X[:5])
    generated = vae.inverse_transform(Z)
    np.testing.assert_array_equal(generated, restored.inverse_transform(Z))
    assert generated.shape == (5, 64) and np.all((generated > 0) & (generated < 1))
    # The window is part of the architecture: changing it needs a new fit.
    vae.set_params(warm_start=True, window=5)
    with pytest.raises(ValueError, match="decoder's settings"):
        vae.fit(X)
    with pytest.raises(ValueError, match="'window' parameter"):
        VAETransformer(decoder="autoregressive", window=0).fit(X)
