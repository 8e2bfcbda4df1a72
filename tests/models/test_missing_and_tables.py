"""The network on tables (one likelihood per column) and with missing entries."""

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error

from skvae._models.objectives import ELBO, IWAE
from skvae._models.vae import build_network

TABLE = {"kinds": ["gaussian", "categorical", "bernoulli", "gaussian", "categorical"],
         "n_categories": [3, 2]}


def table(rng, n=12):
    return np.column_stack([rng.normal(5, 3, n), rng.integers(0, 3, n),
                            rng.integers(0, 2, n), rng.normal(-1, 0.1, n),
                            rng.integers(0, 2, n)]).astype(float)


def network(likelihood, X, missing_indicator, rng):
    net = build_network(X.shape[1], 2, (6,), "tanh", likelihood, "float64",
                        missing_indicator=missing_indicator)
    net.initialize(X, rng)
    net.params += rng.normal(size=net.params.size) * 0.1
    return net


def with_gaps(X, rng, fraction=0.3):
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    X[0] = np.nan  # a row with nothing observed
    return X


@pytest.mark.parametrize("likelihood", ["gaussian", TABLE])
@pytest.mark.parametrize("objective", [ELBO(), IWAE(3)], ids=["elbo", "iwae"])
@pytest.mark.parametrize("missing", [False, True])
def test_loss_gradient_matches_finite_differences(likelihood, objective, missing):
    rng = np.random.default_rng(0)
    X = table(rng)
    X = with_gaps(X, rng) if missing else X
    net = network(likelihood, X, missing, rng)
    eps = rng.standard_normal((objective.n_draws, len(X), net.noise_dims))
    weights = rng.random(len(X))

    def loss():
        return net.loss_and_grad(X, eps, objective, 0.01, sample_weight=weights)

    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6


def test_scores_of_rows_with_gaps_are_those_of_their_observed_part():
    """log p(x_obs | z) is the sum of the observed entries' terms, plus the
    scaling's log-Jacobian of the observed entries."""
    rng = np.random.default_rng(1)
    X = table(rng)
    net = network(TABLE, X, False, rng)
    eps = rng.standard_normal((4, 1, net.noise_dims))
    gapped = X.copy()
    gapped[:, 1] = np.nan
    Xs, mask, encoder_input = net.inputs(gapped)
    assert mask is not None and not mask[:, 1].any()
    mu, _ = net.encoder.encode(encoder_input)
    a = net.decoder.output(mu)
    terms = net.decoder.head.log_prob_terms(net.scaler.transform(X), a)
    masked = net.decoder.log_prob(Xs, mu, mask)
    np.testing.assert_allclose(masked + net.log_det(mask),
                               np.delete(terms, 1, axis=1).sum(1)
                               + net.scaler.log_det)  # a category has scale 1
    assert np.all(np.isfinite(net.elbo(gapped, eps)))


def test_a_row_with_nothing_observed_scores_minus_its_kl():
    rng = np.random.default_rng(2)
    X = with_gaps(table(rng), rng)
    net = network(TABLE, X, True, rng)
    eps = rng.standard_normal((4, 1, net.noise_dims))
    np.testing.assert_allclose(net.elbo(X[:1], eps), -net.kl(X[:1], eps))


def test_complete_data_take_the_path_without_mask():
    rng = np.random.default_rng(3)
    X = table(rng)
    net = network("gaussian", X, False, rng)
    Xs, mask, encoder_input = net.inputs(X)
    assert mask is None and encoder_input is Xs


def test_mask_bits_reach_the_encoder_only_when_fitted_with_gaps():
    rng = np.random.default_rng(4)
    X = table(rng)
    plain, indicated = network(TABLE, X, False, rng), network(TABLE, X, True, rng)
    assert indicated.encoder.sizes[0] == plain.encoder.sizes[0] + X.shape[1]
    _, _, encoder_input = indicated.inputs(with_gaps(X, rng))
    np.testing.assert_array_equal(encoder_input[0, -X.shape[1]:], 0)


@pytest.mark.parametrize("missing", [False, True])
def test_auxiliary_gradient_on_a_table_with_gaps_matches_finite_differences(missing):
    from skvae._models.auxiliary import build_auxiliary_network

    rng = np.random.default_rng(5)
    X = table(rng, n=8)
    X = with_gaps(X, rng) if missing else X
    net = build_auxiliary_network(
        5, 2, (4,), "tanh", TABLE, "float64", n_auxiliary_components=2,
        n_conditions=2, class_log_prior=np.log([0.4, 0.6]), label_weight=1.0,
        missing_indicator=missing)
    net.initialize(X, rng)
    net.params += rng.normal(size=net.params.size) * 0.1
    C = np.zeros((8, 2))
    C[::3, 0] = 1
    C[1::3, 1] = 1
    eps = rng.standard_normal((1, 8, net.noise_dims))

    def loss():
        return net.loss_and_grad(X, eps, ELBO(), 0.01, C)

    loss()
    analytic = net.grad.copy()
    assert relative_error(analytic, numerical_gradient(loss, net.params)) < 1e-6
    assert np.all(np.isfinite(net.elbo(X, rng.standard_normal((3, 1, net.noise_dims)))))
