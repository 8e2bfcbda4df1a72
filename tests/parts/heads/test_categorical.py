import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy.special import log_softmax

from skvae._parts.heads import CategoricalHead

N_CATEGORIES = (3, 1, 4)


def data(rng, n=9, dtype=np.float64):
    X = np.column_stack([rng.integers(0, k, n) for k in N_CATEGORIES]).astype(dtype)
    a = rng.standard_normal((n, sum(N_CATEGORIES))).astype(dtype)
    return X, a


def expected_terms(X, a):
    blocks = np.split(a, np.cumsum(N_CATEGORIES)[:-1], axis=-1)
    return np.stack([np.take_along_axis(log_softmax(b, axis=-1),
                                        X[..., [j]].astype(int), axis=-1)[..., 0]
                     for j, b in enumerate(blocks)], axis=-1)


def test_widths():
    head = CategoricalHead(N_CATEGORIES)
    assert (head.n_columns, head.n_outputs, head.n_inputs) == (3, 8, 8)


def test_log_prob_is_the_log_softmax_of_each_block():
    rng = np.random.default_rng(0)
    head = CategoricalHead(N_CATEGORIES)
    X, a = data(rng)
    np.testing.assert_allclose(head.log_prob_terms(X, a), expected_terms(X, a),
                               rtol=1e-12)
    np.testing.assert_allclose(head.log_prob(X, a), expected_terms(X, a).sum(1))
    log_p, _ = head.forward(X, a)
    np.testing.assert_allclose(log_p, expected_terms(X, a).sum(1))
    # broadcast over leading axes (noise draws)
    stacked = np.stack([a, 2 * a])
    np.testing.assert_allclose(head.log_prob(X, stacked)[1], head.log_prob(X, 2 * a))


def test_probabilities_sum_to_one_in_each_block():
    rng = np.random.default_rng(1)
    head = CategoricalHead(N_CATEGORIES)
    p = head.probabilities(rng.standard_normal((5, 8)) * 30)
    np.testing.assert_allclose(np.add.reduceat(p, head.offsets, axis=1), 1.0)


@pytest.mark.parametrize("masked", [False, True])
def test_backward_matches_finite_differences(masked):
    rng = np.random.default_rng(2)
    head = CategoricalHead(N_CATEGORIES)
    X, a = data(rng)
    mask = (rng.random(X.shape) > 0.4).astype(float) if masked else None
    if masked:
        X[mask == 0] = np.nan  # missing codes are never read
    weights = rng.random(len(X))

    def loss():
        return float(weights @ head.log_prob(X, a, mask))

    _, d_a = head.forward(X, a, mask)
    d_a = head.backward(d_a, weights)
    assert relative_error(d_a, numerical_gradient(loss, a)) < 1e-6


def test_masked_entries_add_nothing():
    rng = np.random.default_rng(3)
    head = CategoricalHead(N_CATEGORIES)
    X, a = data(rng)
    mask = np.ones_like(X)
    mask[:, 0] = 0
    np.testing.assert_allclose(head.log_prob(X, a, mask),
                               expected_terms(X, a)[:, 1:].sum(1))


def test_draws_follow_the_probabilities():
    rng = np.random.default_rng(4)
    head = CategoricalHead((3, 2))
    a = np.tile([[0.0, 1.0, -1.0, 2.0, 0.0]], (40_000, 1))
    codes = head.draw(a, rng.random((40_000, 2)))
    p = head.probabilities(a[:1])[0]
    np.testing.assert_allclose(np.bincount(codes[:, 0].astype(int)) / 40_000, p[:3],
                               atol=0.01)
    np.testing.assert_allclose(np.bincount(codes[:, 1].astype(int)) / 40_000, p[3:],
                               atol=0.01)
    assert set(np.unique(codes)) <= {0.0, 1.0, 2.0}


def test_mean_is_the_most_probable_category_and_input_is_one_hot():
    head = CategoricalHead((3, 2))
    a = np.array([[0.0, 5.0, 1.0, -1.0, 2.0]])
    np.testing.assert_array_equal(head.mean(a), [[1.0, 1.0]])
    X = np.array([[2.0, np.nan], [0.0, 1.0]])
    np.testing.assert_array_equal(head.encoder_input(X),
                                  [[0, 0, 1, 0, 0], [1, 0, 0, 0, 1]])


def test_initialize_starts_at_the_frequencies():
    head = CategoricalHead((3,))
    X = np.array([[0.0], [0.0], [1.0], [np.nan], [0.0]])
    bias = np.zeros(3)
    head.initialize(X, bias, 1e-3)
    p = head.probabilities(bias[None])[0]
    np.testing.assert_allclose(p / p[0], [1.0, 1 / 3, 0.5 / 3])


def test_float32_stays_float32():
    rng = np.random.default_rng(5)
    head = CategoricalHead(N_CATEGORIES)
    X, a = data(rng, dtype=np.float32)
    log_p, d_a = head.forward(X, a)
    drawn = head.draw(a, rng.random((9, 3)))
    assert log_p.dtype == d_a.dtype == drawn.dtype == np.float32


def test_mixture_mean_is_the_mode_of_the_mixture_not_the_most_frequent_mode():
    """Two draws of weight 0.3 each put 0.6 on category 0 and 0.4 on 2; one
    of weight 0.4 puts everything on category 1: each draw's mode is 0 for
    most of the weight, but the mixture's mode is 1."""
    head = CategoricalHead([3])
    probabilities = np.array([[0.6, 0.0, 0.4], [0.6, 0.0, 0.4], [0.0, 1.0, 0.0]])
    a = np.log(np.maximum(probabilities, 1e-300))[:, None, :]
    weights = np.array([[0.3], [0.3], [0.4]])
    assert head.mixture_mean(a, weights)[0, 0] == 1
    rng = np.random.default_rng(5)
    a = rng.standard_normal((6, 4, sum(N_CATEGORIES))) * 2
    weights = rng.dirichlet(np.ones(6), size=4).T
    mixture = np.einsum("kn,knc->nc", weights, head_probabilities(a))
    expected = np.stack([block.argmax(axis=-1) for block in np.split(
        mixture, np.cumsum(N_CATEGORIES)[:-1], axis=-1)], axis=-1)
    np.testing.assert_array_equal(
        CategoricalHead(N_CATEGORIES).mixture_mean(a, weights), expected)


def head_probabilities(a):
    blocks = np.split(a, np.cumsum(N_CATEGORIES)[:-1], axis=-1)
    return np.concatenate([np.exp(log_softmax(b, axis=-1)) for b in blocks], axis=-1)
