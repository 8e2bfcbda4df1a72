import pickle
import warnings

import numpy as np
import pytest
from gradcheck import (
    LOG_PRIOR,
    N_CLASSES,
    SETTINGS,
    gradient_error,
    partly_labeled_batch,
    partly_labeled_digits,
)
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from tolerances import assert_float32_matches_float64, assert_rows_agree

from skvae import VAEClassifier
from skvae._models.auxiliary import (
    AuxiliarySemiSupervisedNetwork,
    build_auxiliary_network,
)
from skvae._models.objectives import ELBO
from skvae._models.semisupervised import SemiSupervisedNetwork


def make_network(likelihood="gaussian", prior="normal", decoder="mlp", hidden=(4,),
                 activation="tanh", dtype=np.float64, seed=0, n=9, n_features=5,
                 k=2, ka=3, labeled_every=2):
    """A small SDGM network away from its initial values, data, a condition in
    which every ``labeled_every``-th row is labeled, and one draw of noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features))
    net = build_auxiliary_network(
        n_features, k, hidden, activation, likelihood, dtype,
        n_auxiliary_components=ka, n_conditions=N_CLASSES, class_log_prior=LOG_PRIOR,
        label_weight=1.7, prior=prior, decoder=decoder, settings=SETTINGS)
    net.initialize(X, rng)
    net.params += (0.1 * rng.standard_normal(net.params.shape)).astype(dtype)
    return partly_labeled_batch(net, X, rng, labeled_every, N_CLASSES)


# -- the network ---------------------------------------------------------------


@pytest.mark.parametrize("labeled_every", [2, 0, 1],
                         ids=["mixed", "all unlabeled", "all labeled"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_gradient_matches_finite_differences(labeled_every, weighted):
    net, X, C, eps = make_network(labeled_every=labeled_every)
    weights = None
    if weighted:
        weights = np.random.default_rng(2).uniform(0, 3, X.shape[0])
        weights[1] = 0
    assert gradient_error(net, X, C, eps, ELBO(beta=0.7),
                          sample_weight=weights) < 1e-6


@pytest.mark.parametrize(("likelihood", "prior", "decoder"), [
    ("bernoulli", "normal", "mlp"),
    ("gaussian", "flow", "mlp"),
    ("gaussian", "hierarchical", "mlp"),
    ("gaussian", "normal", "autoregressive"),
])
def test_gradient_for_each_part(likelihood, prior, decoder):
    net, X, C, eps = make_network(likelihood, prior, decoder)
    assert gradient_error(net, X, C, eps, ELBO()) < 1e-6


@pytest.mark.parametrize("activation", ["relu", "softplus", "logistic", "identity"])
@pytest.mark.parametrize("hidden", [(), (4, 3)])
def test_gradient_for_each_activation_and_depth(activation, hidden):
    net, X, C, eps = make_network(activation=activation, hidden=hidden)
    assert gradient_error(net, X, C, eps, ELBO()) < 1e-6


def test_loss_is_its_definition_row_by_row():
    """The loss from the terms the scoring path computes, with the same draws."""
    net, X, C, eps = make_network()
    log_qa, log_q, log_px, log_pa, kl, _, _ = net._class_terms(X, eps)
    beta = 0.7
    E = (log_px + log_pa - beta * kl)[0] + net.scaler.log_det  # (n, C)
    log_qa, log_q = log_qa[0], log_q[0]
    q = np.exp(log_q)
    labeled = C.any(axis=1)
    y = C.argmax(axis=1)
    rows = np.arange(len(X))
    per_row = np.where(
        labeled,
        -(E[rows, y] - log_qa) - net.label_weight * log_q[rows, y],
        -(np.sum(q * (E + LOG_PRIOR - log_q), axis=1) - log_qa))
    loss = net.loss_and_grad(X, eps, ELBO(beta), 0.0, C)
    assert loss == pytest.approx(per_row.mean(), rel=1e-12)
    weights = np.arange(1.0, len(X) + 1)
    loss = net.loss_and_grad(X, eps, ELBO(beta), 0.0, C, weights)
    assert loss == pytest.approx(np.average(per_row, weights=weights), rel=1e-12)


def test_integer_weights_are_repeated_rows():
    net, X, C, eps = make_network(n=6)
    weights = np.array([2, 1, 1, 3, 1, 1])
    loss = net.loss_and_grad(X, eps, ELBO(), 0.3, C, weights.astype(float))
    grad = net.grad.copy()
    rows = np.repeat(np.arange(6), weights)
    repeated = net.loss_and_grad(X[rows], eps[:, rows], ELBO(), 0.3, C[rows])
    np.testing.assert_allclose(loss, repeated, rtol=1e-12)
    np.testing.assert_allclose(grad, net.grad, rtol=1e-10, atol=1e-12)


def test_scores_are_the_bounds_and_the_posterior_their_normalized_joint():
    net, X, C, _ = make_network()
    eps = np.random.default_rng(3).standard_normal((5, 1, net.noise_dims))
    log_qa, log_q, log_px, log_pa, kl, log_ratio, _ = net._class_terms(X, eps)
    E = log_px + log_pa - kl - log_qa[..., None] + net.scaler.log_det  # (K, n, C)
    labeled, y = C.any(axis=1), C.argmax(axis=1)
    rows = np.arange(len(X))
    expected = np.where(labeled, E[:, rows, y].mean(axis=0),
                        logsumexp(E + LOG_PRIOR, axis=2).mean(axis=0))
    np.testing.assert_allclose(net.elbo(X, eps, C=C), expected, rtol=1e-12)
    # log p(x|y) by importance sampling over (a, z); p(y|x) its normalized joint
    log_w = E + kl + log_ratio
    log_joint = logsumexp(log_w, axis=0) - np.log(5) + LOG_PRIOR
    np.testing.assert_allclose(
        net.posterior_log_proba(X, eps),
        log_joint - logsumexp(log_joint, axis=1, keepdims=True), rtol=1e-10,
        atol=1e-12)
    np.testing.assert_allclose(net.log_proba(X, eps),
                               logsumexp(log_q, axis=0) - np.log(5), rtol=1e-12)
    far = net.posterior_log_proba(X * 1e150, eps)
    assert np.all(np.isfinite(far))
    np.testing.assert_allclose(np.exp(far).sum(axis=1), 1, rtol=1e-12)


def test_float32_matches_float64():
    net64, X, C, eps = make_network("bernoulli", hidden=(5,))
    net32 = net64.astype(np.float32)
    X32, C32, eps32 = X.astype(np.float32), C.astype(np.float32), eps.astype(np.float32)
    loss64 = net64.loss_and_grad(X, eps, ELBO(), 0.3, C)
    loss32 = net32.loss_and_grad(X32, eps32, ELBO(), 0.3, C32)
    assert net32.grad.dtype == np.float32
    assert_float32_matches_float64(loss32, loss64, net32.grad, net64.grad)
    for values in (net32.log_proba(X32, eps32), net32.elbo(X32, eps32, C=C32),
                   net32.posterior_log_proba(X32, eps32)):
        assert values.dtype == np.float32


def test_more_than_one_draw_and_free_bits_are_refused():
    net, X, C, eps = make_network()
    with pytest.raises(ValueError, match="one noise draw"):
        net.loss_and_grad(X, np.concatenate([eps, eps]), ELBO(), 0.0, C)
    with pytest.raises(ValueError, match="free_bits=0"):
        net.loss_and_grad(X, eps, ELBO(free_bits=0.2), 0.0, C)


def test_pickle_keeps_every_part_on_the_buffer():
    net, X, _, eps = make_network()
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.posterior_log_proba(X, eps),
                                  net.posterior_log_proba(X, eps))
    clone.params[...] = 0
    for part in (clone.classifier, clone.auxiliary_encoder, clone.auxiliary_prior,
                 clone.encoder, clone.decoder):
        assert np.all(part.W[0] == 0)


# -- the estimator -------------------------------------------------------------

SMALL = {"n_components": 2, "hidden_layer_sizes": (16,), "max_iter": 10,
         "random_state": 0}


def fit(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **kwargs)


@pytest.fixture(scope="module")
def digits():
    return partly_labeled_digits(300)


@pytest.fixture(scope="module")
def fitted(digits):
    X, _, partial = digits
    return fit(VAEClassifier(**SMALL, n_auxiliary_components=3), X, partial)


def test_the_default_is_the_sdgm_and_zero_is_model_m2(digits):
    X, _, partial = digits
    default = fit(VAEClassifier(**SMALL), X, partial)
    zero = fit(VAEClassifier(**SMALL, n_auxiliary_components=0), X, partial)
    assert type(default._network) is AuxiliarySemiSupervisedNetwork
    assert default._network.n_auxiliary == 16
    assert type(zero._network) is SemiSupervisedNetwork
    assert "n_auxiliary_components" not in zero._network_spec


def test_fits_the_auxiliary_model(fitted, digits):
    X, _, _ = digits
    net = fitted._network
    assert isinstance(net, AuxiliarySemiSupervisedNetwork)
    assert net.n_auxiliary == 3 and net.noise_dims == 3 + 10 * 2
    assert fitted.predict_proba(X).shape == (300, 10)
    assert set(fitted.predict(X)) <= set(range(10))
    X_new, y_new = fitted.sample(4, y=2, random_state=0)
    assert X_new.shape == (4, 64) and np.all(y_new == 2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_probabilities_sum_to_one_row_by_row_and_far_away(digits, dtype):
    X, _, partial = digits
    clf = fit(VAEClassifier(**SMALL, n_auxiliary_components=3), X.astype(dtype),
              partial)
    assert clf._network.dtype == dtype
    X = X[:40].astype(dtype)
    proba = clf.predict_proba(X)
    assert proba.dtype == dtype
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=10 * np.finfo(dtype).eps)
    log_proba = clf.predict_log_proba(X)
    for i in (0, 17, 39):
        # As for M2 (test_classifier.py): 64 pixel terms of about a nat each.
        assert_rows_agree(clf.predict_log_proba(X[i:i + 1]), log_proba[i:i + 1],
                          dtype, 64)
        assert_rows_agree(clf.predict_proba(X[i:i + 1]), proba[i:i + 1], dtype, 64,
                          scale=0)
    far = clf.predict_proba(X * 1e6)
    assert far.dtype == dtype and np.all(np.isfinite(far))
    np.testing.assert_allclose(far.sum(axis=1), 1, rtol=10 * np.finfo(dtype).eps)
    assert np.all(np.isfinite(clf.predict_log_proba(X * 1e6)))


def test_same_random_state_gives_identical_results(fitted, digits):
    X, _, partial = digits
    again = fit(VAEClassifier(**SMALL, n_auxiliary_components=3), X, partial)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))


def test_sample_weight_zero_is_leaving_the_row_out_of_the_prior(digits):
    X, _, partial = digits
    weights = np.ones(len(X))
    weights[1::3] = 0
    clf = fit(VAEClassifier(**SMALL, n_auxiliary_components=3), X, partial,
              sample_weight=weights)
    counts = np.bincount(partial[(partial >= 0) & (weights > 0)], minlength=10)
    np.testing.assert_allclose(clf.class_prior_, counts / counts.sum())


def test_pickle_round_trip(fitted, digits):
    X, _, _ = digits
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.predict_proba(X), fitted.predict_proba(X))


def test_warm_start_continues_and_needs_the_same_size_of_a(digits):
    X, _, partial = digits
    clf = fit(VAEClassifier(**SMALL, n_auxiliary_components=3, warm_start=True),
              X, partial)
    first = clf.n_iter_
    fit(clf, X, partial)
    assert isinstance(clf._network, AuxiliarySemiSupervisedNetwork)
    assert clf.n_iter_ == 2 * first  # the second fit continued the first
    clf.set_params(n_auxiliary_components=4)
    with pytest.raises(ValueError, match="warm_start"):
        fit(clf, X, partial)


def test_parameters_are_validated(digits):
    X, _, partial = digits
    with pytest.raises(ValueError, match="n_auxiliary_components"):
        VAEClassifier(n_auxiliary_components=-1).fit(X, partial)
    with pytest.raises(ValueError, match="free_bits=0"):
        VAEClassifier(**SMALL, n_auxiliary_components=2, free_bits=0.1).fit(X, partial)
    with pytest.raises(ValueError, match="n_importance_samples=1"):
        VAEClassifier(**SMALL, n_auxiliary_components=2,
                      n_importance_samples=2).fit(X, partial)


def test_row_scores_of_the_plain_vae_are_refused_not_miscomputed():
    network = build_auxiliary_network(
        3, 2, (4,), "tanh", "gaussian", np.float64, n_auxiliary_components=2,
        n_conditions=2, class_log_prior=np.log([0.5, 0.5]))
    X = np.random.default_rng(0).normal(size=(5, 3))
    network.initialize(X, np.random.default_rng(0))
    eps = np.zeros((1, 5, network.noise_dims))
    for call in (lambda: network.kl(X, eps), lambda: network.log_likelihood(X, eps),
                 lambda: network.reconstruction_error(X)):
        with pytest.raises(NotImplementedError, match="auxiliary model"):
            call()


def test_free_bits_auto_is_zero_for_the_sdgm():
    # "auto" is 0.25 for Adam's ELBO elsewhere; the SDGM has no free-bits
    # version, so its "auto" is 0 (as for the importance-weighted bound),
    # not an error, also when a warm start switches to "auto".
    X, y = load_digits(return_X_y=True)
    X, y = X[:150], y[:150].copy()
    y[40:] = -1
    params = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto = VAEClassifier(free_bits="auto", **params).fit(X, y)
        zero = VAEClassifier(free_bits=0.0, **params).fit(X, y)
        np.testing.assert_array_equal(auto.predict_proba(X), zero.predict_proba(X))
        zero.set_params(warm_start=True, free_bits="auto").fit(X, y)
    with pytest.raises(ValueError, match="free_bits=0"):
        VAEClassifier(free_bits=0.1, **params).fit(X, y)
    # M2 keeps free bits, and its "auto".
    m2 = VAEClassifier(n_auxiliary_components=0, free_bits="auto", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert m2.fit(X, y)._resolved_params(len(X))["free_bits"] == 0.25


def test_a_classifier_saved_before_the_sdgm_loads_as_m2():
    # Its state has no n_auxiliary_components: get_params, clone and a warm
    # refit read it as 0, the model it was.
    X, y = load_digits(return_X_y=True)
    X, y = X[:150], y[:150].copy()
    y[40:] = -1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = VAEClassifier(n_auxiliary_components=0, hidden_layer_sizes=(8,),
                            max_iter=2, random_state=0).fit(X, y)
        state = clf.__getstate__()
        del state["n_auxiliary_components"]
        old = VAEClassifier.__new__(VAEClassifier)
        old.__setstate__(state)
        assert old.get_params()["n_auxiliary_components"] == 0
        np.testing.assert_array_equal(old.predict_proba(X), clf.predict_proba(X))
        assert isinstance(old.set_params(warm_start=True).fit(X, y)._network,
                          SemiSupervisedNetwork)
