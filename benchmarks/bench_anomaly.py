"""Anomaly ranking: skvae's scores against PCA, IsolationForest, LOF (and PyOD's VAE).

Data sets, each with its own natural anomaly definition:
- digits, one-vs-rest: train on nine classes of the 8x8 digits (scaled to
  [0, 1]); the tenth is the anomaly. 70/30 stratified split; the metrics are
  averaged over the ten tasks.
- breast cancer: benign is normal; malignant, subsampled to 5% of the test
  rows, is the anomaly (min-max scaled on the training rows, clipped).
- wine: classes 0 and 1 are normal, class 2 is the anomaly (standardized).

Detectors are fitted on normal training rows only and rank the test rows.
Prints a table of mean ROC-AUC, average precision and total fit time per data
set, and writes benchmarks/results/anomaly.json.

Run: python benchmarks/bench_anomaly.py
"""

import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skvae import VAEOutlierDetector

RESULTS = Path(__file__).parent / "results"


class PCAReconstruction:
    """Anomaly score: PCA reconstruction error keeping 90% of the variance."""

    def fit(self, X):
        self.pca_ = PCA(0.9, random_state=0).fit(X)
        return self

    def score_samples(self, X):
        X_hat = self.pca_.inverse_transform(self.pca_.transform(X))
        return -((X - X_hat) ** 2).sum(axis=1)


def pyod_vae():
    try:
        from pyod.models.vae import VAE
    except ImportError as error:  # not installed, or a dependency missing
        print(f"PyOD's VAE is skipped: {error} "
              "(pip install pyod tqdm torch==2.13.0)")
        return None

    class PyODVAE:
        def fit(self, X):
            self.model_ = VAE(verbose=0).fit(X)
            return self

        def score_samples(self, X):
            return -self.model_.decision_function(X)

    return PyODVAE


def detectors():
    """Every detector with its default settings (skvae's: each score type)."""
    found = {
        f"skvae {score_type}": lambda score_type=score_type: VAEOutlierDetector(
            score_type=score_type, random_state=0)
        for score_type in ("reconstruction", "elbo", "log_likelihood")
    }
    found.update({
        "PCA reconstruction (90%)": PCAReconstruction,
        "IsolationForest": lambda: IsolationForest(random_state=0),
        "LOF (novelty)": lambda: LocalOutlierFactor(novelty=True),
    })
    pyod = pyod_vae()
    if pyod is not None:
        found["PyOD VAE"] = pyod
    return found


def digits_tasks():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    for anomaly in range(10):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=0, stratify=y)
        yield X_train[y_train != anomaly], X_test, y_test == anomaly


def cancer_tasks():
    X, y = load_breast_cancer(return_X_y=True)
    malignant = y == 0
    X_train, X_test, m_train, m_test = train_test_split(
        X, malignant, test_size=0.3, random_state=0, stratify=malignant)
    rng = np.random.default_rng(0)
    benign_test = np.flatnonzero(~m_test)
    n_malignant = max(1, round(0.05 * len(benign_test) / 0.95))
    malignant_test = rng.choice(np.flatnonzero(m_test), n_malignant, replace=False)
    keep = np.concatenate([benign_test, malignant_test])
    scaler = MinMaxScaler().fit(X_train[~m_train])
    X_normal = scaler.transform(X_train[~m_train])
    X_eval = np.clip(scaler.transform(X_test[keep]), 0, 1)
    yield X_normal, X_eval, m_test[keep]


def wine_tasks():
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train[y_train != 2])
    yield scaler.transform(X_train[y_train != 2]), scaler.transform(X_test), y_test == 2


DATASETS = {
    "digits one-vs-rest": digits_tasks,
    "breast cancer (5% malignant)": cancer_tasks,
    "wine (class 2)": wine_tasks,
}


def evaluate(make, tasks):
    aucs, aps, fit_seconds = [], [], 0.0
    for X_train, X_test, is_anomaly in tasks():
        model = make()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train)
        fit_seconds += time.perf_counter() - start
        anomaly_score = -model.score_samples(X_test)
        aucs.append(roc_auc_score(is_anomaly, anomaly_score))
        aps.append(average_precision_score(is_anomaly, anomaly_score))
    return {"roc_auc": float(np.mean(aucs)), "average_precision": float(np.mean(aps)),
            "fit_seconds": fit_seconds, "n_tasks": len(aucs)}


def main():
    rows = []
    for dataset, tasks in DATASETS.items():
        for name, make in detectors().items():
            rows.append({"dataset": dataset, "detector": name, **evaluate(make, tasks)})
            print(f"{dataset:<30}{name:<26}{rows[-1]['roc_auc']:>8.3f}"
                  f"{rows[-1]['average_precision']:>8.3f}{rows[-1]['fit_seconds']:>9.2f}",
                  flush=True)
    print(f"\n{'data set':<30}{'detector':<26}{'ROC-AUC':>8}{'AP':>8}{'fit (s)':>9}")
    for row in rows:
        print(f"{row['dataset']:<30}{row['detector']:<26}{row['roc_auc']:>8.3f}"
              f"{row['average_precision']:>8.3f}{row['fit_seconds']:>9.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "anomaly.json").write_text(json.dumps(rows, indent=2))
    print(f"\nwritten: {RESULTS / 'anomaly.json'}")


if __name__ == "__main__":
    main()
