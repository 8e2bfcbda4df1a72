"""Class labels of the conditional models, partly labeled data among them.

scikit-learn's semi-supervised estimators (:class:`~sklearn.semi_supervised.
LabelSpreading`, :class:`~sklearn.semi_supervised.SelfTrainingClassifier`)
mark an unlabeled row with the label -1, which is then no class.  The
conditional models follow them: rows labeled -1 train model M2 of Kingma et
al. (2014) (:mod:`skvae._models.semisupervised`), whose classifier q(y|x) infers
their class.  :class:`LabelsMixin` holds what :class:`~skvae.ConditionalVAE`
and :class:`~skvae.VAEClassifier` share: reading labels, building the M2
network when it is needed, drawing data of chosen classes.
"""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._models.semisupervised import SemiSupervisedNetwork
from .._parts.classifiers import SoftmaxClassifier
from .utils import check_n_samples

UNLABELED = -1

# The Parameters entry of hidden_layer_sizes in the models that may train a
# classifier (for skvae._estimator.docs.document_parameters).
HIDDEN_LAYER_SIZES_DOC = ('"auto", int or tuple of int', """
    Sizes of the encoder's hidden layers, and of the classifier's q(y|x)
    when one is trained (its own weights, layers of the same sizes); the
    decoder mirrors them in reverse. ``()`` gives a linear encoder, decoder
    and classifier. ``"auto"`` is one layer twice as wide as the input,
    between 64 and 512 units, and no wider than the rows of ``fit`` when
    those are more than 64 (``hidden_layer_sizes_`` says what was used; a
    warm start keeps it).""")


def unlabeled_rows(y):
    """Where y holds -1, the integer (never the string '-1')."""
    if y.dtype.kind in "US":
        return np.zeros(y.shape, dtype=bool)
    if y.dtype.kind == "O":
        return np.array([not isinstance(v, str) and v == UNLABELED for v in y],
                        dtype=bool)
    return y == UNLABELED


def split_labels(y):
    """The classes of the labeled rows, and each row's index into them.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels, -1 for an unlabeled row.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The sorted labels of the labeled rows; -1 is not among them.
    indices : ndarray of shape (n_samples,)
        Index of each row's class in ``classes``, -1 for an unlabeled row.
    """
    if y.dtype.kind == "O":
        string_minus_one = any(isinstance(v, str) and v == "-1" for v in y)
    else:
        string_minus_one = y.dtype.kind in "US" and np.any(
            y == ("-1" if y.dtype.kind == "U" else b"-1"))
    if string_minus_one:
        raise ValueError(
            "y holds the string '-1'. Unlabeled rows are marked by the integer "
            "-1, which an array of strings cannot hold (NumPy turns it into the "
            "string '-1'): pass y as an object array with the integer -1 for "
            "unlabeled rows, e.g. np.array(labels, dtype=object), or encode the "
            "classes as integers."
        )
    unlabeled = unlabeled_rows(y)
    if unlabeled.all():
        raise ValueError(
            "Every row of y is -1, scikit-learn's mark of an unlabeled row: give "
            "the class of at least one row of each class."
        )
    check_classification_targets(y[~unlabeled])
    classes, inverse = np.unique(y[~unlabeled], return_inverse=True)
    indices = np.full(y.shape, UNLABELED, dtype=np.intp)
    indices[~unlabeled] = inverse
    return classes, indices


class LabelsMixin:
    """Fitting on labels of which some may be -1, and drawing chosen classes.

    For :class:`~skvae._estimator.base.BaseVAE` estimators with a
    ``classification_weight`` parameter.  The training condition is a one-hot
    row per labeled row and a zero row per unlabeled row.  With unlabeled
    rows (or always, when ``_always_classifies``) the network is M2's: the
    conditional VAE plus the classifier q(y|x), whose hidden layers are the
    encoder's.
    """

    _always_classifies = False

    def _fit_labels(self, X, y, sample_weight=None):
        continues = self._continues()
        X, y = self._validate_X(X, reset=not continues, y=y)
        classes, indices = split_labels(y)
        labeled = indices != UNLABELED
        if len(classes) < 2 and (self._always_classifies or not labeled.all()):
            raise ValueError(
                f"{type(self).__name__} needs labeled rows of at least two "
                f"classes to train its classifier, got one class: "
                f"{classes.tolist()}. The label -1 marks an unlabeled row "
                "(scikit-learn's convention for semi-supervised learning), not "
                "a class: encode classes {-1, 1} as {0, 1}."
            )
        if continues and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start continues training on the classes {self.classes_}, "
                f"but y has {classes}. Set warm_start=False to train a new model."
            )
        sample_weight = self._check_sample_weight(sample_weight, X)
        condition = np.zeros((len(y), len(classes)), dtype=X.dtype)
        condition[labeled, indices[labeled]] = 1
        semi_supervised = self._is_semi_supervised(condition)
        if semi_supervised and self.n_importance_samples > 1:
            raise ValueError(
                "The semi-supervised models (VAEClassifier, M2 or the SDGM, and "
                "ConditionalVAE with rows labeled -1) train on the ELBO summed "
                "over the classes, which has no "
                "importance-weighted version here: use n_importance_samples=1 "
                f"(got {self.n_importance_samples})."
            )
        weights = np.ones(len(y)) if sample_weight is None else sample_weight
        counts = np.bincount(indices[labeled], weights=weights[labeled],
                             minlength=len(classes))
        if semi_supervised and not np.all(counts > 0):
            raise ValueError(
                "Every class needs labeled rows of positive sample_weight to "
                "train model M2's classifier; these classes have none: "
                f"{classes[counts <= 0]}."
            )
        if continues:
            if hasattr(self._network, "classifier") != semi_supervised:
                raise ValueError(
                    "warm_start cannot switch between fully and partly labeled "
                    "data (rows labeled -1): the network of one has a classifier "
                    "the other has not. Set warm_start=False to train a new model."
                )
            if semi_supervised:
                labels = self._label_statistics(condition, sample_weight)
                self._network_spec = {**self._network_spec, "semi_supervised": labels}
                self._network.class_log_prior = np.asarray(labels["class_log_prior"])
                self._network.label_weight = labels["label_weight"]
        self.classes_ = classes
        self.class_prior_ = counts / counts.sum()
        return self._fit(X, incremental=False, condition=condition, y=y,
                         sample_weight=sample_weight)

    def _is_semi_supervised(self, condition):
        return self._always_classifies or not np.all(np.any(condition, axis=1))

    def _label_statistics(self, condition, sample_weight):
        """The class prior log pi and the weight of -log q(y|x) per labeled
        row, ``classification_weight`` * N / N_labeled (weighted), as plain
        data."""
        weights = (np.ones(len(condition)) if sample_weight is None
                   else np.asarray(sample_weight, dtype=np.float64))
        counts = weights @ condition.astype(np.float64)
        return {"class_log_prior": np.log(counts / counts.sum()).tolist(),
                "label_weight": float(self.classification_weight * weights.sum()
                                      / counts.sum())}

    def _make_network_spec(self, X, condition=None, sample_weight=None):
        spec = super()._make_network_spec(X, condition, sample_weight)
        if condition is not None and self._is_semi_supervised(condition):
            spec["semi_supervised"] = self._label_statistics(condition, sample_weight)
        return spec

    def _build_network(self, spec):
        """The conditional VAE, plus the classifier q(y|x) (whose hidden layers
        are the encoder's) when the spec says semi-supervised."""
        spec = dict(spec)
        labels = spec.pop("semi_supervised", None)
        network = super()._build_network(spec)
        if labels is None:
            return network
        # q(y|x) reads what the encoder reads.
        classifier = SoftmaxClassifier(network.encoder.sizes[0], spec["n_conditions"],
                                       spec["hidden_layer_sizes"], spec["activation"])
        return SemiSupervisedNetwork(network.encoder, network.decoder, network.prior,
                                     classifier, network.dtype, **labels,
                                     missing_indicator=network.missing_indicator)

    def _one_hot(self, y, n_rows, allow_unlabeled=False):
        """One-hot rows for labels y: one label for every row, or one per row.

        With ``allow_unlabeled``, rows labeled -1 get a row of zeros.
        """
        if y is None:
            raise ValueError(
                f"y is required: the class of each of the {n_rows} rows, or one "
                f"label for all of them, from classes_ = {self.classes_}."
            )
        y = np.asarray(y)
        if y.ndim > 1 and not (y.ndim == 2 and y.shape[1] == 1):
            raise ValueError(
                f"y must be one label or a 1-D array of {n_rows} labels, got an "
                f"array of shape {y.shape}."
            )
        y = y.reshape(-1) if y.ndim else y
        if y.ndim == 1 and y.shape[0] != n_rows:
            raise ValueError(
                f"y has {y.shape[0]} labels but there are {n_rows} rows: give one "
                "label per row, or a single label for all of them."
            )
        y = column_or_1d(np.broadcast_to(y, (n_rows,)))
        unlabeled = (unlabeled_rows(y) if allow_unlabeled
                     else np.zeros(n_rows, dtype=bool))
        indices = np.zeros(n_rows, dtype=np.intp)
        indices[~unlabeled] = self._class_indices(y[~unlabeled])
        one_hot = np.eye(len(self.classes_), dtype=self._network.dtype)[indices]
        one_hot[unlabeled] = 0
        return one_hot

    def _class_indices(self, y):
        """Index of each label of y in ``classes_``; a clear error otherwise."""
        classes = self.classes_
        strings, numbers = "USO", "iufb"
        same_family = ((y.dtype.kind in strings and classes.dtype.kind in strings)
                       or (y.dtype.kind in numbers and classes.dtype.kind in numbers))
        if not same_family:
            raise ValueError(
                f"y contains labels of another type ({y.dtype}) than the classes "
                f"seen in fit: {classes}."
            )
        if y.dtype.kind != classes.dtype.kind and y.dtype.kind in strings:
            # str and object arrays (e.g. a pandas Series) of the same labels
            y, classes = y.astype(object), classes.astype(object)
        try:
            indices = np.searchsorted(classes, y)
            unknown = (indices >= len(classes)) | (
                classes[np.minimum(indices, len(classes) - 1)] != y)
        except TypeError:  # objects that do not compare with the classes
            raise ValueError(
                f"y contains labels that are not among the classes seen in fit: "
                f"{classes}."
            ) from None
        if np.any(unknown):
            raise ValueError(
                f"y contains labels not seen in fit: {np.unique(y[unknown])}; "
                f"the classes are {self.classes_}."
            )
        return indices

    def sample(self, n_samples=1, y=None, random_state=None, *, mean=False):
        """Generate data of chosen classes: draw x ~ p(x | z, y), z from the prior.

        Generated rows with their classes can augment a small labeled set
        (see the user guide).

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        y : label, array-like of shape (n_samples,) or None, default=None
            Class of each sample; None draws classes from ``class_prior_``.

        random_state : int, RandomState instance or None, default=None
            Seeds the codes, the draws given them (and the classes when ``y``
            is None).

        mean : bool, default=False
            Return the decoder means of the sampled codes instead of draws:
            smoother rows (images without pixel noise), but with less spread
            than the data's.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features) or DataFrame
            The samples; fitted on a DataFrame, a DataFrame of its columns,
            dtypes and categories.

        y : ndarray of shape (n_samples,)
            The class of each sample.
        """
        check_is_fitted(self)
        check_n_samples(n_samples)
        rng = check_random_state(random_state)
        if y is None:
            y = rng.choice(self.classes_, size=n_samples, p=self.class_prior_)
        condition = self._one_hot(y, n_samples)
        Z = self._sample_latent(int(n_samples), rng)
        X = self._decode(Z, condition=condition, rng=None if mean else rng)
        return X, self.classes_[condition.argmax(axis=1)]
