"""Inference in chunks of bounded memory (skvae/_estimator/inference.py).

Scores over many noise draws take the draws in chunks when one row's scratch
for all of them exceeds the budget: the results equal the unchunked ones up
to rounding, and the memory stays bounded whatever the number of draws.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from tolerances import assert_rows_agree

from skvae import VAEOutlierDetector, VAETransformer

HIDDEN = 8


@pytest.fixture(scope="module", params=[
    ("normal", np.float64), ("flow", np.float32), ("hierarchical", np.float64)])
def fitted(request):
    prior, dtype = request.param
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(60, 5)) @ rng.normal(size=(5, 5))).astype(dtype)
    vae = VAETransformer(2, hidden_layer_sizes=(HIDDEN,), prior=prior, max_iter=10,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    return vae, X


def draws_per_chunk(vae, working_memory):
    with config_context(working_memory=working_memory):
        return vae._draws_per_chunk(10**9)


def test_draws_are_chunked_only_when_a_row_of_all_of_them_exceeds_the_budget(
        fitted):
    vae, _ = fitted
    per_draw = vae._row_width(1) * vae._network.dtype.itemsize
    assert vae._draws_per_chunk(16) == 16
    assert draws_per_chunk(vae, 5 * per_draw / 2**20) == 5
    assert draws_per_chunk(vae, per_draw / 2**21) == 1  # at least one


@pytest.mark.parametrize("n_samples", [7, 50])
def test_log_likelihood_over_chunks_of_draws_equals_it_in_one(fitted, n_samples):
    vae, X = fitted
    whole = vae.log_likelihood(X, n_samples=n_samples, random_state=0)
    per_draw = vae._row_width(1) * vae._network.dtype.itemsize
    with config_context(working_memory=3 * per_draw / 2**20):  # 3 draws a chunk
        chunked = vae.log_likelihood(X, n_samples=n_samples, random_state=0)
    assert chunked.dtype == whole.dtype == X.dtype
    assert_rows_agree(chunked, whole, X.dtype, max(HIDDEN, X.shape[1], n_samples),
                      scale=np.abs(whole).max())
    # The rows of a subset are those of the whole, chunked too.
    with config_context(working_memory=3 * per_draw / 2**20):
        subset = vae.log_likelihood(X[:4], n_samples=n_samples, random_state=0)
    assert_rows_agree(subset, chunked[:4], X.dtype, max(HIDDEN, X.shape[1]),
                      scale=np.abs(whole).max())


def test_score_samples_over_chunks_of_draws_equals_it_in_one(fitted):
    vae, X = fitted
    whole = vae.score_samples(X)
    per_draw = vae._row_width(1) * vae._network.dtype.itemsize
    with config_context(working_memory=5 * per_draw / 2**20):  # 5, 5, 5 and 1
        chunked = vae.score_samples(X)
    assert chunked.dtype == whole.dtype == X.dtype
    assert_rows_agree(chunked, whole, X.dtype, max(HIDDEN, X.shape[1], 16),
                      scale=np.abs(whole).max())


def test_the_noise_of_chunks_is_the_noise_of_one_draw():
    # Drawn in turn from one stream, chunks of draws are the one draw's rows.
    whole = np.random.RandomState(0).standard_normal((7, 1, 3))
    rng = np.random.RandomState(0)
    parts = [rng.standard_normal((n, 1, 3)) for n in (3, 3, 1)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_log_likelihood_memory_stays_bounded_whatever_the_draws(fitted):
    vae, X = fitted
    n_samples = 200_000  # all at once: tens of MiB a row
    row_bytes = vae._row_width(n_samples) * vae._network.dtype.itemsize
    with config_context(working_memory=1):
        tracemalloc.start()
        try:
            log_px = vae.log_likelihood(X[:3], n_samples=n_samples)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert np.all(np.isfinite(log_px))
    assert row_bytes > 30 * 2**20 and peak < 6 * 2**20


def test_a_detector_scores_by_log_likelihood_in_chunks_of_draws():
    X = np.random.default_rng(0).normal(size=(80, 4))
    detector = VAEOutlierDetector(2, n_estimators=1, hidden_layer_sizes=(HIDDEN,),
                                  score_type="log_likelihood",
                                  log_likelihood_samples=40, max_iter=3,
                                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
    whole = detector.score_samples(X)
    per_draw = detector._row_width(1) * 8
    with config_context(working_memory=4 * per_draw / 2**20):
        chunked = detector.score_samples(X)
    assert_rows_agree(chunked, whole, X.dtype, 40, scale=np.abs(whole).max())


@pytest.mark.parametrize("prior", ["flow", "hierarchical"])
def test_codes_from_a_learned_prior_are_drawn_in_row_chunks(prior):
    """The prior's networks run chunk by chunk: the same codes (up to
    rounding) with a small working memory, in bounded memory."""
    X = np.random.default_rng(0).standard_normal((120, 4))
    vae = VAETransformer(prior=prior, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    whole = vae.sample_latent(5000, random_state=0)
    with config_context(working_memory=1):
        chunked = vae.sample_latent(5000, random_state=0)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
