import pickle

import numpy as np
import pytest
from gradcheck import (
    LOG_PRIOR,
    N_CLASSES,
    SETTINGS,
    gradient_error,
    partly_labeled_batch,
)
from scipy.special import logsumexp
from tolerances import assert_float32_matches_float64

from skvae._models.objectives import ELBO
from skvae._models.semisupervised import SemiSupervisedNetwork
from skvae._models.vae import VAENetwork, build_network
from skvae._parts.classifiers import SoftmaxClassifier


def make_network(likelihood="gaussian", prior="normal", decoder="mlp", hidden=(4,),
                 activation="tanh", dtype=np.float64, seed=0, n=9, n_features=5,
                 k=2, labeled_every=2):
    """A small M2 network away from its initial values, data, a condition in
    which every ``labeled_every``-th row is labeled, and noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features))
    base = build_network(n_features, k, hidden, activation, likelihood, dtype,
                         prior=prior, decoder=decoder, n_conditions=N_CLASSES,
                         settings=SETTINGS)
    classifier = SoftmaxClassifier(n_features, N_CLASSES, hidden, activation)
    net = SemiSupervisedNetwork(base.encoder, base.decoder, base.prior, classifier,
                                dtype, LOG_PRIOR, label_weight=1.7)
    net.initialize(X, rng)
    net.params += (0.1 * rng.standard_normal(net.params.shape)).astype(dtype)
    return partly_labeled_batch(net, X, rng, labeled_every, N_CLASSES)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("prior", ["normal", "flow", "hierarchical"])
@pytest.mark.parametrize("decoder", ["mlp", "autoregressive"])
def test_gradient_matches_finite_differences(likelihood, prior, decoder):
    net, X, C, eps = make_network(likelihood, prior, decoder)
    assert gradient_error(net, X, C, eps, ELBO(beta=0.7)) < 1e-6


@pytest.mark.parametrize("activation", ["relu", "softplus", "logistic", "identity"])
@pytest.mark.parametrize("hidden", [(), (4, 3)])
def test_gradient_for_each_activation_and_depth(activation, hidden):
    net, X, C, eps = make_network(activation=activation, hidden=hidden)
    assert gradient_error(net, X, C, eps, ELBO()) < 1e-6


@pytest.mark.parametrize("labeled_every", [0, 1], ids=["all unlabeled", "all labeled"])
def test_gradient_on_batches_of_one_kind(labeled_every):
    net, X, C, eps = make_network(labeled_every=labeled_every)
    assert gradient_error(net, X, C, eps, ELBO()) < 1e-6


def test_gradient_with_free_bits_and_warm_up_weight():
    net, X, C, eps = make_network(k=3)
    net.params += np.random.default_rng(1).standard_normal(net.params.shape)
    assert gradient_error(net, X, C, eps, ELBO(beta=0.4, free_bits=0.3)) < 1e-6


@pytest.mark.parametrize("prior", ["normal", "hierarchical"])
def test_gradient_with_sample_weights(prior):
    net, X, C, eps = make_network(prior=prior)
    weights = np.random.default_rng(2).uniform(0, 3, X.shape[0])
    weights[1] = 0
    assert gradient_error(net, X, C, eps, ELBO(beta=0.7), sample_weight=weights) < 1e-6


def test_integer_weights_are_repeated_rows():
    """A row of weight 2 weighs in the loss and its gradient as two copies."""
    net, X, C, eps = make_network(n=6)
    weights = np.array([2, 1, 1, 3, 1, 1])
    loss = net.loss_and_grad(X, eps, ELBO(), 0.3, C, weights.astype(float))
    grad = net.grad.copy()
    rows = np.repeat(np.arange(6), weights)
    repeated = net.loss_and_grad(X[rows], eps[:, rows], ELBO(), 0.3, C[rows])
    np.testing.assert_allclose(loss, repeated, rtol=1e-12)
    np.testing.assert_allclose(grad, net.grad, rtol=1e-10, atol=1e-12)


def brute_force_elbos(net, X, eps):
    """ELBO(x, c) of each class by the conditional VAE's own path, one class
    at a time: shape (n_classes, n)."""
    return np.stack([VAENetwork.elbo(net, X, eps, C=np.eye(N_CLASSES)[c])
                     for c in range(N_CLASSES)])


def test_loss_is_its_definition_row_by_row():
    net, X, C, eps = make_network()
    E = brute_force_elbos(net, X, eps)  # includes the log-Jacobian
    log_q = net.log_proba(X)
    q = np.exp(log_q)
    labeled = C.any(axis=1)
    y = C.argmax(axis=1)
    rows = np.arange(len(X))
    per_row = np.where(
        labeled,
        -E[y, rows] - net.label_weight * log_q[rows, y],
        # sum over every class of q(c|x) [E(x, c) + log pi_c], plus the entropy
        -np.sum(q * (E.T + LOG_PRIOR - log_q), axis=1))
    loss = net.loss_and_grad(X, eps, ELBO(), 0.0, C)
    assert loss == pytest.approx(per_row.mean(), rel=1e-12)


def test_class_sum_equals_the_brute_force_expectation():
    net, X, C, eps = make_network(labeled_every=0)
    E = brute_force_elbos(net, X, eps)
    np.testing.assert_allclose(net.class_elbos(X, eps), E, rtol=1e-12)
    q = np.exp(net.log_proba(X))
    # E_{y ~ q}[ELBO(x, y) + log pi_y - log q(y|x)], enumerating every y.
    expectation = sum(q[:, c] * (E[c] + LOG_PRIOR[c] - np.log(q[:, c]))
                      for c in range(N_CLASSES))
    loss = net.loss_and_grad(X, eps, ELBO(), 0.0, C)
    assert loss == pytest.approx(-expectation.mean(), rel=1e-12)
    # The scores use the class sum at its tightest, log sum_c pi_c exp(E_c),
    # which no q can exceed.
    tightest = net.elbo(X, eps)
    np.testing.assert_allclose(tightest, logsumexp(E.T + LOG_PRIOR, axis=1))
    assert np.all(tightest >= expectation - 1e-12)


def test_all_labeled_reduces_to_the_conditional_vae_plus_classification():
    net, X, C, eps = make_network(labeled_every=1)
    y = C.argmax(axis=1)
    m2_loss = net.loss_and_grad(X, eps, ELBO(0.6), 0.0, C)
    m2_grad = net.grad.copy()
    conditional_loss = VAENetwork.loss_and_grad(net, X, eps, ELBO(0.6), 0.0, C)
    conditional_grad = net.grad.copy()
    log_q = net.log_proba(X)
    classification = -np.mean(log_q[np.arange(len(X)), y])
    assert m2_loss == pytest.approx(
        conditional_loss + net.label_weight * classification, rel=1e-12)
    # The VAE's gradient is the conditional VAE's; the classifier's is the
    # weighted cross-entropy's.
    vae = slice(0, net.layout.slices["classifier.W0"].start)
    np.testing.assert_allclose(m2_grad[vae], conditional_grad[vae], rtol=1e-12)
    # d/d(output bias) of w * mean(-log q(y|x)) = w * mean(q - one_hot(y))
    last_bias = net.layout.slices[f"classifier.b{len(net.classifier.W) - 1}"]
    expected = net.label_weight * np.mean(np.exp(log_q) - C, axis=0)
    np.testing.assert_allclose(m2_grad[last_bias], expected, rtol=1e-12)


def test_float32_matches_float64():
    net64, X, C, eps = make_network("bernoulli", hidden=(5,))
    net32 = net64.astype(np.float32)
    X32, C32, eps32 = X.astype(np.float32), C.astype(np.float32), eps.astype(np.float32)
    loss64 = net64.loss_and_grad(X, eps, ELBO(), 0.3, C)
    loss32 = net32.loss_and_grad(X32, eps32, ELBO(), 0.3, C32)
    assert loss32.dtype == net32.grad.dtype == np.float32
    assert_float32_matches_float64(loss32, loss64, net32.grad, net64.grad)
    for values in (net32.log_proba(X32), net32.elbo(X32, eps32, C=C32),
                   net32.class_elbos(X32, eps32)):
        assert values.dtype == np.float32


def test_labeled_rows_score_their_class_and_unlabeled_rows_every_class():
    net, X, C, eps = make_network()
    scores = net.elbo(X, eps, C=C)
    E = brute_force_elbos(net, X, eps)
    labeled = C.any(axis=1)
    own_class = E[C.argmax(axis=1), np.arange(len(X))]
    np.testing.assert_allclose(scores[labeled], own_class[labeled])
    np.testing.assert_allclose(scores[~labeled],
                               logsumexp(E.T + LOG_PRIOR, axis=1)[~labeled])


def test_pickle_keeps_the_classifier_on_the_buffer():
    net, X, _, _ = make_network()
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.log_proba(X), net.log_proba(X))
    clone.params[...] = 0
    assert np.all(clone.classifier.W[0] == 0)
    np.testing.assert_allclose(np.exp(clone.log_proba(X)), 1 / N_CLASSES)


def test_more_than_one_noise_draw_is_refused():
    net, X, C, _ = make_network()
    eps = np.zeros((2, X.shape[0], net.n_components))
    with pytest.raises(ValueError, match="one noise draw"):
        net.loss_and_grad(X, eps, ELBO(), 0.0, C)


def test_posterior_is_the_normalized_joint_of_the_importance_weighted_bound():
    """p(y|x) = pi_y p(x|y) / sum_c pi_c p(x|c), with log p(x|y) the network's
    importance-weighted estimate under the same draws."""
    net, X, _, _ = make_network(prior="hierarchical")
    eps = np.random.default_rng(3).standard_normal((5, 1, net.noise_dims))
    log_joint = np.stack([net.log_likelihood(X, eps, np.eye(N_CLASSES)[c])
                          for c in range(N_CLASSES)], axis=1) + LOG_PRIOR
    expected = log_joint - logsumexp(log_joint, axis=1, keepdims=True)
    np.testing.assert_allclose(net.posterior_log_proba(X, eps), expected,
                               rtol=1e-10, atol=1e-12)
    far = net.posterior_log_proba(X * 1e150, eps)
    assert np.all(np.isfinite(far))
    np.testing.assert_allclose(np.exp(far).sum(axis=1), 1, rtol=1e-12)
