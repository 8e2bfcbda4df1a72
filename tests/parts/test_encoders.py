import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error

from skvae._nn.layout import Layout
from skvae._parts.encoders import (
    LOG_VAR_RANGE,
    TAIL,
    GaussianEncoder,
    soft_clip_log_var,
    soft_clip_log_var_backward,
)


def test_soft_clip_is_the_identity_between_the_knees():
    lo, hi = LOG_VAR_RANGE
    raw = np.linspace(lo + TAIL, hi - TAIL, 11)
    np.testing.assert_array_equal(soft_clip_log_var(raw), raw)


def test_soft_clip_stays_in_range_for_any_input():
    raw = np.array([-1e300, -1e3, -30.0, 9.0, 1e3, 1e300])
    clipped = soft_clip_log_var(raw)
    lo, hi = LOG_VAR_RANGE
    assert np.all(np.isfinite(clipped)) and np.all((clipped >= lo) & (clipped <= hi))
    assert np.all(np.diff(clipped) >= 0)


def test_soft_clip_gradient_matches_finite_differences_in_the_tails():
    raw = np.array([-40.0, -16.0, -14.0, 0.0, 4.0, 6.0, 30.0])
    weights = np.arange(1.0, 8.0)
    analytic = soft_clip_log_var_backward(raw, weights.copy())
    numeric = numerical_gradient(lambda: float(weights @ soft_clip_log_var(raw)), raw)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
def test_encoder_gradient_matches_finite_differences(hidden):
    rng = np.random.default_rng(0)
    encoder = GaussianEncoder(4, 2, hidden, "tanh")
    layout = Layout(encoder.shapes())
    params = rng.standard_normal(layout.size)
    grads = np.zeros(layout.size)
    encoder.bind(layout.views(params), layout.views(grads))
    X = rng.standard_normal((5, 4))
    d_mu, d_log_var = rng.standard_normal((2, 5, 2))

    def loss():
        mu, log_var = encoder.encode(X)
        return float(np.sum(d_mu * mu) + np.sum(d_log_var * log_var))

    outputs, _, _ = encoder.forward(X)
    encoder.backward(outputs, np.hstack([d_mu, d_log_var]))
    assert relative_error(grads, numerical_gradient(loss, params)) < 1e-6


def test_encoder_keeps_float32_and_is_finite_far_from_the_data():
    encoder = GaussianEncoder(3, 2, (4,), "relu")
    layout = Layout(encoder.shapes())
    params = np.random.default_rng(0).standard_normal(layout.size).astype(np.float32)
    encoder.bind(layout.views(params), layout.views(np.zeros_like(params)))
    mu, log_var = encoder.encode(np.full((2, 3), 3e38, dtype=np.float32))
    assert mu.dtype == log_var.dtype == np.float32
    assert np.all(np.isfinite(mu)) and np.all(np.isfinite(log_var))
