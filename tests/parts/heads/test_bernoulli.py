import numpy as np
from gradcheck import numerical_gradient, relative_error
from scipy import stats
from scipy.special import expit, logit

from skvae._parts.heads import BernoulliHead


def test_initialize_starts_the_logits_at_the_data_and_clips_constant_columns():
    X = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    bias = np.zeros(3)
    BernoulliHead(3).initialize(X, bias, 1e-3)
    np.testing.assert_allclose(bias, logit([0.5, 1 - 1e-3, 0.25]))


def test_log_prob_matches_scipy_and_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    head = BernoulliHead(4)
    X = (rng.random((6, 4)) > 0.5).astype(float)
    a = rng.standard_normal((6, 4)) * 3
    expected = stats.bernoulli(expit(a)).logpmf(X).sum(axis=1)
    np.testing.assert_allclose(head.log_prob(X, a), expected, rtol=1e-10)
    weights = rng.random(6)
    log_p, cache = head.forward(X, a)
    np.testing.assert_allclose(log_p, expected, rtol=1e-10)
    d_a = head.backward(cache, weights)
    numeric = numerical_gradient(lambda: float(weights @ head.log_prob(X, a)), a)
    assert relative_error(d_a, numeric) < 1e-6


def test_mean_and_samples_follow_the_probabilities():
    rng = np.random.default_rng(0)
    head = BernoulliHead(3)
    a = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(head.mean(a), expit(a))
    draws = head.sample(np.repeat(a, 20000, axis=0), rng.random((20000, 3)))
    assert set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(axis=0), expit(a[0]),
                               atol=4 * np.sqrt(0.25 / 20000))


def test_reconstruction_error_is_the_cross_entropy():
    head = BernoulliHead(2)
    X, a = np.array([[1.0, 0.0]]), np.array([[0.5, -1.0]])
    expected = -(np.log(expit(0.5)) + np.log(1 - expit(-1.0)))
    np.testing.assert_allclose(head.reconstruction_error(X, a), [expected])


def test_masked_entries_add_no_term_and_no_gradient():
    rng = np.random.default_rng(1)
    head = BernoulliHead(4)
    X = (rng.random((6, 4)) > 0.5).astype(float)
    a = rng.standard_normal((6, 4)) * 3
    mask = (rng.random(X.shape) > 0.4).astype(float)
    expected = stats.bernoulli(expit(a)).logpmf(X) * mask
    np.testing.assert_allclose(head.log_prob(X, a, mask), expected.sum(1), rtol=1e-10)
    weights = rng.random(6)
    log_p, cache = head.forward(X, a, mask)
    np.testing.assert_allclose(log_p, expected.sum(1), rtol=1e-10)
    d_a = head.backward(cache, weights)
    numeric = numerical_gradient(lambda: float(weights @ head.log_prob(X, a, mask)), a)
    assert relative_error(d_a, numeric) < 1e-6
    assert not d_a[mask == 0].any()


def test_mixture_mean_is_the_weighted_mean_of_the_probabilities():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5, 3)) * 3
    weights = rng.dirichlet(np.ones(4), size=5).T
    np.testing.assert_allclose(BernoulliHead(3).mixture_mean(a, weights),
                               np.sum(weights[..., None] * expit(a), axis=0))
