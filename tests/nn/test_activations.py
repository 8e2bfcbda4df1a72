import numpy as np
import pytest

from skvae._nn.activations import ACTIVATIONS, DERIVATIVES


def test_tables_match():
    assert set(ACTIVATIONS) == set(DERIVATIVES)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_from_output_matches_finite_differences(name):
    x = np.linspace(-4, 4, 41) + 0.013  # avoid relu's kink at exactly 0
    h = 1e-6
    up, down, out = x + h, x - h, x.copy()
    ACTIVATIONS[name](up)
    ACTIVATIONS[name](down)
    ACTIVATIONS[name](out)
    delta = np.ones_like(x)
    DERIVATIVES[name](out, delta)
    np.testing.assert_allclose(delta, (up - down) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "name, x, expected",
    [
        ("relu", [-1.0, 0.0, 2.0], [0.0, 0.0, 2.0]),
        ("tanh", [0.0, 1.0], [0.0, np.tanh(1.0)]),
        ("logistic", [0.0, 800.0, -800.0], [0.5, 1.0, 0.0]),
        ("softplus", [0.0, 800.0, -800.0], [np.log(2), 800.0, 0.0]),
        ("identity", [-3.0, 5.0], [-3.0, 5.0]),
    ],
)
def test_known_values_and_stability(name, x, expected):
    x = np.array(x)
    ACTIVATIONS[name](x)
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x, expected, atol=1e-300)


def test_float32_stays_float32():
    for name, f in ACTIVATIONS.items():
        x = np.linspace(-2, 2, 5, dtype=np.float32)
        f(x)
        delta = np.ones_like(x)
        DERIVATIVES[name](x, delta)
        assert x.dtype == delta.dtype == np.float32, name
