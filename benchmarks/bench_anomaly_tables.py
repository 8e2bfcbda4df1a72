"""Anomaly ranking on public tables: skvae's defaults against the usual detectors.

The protocol of ``../shared/data/anomaly_dev/README.md`` (ADBench's
unsupervised setting): for each data set and seed 0, 1, 2, a stratified 70/30
split with ``random_state=seed``; the training part keeps its anomalies and
its labels are not used; a ``StandardScaler`` fitted on the training part is
applied for every detector; each detector is fitted on the training part with
``random_state=seed`` where it takes one; ROC-AUC and average precision on
the test part; one BLAS thread (threadpoolctl); fit CPU seconds
(``time.process_time``).

Detectors, each with its defaults: skvae's ``VAEOutlierDetector()``,
IsolationForest, LocalOutlierFactor(novelty=True), PCA reconstruction keeping
95% of the variance, OneClassSVM, and PyOD's KNN and ECOD (and its
AutoEncoder and VAE, which need PyTorch) when PyOD is installed; a missing
optional detector is skipped with a message. ``skvae 0.x`` (the detector's
earlier defaults: one VAE on all rows, scored by its reconstruction error)
can be added with ``--detectors``.

Per data set and seed the detectors are ranked by ROC-AUC (1 is best, ties
share the mean rank); the table gives the mean ROC-AUC, the mean AP, the
average rank and the total fit CPU seconds, and
``benchmarks/results/anomaly_tables.json`` keeps every fit's figures.

Run: python benchmarks/bench_anomaly_tables.py [--sets cardio thyroid]
     [--seeds 0] [--detectors skvae IsolationForest] [--data DIR]
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _common import print_table, save
from scipy.stats import rankdata
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from threadpoolctl import threadpool_limits

from skvae import VAEOutlierDetector

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "anomaly_dev"
SETS = ("breastw", "cardio", "glass", "ionosphere", "mnist", "pendigits",
        "satellite", "thyroid")
SEEDS = (0, 1, 2)


class Normality:
    """A detector behind one interface: ``fit(X)``, ``score_samples`` (higher
    is more normal). ``abnormal=True`` negates a PyOD-style score."""

    def __init__(self, model, score="score_samples", abnormal=False):
        self.model, self.score, self.abnormal = model, score, abnormal

    def fit(self, X):
        self.model.fit(X)
        return self

    def score_samples(self, X):
        scores = np.asarray(getattr(self.model, self.score)(X), dtype=np.float64)
        return -scores if self.abnormal else scores


class PCAReconstruction:
    """Minus the squared error of the reconstruction from 95% of the variance."""

    def __init__(self, random_state):
        self.random_state = random_state

    def fit(self, X):
        self.pca_ = PCA(0.95, random_state=self.random_state).fit(X)
        return self

    def score_samples(self, X):
        X_hat = self.pca_.inverse_transform(self.pca_.transform(X))
        return -((X - X_hat) ** 2).sum(axis=1)


def pyod_detectors():
    """PyOD's detectors that import here: name -> make(seed)."""
    found = {}
    try:
        from pyod.models.ecod import ECOD
        from pyod.models.knn import KNN
    except ImportError as error:
        print(f"PyOD's KNN and ECOD are skipped: {error} (pip install pyod)")
        return found
    found["KNN (PyOD)"] = lambda seed: Normality(KNN(), "decision_function", True)
    found["ECOD (PyOD)"] = lambda seed: Normality(ECOD(), "decision_function", True)
    try:
        import torch
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE
    except ImportError as error:
        print(f"PyOD's AutoEncoder and VAE are skipped: {error} "
              "(pip install torch==2.13.0, the CPU build)")
        return found
    torch.set_num_threads(1)
    found["AutoEncoder (PyOD)"] = lambda seed: Normality(
        AutoEncoder(random_state=seed, verbose=0), "decision_function", True)
    found["VAE (PyOD)"] = lambda seed: Normality(
        VAE(random_state=seed, verbose=0), "decision_function", True)
    return found


# The detector's defaults before issue 25, for before/after comparisons.
SKVAE_0X = dict(n_estimators=1, score_type="reconstruction")


def detectors():
    """Every detector of the table: name -> make(seed) giving an unfitted one."""
    found = {
        "skvae": lambda seed: VAEOutlierDetector(random_state=seed),
        "IsolationForest": lambda seed: IsolationForest(random_state=seed),
        "LOF (novelty)": lambda seed: LocalOutlierFactor(novelty=True),
        "PCA reconstruction (95%)": PCAReconstruction,
        "OneClassSVM": lambda seed: OneClassSVM(),
        **pyod_detectors(),
    }
    optional = {"skvae 0.x": lambda seed: VAEOutlierDetector(random_state=seed,
                                                               **SKVAE_0X)}
    return found, optional


def splits(name, seeds, data=DATA):
    """(seed, X_train, X_test, y_test) of each seed, standardized on X_train."""
    stored = np.load(data / f"{name}.npz")
    X, y = stored["X"].astype(np.float64), stored["y"].astype(int)
    for seed in seeds:
        X_train, X_test, _, y_test = train_test_split(
            X, y, test_size=0.3, random_state=seed, stratify=y)
        scaler = StandardScaler().fit(X_train)
        yield seed, scaler.transform(X_train), scaler.transform(X_test), y_test


def fit_and_score(make, seed, X_train, X_test, y_test):
    """One detector's fit CPU seconds, ROC-AUC and AP (anomaly = low score)."""
    model = make(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.process_time()
        model.fit(X_train)
        fit_seconds = time.process_time() - start
        scores = np.asarray(model.score_samples(X_test), dtype=np.float64)
    if not np.all(np.isfinite(scores)):
        raise FloatingPointError(f"{np.sum(~np.isfinite(scores))} scores not finite")
    return {"fit_cpu_seconds": fit_seconds,
            "roc_auc": float(roc_auc_score(y_test, -scores)),
            "average_precision": float(average_precision_score(y_test, -scores))}


def run(sets, seeds, chosen, data=DATA):
    """One row per data set, seed and detector; failures are rows with an error."""
    rows = []
    for name in sets:
        for seed, X_train, X_test, y_test in splits(name, seeds, data):
            for detector, make in chosen.items():
                row = {"dataset": name, "seed": seed, "detector": detector}
                try:
                    row.update(fit_and_score(make, seed, X_train, X_test, y_test))
                except Exception as error:  # reported in the table, not hidden
                    row["error"] = f"{type(error).__name__}: {error}"
                rows.append(row)
                print(f"{name:<11}{seed:>2}  {detector:<26}"
                      + (f"{row['roc_auc']:.3f}  {row['average_precision']:.3f}"
                         f"  {row['fit_cpu_seconds']:7.2f}s" if "error" not in row
                         else row["error"]), flush=True)
    add_ranks(rows)
    return rows


def add_ranks(rows):
    """Each row's rank by ROC-AUC among the detectors of its data set and seed
    (1 is best; a failed fit ranks last)."""
    groups = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["seed"]), []).append(row)
    for group in groups.values():
        aucs = [row.get("roc_auc", -np.inf) for row in group]
        for row, rank in zip(group, rankdata(np.negative(aucs)), strict=True):
            row["rank"] = float(rank)


def summary(rows, chosen):
    table = []
    for detector in chosen:
        mine = [row for row in rows if row["detector"] == detector]
        ok = [row for row in mine if "error" not in row]
        table.append({
            "detector": detector,
            "ROC-AUC": float(np.mean([r["roc_auc"] for r in ok])) if ok else np.nan,
            "AP": (float(np.mean([r["average_precision"] for r in ok])) if ok
                   else np.nan),
            "rank": float(np.mean([r["rank"] for r in mine])),
            "fit CPU s": float(sum(r["fit_cpu_seconds"] for r in ok)),
            "fits": len(ok), "errors": len(mine) - len(ok),
        })
    return table


def per_set(rows, chosen, metric="roc_auc"):
    sets = list(dict.fromkeys(row["dataset"] for row in rows))
    table = []
    for detector in chosen:
        entry = {"detector": detector}
        for name in sets:
            values = [row.get(metric, np.nan) for row in rows
                      if row["detector"] == detector and row["dataset"] == name]
            entry[name] = float(np.mean(values))
        table.append(entry)
    return sets, table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--detectors", nargs="+", default=None,
                        help="names from the table (default: all but 'skvae 0.x')")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", default="anomaly_tables",
                        help="results/<output>.json")
    args = parser.parse_args()
    found, optional = detectors()
    if args.detectors is None:
        chosen = found
    else:
        available = {**found, **optional}
        unknown = set(args.detectors) - set(available)
        if unknown:
            parser.error(f"unknown detectors {sorted(unknown)}; "
                         f"choose from {sorted(available)}")
        chosen = {name: available[name] for name in args.detectors}
    with threadpool_limits(limits=1):
        rows = run(args.sets, args.seeds, chosen, args.data)
    table = summary(rows, chosen)
    sets, by_set = per_set(rows, chosen)
    print(f"\n{len(args.sets)} sets x {len(args.seeds)} seeds, one BLAS thread; "
          "rank by ROC-AUC among the detectors per set and seed, averaged")
    print_table(table, ["detector", "ROC-AUC", "AP", "rank", "fit CPU s", "errors"])
    print("\nROC-AUC per set (mean over seeds)")
    print_table(by_set, ["detector", *sets])
    save(args.output, {"protocol": {"sets": args.sets, "seeds": args.seeds,
                                    "blas_threads": 1, "data": str(args.data)},
                       "summary": table, "per_set_roc_auc": by_set, "fits": rows})


if __name__ == "__main__":
    main()
