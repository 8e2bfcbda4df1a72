"""sample_weight: a weighted ELBO, weighted starting statistics, weighted threshold."""

import warnings

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from sklearn.exceptions import ConvergenceWarning
from tolerances import assert_float32_matches_float64

from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer, VQVAETransformer
from skvae._models.objectives import ELBO, IWAE
from skvae._models.vae import build_network
from skvae._models.vq import VQNetwork
from skvae._parts.quantizer import batch_statistics, commitment_loss_and_grad


def make_network(prior="normal", likelihood="gaussian", dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, 5)).astype(dtype)
    if likelihood == "bernoulli":
        X = (X > 0).astype(dtype)
    net = build_network(5, 3, (6,), "tanh", likelihood, dtype, prior=prior,
                        settings={"n_flow_layers": 1, "flow_hidden_layer_sizes": (4,),
                                  "window": None})
    net.initialize(X, rng)
    net.params += (0.1 * rng.standard_normal(net.params.shape)).astype(dtype)
    return net, X, rng


OBJECTIVES = {
    "elbo": lambda: ELBO(beta=0.7),
    "free-bits": lambda: ELBO(beta=1.0, free_bits=0.05),
    "iwae": lambda: IWAE(4),
}


@pytest.mark.parametrize("objective", list(OBJECTIVES))
@pytest.mark.parametrize("prior", ["normal", "flow"])
def test_weighted_loss_gradient_matches_finite_differences(objective, prior):
    net, X, rng = make_network(prior)
    obj = OBJECTIVES[objective]()
    eps = rng.standard_normal((obj.n_draws, len(X), 3))
    weights = rng.integers(0, 4, size=len(X)).astype(float) + rng.random(len(X))

    def loss():
        return net.loss_and_grad(X, eps, obj, 0.3, sample_weight=weights)

    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_zero_weights_drop_rows_and_integer_weights_repeat_them(objective):
    """In the objective both hold exactly: the same noise goes with each row."""
    net, X, rng = make_network("flow")
    obj = OBJECTIVES[objective]()
    eps = rng.standard_normal((obj.n_draws, len(X), 3))
    weights = np.array([0, 1, 2, 0, 3, 1, 0, 2])

    def loss_and_grad(X, eps, sample_weight=None):
        loss = net.loss_and_grad(X, eps, obj, 0.3, sample_weight=sample_weight)
        return loss, net.grad.copy()

    weighted = loss_and_grad(X, eps, weights.astype(float))
    kept = weights > 0
    dropped = loss_and_grad(X[kept], eps[:, kept], weights[kept].astype(float))
    repeated = loss_and_grad(np.repeat(X, weights, axis=0),
                             np.repeat(eps, weights, axis=1))
    for other in (dropped, repeated):
        np.testing.assert_allclose(weighted[0], other[0], rtol=1e-12)
        np.testing.assert_allclose(weighted[1], other[1], rtol=1e-10, atol=1e-12)
    # Unit weights are the unweighted loss.
    np.testing.assert_allclose(loss_and_grad(X, eps, np.ones(len(X)))[0],
                               loss_and_grad(X, eps)[0], rtol=1e-14)


def test_float32_weighted_loss_is_close_to_float64():
    net64, X, rng = make_network()
    net32 = net64.astype(np.float32)
    eps = rng.standard_normal((1, len(X), 3))
    weights = rng.random(len(X))
    loss64 = net64.loss_and_grad(X, eps, ELBO(), 0.1, sample_weight=weights)
    loss32 = net32.loss_and_grad(X.astype(np.float32), eps.astype(np.float32), ELBO(),
                                 0.1, sample_weight=weights.astype(np.float32))
    assert net32.grad.dtype == np.float32
    assert_float32_matches_float64(loss32, loss64, net32.grad, net64.grad)


def test_weighted_starting_statistics_equal_repetition():
    net, X, rng = make_network()
    weights = np.array([0, 1, 2, 0, 3, 1, 0, 2])
    weighted, repeated = (build_network(5, 3, (6,), "tanh", "gaussian", np.float64)
                          for _ in range(2))
    weighted.initialize(X, np.random.default_rng(0), 0.1, weights.astype(float))
    repeated.initialize(np.repeat(X, weights, axis=0), np.random.default_rng(0), 0.1)
    np.testing.assert_allclose(weighted.scaler.shift, repeated.scaler.shift)
    assert weighted.scaler.scale == pytest.approx(repeated.scaler.scale, rel=1e-12)
    np.testing.assert_allclose(weighted.params, repeated.params, atol=1e-12)
    assert weighted.decoder.head.var_floor == pytest.approx(
        repeated.decoder.head.var_floor, rel=1e-12)


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(60, 4)) + [3, 0, 0, 0]
    B = rng.normal(size=(60, 4)) @ np.diag([1, 3, 1, 0.3])
    return A, B


def quiet(fit, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


def test_lbfgs_zero_weights_equal_dropping_the_rows(clusters):
    """Rows of zero weight still draw noise, so the kept rows draw the same
    noise as without them only if the zero-weight rows come last and training
    ends within one round of L-BFGS-B (noise is redrawn between rounds, from
    a generator that the extra rows have advanced): then the fits agree to
    rounding."""
    A, B = clusters
    X = np.vstack([A, B])
    weights = np.r_[np.ones(100), np.zeros(20)]
    params = dict(n_components=2, solver="lbfgs", max_iter=20, tol=0,
                  random_state=0)
    weighted = quiet(VAETransformer(**params).fit, X, sample_weight=weights)
    dropped = quiet(VAETransformer(**params).fit, X[:100])
    assert weighted.n_iter_ == dropped.n_iter_ == 20
    np.testing.assert_allclose(weighted.transform(X), dropped.transform(X),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(weighted.score_samples(X), dropped.score_samples(X),
                               rtol=1e-9)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_integer_weights_fit_close_to_repeated_rows(solver, clusters):
    """Cluster A weighted 3 against repeated three times, and unweighted: the
    models' preference for A over B (a difference of mean ELBOs) matches the
    repeated fit's, and not the unweighted fit's."""
    A, B = clusters
    X = np.vstack([A, B])
    weights = np.r_[np.full(60, 3.0), np.ones(60)]
    params = dict(n_components=2, solver=solver, random_state=0,
                  max_iter=200 if solver == "lbfgs" else 100)

    def preference(model):
        return model.score(A) - model.score(B)

    weighted = preference(quiet(VAETransformer(**params).fit, X, sample_weight=weights))
    repeated_rows = np.repeat(X, weights.astype(int), axis=0)
    repeated = preference(quiet(VAETransformer(**params).fit, repeated_rows))
    unweighted = preference(quiet(VAETransformer(**params).fit, X))
    assert abs(weighted - repeated) < 0.5 * abs(repeated - unweighted)


def test_partial_fit_and_early_stopping_take_weights(clusters):
    A, B = clusters
    X = np.vstack([A, B])
    weights = np.r_[np.ones(60), np.zeros(60)]
    vae = quiet(VAETransformer(2, solver="adam", early_stopping=True, max_iter=5,
                               random_state=0).fit, X, sample_weight=weights)
    assert len(vae.validation_scores_) == vae.n_iter_
    vae.partial_fit(X, sample_weight=weights)
    # Batches of zero weight are skipped: an epoch over them changes nothing.
    before = vae.transform(X)
    vae.set_params(batch_size=30).partial_fit(X, sample_weight=np.r_[np.ones(119), 0])
    assert not np.array_equal(before, vae.transform(X))
    before = vae.transform(X)
    with pytest.raises(ValueError, match="zero"):
        vae.partial_fit(B, sample_weight=np.zeros(60))
    np.testing.assert_array_equal(before, vae.transform(X))


def test_conditional_class_prior_is_weighted(clusters):
    A, B = clusters
    X = np.vstack([A, B])
    y = np.r_[np.zeros(60), np.ones(60)]
    cvae = quiet(ConditionalVAE(2, max_iter=5, random_state=0).fit, X, y,
                 sample_weight=np.r_[np.full(60, 3.0), np.ones(60)])
    np.testing.assert_allclose(cvae.class_prior_, [0.75, 0.25])


def test_detector_threshold_is_a_weighted_quantile(clusters):
    A, B = clusters
    X = np.vstack([A, B])
    weights = np.r_[np.full(60, 3.0), np.ones(60)]
    detector = quiet(VAEOutlierDetector(2, contamination=0.25, max_iter=20,
                                        random_state=0).fit, X, sample_weight=weights)
    scores = detector.training_scores_
    flagged = weights[scores < detector.offset_].sum()
    # The threshold is a training score, and the row at it is not flagged.
    assert flagged <= 0.25 * weights.sum() <= flagged + weights.max()


@pytest.mark.parametrize("estimator", [VAETransformer(max_iter=2),
                                       VAEOutlierDetector(max_iter=2)])
def test_bad_sample_weights_are_refused(estimator, clusters):
    X = clusters[0]
    with pytest.raises(ValueError, match="(?i)negative"):
        estimator.fit(X, sample_weight=-np.ones(len(X)))
    with pytest.raises(ValueError, match="zero"):
        estimator.fit(X, sample_weight=np.zeros(len(X)))
    with pytest.raises(ValueError, match="shape|length|inconsistent"):
        estimator.fit(X, sample_weight=np.ones(len(X) + 1))


# -- the VQ-VAE ----------------------------------------------------------------


def make_vq_network(likelihood="gaussian"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5))
    if likelihood == "bernoulli":
        X = (X > 0).astype(float)
    net = VQNetwork(5, 2, 3, 2, (6,), "tanh", likelihood, np.float64)
    net.initialize(X, rng)
    net.params += 0.1 * rng.standard_normal(net.params.shape) * (net.grad == 0)
    return net, X, rng


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_vq_weighted_loss_gradient_and_repetition(likelihood):
    net, X, rng = make_vq_network(likelihood)
    codes = net.encode_codes(X)  # held fixed: the loss is smooth in the weights
    weights = np.array([0, 1, 2, 0, 3, 1, 0, 2])
    float_weights = weights.astype(float)

    def loss(X=X, codes=codes, sample_weight=float_weights):
        return net.loss_and_grad(X, 0.3, codes, sample_weight)[0]

    loss()
    analytic = net.grad.copy()
    # The decoder's and the variance's gradients are exact with the codes
    # fixed (the encoder's is the straight-through surrogate).
    for name, rows in net.layout.slices.items():
        if name.startswith("decoder."):
            numeric = numerical_gradient(loss, net.params[rows])
            assert relative_error(analytic[rows], numeric) < 1e-6
    Z_e = net.encode(X)
    Z_q = net.quantizer.lookup(net.codebook_params, codes)
    shares = weights / weights.sum()
    value, grad = commitment_loss_and_grad(Z_e, Z_q, shares)
    numeric = numerical_gradient(
        lambda: commitment_loss_and_grad(Z_e, Z_q, shares)[0], Z_e)
    assert relative_error(grad, numeric) < 1e-6
    repeated = loss(np.repeat(X, weights, axis=0), np.repeat(codes, weights, axis=0),
                    None)
    np.testing.assert_allclose(loss(), repeated, rtol=1e-12)
    np.testing.assert_allclose(analytic, net.grad, rtol=1e-10, atol=1e-12)


def test_vq_weighted_codebook_statistics_equal_repetition():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(10, 2, 3))
    codes = rng.integers(0, 4, size=(10, 2))
    weights = rng.integers(0, 3, size=10)
    weighted = batch_statistics(Z, codes, 4, weights.astype(float))
    repeated = batch_statistics(np.repeat(Z, weights, axis=0),
                                np.repeat(codes, weights, axis=0), 4)
    for a, b in zip(weighted, repeated, strict=True):
        np.testing.assert_allclose(a, b)


def test_vq_fit_and_partial_fit_take_weights(clusters):
    A, B = clusters
    X = np.vstack([A, B])
    weights = np.r_[np.full(60, 2.0), np.zeros(60)]
    vq = quiet(VQVAETransformer(2, 4, hidden_layer_sizes=(8,), max_iter=5,
                                random_state=0).fit, X, sample_weight=weights)
    assert vq.code_counts_.dtype == np.float64
    np.testing.assert_allclose(vq.code_counts_.sum(axis=1), weights.sum())
    vq.partial_fit(X, sample_weight=weights)
    np.testing.assert_allclose(vq.code_counts_.sum(axis=1), 2 * weights.sum())
    assert np.all(np.isfinite(vq.score_samples(X)))
