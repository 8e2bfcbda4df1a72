import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import get_tags

from skvae import ConditionalVAE


@pytest.fixture(scope="module")
def fitted():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cvae = ConditionalVAE(2, likelihood="bernoulli", random_state=0).fit(X / 16, y)
    return cvae, X / 16, y


def test_decoding_a_code_as_another_class_draws_that_class(fitted):
    cvae, X, y = fitted
    class_means = np.array([X[y == c].mean(axis=0) for c in range(10)])
    codes = cvae.transform(X[y == 0][:20])  # the styles of twenty zeros
    for target in range(10):
        drawn = cvae.inverse_transform(codes, y=target)
        distances = ((drawn[:, None, :] - class_means[None]) ** 2).sum(axis=2)
        # Most drawings are nearest to the mean image of the class asked for.
        assert np.mean(distances.argmin(axis=1) == target) > 0.8, target


def test_scores_with_and_without_labels(fitted):
    cvae, X, y = fitted
    with_labels = cvae.score_samples(X[:50], y[:50])
    summed_out = cvae.score_samples(X[:50])
    per_class = np.array([cvae.score_samples(X[:50], np.full(50, c))
                          for c in cvae.classes_])
    expected = logsumexp(per_class + np.log(cvae.class_prior_)[:, None], axis=0)
    np.testing.assert_allclose(summed_out, expected, rtol=1e-10)
    # Summing over classes can only add to the true class's term.
    assert np.all(summed_out >= with_labels + np.log(cvae.class_prior_[y[:50]]))
    assert cvae.score(X[:50]) == pytest.approx(summed_out.mean())


def test_sample_draws_the_classes_asked_for(fitted):
    cvae, _, _ = fitted
    X_new, y_new = cvae.sample(6, y=3, random_state=0)
    assert X_new.shape == (6, 64) and np.all(y_new == 3)
    X_again, _ = cvae.sample(6, y=3, random_state=0)
    np.testing.assert_array_equal(X_new, X_again)
    _, drawn = cvae.sample(2000, random_state=0)
    frequencies = np.bincount(drawn, minlength=10) / 2000
    np.testing.assert_allclose(frequencies, cvae.class_prior_, atol=0.03)


def test_bad_labels_are_refused(fitted):
    cvae, X, _ = fitted
    with pytest.raises(ValueError, match="labels not seen in fit"):
        cvae.inverse_transform(cvae.transform(X[:2]), y=[1, 42])
    with pytest.raises(ValueError, match="requires y"):
        ConditionalVAE().fit(X, None)
    with pytest.raises(ValueError, match="n_components=2 columns"):
        cvae.inverse_transform(X[:2], y=1)


def test_tags_declare_that_fit_needs_y():
    assert get_tags(ConditionalVAE()).target_tags.required
