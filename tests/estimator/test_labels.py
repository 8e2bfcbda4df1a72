import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import ConditionalVAE
from skvae._estimator.labels import split_labels
from skvae._models.semisupervised import SemiSupervisedNetwork
from skvae._models.vae import VAENetwork

SMALL = {"n_components": 2, "hidden_layer_sizes": (8,), "max_iter": 5,
         "random_state": 0}


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, 4)) + 3 * y[:, None]
    return X, y


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_minus_one_marks_unlabeled_rows_and_is_no_class():
    classes, indices = split_labels(np.array([3, -1, 5, 3, -1]))
    np.testing.assert_array_equal(classes, [3, 5])
    np.testing.assert_array_equal(indices, [0, -1, 1, 0, -1])
    classes, indices = split_labels(np.array([0.0, -1.0, 2.0]))
    np.testing.assert_array_equal(classes, [0.0, 2.0])
    np.testing.assert_array_equal(indices, [0, -1, 1])


def test_string_labels_with_an_object_minus_one():
    classes, indices = split_labels(np.array(["cat", -1, "dog"], dtype=object))
    np.testing.assert_array_equal(classes, ["cat", "dog"])
    np.testing.assert_array_equal(indices, [0, -1, 1])
    # Every row labeled: strings are classes like any other.
    classes, _ = split_labels(np.array(["b", "a", "b"]))
    np.testing.assert_array_equal(classes, ["a", "b"])


@pytest.mark.parametrize("y", [np.array(["cat", "-1", "dog"]),
                               np.array(["cat", "-1"], dtype=object)],
                         ids=["str", "object"])
def test_the_string_minus_one_is_refused(y):
    with pytest.raises(ValueError, match="object array with the integer -1"):
        split_labels(y)


def test_all_rows_unlabeled_is_an_error():
    with pytest.raises(ValueError, match="Every row of y is -1"):
        split_labels(np.full(4, -1))


def test_continuous_labels_are_refused():
    with pytest.raises(ValueError, match="Unknown label type"):
        split_labels(np.array([0.5, -1, 1.5]))


def test_conditional_vae_learns_from_partly_labeled_rows():
    X, y = blobs()
    partial = np.where(np.arange(len(y)) < 12, y, -1)
    cvae = fit(ConditionalVAE(**SMALL), X, partial)
    np.testing.assert_array_equal(cvae.classes_, [0, 1, 2])
    np.testing.assert_allclose(cvae.class_prior_, [4 / 12, 4 / 12, 4 / 12])
    assert isinstance(cvae._network, SemiSupervisedNetwork)
    # The label weight is classification_weight * N / N_labeled.
    expected = cvae.classification_weight * 60 / 12
    assert cvae._network.label_weight == pytest.approx(expected)
    X_new, y_new = cvae.sample(5, random_state=0)
    assert X_new.shape == (5, 4) and set(y_new) <= {0, 1, 2}
    assert np.all(np.isfinite(cvae.score_samples(X)))
    assert cvae.transform(X).shape == (60, 2)


def test_conditional_vae_on_fully_labeled_rows_trains_no_classifier():
    X, y = blobs()
    cvae = fit(ConditionalVAE(**SMALL), X, y)
    assert type(cvae._network) is VAENetwork


def test_unlabeled_rows_change_the_fit():
    X, y = blobs()
    labeled = np.arange(len(y)) < 12
    partial = np.where(labeled, y, -1)
    with_unlabeled = fit(ConditionalVAE(**SMALL), X, partial)
    without = fit(ConditionalVAE(**SMALL), X[labeled], y[labeled])
    assert not np.allclose(with_unlabeled.transform(X), without.transform(X))


def test_importance_weighting_is_refused_with_unlabeled_rows():
    X, y = blobs()
    with pytest.raises(ValueError, match="n_importance_samples=1"):
        fit(ConditionalVAE(n_importance_samples=2, **SMALL), X, np.where(y == 0, -1, y))


def test_warm_start_cannot_switch_between_full_and_partial_labels():
    X, y = blobs()
    cvae = fit(ConditionalVAE(warm_start=True, **SMALL), X, y)
    with pytest.raises(ValueError, match="fully and partly labeled"):
        fit(cvae, X, np.where(np.arange(len(y)) < 30, y, -1))
    assert type(cvae._network) is VAENetwork  # the failed fit changed nothing


def test_warm_start_on_partly_labeled_rows_updates_the_label_weight():
    X, y = blobs()
    cvae = fit(ConditionalVAE(warm_start=True, **SMALL), X,
               np.where(np.arange(len(y)) < 30, y, -1))
    fit(cvae, X, np.where(np.arange(len(y)) < 12, y, -1))
    expected = cvae.classification_weight * 60 / 12
    assert cvae._network.label_weight == pytest.approx(expected)
    assert cvae.n_iter_ == 10


def test_minus_one_and_one_is_one_class_and_unlabeled_rows_so_refused():
    """{-1, 1} is a common binary encoding; -1 now marks unlabeled rows, so a
    model with a single class to learn is refused with the way out."""
    X, y = blobs()
    with pytest.raises(ValueError, match=r"encode classes \{-1, 1\} as \{0, 1\}"):
        fit(ConditionalVAE(**SMALL), X, np.where(y == 0, -1, 1))


def test_scores_sum_out_the_class_of_rows_labeled_minus_one():
    """score_samples(X, y) with -1 rows: those rows get the class summed out,
    the others their class's ELBO, so cross-validation on partly labeled data
    scores as it fits."""
    from sklearn.model_selection import cross_val_score

    X, y = blobs()
    partial = np.where(np.arange(len(y)) % 2, y, -1)
    cvae = fit(ConditionalVAE(**SMALL), X, partial)
    scores = cvae.score_samples(X, partial)
    unlabeled = partial == -1
    np.testing.assert_array_equal(scores[unlabeled], cvae.score_samples(X)[unlabeled])
    np.testing.assert_array_equal(scores[~unlabeled],
                                  cvae.score_samples(X[~unlabeled], y[~unlabeled]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cv = cross_val_score(ConditionalVAE(**SMALL), X, partial, cv=3,
                             error_score="raise")
    assert np.all(np.isfinite(cv))


@pytest.mark.parametrize("fit_as", [object, str])
def test_string_classes_read_from_str_and_object_arrays_alike(fit_as):
    """Labels fitted from an object array (e.g. a pandas Series) are found in
    a str array, and the other way round."""
    X, y = blobs()
    names = np.array(["cat", "dog", "emu"])[y]
    cvae = fit(ConditionalVAE(**SMALL), X, names.astype(fit_as))
    other = object if fit_as is str else str
    for labels in ("dog", names.astype(other)):
        X_new, y_new = cvae.sample(len(names), y=np.broadcast_to(labels, len(names))
                                   .astype(other), random_state=0)
        assert X_new.shape == X.shape and set(y_new) <= {"cat", "dog", "emu"}
    np.testing.assert_array_equal(cvae.score_samples(X, names.astype(other)),
                                  cvae.score_samples(X, names.astype(fit_as)))
    with pytest.raises(ValueError, match="labels not seen in fit"):
        cvae.sample(2, y=np.array(["yak", "cat"], dtype=other))
    with pytest.raises(ValueError, match="another type"):
        cvae.sample(2, y=[1, 2])
