import pickle

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from tolerances import assert_float32_matches_float64

from skvae._models.vq import VQNetwork
from skvae._nn.activations import ACTIVATIONS
from skvae._nn.layout import Layout
from skvae._parts.quantizer import (
    LAPLACE_EPSILON,
    VectorQuantizer,
    commitment_loss_and_grad,
    ema_update,
    nearest_codes,
    perplexity,
    restart_dead_codes,
    squared_distances,
)
from skvae._train.solvers import Adam


def make_quantizer(n_groups=2, n_codes=4, code_dim=3, dtype=np.float64, seed=0):
    quantizer = VectorQuantizer(n_groups, n_codes, code_dim)
    layout = Layout(quantizer.shapes())
    P = quantizer.params(layout.views(np.zeros(layout.size, dtype=dtype)))
    rng = np.random.default_rng(seed)
    P.codebook[...] = rng.standard_normal(P.codebook.shape)
    return quantizer, P, rng


def make_network(likelihood, activation, hidden, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((9, 5))
    net = VQNetwork(5, 2, 3, 2, hidden, activation, likelihood, dtype)
    net.initialize(X, rng)
    # Move away from the special initial values (zero biases, data mean).
    net.params += (0.1 * rng.standard_normal(net.params.shape)).astype(dtype)
    return net, X.astype(dtype), rng


# -- gradients ---------------------------------------------------------------


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(), (4,), (4, 3)])
def test_straight_through_gradient_matches_finite_differences(likelihood, activation,
                                                               hidden):
    # With the codes held fixed, the straight-through gradient is the exact
    # gradient of the surrogate in which the decoder reads
    # z_e + sg(z_q - z_e): the offset is frozen at the current parameters.
    net, X, _ = make_network(likelihood, activation, hidden)
    beta = 0.7
    loss, Z_e, codes = net.loss_and_grad(X, beta)
    analytic = net.grad.copy()
    Z_q = net.quantizer.lookup(net.codebook_params, codes).copy()
    offset = (Z_q - Z_e).reshape(X.shape[0], -1)

    def surrogate():
        # In the network's units (standardized for the Gaussian head), plus
        # the log-Jacobian that makes log p a density of X.
        X_net = net.scaler.transform(X)
        Z = net.encode(X)
        log_px = net.decoder.log_prob(X_net, Z.reshape(X.shape[0], -1) + offset)
        log_px = log_px + net.scaler.log_det
        return -np.mean(log_px) + beta * np.sum((Z - Z_q) ** 2) / X.shape[0]

    assert surrogate() == pytest.approx(loss, rel=1e-12)
    numeric = numerical_gradient(surrogate, net.params)
    assert relative_error(analytic, numeric) < 1e-6
    codebook_part = [net.layout.slices[name] for name, _ in net.quantizer.shapes()]
    for rows in codebook_part:
        assert np.all(net.grad[rows] == 0)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_decoder_gradient_is_exact_with_the_codes_held_fixed(likelihood):
    # The decoder's and the variance's gradient need no surrogate: with the
    # codes fixed, the loss is a smooth function of them.
    net, X, _ = make_network(likelihood, "tanh", (4,))
    _, _, codes = net.loss_and_grad(X, 0.3)
    analytic = net.grad.copy()
    decoder = [net.layout.slices[name] for name in net.layout.slices
               if name.startswith("decoder.")]

    def loss():
        return net.loss_and_grad(X, 0.3, codes)[0]

    for rows in decoder:
        numeric = numerical_gradient(loss, net.params[rows])
        assert relative_error(analytic[rows], numeric) < 1e-6


def test_commitment_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    Z_e, Z_q = rng.standard_normal((2, 5, 3, 2))
    value, grad = commitment_loss_and_grad(Z_e, Z_q)
    numeric = numerical_gradient(lambda: commitment_loss_and_grad(Z_e, Z_q)[0], Z_e)
    assert relative_error(grad, numeric) < 1e-6
    assert value == pytest.approx(np.sum((Z_e - Z_q) ** 2) / 5)


def test_float32_computation_stays_float32_and_close_to_float64():
    net64, X, _ = make_network("gaussian", "softplus", (4,))
    net32 = VQNetwork(5, 2, 3, 2, (4,), "softplus", "gaussian", np.float32)
    net32.params[...] = net64.params
    net32.scaler = net64.scaler
    net32.head.var_floor = net64.head.var_floor
    _, _, codes = net64.loss_and_grad(X, 0.25)
    loss32, Z_e, codes32 = net32.loss_and_grad(X.astype(np.float32), 0.25, codes)
    loss64 = net64.loss_and_grad(X, 0.25, codes)[0]
    assert Z_e.dtype == net32.grad.dtype == np.float32
    assert_float32_matches_float64(loss32, loss64, net32.grad, net64.grad)
    X32 = X.astype(np.float32)
    assert net32.log_prob_given_codes(X32, codes).dtype == np.float32
    assert net32.decoded_mean(codes).dtype == np.float32
    net32.quantizer.update(net32.codebook_params, Z_e, codes32, 0.99, 0.5,
                           np.random.default_rng(0))
    assert net32.params.dtype == np.float32


# -- the quantizer -------------------------------------------------------------


def test_squared_distances_and_nearest_codes():
    _, P, rng = make_quantizer()
    Z = rng.standard_normal((6, 2, 3))
    distances = squared_distances(Z, P.codebook)
    for i, g, k in np.ndindex(distances.shape):
        assert distances[i, g, k] == pytest.approx(np.sum((Z[i, g] - P.codebook[g, k])
                                                          ** 2))
    np.testing.assert_array_equal(nearest_codes(Z, P.codebook),
                                  distances.argmin(axis=2))
    # Ties go to the lowest index.
    tied = np.zeros((1, 1, 1))
    assert nearest_codes(tied, np.array([[[1.0], [-1.0]]]))[0, 0] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_distances_stay_accurate_and_finite_far_from_the_origin(dtype):
    # ||z||^2 - 2 z.e + ||e||^2 loses every digit here; differences do not.
    codebook = np.array([[[1e6], [1e6 + 4]]], dtype=dtype)
    Z = np.array([[[1e6 + 1]], [[1e6 + 3]]], dtype=dtype)
    distances = squared_distances(Z, codebook)
    np.testing.assert_array_equal(distances[:, 0], [[1, 9], [9, 1]])
    np.testing.assert_array_equal(nearest_codes(Z, codebook)[:, 0], [0, 1])
    assert np.all(np.isfinite(squared_distances(Z * 1e12, codebook)))


def test_ema_with_decay_zero_is_a_lloyd_step_on_the_batch():
    quantizer, P, rng = make_quantizer()
    Z = rng.standard_normal((40, 2, 3))
    codes = nearest_codes(Z, P.codebook)
    codes[:, 1] = np.where(codes[:, 1] == 3, 0, codes[:, 1])  # code 3 unassigned
    before = P.codebook.copy()
    ema_update(P, Z, codes, decay=0.0, epsilon=0.0)
    for g in range(2):
        for k in range(4):
            rows = codes[:, g] == k
            expected = Z[rows, g].mean(axis=0) if rows.any() else before[g, k]
            np.testing.assert_allclose(P.codebook[g, k], expected, rtol=1e-12)
        np.testing.assert_array_equal(P.counts[g], np.bincount(codes[:, g],
                                                               minlength=4))
    # With Sonnet's smoothing the step is a Lloyd step up to (1 + K eps / n).
    _, P2, _ = make_quantizer()
    ema_update(P2, Z, codes, decay=0.0)
    np.testing.assert_allclose(P2.codebook, P.codebook, rtol=4 * LAPLACE_EPSILON)


def test_ema_is_debiased_and_laplace_smoothed_as_in_sonnet():
    _, P, rng = make_quantizer()
    decay, eps = 0.9, LAPLACE_EPSILON
    hidden_counts, hidden_sums = np.zeros((2, 4)), np.zeros((2, 4, 3))
    for t in range(1, 4):
        Z = rng.standard_normal((30, 2, 3))
        codes = rng.integers(0, 4, size=(30, 2))
        ema_update(P, Z, codes, decay)
        # Sonnet: a zero-initialised hidden EMA, divided by 1 - decay^t.
        one_hot = np.eye(4)[codes]
        hidden_counts += (1 - decay) * (one_hot.sum(axis=0) - hidden_counts)
        hidden_sums += (1 - decay) * (np.einsum("ngk,ngd->gkd", one_hot, Z)
                                      - hidden_sums)
        counts = hidden_counts / (1 - decay**t)
        sums = hidden_sums / (1 - decay**t)
        np.testing.assert_allclose(P.counts, counts, rtol=1e-12)
        n = counts.sum(axis=1, keepdims=True)
        smoothed = (counts + eps) / (n + 4 * eps) * n
        np.testing.assert_allclose(P.codebook, sums / smoothed[..., None], rtol=1e-12)
    # After one batch the debiased counts are that batch's, not 10% of it.
    _, fresh, _ = make_quantizer()
    ema_update(fresh, Z, codes, decay)
    np.testing.assert_allclose(fresh.counts.sum(axis=1), [30, 30])


def test_dead_codes_restart_at_batch_outputs_with_a_threshold_scaled_by_batch():
    _, P, rng = make_quantizer(n_groups=1, n_codes=4)
    P.counts[...] = [[10, 10, 0.5, 3]]
    P.sums[...] = P.counts[..., None] * P.codebook
    before = P.codebook.copy()
    Z = rng.standard_normal((20, 1, 3))
    # 20 rows: fair share 5, threshold 0.2 -> codes under 1 count are dead.
    assert restart_dead_codes(P, Z, 0.2, rng) == 1
    assert any(np.array_equal(P.codebook[0, 2], z) for z in Z[:, 0])
    np.testing.assert_array_equal(P.codebook[0, [0, 1, 3]], before[0, [0, 1, 3]])
    assert P.counts[0, 2] == 5
    np.testing.assert_allclose(P.sums[0, 2], 5 * P.codebook[0, 2])
    # The same counts on a batch of 80 rows (threshold 4 counts): code 3 too.
    assert restart_dead_codes(P, rng.standard_normal((80, 1, 3)), 0.2, rng) == 1
    assert not np.array_equal(P.codebook[0, 3], before[0, 3])
    assert restart_dead_codes(P, Z, 0.0, rng) == 0


def test_a_restarted_code_is_not_pulled_back_by_the_next_update():
    _, P, rng = make_quantizer(n_groups=1, n_codes=3)
    Z = rng.standard_normal((30, 1, 3))
    codes = np.zeros((30, 1), dtype=np.intp)  # everything goes to code 0
    ema_update(P, Z, codes, 0.99)
    restart_dead_codes(P, Z, 0.5, rng)
    restarted = P.codebook[0, 1:].copy()
    ema_update(P, Z, codes, 0.99)  # the restarted codes again win nothing
    np.testing.assert_allclose(P.codebook[0, 1:], restarted, rtol=1e-4)


def test_unused_codes_keep_their_vectors_instead_of_jumping_to_the_origin():
    _, P, rng = make_quantizer(n_groups=1, n_codes=3)
    before = P.codebook.copy()
    Z = rng.standard_normal((10, 1, 3))
    ema_update(P, Z, np.zeros((10, 1), dtype=np.intp), 0.99)
    np.testing.assert_array_equal(P.codebook[0, 1:], before[0, 1:])


def test_perplexity_counts_codes_in_effective_use():
    counts = np.array([[5, 5, 5, 5], [20, 0, 0, 0], [10, 10, 0, 0]])
    np.testing.assert_allclose(perplexity(counts), [4, 1, 2])


# -- the network ---------------------------------------------------------------


def test_adam_leaves_the_codebook_exactly_unchanged():
    net, X, _ = make_network("gaussian", "relu", (4,))
    codebook = [net.params[net.layout.slices[name]].copy()
                for name, _ in net.quantizer.shapes()]
    adam = Adam(net.params.size, net.dtype, 0.1)
    for _ in range(3):
        net.loss_and_grad(X, 0.25)
        adam.step(net.params, net.grad)
    for (name, _), before in zip(net.quantizer.shapes(), codebook, strict=True):
        np.testing.assert_array_equal(net.params[net.layout.slices[name]], before)


def test_a_training_step_scores_with_the_codebook_before_its_update():
    net, X, rng = make_network("bernoulli", "relu", (4,))
    expected = net.loss_and_grad(X, 0.25)[0]
    before = net.codebook.copy()
    loss = net.training_step(X, rng, commitment_cost=0.25, decay=0.0,
                               dead_code_threshold=0.0)
    assert loss == expected
    assert not np.array_equal(net.codebook, before)


def test_initial_codes_are_encoder_outputs_of_training_rows():
    net, X, _ = make_network("gaussian", "relu", (4,))
    fresh = VQNetwork(5, 2, 3, 2, (4,), "relu", "gaussian", np.float64)
    fresh.initialize(X, np.random.default_rng(1))
    Z = fresh.encode(X)
    for g in range(2):
        for code in fresh.codebook[g]:
            assert any(np.array_equal(code, z) for z in Z[:, g])


def test_pickle_keeps_views_on_the_buffer():
    net, X, _ = make_network("gaussian", "relu", (4,))
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.encode_codes(X), net.encode_codes(X))
    clone.params[...] = 0
    assert np.all(clone.codebook == 0) and np.all(clone.encoder.W[0] == 0)
