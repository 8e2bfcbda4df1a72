import math

import numpy as np
import pytest

from skvae._parts.heads.scaling import DataScaler, feature_mean_var


def test_standardizing_uses_the_mean_and_one_scale():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3)) * [1.0, 2.0, 3.0] + 50
    scaler = DataScaler.standardizing(X)
    np.testing.assert_allclose(scaler.shift, X.mean(axis=0))
    assert scaler.scale == pytest.approx(math.sqrt(X.var(axis=0).mean()))
    assert scaler.log_det == pytest.approx(-3 * math.log(scaler.scale))
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    assert Z.var(axis=0).mean() == pytest.approx(1.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)


def test_identity_returns_the_input_itself():
    X = np.ones((2, 3))
    scaler = DataScaler.identity(3)
    assert scaler.transform(X) is X and scaler.inverse_transform(X) is X
    assert scaler.log_det == 0


def test_constant_data_get_unit_scale():
    assert DataScaler.standardizing(np.full((5, 2), 7.0)).scale == 1.0


def test_weights_equal_repetition():
    X = np.array([[0.0, 1.0], [2.0, 5.0], [4.0, 3.0]])
    weights = np.array([1.0, 0.0, 3.0])
    repeated = np.array([X[0], X[2], X[2], X[2]])
    for got, expected in zip(feature_mean_var(X, weights),
                             feature_mean_var(repeated), strict=True):
        np.testing.assert_allclose(got, expected)


def test_float32_stays_float32():
    X = np.random.default_rng(0).random((10, 2)).astype(np.float32)
    assert DataScaler.standardizing(X).transform(X).dtype == np.float32
