"""The hierarchical prior: gradients with both noise draws fixed, exact values
of a linear-Gaussian two-layer model, the bounds' order, active units."""

import pickle
import warnings

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from scipy import stats
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from tolerances import assert_float32_matches_float64

from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer
from skvae._models.objectives import ELBO, IWAE
from skvae._models.vae import build_network
from skvae._nn.gaussian import standard_normal_log_density

TOP = {"n_top_components": 2, "top_hidden_layer_sizes": (4,), "window": 2}


def make_network(likelihood="bernoulli", activation="tanh", *, decoder="mlp",
                 top_hidden=(4,), n_conditions=0, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((7, 6)).astype(dtype)
    net = build_network(6, 3, (5,), activation, likelihood, dtype,
                        prior="hierarchical", decoder=decoder,
                        n_conditions=n_conditions,
                        settings={**TOP, "top_hidden_layer_sizes": top_hidden})
    net.initialize(X, rng)
    # Away from the initial values: p(z1 | z2) then depends on z2.
    net.params += (0.3 * rng.standard_normal(net.params.shape)).astype(dtype)
    net.params *= net.params != 0  # keep an autoregressive decoder's mask zeros
    return net, X, rng


def batch_kl_groups(net, X, eps):
    """Batch means of the k + n_top_components groups free bits holds."""
    mu, log_var = net.encode(X)
    k = net.n_components
    Z = mu + np.exp(0.5 * log_var) * eps[:, :k]
    return net.prior.kl_terms(mu, log_var, eps[:, :k], Z, eps[:, k:])[0].mean(axis=0)


def free_bits_for(objective, net, X, eps):
    """A threshold that holds every group, or only the smallest (halfway to
    the next, so that no group sits at a kink)."""
    kls = np.sort(batch_kl_groups(net, X, eps))
    if objective == "free bits, all held":
        return float(kls[-1]) + 1.0
    assert kls[1] - kls[0] > 1e-3
    return float(kls[0] + kls[1]) / 2


OBJECTIVES = ["elbo", "free bits, all held", "free bits, smallest held", "iwae"]


def loss_function(net, X, rng, objective, C=None):
    K = 3 if objective == "iwae" else 1
    eps = rng.standard_normal((K, X.shape[0], net.noise_dims)).astype(net.dtype)
    if objective == "iwae":
        return lambda: net.loss_and_grad(X, eps, IWAE(K), 0.2, C)
    free_bits = 0.0 if objective == "elbo" else free_bits_for(objective, net, X, eps[0])
    return lambda: net.loss_and_grad(X, eps, ELBO(0.7, free_bits), 0.2, C)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("top_hidden", [(), (4,), (4, 3)])
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_gradients_match_finite_differences(likelihood, activation, top_hidden,
                                            objective):
    # Both noise draws (z1's and z2's) are fixed inside the loss.
    net, X, rng = make_network(likelihood, activation, top_hidden=top_hidden)
    loss = loss_function(net, X, rng, objective)
    loss()
    analytic = net.grad.copy()
    # A relu unit of the top encoder sits within 1e-6 of its kink in the
    # (4, 3) network: differences that straddle it are off there, so relu
    # networks use a smaller step (float64 keeps it accurate to ~1e-8).
    step = 1e-7 if activation == "relu" else 1e-6
    assert relative_error(analytic, numerical_gradient(loss, net.params, step)) < 1e-6


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_gradients_with_a_condition_and_an_autoregressive_decoder(objective):
    net, X, rng = make_network("bernoulli", decoder="autoregressive", n_conditions=2)
    C = np.eye(2)[rng.integers(0, 2, X.shape[0])]
    loss = loss_function(net, X, rng, objective, C)
    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("objective", ["elbo", "free bits, smallest held", "iwae"])
def test_float32_agrees_with_float64(likelihood, objective):
    net64, X, rng = make_network(likelihood)
    net32 = net64.astype(np.float32)
    state = rng.bit_generator.state
    loss64 = loss_function(net64, X, rng, objective)()
    rng.bit_generator.state = state  # the same noise, cast to float32
    loss32 = loss_function(net32, X.astype(np.float32), rng, objective)()
    assert np.asarray(loss32).dtype == net32.grad.dtype == np.float32
    assert_float32_matches_float64(loss32, loss64, net32.grad, net64.grad)
    X32 = X.astype(np.float32)
    noise = rng.standard_normal((4, 1, net32.noise_dims)).astype(np.float32)
    for values in (net32.elbo(X32, noise), net32.log_likelihood(X32, noise),
                   net32.sample_prior(noise[:, 0])):
        assert values.dtype == np.float32


def test_losses_are_minus_the_scores():
    net, X, rng = make_network()
    eps = rng.standard_normal((1, X.shape[0], net.noise_dims))
    np.testing.assert_allclose(net.loss_and_grad(X, eps, ELBO(), 0.0),
                               -net.elbo(X, eps).mean(), rtol=1e-12)
    eps = rng.standard_normal((4, X.shape[0], net.noise_dims))
    np.testing.assert_allclose(net.loss_and_grad(X, eps, IWAE(4), 0.0),
                               -net.log_likelihood(X, eps).mean(), rtol=1e-12)


def test_free_bits_hold_each_dimension_of_both_layers():
    net, X, rng = make_network()
    eps = rng.standard_normal((1, X.shape[0], net.noise_dims))
    kls = batch_kl_groups(net, X, eps[0])
    assert kls.shape == (net.noise_dims,)  # 3 of z1, then 2 of z2
    free_bits = float(kls.max()) + 1.0
    held = net.loss_and_grad(X, eps, ELBO(0.7, free_bits), 0.0)
    no_kl = net.loss_and_grad(X, eps, ELBO(0.0), 0.0)
    assert held - no_kl == pytest.approx(0.7 * 5 * free_bits, rel=1e-10)


def linear_gaussian_network(seed=0):
    """A two-layer model with closed-form densities: linear maps everywhere
    and p(z1 | z2) of a constant variance."""
    rng = np.random.default_rng(seed)
    X = rng.random((5, 4))
    net = build_network(4, 2, (), "identity", "gaussian", np.float64,
                        prior="hierarchical",
                        settings={**TOP, "top_hidden_layer_sizes": ()})
    net.initialize(X, rng)
    net.params += 0.5 * rng.standard_normal(net.params.shape)
    net.prior.top_decoder.W[0][:, 2:] = 0  # log-variance of z1 | z2 constant
    # Proposals a little wider than the posteriors, so that the importance
    # weights are bounded and the estimates converge at the Monte Carlo rate
    # (with random proposals some rows kept an effective sample size below
    # 100 of 10^6 draws): q(z2 | z1) of variance e^0.5 (the posterior's is
    # below 1), q(z1 | x) at the exact posterior mean.
    net.prior.top_encoder.W[0][:, 2:] = 0
    net.prior.top_encoder.b[0][2:] = 0.5
    prior = exact_log_pz1(net)
    W, b, var = net.decoder.W[0], net.decoder.b[0], net.decoder.head.var
    precision = np.linalg.inv(prior.cov) + (W / var) @ W.T
    covariance = np.linalg.inv(precision)
    # In standardized units, mean = (m1 C1^-1 + (x - b) diag(1/var) W') P^-1.
    net.encoder.W[0][:, :2] = (W / var).T @ covariance
    net.encoder.b[0][:2] = (prior.mean @ np.linalg.inv(prior.cov)
                            - (b / var) @ W.T) @ covariance
    net.encoder.W[0][:, 2:] = 0
    net.encoder.b[0][2:] = np.log(1.5 * np.linalg.eigvalsh(covariance).max())
    return net, X, rng


def exact_log_pz1(net):
    """p(z1) = N(b, W'W + diag(var)) when z1 = z2 W + b + noise."""
    W, b = net.prior.top_decoder.W[0][:, :2], net.prior.top_decoder.b[0]
    log_var = net.prior.top_decoder.encode(np.zeros((1, 2)))[1][0]
    return stats.multivariate_normal(b[:2], W.T @ W + np.diag(np.exp(log_var)))


def exact_log_px(net, X):
    mean1, cov1 = exact_log_pz1(net).mean, exact_log_pz1(net).cov
    W, b, var = net.decoder.W[0], net.decoder.b[0], net.decoder.head.var
    shift, scale = net.scaler.shift, net.scaler.scale
    cov = W.T @ cov1 @ W + np.diag(var)
    return stats.multivariate_normal(scale * (mean1 @ W + b) + shift,
                                     scale**2 * cov).logpdf(X)


def test_prior_density_estimate_against_the_exact_marginal():
    net, _, rng = linear_gaussian_network()
    Z = rng.normal(size=(4, 2))
    n_draws = 100_000
    log_pz = net.prior.log_density(np.broadcast_to(Z, (n_draws, 4, 2)),
                                   rng.standard_normal((n_draws, 1, 2)))
    exact = exact_log_pz1(net).logpdf(Z)
    # exp of each one-draw estimate is unbiased for p(z1): its log-mean
    # converges to log p(z1); the mean of the logs stays below.
    np.testing.assert_allclose(logsumexp(log_pz, axis=0) - np.log(n_draws), exact,
                               atol=0.02)
    assert np.all(log_pz.mean(axis=0) < exact)


def test_elbo_and_bounds_against_exact_log_likelihood():
    net, X, rng = linear_gaussian_network()
    exact = exact_log_px(net, X)
    width = net.noise_dims
    # Averaged over independent replicates per row: the ELBO (analytic KL of
    # z2) and the bound with K = 1 (all sampled) estimate the same value; the
    # bound rises with K and stays below log p(x).
    tiled = np.repeat(X, 500, axis=0)
    elbo = net.elbo(tiled, rng.standard_normal((1, tiled.shape[0], width)))
    elbo = elbo.reshape(X.shape[0], -1)
    bounds = [net.log_likelihood(tiled, rng.standard_normal((K, tiled.shape[0], width)))
              .reshape(X.shape[0], -1) for K in (1, 10, 100)]
    standard_error = np.hypot(elbo.std(axis=1), bounds[0].std(axis=1)) / np.sqrt(500)
    assert np.all(np.abs(elbo.mean(axis=1) - bounds[0].mean(axis=1))
                  < 4 * standard_error)
    means = [elbo.mean(axis=1)] + [b.mean(axis=1) for b in bounds[1:]]
    assert np.all(np.diff(means, axis=0) > 0) and np.all(means[-1] < exact)
    many = net.log_likelihood(X, rng.standard_normal((100_000, 1, width)))
    np.testing.assert_allclose(many, exact, atol=0.05)


def test_prior_starts_as_the_standard_normal():
    rng = np.random.default_rng(0)
    X = rng.random((7, 6))
    net = build_network(6, 3, (5,), "tanh", "bernoulli", np.float64,
                        prior="hierarchical", settings=TOP)
    net.initialize(X, rng)
    eps = rng.standard_normal((10, 5))
    np.testing.assert_allclose(net.sample_prior(eps), eps[:, :3], rtol=1e-4)
    # log p(z1 | z2) is log N(z1; 0, I) whatever the draw of z2.
    Z = rng.standard_normal((10, 3))
    log_p1, _ = net.prior._forward(Z, rng.standard_normal((10, 2)))
    np.testing.assert_allclose(log_p1.sum(axis=1), standard_normal_log_density(Z),
                               rtol=1e-4)


def test_pickle_keeps_the_prior_on_the_buffer():
    net, X, rng = make_network()
    clone = pickle.loads(pickle.dumps(net))
    noise = rng.standard_normal((3, 1, net.noise_dims))
    np.testing.assert_array_equal(clone.log_likelihood(X, noise),
                                  net.log_likelihood(X, noise))
    clone.params[...] = 0
    assert np.all(clone.prior.top_encoder.W[0] == 0)
    assert np.all(clone.prior.top_decoder.b[-1] == 0)
    assert np.any(net.prior.top_encoder.W[0] != 0)


# -- the estimators -------------------------------------------------------------


def binarized_digits():
    return (load_digits().data / 16 > 0.5).astype(np.float64)


def active_units(vae, X, threshold=0.01):
    """Active units of each layer (Burda et al. 2016): dimensions whose
    posterior mean varies over rows by more than ``threshold``. For z2, the
    mean of q(z2 | z1) averaged over the scoring draws of z1 ~ q(z1 | x)."""
    mu, std = vae.transform(X, return_std=True)
    k = vae.n_components
    Z1 = mu + std * vae._score_noise[:, :, :k]
    mu2 = vae._network.prior.top_encoder.encode(Z1.reshape(-1, k))[0]
    mu2 = mu2.reshape(*Z1.shape[:2], -1).mean(axis=0)
    return (int(np.sum(mu.var(axis=0) > threshold)),
            int(np.sum(mu2.var(axis=0) > threshold)))


@pytest.fixture(scope="module")
def fitted_on_digits():
    X = binarized_digits()
    vae = VAETransformer(4, prior="hierarchical", n_top_components=2,
                         likelihood="bernoulli", solver="adam", max_iter=40,
                         learning_rate_init=3e-3, batch_size=100, kl_warmup=10,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    return vae, X


def test_both_layers_have_active_units(fitted_on_digits):
    vae, X = fitted_on_digits
    n_active_1, n_active_2 = active_units(vae, X)
    assert n_active_1 >= 3 and n_active_2 >= 1, (n_active_1, n_active_2)


def test_importance_weighted_bound_above_the_elbo_and_rising(fitted_on_digits):
    vae, X = fitted_on_digits
    X = X[:300]
    elbo = vae.score_samples(X).mean()
    bounds = [np.mean([vae.log_likelihood(X, K, random_state=seed).mean()
                       for seed in range(5)]) for K in (1, 10, 100)]
    assert bounds[0] == pytest.approx(elbo, abs=0.5)
    assert elbo < bounds[1] < bounds[2]


def test_estimator_outputs(fitted_on_digits):
    vae, X = fitted_on_digits
    assert vae.transform(X[:5]).shape == (5, 4)
    assert vae.sample_latent(6, random_state=0).shape == (6, 4)
    samples = vae.sample(6, random_state=0, mean=True)
    assert samples.shape == (6, 64) and np.all((samples > 0) & (samples < 1))
    assert set(np.unique(vae.sample(6, random_state=0))) <= {0.0, 1.0}
    np.testing.assert_array_equal(vae.sample(6, random_state=0, mean=True), samples)


def test_architecture_is_fixed_for_warm_start():
    X = binarized_digits()[:100]
    vae = VAETransformer(2, prior="hierarchical", likelihood="bernoulli",
                         solver="adam", max_iter=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
        for change in ({"n_top_components": 3}, {"top_hidden_layer_sizes": (8,)},
                       # the flow prior's defaults have the same numbers
                       {"prior": "flow"}, {"prior": "normal"}):
            with pytest.raises(ValueError, match="prior's"):
                vae.set_params(**change).fit(X)
            vae.set_params(prior="hierarchical", n_top_components=2,
                           top_hidden_layer_sizes=(32,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conditional_and_detector_accept_it(dtype):
    X = binarized_digits()[:200].astype(dtype)
    y = load_digits().target[:200]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cvae = ConditionalVAE(2, prior="hierarchical", likelihood="bernoulli",
                              solver="adam", max_iter=3, random_state=0).fit(X, y)
        detector = VAEOutlierDetector(2, prior="hierarchical",
                                      score_type="log_likelihood",
                                      likelihood="bernoulli",
                                      log_likelihood_samples=10, max_iter=3,
                                      random_state=0).fit(X)
    assert cvae.score_samples(X, y).dtype == dtype
    assert np.all(np.isfinite(cvae.score_samples(X)))
    samples, labels = cvae.sample(4, y=[1, 2, 3, 4], random_state=0)
    assert samples.shape == (4, 64) and samples.dtype == dtype
    assert set(np.unique(detector.predict(X))) <= {-1, 1}
    assert np.all(np.isfinite(detector.score_samples(X)))
