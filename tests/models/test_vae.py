import pickle

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy import stats
from tolerances import assert_float32_matches_float64

from skvae._models.objectives import ELBO, IWAE
from skvae._models.vae import build_network
from skvae._nn.activations import ACTIVATIONS
from skvae._nn.gaussian import standard_normal_log_density


def elbo_loss(net, X, eps, beta, alpha, free_bits=0.0, C=None):
    """The ELBO training loss with one noise vector per row, eps (n, k)."""
    return net.loss_and_grad(X, eps[None], ELBO(beta, free_bits), alpha, C)


def iwae_loss(net, X, eps, alpha, C=None):
    """The importance-weighted training loss, eps (K, n, k)."""
    return net.loss_and_grad(X, eps, IWAE(eps.shape[0]), alpha, C)


def all_weights(net):
    return [W for part in net.parts for W, _ in part.weights()]


def make_network(likelihood, activation, hidden, seed=0, n_features=6, k=3,
                 dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.random((7, n_features)).astype(dtype)
    net = build_network(n_features, k, hidden, activation, likelihood, dtype)
    net.initialize(X, rng)
    # Move away from the special initial values (zero biases, data mean).
    net.params += (0.1 * rng.standard_normal(net.params.shape)).astype(dtype)
    return net, X, rng


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(), (5,), (5, 4)])
def test_loss_gradient_matches_finite_differences(likelihood, activation, hidden):
    net, X, rng = make_network(likelihood, activation, hidden)
    eps = rng.standard_normal((X.shape[0], net.n_components))
    loss = lambda: elbo_loss(net, X, eps, beta=0.7, alpha=0.3)  # noqa: E731
    loss()
    analytic = net.grad.copy()
    numeric = numerical_gradient(loss, net.params)
    assert relative_error(analytic, numeric) < 1e-6


def test_loss_is_minus_mean_elbo_plus_penalty():
    net, X, rng = make_network("gaussian", "tanh", (5,))
    eps = rng.standard_normal((X.shape[0], net.n_components))
    elbo = net.elbo(X, eps[None], beta=0.5)
    penalty = sum(np.sum(W**2) for W in all_weights(net))
    loss = elbo_loss(net, X, eps, beta=0.5, alpha=0.2)
    np.testing.assert_allclose(loss, -elbo.mean() + 0.1 * penalty / X.shape[0])


def linear_gaussian_log_px(net, X):
    """Exact log p(x) of a VAE with a linear decoder: N(b, W'W + diag(var)) in
    the network's standardized units x_std = (x - m) / s, so x ~ N(s b + m,
    s^2 (W'W + diag(var)))."""
    W, b = net.decoder.W[0], net.decoder.b[0]
    cov = W.T @ W + np.diag(net.decoder.head.var)
    shift, scale = net.scaler.shift, net.scaler.scale
    return stats.multivariate_normal(scale * b + shift, scale**2 * cov).logpdf(X)


def linear_gaussian_elbo(net, X):
    """Exact ELBO of a linear-decoder Gaussian VAE (beta = 1).

    E_q (x - W'z - b)_j^2 = (x - W'mu - b)_j^2 + sum_k sigma_k^2 W_kj^2.
    """
    W, b, var = net.decoder.W[0], net.decoder.b[0], net.decoder.head.var
    mu, log_var = net.encode(X)
    X = net.scaler.transform(X)  # the density of x_std, then the log-Jacobian
    expected_sq = (X - mu @ W - b) ** 2 + np.exp(log_var) @ W**2
    log_px = -0.5 * np.sum(expected_sq / var + np.log(2 * np.pi * var), axis=1)
    kl = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=1)
    return log_px - kl + net.scaler.log_det


def test_elbo_and_importance_weighted_bound_against_exact_values():
    # A linear decoder with a Gaussian likelihood has a closed-form ELBO and
    # log p(x): the estimates must match the one and rise towards the other.
    net, X, rng = make_network("gaussian", "identity", (), n_features=4, k=2)
    exact_elbo = linear_gaussian_elbo(net, X)
    exact_log_px = linear_gaussian_log_px(net, X)
    assert np.all(exact_elbo < exact_log_px)
    # One draw per (tiled) row: the ELBO, and the importance-weighted bound
    # with K = 1 (its KL by Monte Carlo), are both unbiased for the exact ELBO.
    tiled = np.repeat(X, 4000, axis=0)
    for estimate in (net.elbo, net.log_likelihood):
        draws = estimate(tiled, rng.standard_normal((1, tiled.shape[0], 2)))
        draws = draws.reshape(X.shape[0], -1)
        standard_error = draws.std(axis=1) / np.sqrt(draws.shape[1])
        assert np.all(np.abs(draws.mean(axis=1) - exact_elbo) < 4 * standard_error)
    # The bound holds in expectation: average independent replicates per row.
    tiled = np.repeat(X, 500, axis=0)
    bounds = [net.log_likelihood(tiled, rng.standard_normal((K, tiled.shape[0], 2)))
              .reshape(X.shape[0], -1).mean(axis=1) for K in (10, 100)]
    assert np.all(exact_elbo < bounds[0]) and np.all(bounds[0] < bounds[1])
    assert np.all(bounds[1] < exact_log_px)
    many = net.log_likelihood(X, rng.standard_normal((20_000, 1, 2)))
    np.testing.assert_allclose(many, exact_log_px, atol=0.1)


def test_elbo_with_shared_noise_is_row_wise():
    net, X, rng = make_network("bernoulli", "relu", (5,))
    noise = rng.standard_normal((8, 1, net.n_components))
    full = net.elbo(X, noise)
    for i in range(X.shape[0]):
        np.testing.assert_allclose(net.elbo(X[i:i + 1], noise), full[i:i + 1],
                                   rtol=1e-12)


def test_reconstruction_error_definitions():
    for likelihood in ("gaussian", "bernoulli"):
        net, X, _ = make_network(likelihood, "tanh", (5,))
        mean = net.decoded_mean(net.encode(X)[0])
        if likelihood == "gaussian":
            expected = ((X - mean) ** 2).sum(axis=1)
        else:
            expected = -(X * np.log(mean) + (1 - X) * np.log1p(-mean)).sum(axis=1)
        np.testing.assert_allclose(net.reconstruction_error(X), expected, rtol=1e-10)


def test_pickle_keeps_views_on_the_buffer():
    net, X, _ = make_network("gaussian", "relu", (5,))
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.params, net.params)
    clone.params[...] = 0
    assert np.all(clone.encoder.W[0] == 0) and np.all(clone.decoder.b[-1] == 0)
    assert np.all(clone.decoder.head.log_var_above_floor == 0)
    assert np.any(net.encoder.W[0] != 0)


def test_float32_computation_stays_float32_and_close_to_float64():
    net64, X, rng = make_network("bernoulli", "softplus", (5,))
    net32 = net64.astype(np.float32)
    eps = rng.standard_normal((X.shape[0], net64.n_components))
    loss32 = elbo_loss(net32, X.astype(np.float32), eps.astype(np.float32), 1, 0)
    loss64 = elbo_loss(net64, X, eps, 1, 0)
    assert loss32.dtype == net32.grad.dtype == np.float32
    X32, noise = X.astype(np.float32), eps[None].astype(np.float32)
    for values in (net32.elbo(X32, noise), net32.log_likelihood(X32, noise),
                   net32.reconstruction_error(X32)):
        assert values.dtype == np.float32
    assert_float32_matches_float64(loss32, loss64, net32.grad, net64.grad)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_free_bits_gradient_matches_finite_differences(likelihood, activation):
    net, X, rng = make_network(likelihood, activation, (5,), n_features=6, k=4)
    net.params += rng.standard_normal(net.params.shape)  # spread the KL per dimension
    eps = rng.standard_normal((X.shape[0], net.n_components))
    mu, log_var = net.encode(X)
    means = np.sort((-0.5 * (1 + log_var - mu**2 - np.exp(log_var))).mean(axis=0))
    # A threshold between two dimensions' batch means, far from both, so that
    # some dimensions are held at it and the others are not.
    free_bits = 0.5 * (means[1] + means[2])
    assert min(free_bits - means[1], means[2] - free_bits) > 1e-3
    loss = lambda: elbo_loss(net, X, eps, 0.8, 0.1, free_bits)  # noqa: E731
    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6
    # The held dimensions contribute free_bits each, whatever their KL.
    plain = elbo_loss(net, X, eps, 0.8, 0.1)
    assert loss() - plain == pytest.approx(0.8 * 2 * free_bits - 0.8 * means[:2].sum(),
                                           rel=1e-6)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
@pytest.mark.parametrize("hidden", [(), (5,), (5, 4)])
def test_iwae_gradient_matches_finite_differences(likelihood, activation, hidden):
    net, X, rng = make_network(likelihood, activation, hidden)
    eps = rng.standard_normal((3, X.shape[0], net.n_components))
    loss = lambda: iwae_loss(net, X, eps, alpha=0.3)  # noqa: E731
    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6


def test_iwae_loss_is_minus_the_mean_importance_weighted_bound():
    net, X, rng = make_network("bernoulli", "relu", (5,))
    eps = rng.standard_normal((4, X.shape[0], net.n_components))
    np.testing.assert_allclose(iwae_loss(net, X, eps, alpha=0.0),
                               -net.log_likelihood(X, eps).mean(), rtol=1e-12)


FLOW = {"n_flow_layers": 2, "flow_hidden_layer_sizes": (5,), "window": None}


def make_flow_network(likelihood, activation, hidden, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((7, 6))
    net = build_network(6, 3, hidden, activation, likelihood, np.float64,
                        prior="flow", settings=FLOW)
    net.initialize(X, rng)
    # Move away from the identity flow and the special initial values.
    net.params += 0.1 * rng.standard_normal(net.params.shape)
    net.params *= net.params != 0  # keep the MADE masks' zeros
    return net, X, rng


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("objective", ["elbo", "free bits", "free bits, active",
                                       "iwae"])
def test_flow_prior_gradients_match_finite_differences(likelihood, activation,
                                                       objective):
    net, X, rng = make_flow_network(likelihood, activation, (5,))
    if objective == "iwae":
        eps = rng.standard_normal((3, X.shape[0], 3))
        loss = lambda: iwae_loss(net, X, eps, alpha=0.2)  # noqa: E731
    else:
        eps = rng.standard_normal((X.shape[0], 3))
        kl = net.kl(X, eps[None]).mean()
        # For free bits, a threshold above the batch KL (the term is held)
        # or below it (the term is active, its gradient flows).
        # The threshold is per dimension: the flow's single group holds the
        # total above 3 * free_bits.
        free_bits = {"elbo": 0.0, "free bits": (kl + 1.0) / 3,
                     "free bits, active": (kl - 1.0) / 3}[objective]
        loss = lambda: elbo_loss(net, X, eps, 0.7, 0.2, free_bits)  # noqa: E731
    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6


def test_free_bits_under_the_flow_prior_hold_the_total_kl_per_dimension():
    net, X, rng = make_flow_network("bernoulli", "tanh", (5,))
    eps = rng.standard_normal((X.shape[0], 3))
    kl = net.kl(X, eps[None]).mean()
    no_kl = elbo_loss(net, X, eps, 0.0, 0.0)
    # Held: the KL term is the constant 3 dimensions * free_bits.
    held = elbo_loss(net, X, eps, 0.7, 0.0, free_bits=(kl + 1.0) / 3)
    assert held - no_kl == pytest.approx(0.7 * (kl + 1.0), rel=1e-10)
    # Not held: the plain objective.
    active = elbo_loss(net, X, eps, 0.7, 0.0, free_bits=(kl - 1.0) / 3)
    assert active == pytest.approx(elbo_loss(net, X, eps, 0.7, 0.0), rel=1e-12)


def test_flow_prior_values_are_consistent():
    net, X, rng = make_flow_network("bernoulli", "tanh", (5,))
    eps = rng.standard_normal((1, X.shape[0], 3))
    # The loss is minus the one-draw ELBO (KL by the same draw).
    np.testing.assert_allclose(elbo_loss(net, X, eps[0], 1.0, 0.0),
                               -net.elbo(X, eps).mean(), rtol=1e-10)
    # Prior samples have the flow's density: log p(sample(eps)) is finite
    # and differs from N(0, I) (the flow is not the identity any more).
    Z = net.sample_prior(rng.standard_normal((5, 3)))
    assert np.all(np.isfinite(net.prior.log_density(Z)))
    assert not np.allclose(net.prior.log_density(Z), standard_normal_log_density(Z))


def make_variant_network(likelihood, activation, *, flow=False, window=None, seed=0,
                         hidden=(5,), dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.random((7, 6)).astype(dtype)
    net = build_network(6, 3, hidden, activation, likelihood, dtype,
                        prior="flow" if flow else "normal", decoder="autoregressive",
                        settings={**FLOW, "window": window})
    net.initialize(X, rng)
    net.params += (0.1 * rng.standard_normal(net.params.shape)).astype(dtype)
    net.params *= net.params != 0  # keep the MADE masks' zeros
    return net, X, rng


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("window", [None, 2])
@pytest.mark.parametrize("flow", [False, True])
@pytest.mark.parametrize("objective", ["elbo", "free bits", "free bits, some held",
                                       "iwae"])
def test_autoregressive_decoder_gradients_match_finite_differences(
        likelihood, window, flow, objective):
    net, X, rng = make_variant_network(likelihood, "tanh", flow=flow, window=window)
    if objective == "iwae":
        eps = rng.standard_normal((3, X.shape[0], 3))
        loss = lambda: iwae_loss(net, X, eps, alpha=0.2)  # noqa: E731
    else:
        eps = rng.standard_normal((X.shape[0], 3))
        free_bits = 0.0
        if objective == "free bits":  # a threshold far above every KL: all held
            free_bits = float(net.kl(X, eps[None]).max()) + 1.0
        elif objective == "free bits, some held":
            # Holding only the dimension with the smallest batch KL (under
            # the flow prior, whose KL is one group: a threshold below it).
            free_bits = _between_two_smallest(_batch_kl_groups(net, X, eps))
        loss = lambda: elbo_loss(net, X, eps, 0.7, 0.2, free_bits)  # noqa: E731
    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6


def _batch_kl_groups(net, X, eps):
    """The batch-mean KL of each group free bits thresholds separately."""
    mu, log_var = net.encode(X)
    Z = mu + np.exp(0.5 * log_var) * eps
    return net.prior.kl_terms(mu, log_var, eps, Z)[0].mean(axis=0)


def _between_two_smallest(kls):
    """A threshold that holds the smallest group only, away from every kink.

    With a single group (the flow prior), one below it: the term is active.
    """
    if len(kls) == 1:  # the flow's total KL, held above 3 * free_bits
        return (float(kls[0]) - 1.0) / 3
    low, next_low = np.sort(kls)[:2]
    return float(low + next_low) / 2


def test_autoregressive_decoder_values_are_consistent():
    net, X, rng = make_variant_network("bernoulli", "relu", window=2)
    eps = rng.standard_normal((1, X.shape[0], 3))
    np.testing.assert_allclose(elbo_loss(net, X, eps[0], 1.0, 0.0),
                               -net.elbo(X, eps).mean(), rtol=1e-10)
    means = net.decoded_mean(rng.standard_normal((4, 3)))
    assert means.shape == (4, 6) and np.all((means > 0) & (means < 1))


@pytest.mark.parametrize("decoder", ["mlp", "autoregressive"])
@pytest.mark.parametrize("prior", ["normal", "flow"])
@pytest.mark.parametrize("objective", ["elbo", "free bits, some held", "iwae"])
@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_conditional_decoder_gradients_match_finite_differences(decoder, prior,
                                                                objective, likelihood):
    rng = np.random.default_rng(0)
    X = rng.random((7, 6))
    C = np.eye(3)[rng.integers(0, 3, 7)]  # one-hot conditions
    net = build_network(6, 2, (5,), "tanh", likelihood, np.float64, prior=prior,
                        decoder=decoder, n_conditions=3,
                        settings={**FLOW, "window": 2})
    net.initialize(X, rng)
    net.params += 0.1 * rng.standard_normal(net.params.shape)
    net.params *= net.params != 0
    if objective == "iwae":
        eps = rng.standard_normal((3, 7, 2))
        loss = lambda: iwae_loss(net, X, eps, 0.2, C)  # noqa: E731
    else:
        eps = rng.standard_normal((7, 2))
        free_bits = 0.0
        if objective != "elbo":  # one of the two dimensions held
            free_bits = _between_two_smallest(_batch_kl_groups(net, X, eps))
        loss = lambda: elbo_loss(net, X, eps, 0.7, 0.2, free_bits, C)  # noqa: E731
    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6
    # The condition matters: decoding the same codes under another class differs.
    Z = rng.standard_normal((4, 2))
    assert not np.allclose(net.decoded_mean(Z, np.eye(3)[[0] * 4]),
                           net.decoded_mean(Z, np.eye(3)[[1] * 4]))


@pytest.mark.parametrize(("prior", "decoder"), [
    ("flow", "mlp"), ("normal", "autoregressive"), ("flow", "autoregressive")])
@pytest.mark.parametrize("objective", ["elbo", "iwae"])
@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_float32_gradients_agree_with_float64(prior, decoder, objective, likelihood):
    # Every path computes in float32 when the network is float32, and its
    # gradient stays close to the float64 one.
    net64, X, rng = make_variant_network(likelihood, "tanh", flow=prior == "flow",
                                         window=2)
    if decoder == "mlp":
        net64 = build_network(6, 3, (5,), "tanh", likelihood, np.float64,
                              prior=prior, settings=FLOW)
        net64.initialize(X, rng)
    net32 = net64.astype(np.float32)
    X32 = X.astype(np.float32)
    K = 3 if objective == "iwae" else 1
    eps = rng.standard_normal((K, X.shape[0], 3))
    losses = []
    for net, x in ((net64, X), (net32, X32)):
        e = eps.astype(net.dtype)
        if objective == "iwae":
            losses.append(iwae_loss(net, x, e, 0.1))
        else:
            losses.append(elbo_loss(net, x, e[0], 0.9, 0.1))
    assert np.asarray(losses[1]).dtype == net32.grad.dtype == np.float32
    assert_float32_matches_float64(losses[1], losses[0], net32.grad, net64.grad)
