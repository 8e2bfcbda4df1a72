"""Anomaly ranking on tasks no setting was chosen on: do the detector's settings carry?

``bench_anomaly.py`` ranks three tasks (digits one-vs-rest, breast cancer,
wine class 2), and the detector's defaults and the tabular preset were chosen
on them. This script ranks tasks of the same kinds that were not looked at
while choosing, with the defaults, the tabular preset
(``variance_floor=1.0, average_decay=0.995``), IsolationForest and LOF:

- wine, with class 0 and then class 1 as the anomaly (standardized on the
  normal training rows; 70/30 splits, seeds 5-9);
- iris, each class in turn as the anomaly (standardized; seeds 0-4);
- breast cancer reversed: malignant is normal, benign subsampled to 5% of the
  test rows is the anomaly (min-max scaled; seeds 0-4);
- digits one-vs-rest with only 100 normal training rows (split seed 1, ten
  tasks);
- synthetic, five seeds each: a noisy plane (a 2-D plane in 5-D with noise
  0.05, rows far off it as anomalies), a noisy curve (a 1-D curve in 8-D,
  anomalies with their features shuffled across rows) and three Gaussian
  blobs in 10-D (anomalies uniform in their bounding box).

Prints mean ROC-AUC, average precision and fit time per task family and
detector, and writes benchmarks/results/anomaly_heldout.json.

Run: python benchmarks/bench_anomaly_heldout.py
"""

import numpy as np
from _common import save
from bench_anomaly import rank
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
)
from sklearn.ensemble import IsolationForest
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler, StandardScaler

SETTINGS = {
    "skvae defaults": {},
    "skvae tabular preset": {"variance_floor": 1.0, "average_decay": 0.995},
}
BASELINES = {
    "IsolationForest": lambda: IsolationForest(random_state=0),
    "LOF (novelty)": lambda: LocalOutlierFactor(novelty=True),
}


def one_class_out(X, y, anomaly, seeds, scaler=StandardScaler):
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=seed, stratify=y)
        normal = X_train[y_train != anomaly]
        fitted = scaler().fit(normal)
        yield fitted.transform(normal), fitted.transform(X_test), y_test == anomaly


def wine_class(anomaly):
    X, y = load_wine(return_X_y=True)
    return lambda: one_class_out(X, y, anomaly, range(5, 10))


def iris_class(anomaly):
    X, y = load_iris(return_X_y=True)
    return lambda: one_class_out(X, y, anomaly, range(5))


def cancer_reversed():
    X, y = load_breast_cancer(return_X_y=True)
    benign = y == 1
    for seed in range(5):
        X_train, X_test, b_train, b_test = train_test_split(
            X, benign, test_size=0.3, random_state=seed, stratify=benign)
        rng = np.random.default_rng(seed)
        malignant_test = np.flatnonzero(~b_test)
        n_benign = max(1, round(0.05 * len(malignant_test) / 0.95))
        benign_test = rng.choice(np.flatnonzero(b_test), n_benign, replace=False)
        keep = np.concatenate([malignant_test, benign_test])
        scaler = MinMaxScaler().fit(X_train[~b_train])
        yield (scaler.transform(X_train[~b_train]), scaler.transform(X_test[keep]),
               b_test[keep])


def digits_100_rows():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    for anomaly in range(10):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=1, stratify=y)
        normal = X_train[y_train != anomaly]
        rows = np.random.default_rng(anomaly).choice(len(normal), 100, replace=False)
        yield normal[rows], X_test, y_test == anomaly


def on_plane(rng, basis, n):
    """n rows on the plane spanned by ``basis``, with noise 0.05."""
    return rng.standard_normal((n, 2)) @ basis + 0.05 * rng.standard_normal((n, 5))


def on_curve(rng, weights, n):
    """n rows on the curve (t, sin 2t, t^2 - 1) @ ``weights``, with noise 0.2."""
    t = rng.uniform(-2, 2, n)
    features = np.column_stack([t, np.sin(2 * t), t**2 - 1])
    return features @ weights + 0.2 * rng.standard_normal((n, 8))


def noisy_plane():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        basis = rng.standard_normal((2, 5))
        X_train, normal = on_plane(rng, basis, 300), on_plane(rng, basis, 50)
        off = 3 * rng.standard_normal((10, 5))
        yield X_train, np.vstack([normal, off]), np.repeat([False, True], [50, 10])


def noisy_curve():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        weights = rng.standard_normal((3, 8))
        X_train, normal, shuffled = (on_curve(rng, weights, n) for n in (400, 150, 15))
        shuffled = np.column_stack([rng.permutation(col) for col in shuffled.T])
        scaler = StandardScaler().fit(X_train)
        X_test = np.vstack([normal, shuffled])
        yield (scaler.transform(X_train), scaler.transform(X_test),
               np.repeat([False, True], [150, 15]))


def blobs():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        X, _ = make_blobs(n_samples=700, n_features=10, centers=3, random_state=seed)
        uniform = rng.uniform(X.min(axis=0), X.max(axis=0), size=(30, 10))
        scaler = StandardScaler().fit(X[:500])
        X_test = np.vstack([X[500:], uniform])
        yield (scaler.transform(X[:500]), scaler.transform(X_test),
               np.repeat([False, True], [200, 30]))


FAMILIES = {
    "wine, class 0": wine_class(0),
    "wine, class 1": wine_class(1),
    "iris, class 0": iris_class(0),
    "iris, class 1": iris_class(1),
    "iris, class 2": iris_class(2),
    "breast cancer reversed": cancer_reversed,
    "digits, 100 normal rows": digits_100_rows,
    "noisy plane": noisy_plane,
    "noisy curve": noisy_curve,
    "three blobs": blobs,
}


def main():
    save("anomaly_heldout", rank(FAMILIES, SETTINGS, BASELINES))

if __name__ == "__main__":
    main()
