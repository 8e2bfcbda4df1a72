import numpy as np
import pytest

from skvae.datasets import PATTERN_NAMES, make_patterns


def test_shapes_labels_and_range():
    X, y = make_patterns(n_samples=200, noise=0.3, random_state=0)
    assert X.shape == (200, 16) and y.shape == (200,)
    assert X.min() >= 0 and X.max() <= 1
    assert np.array_equal(np.bincount(y), [50, 50, 50, 50])
    assert len(PATTERN_NAMES) == 4


@pytest.mark.parametrize("n_samples, counts", [(5, [2, 1, 1, 1]), (7, [2, 2, 2, 1])])
def test_remainder_goes_to_the_first_types(n_samples, counts):
    _, y = make_patterns(n_samples=n_samples, random_state=0)
    assert np.bincount(y, minlength=4).tolist() == counts


def test_noise_free_patterns_are_the_four_shapes():
    X, y = make_patterns(n_samples=4, noise=0.0, shuffle=False)
    images = X.reshape(4, 4, 4)
    assert y.tolist() == [0, 1, 2, 3]
    # horizontal line: one full row; vertical line: one full column
    assert images[0].sum(axis=1).tolist() == [0, 4, 0, 0]
    assert images[1].sum(axis=0).tolist() == [0, 4, 0, 0]
    assert np.array_equal(images[2], np.eye(4))
    assert images[3][:2, :2].sum() == 4 and images[3].sum() == 4


def test_noise_is_gaussian_with_the_given_scale_then_clipped():
    X, y = make_patterns(n_samples=4000, noise=0.2, shuffle=False, random_state=0)
    clean, _ = make_patterns(n_samples=4000, noise=0.0, shuffle=False)
    residual = X - clean
    # Pixels that are 0 can only move up, pixels that are 1 only down.
    assert np.all(residual[clean == 0] >= 0) and np.all(residual[clean == 1] <= 0)
    # Half of the noise is clipped to 0; the other half is |N(0, 0.2^2)|.
    moved = np.abs(residual[residual != 0])
    assert np.mean(residual == 0) == pytest.approx(0.5, abs=0.02)
    assert np.sqrt(np.mean(moved**2)) == pytest.approx(0.2, rel=0.03)


def test_random_state_and_shuffle():
    X1, y1 = make_patterns(n_samples=40, random_state=3)
    X2, y2 = make_patterns(n_samples=40, random_state=3)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(y1, np.sort(y1))
    _, y_sorted = make_patterns(n_samples=40, shuffle=False, random_state=3)
    assert np.array_equal(y_sorted, np.sort(y_sorted))


@pytest.mark.parametrize("params", [{"n_samples": 0}, {"noise": -0.1},
                                    {"n_samples": 2.5}])
def test_bad_parameters(params):
    with pytest.raises(ValueError, match="parameter of make_patterns"):
        make_patterns(**params)
