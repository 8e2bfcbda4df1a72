"""Semi-supervised classification of digits from 50 or 100 labels.

Digits pixels / 16, a 70/30 stratified split with ``random_state=0``. Of the
1,257 training rows, 50 or 100 keep their label (the same number from each
class, drawn with seeds 0, 1 and 2); the rest are marked -1, scikit-learn's
unlabeled. Each model sees all training rows and is scored by its accuracy
on the 540 test rows (mean, min and max over the three draws), with its
mean fit time. The first skvae row is ``VAEClassifier()`` with every
parameter at its default (the skip deep generative model,
``n_auxiliary_components=16``), the second model M2
(``n_auxiliary_components=0``); the q(y|x) column is the accuracy of the
same fits read with the trained classifier q(y|x) instead of the model's
posterior p(y|x), which skvae predicts with (for the skip deep generative
model q(y|x) is q(y|a, x) averaged over the 16 draws of a fixed at fit).
The baselines are ``LabelSpreading(kernel="knn")``,
``SelfTrainingClassifier(SVC(probability=True))`` and logistic regression
trained on the labeled rows only.

Run: python benchmarks/bench_semisupervised.py [--package skvae]
"""

import importlib
import time
import warnings

import numpy as np
from _common import parse_args, print_table, save
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.svm import SVC

N_LABELS = (50, 100)
DRAWS = (0, 1, 2)


def skvae_models(package):
    skvae = importlib.import_module(package)
    return {
        "VAEClassifier, defaults": lambda: skvae.VAEClassifier(random_state=0),
        # Model M2 (Kingma et al. 2014), without the auxiliary variable.
        "VAEClassifier(n_auxiliary_components=0)": lambda: skvae.VAEClassifier(
            n_auxiliary_components=0, random_state=0),
        # M2 with the reference's weight of the classification term.
        "VAEClassifier(n_auxiliary_components=0, classification_weight=0.1)":
            lambda: skvae.VAEClassifier(n_auxiliary_components=0,
                                        classification_weight=0.1, random_state=0),
    }


def amortized_accuracy(model, X, y):
    """Accuracy of the trained classifier q(y|x) itself (skvae reads the
    model's posterior p(y|x) by default); None for other models."""
    network = getattr(model, "_network", None)
    if network is None or not hasattr(network, "log_proba"):
        return None
    X = X.astype(network.dtype)
    # The auxiliary model's q(y|x) averages q(y|a, x) over the fixed draws of
    # a; M2's networks before it took no draws (--package of an older copy).
    try:
        log_q = network.log_proba(X, model._score_noise)
    except TypeError:
        log_q = network.log_proba(X)
    return float(np.mean(model.classes_[log_q.argmax(axis=1)] == y))


BASELINES = {
    "LabelSpreading(knn)": lambda: LabelSpreading(kernel="knn"),
    "SelfTraining(SVC)": lambda: SelfTrainingClassifier(
        SVC(probability=True, random_state=0)),
}


class LabeledOnly:
    """Logistic regression fitted on the labeled rows alone."""

    def fit(self, X, y):
        labeled = y != -1
        self.model = LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])
        return self

    def score(self, X, y):
        return self.model.score(X, y)


def partly_labeled(y, n_labels, seed):
    """y with all but ``n_labels`` rows (equal per class) set to -1."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    partial = np.full_like(y, -1)
    for c in classes:
        keep = rng.choice(np.flatnonzero(y == c), n_labels // len(classes),
                          replace=False)
        partial[keep] = c
    return partial


def evaluate(make, X_train, y_train, X_test, y_test, n_labels):
    accuracies, amortized, times = [], [], []
    for seed in DRAWS:
        model = make()
        start = time.perf_counter()
        model.fit(X_train, partly_labeled(y_train, n_labels, seed))
        times.append(time.perf_counter() - start)
        accuracies.append(float(model.score(X_test, y_test)))
        amortized.append(amortized_accuracy(model, X_test, y_test))
    return {"accuracy": float(np.mean(accuracies)),
            "min": float(np.min(accuracies)),
            "max": float(np.max(accuracies)),
            "q(y|x) accuracy": (float(np.mean(amortized))
                                if None not in amortized else float("nan")),
            "fit time (s)": float(np.mean(times)),
            "accuracy per draw": accuracies}


def main():
    args = parse_args(__doc__)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.3, stratify=y, random_state=0)
    warnings.simplefilter("ignore", ConvergenceWarning)
    # scikit-learn 1.9 deprecates SVC(probability=True), the baseline.
    warnings.simplefilter("ignore", FutureWarning)
    models = {**skvae_models(args.package), **BASELINES,
              "LogisticRegression, labeled rows only": LabeledOnly}
    rows = []
    for n_labels in N_LABELS:
        for name, make in models.items():
            result = evaluate(make, X_train, y_train, X_test, y_test, n_labels)
            rows.append({"labels": n_labels, "model": name, **result})
            print(f"{n_labels} labels, {name}: {result['accuracy']:.3f}", flush=True)
    print(f"\npackage: {args.package}; digits / 16, 70/30 stratified split; test "
          f"accuracy, mean, min and max over label draws {DRAWS}\n")
    print_table(rows, ["labels", "model", "accuracy", "min", "max",
                       "q(y|x) accuracy", "fit time (s)"])
    save("semisupervised", rows)


if __name__ == "__main__":
    main()
