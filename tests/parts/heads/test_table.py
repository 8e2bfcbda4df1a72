import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error

from skvae._nn.layout import bind_new
from skvae._parts.heads import BernoulliHead, CategoricalHead, TableHead

KINDS = ("categorical", "gaussian", "bernoulli", "gaussian", "categorical")
N_CATEGORIES = (3, 2)


def make(dtype=np.float64, seed=0, n=10):
    rng = np.random.default_rng(seed)
    head = TableHead(KINDS, N_CATEGORIES)
    _, params, grads = bind_new([head], dtype)
    X = np.column_stack([rng.integers(0, 3, n), rng.normal(4, 2, n),
                         rng.integers(0, 2, n), rng.normal(0, 1e-3, n),
                         rng.integers(0, 2, n)]).astype(dtype)
    bias = np.zeros(head.n_outputs, dtype=dtype)
    head.initialize(head.scaler(X).transform(X), bias, 1e-3)
    params += (rng.standard_normal(params.size) * 0.3).astype(dtype)
    a = rng.standard_normal((n, head.n_outputs)).astype(dtype)
    return head, params, grads, X, a, rng


def test_widths_and_layout():
    head = TableHead(KINDS, N_CATEGORIES)
    assert (head.n_columns, head.n_outputs, head.n_inputs) == (5, 8, 8)
    assert [kind for kind, *_ in head.heads] == ["gaussian", "bernoulli", "categorical"]


def test_terms_are_those_of_each_columns_head():
    head, _, _, X, a, _ = make()
    gaussian = head._head("gaussian")
    expected = np.empty(X.shape)
    expected[:, [1, 3]] = gaussian.log_prob_terms(X[:, [1, 3]], a[:, :2])
    expected[:, [2]] = BernoulliHead(1).log_prob_terms(X[:, [2]], a[:, 2:3])
    expected[:, [0, 4]] = CategoricalHead(N_CATEGORIES).log_prob_terms(
        X[:, [0, 4]], a[:, 3:])
    np.testing.assert_allclose(head.log_prob_terms(X, a), expected)
    np.testing.assert_allclose(head.log_prob(X, a), expected.sum(1))
    np.testing.assert_allclose(head.forward(X, a)[0], expected.sum(1))


@pytest.mark.parametrize("masked", [False, True])
def test_backward_matches_finite_differences(masked):
    head, params, grads, X, a, rng = make()
    mask = (rng.random(X.shape) > 0.3).astype(float) if masked else None
    weights = rng.random(len(X))

    def loss():
        return float(weights @ head.log_prob(X, a, mask))

    _, cache = head.forward(X, a, mask)
    d_a = head.backward(cache, weights)
    assert relative_error(d_a, numerical_gradient(loss, a)) < 1e-6
    assert relative_error(grads, numerical_gradient(loss, params)) < 1e-6


def test_scaler_standardizes_each_gaussian_column_only():
    head, _, _, X, _, _ = make(n=200)
    scaler = head.scaler(X)
    Xs = scaler.transform(X)
    np.testing.assert_allclose(Xs[:, [1, 3]].std(axis=0), 1.0)
    np.testing.assert_array_equal(Xs[:, [0, 2, 4]], X[:, [0, 2, 4]])
    assert scaler.log_det == pytest.approx(-np.log(X[:, [1, 3]].std(axis=0)).sum())
    np.testing.assert_allclose(scaler.inverse_transform(Xs), X)


def test_mean_draw_and_encoder_input_keep_each_columns_kind():
    head, _, _, X, a, rng = make()
    mean = head.mean(a)
    assert set(np.unique(mean[:, 0])) <= {0, 1, 2}
    np.testing.assert_array_equal(mean[:, [1, 3]], a[:, :2])
    drawn = head.draw(a, rng.random(X.shape))
    assert set(np.unique(drawn[:, [2, 4]])) <= {0, 1}
    one_hot = head.encoder_input(X)
    np.testing.assert_array_equal(one_hot[:, :2], X[:, [1, 3]])
    np.testing.assert_array_equal(one_hot[:, 3:].sum(1), 2)
    mask = np.ones_like(X)
    mask[0, 0] = 0
    assert head.encoder_input(X, mask)[0, 3:6].sum() == 0


def test_float32_stays_float32():
    head, _, grads, X, a, rng = make(np.float32)
    log_p, cache = head.forward(X, a)
    d_a = head.backward(cache, np.ones(len(X), dtype=np.float32))
    assert log_p.dtype == d_a.dtype == grads.dtype == np.float32
    assert head.draw(a, rng.random(X.shape).astype(np.float32)).dtype == np.float32


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown column likelihoods"):
        TableHead(("gaussian", "poisson"))


def test_mixture_mean_delegates_to_each_kind_of_column():
    head, _, _, X, _, rng = make()
    a = rng.standard_normal((3, len(X), head.n_outputs))
    weights = rng.dirichlet(np.ones(3), size=len(X)).T
    got = head.mixture_mean(a, weights)
    for _, part, columns, out, _ in head.heads:
        np.testing.assert_array_equal(got[:, columns],
                                      part.mixture_mean(a[..., out], weights))
