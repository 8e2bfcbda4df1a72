import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy import stats

from skvae._nn.likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_and_grad,
    bernoulli_log_prob_grad,
    bernoulli_mean,
    softplus,
)

rng = np.random.default_rng(0)


def test_bernoulli_matches_scipy_on_binary_data():
    logits = rng.normal(size=(5, 4))
    X = (rng.random((5, 4)) < 0.5).astype(float)
    expected = stats.bernoulli(bernoulli_mean(logits)).logpmf(X).sum(axis=1)
    np.testing.assert_allclose(bernoulli_log_prob(X, logits), expected, rtol=1e-12)


def test_bernoulli_is_stable_for_extreme_logits():
    logits = np.array([[800.0, -800.0, 0.0]])
    X = np.array([[1.0, 0.0, 1.0]])
    np.testing.assert_allclose(bernoulli_log_prob(X, logits), [np.log(0.5)])
    wrong = bernoulli_log_prob(1 - X, logits)
    assert np.isfinite(wrong) and wrong < -1599


def test_log_probs_broadcast_over_leading_axes():
    X, a = rng.random((4, 3)), rng.normal(size=(2, 4, 3))
    stacked = bernoulli_log_prob(X, a)
    assert stacked.shape == (2, 4)
    np.testing.assert_allclose(stacked[1], bernoulli_log_prob(X, a[1]))


def test_bernoulli_gradient_matches_finite_differences():
    X = rng.random((3, 4))
    a = rng.normal(size=(3, 4))
    analytic = bernoulli_log_prob_grad(X, a)
    numeric = numerical_gradient(lambda: bernoulli_log_prob(X, a).sum(), a)
    assert relative_error(analytic, numeric) < 1e-8


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_bernoulli_value_and_gradient_match_and_stay_finite(dtype):
    logits = np.array([[-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0]], dtype=dtype)
    X = np.array([[0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 1.0]], dtype=dtype)
    log_p, grad = bernoulli_log_prob_and_grad(X, logits)
    assert log_p.dtype == grad.dtype == dtype
    assert np.all(np.isfinite(log_p)) and np.all(np.isfinite(grad))
    wide = logits.astype(np.float64)
    expected = np.sum(X * wide - np.logaddexp(0, wide), axis=-1)
    # Seven terms, each rounded once in float32: a few eps (1.2e-7) relative.
    np.testing.assert_allclose(log_p, expected, rtol=1e-6)
    np.testing.assert_allclose(log_p, bernoulli_log_prob(X, logits), rtol=1e-6)
    np.testing.assert_allclose(grad, bernoulli_log_prob_grad(X, logits), atol=1e-7)
    assert np.all(np.abs(softplus(wide) - np.logaddexp(0, wide)) < 1e-12)
