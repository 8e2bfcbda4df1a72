"""Latent diagnostics: KL per dimension and active dimensions."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer


@pytest.fixture(scope="module")
def two_factor_data():
    """Six features driven by two latent factors, plus a little noise."""
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(300, 2))
    return factors @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(300, 6))


def fit(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


@pytest.mark.parametrize("weighted", [False, True])
def test_kl_per_component_sums_to_the_mean_kl(two_factor_data, weighted):
    X = two_factor_data
    weights = np.random.default_rng(1).integers(0, 3, len(X)) if weighted else None
    vae = fit(VAETransformer(4, max_iter=60, random_state=0), X, sample_weight=weights)
    kl = vae._network.kl(X, vae._score_noise)  # analytic for the normal prior
    assert vae.kl_per_component_.shape == (4,)
    assert np.all(vae.kl_per_component_ >= 0)
    assert vae.kl_per_component_.sum() == pytest.approx(
        np.average(kl, weights=weights), rel=1e-6)


def test_unused_dimensions_are_inactive_and_carry_no_kl(two_factor_data):
    vae = fit(VAETransformer(6, solver="lbfgs", hidden_layer_sizes=(64,), max_iter=300,
                         random_state=0), two_factor_data)
    active, kl = vae.active_components_, vae.kl_per_component_
    assert active.dtype == bool and active.sum() == 2  # the two factors
    assert kl[active].min() > 1.0 and kl[~active].max() < 0.1


@pytest.mark.parametrize("estimator", [
    VAETransformer(3, prior="flow", max_iter=5, random_state=0),
    VAETransformer(3, solver="adam", max_iter=2, random_state=0),
    ConditionalVAE(3, max_iter=5, random_state=0),
    VAEOutlierDetector(3, max_iter=2, n_estimators=1, random_state=0),
])
def test_every_vae_estimator_reports_its_latent_use(estimator, two_factor_data):
    X = two_factor_data.astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    fit(estimator, X, y)
    assert estimator.kl_per_component_.shape == (3,)
    assert estimator.active_components_.shape == (3,)
    assert np.all(np.isfinite(estimator.kl_per_component_))
