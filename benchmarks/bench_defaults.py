"""Out of the box: skvae's defaults against the PyTorch reference and baselines.

Every skvae model here is built with its defaults only:
``VAETransformer(n_components=k, likelihood="bernoulli", random_state=seed)``
and ``VAEOutlierDetector(random_state=0)``.

1. Time to quality, on three data sets, 80/20 split (``random_state=0``):
   - digits binarized at 0.5 (64 features), 8 codes; the reference has
     hidden 128 and trains 200 epochs;
   - the same digits upsampled to 28x28 with ``scipy.ndimage.zoom`` and
     binarized at 0.5 (784 features), 20 codes; hidden 512, 50 epochs;
   - five copies of those 28x28 images, four of them rotated by up to 10
     degrees and shifted by up to 2 pixels at random (8,985 rows: 784-pixel
     images with more rows than a fit passes through in a few seconds),
     binarized; 20 codes, hidden 512, 50 epochs.
   The reference is the PyTorch VAE of ``_common`` (Adam, batch 100,
   learning rate 1e-3). The target is the median of its final held-out
   ELBOs over the seeds. Reported per model: final held-out ELBO, fit time,
   and the time to reach the target: training time up to the first epoch
   whose model scores at or above it, scoring excluded, for both (skvae's
   models are read after each epoch through a scikit-learn callback, whose
   own time is excluded; a fit that ends below the target never reached it).
   The median over seeds; a miss counts as never. Fits alternate, reference
   then skvae, seed by seed, so both see the same load. Two ratios: "to
   target", skvae's median time to the target over the reference's median
   fit time (the time the reference takes to reach its own final ELBO), and
   "fit", the median over seeds of skvae's fit time over the reference's
   (skvae's early stopping trains on after reaching the target).
2. Embeddings: 5-NN accuracy of the codes in 2-D and 8-D against PCA, on
   digits (pixels / 16, 75/25 stratified split, ``random_state=0``).
3. Anomaly ranking: the default rows of ``bench_anomaly.py`` (its data,
   baselines and scoring, imported), plus ten one-vs-rest fits on the 784-pixel
   digits (not binarized) with their total fit time against the reference VAE
   (hidden 512, 20 codes, 50 epochs, scored by its ELBO).

Without PyTorch the reference rows are skipped with a message, and the
target falls back to nothing (no time-to-target column for skvae).

Run: python benchmarks/bench_defaults.py [--repeats 3] [--package skvae]
"""

import time
import warnings

import numpy as np
from _common import load_estimator, parse_args, print_table, save, torch_reference
from bench_anomaly import DATASETS, baselines, evaluate, evaluate_skvae
from scipy.ndimage import rotate, shift, zoom
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

# (name, n_components, reference hidden size, reference epochs)
QUALITY_SETS = [("digits 8x8", 8, 128, 200), ("digits 28x28", 20, 512, 50),
                ("digits 28x28, 5 moved copies", 20, 512, 50)]


def upsampled_digits():
    """The 8x8 digits scaled to [0, 1] and zoomed to 28x28 (784 features)."""
    images = load_digits().images / 16
    big = np.stack([zoom(image, 28 / 8) for image in images])
    return np.clip(big.reshape(len(images), -1), 0, 1)


def moved_copies(images, n_copies=5, seed=0):
    """The images, then ``n_copies - 1`` copies each rotated by up to 10
    degrees and shifted by up to 2 pixels, at random."""
    rng = np.random.default_rng(seed)
    copies = [images]
    for _ in range(n_copies - 1):
        copies.append(np.stack([
            shift(rotate(image, rng.uniform(-10, 10), reshape=False, order=1),
                  rng.integers(-2, 3, size=2), order=0)
            for image in images]))
    return np.concatenate(copies)


def binary_sets():
    small = load_digits().data / 16
    big = upsampled_digits()
    more = moved_copies(big.reshape(-1, 28, 28)).reshape(-1, 784)
    for (name, k, hidden, epochs), X in zip(
            QUALITY_SETS, [small, big, more], strict=True):
        X = (X > 0.5).astype(np.float32)
        X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
        yield name, X_train, X_test, k, hidden, epochs


def fit_reference(TorchVAE, X_train, X_test, hidden, k, epochs, seed):
    """Train epoch by epoch; return (held-out ELBO after each epoch, seconds)."""
    model = TorchVAE(X_train.shape[1], hidden, k, seed=seed)
    scores, seconds = [], []
    elapsed = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        model.fit(X_train, 1, seed=seed * epochs + epoch)
        elapsed += time.perf_counter() - start
        scores.append(model.score(X_test))
        seconds.append(elapsed)
    return scores, seconds


class EpochScores:
    """A scikit-learn callback: after each epoch, the held-out ELBO of the
    model as it stands and the training time so far, its own time excluded."""

    def __init__(self, X_test):
        self.X_test = X_test

    def setup(self, estimator, context):
        self.scores, self.seconds, self.own = [], [], 0.0
        self.start = time.perf_counter()

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, **kwargs):
        if context.task_name != "epoch" or fitted_estimator is None:
            return
        now = time.perf_counter()
        self.seconds.append(now - self.start - self.own)
        self.scores.append(fitted_estimator.score(self.X_test))
        self.own += time.perf_counter() - now


def fit_skvae(VAETransformer, X_train, X_test, k, seed):
    """A default fit; return (final held-out ELBO, fit seconds, time to each
    epoch's held-out ELBO as (scores, seconds), or None without callbacks)."""
    vae = VAETransformer(n_components=k, likelihood="bernoulli", random_state=seed)
    monitor = EpochScores(X_test) if hasattr(vae, "set_callbacks") else None
    if monitor is not None:
        vae.set_callbacks(monitor)
    start = time.perf_counter()
    vae.fit(X_train)
    seconds = time.perf_counter() - start - (monitor.own if monitor else 0.0)
    curve = None if monitor is None else (monitor.scores, monitor.seconds)
    return vae.score(X_test), seconds, curve


def time_to_quality(VAETransformer, TorchVAE, seeds):
    rows = []
    for name, X_train, X_test, k, hidden, epochs in binary_sets():
        torch_runs, skvae_runs = [], []
        for seed in seeds:
            if TorchVAE is not None:
                torch_runs.append(fit_reference(TorchVAE, X_train, X_test, hidden,
                                                k, epochs, seed))
            skvae_runs.append(fit_skvae(VAETransformer, X_train, X_test, k, seed))
        target = (float(np.median([s[-1] for s, _ in torch_runs]))
                  if torch_runs else None)
        if torch_runs:
            torch_reach = [_first_at(target, scores, sec) for scores, sec in torch_runs]
            rows.append(_quality_row(
                name, f"torch reference ({epochs} epochs)",
                [s[-1] for s, _ in torch_runs], [sec[-1] for _, sec in torch_runs],
                torch_reach, target))
        finals = [final for final, _, _ in skvae_runs]
        fit_seconds = [seconds for _, seconds, _ in skvae_runs]
        reach = [None] * len(seeds)
        if target is not None:
            # A fit that ends below the target has not reached it, whatever
            # an earlier epoch scored (early stopping keeps its best epoch).
            reach = [_first_at(target, *curve) if curve and final >= target
                     else (seconds if final >= target else None)
                     for final, seconds, curve in skvae_runs]
        row = _quality_row(name, "skvae defaults", finals, fit_seconds, reach, target)
        if torch_runs:
            row["fit ratio"] = float(np.median(
                [t / sec[-1] for t, (_, sec) in zip(fit_seconds, torch_runs,
                                                     strict=True)]))
            # The reference takes its whole fit to reach its own median
            # final ELBO: skvae's median time to it over that median.
            row["to target ratio"] = float(
                np.median([np.inf if t is None else t for t in reach])
                / np.median([sec[-1] for _, sec in torch_runs]))
        rows.append(row)
    return rows


def _first_at(target, scores, seconds):
    """Training seconds up to the first epoch scoring at or above target."""
    return next((t for s, t in zip(scores, seconds, strict=True) if s >= target), None)


def _quality_row(data, model, finals, fit_seconds, reach, target):
    # A run that never reaches the target counts as infinitely slow, so the
    # median is defined when at least half the seeds reach it. The target is
    # the reference's median, so one of its three seeds may well miss it.
    times = [np.inf if t is None else t for t in reach]
    median = float(np.median(times))
    n_reached = sum(t is not None for t in reach)
    return {
        "data": data, "model": model,
        "target ELBO": "-" if target is None else target,
        "held-out ELBO": float(np.median(finals)),
        "min": float(np.min(finals)), "max": float(np.max(finals)),
        "fit (s)": float(np.median(fit_seconds)),
        "to target (s)": (median if np.isfinite(median)
                          else f"{n_reached}/{len(reach)} reached"),
        "to target ratio": "-", "fit ratio": "-",
    }


def embeddings(VAETransformer, seeds):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y)
    rows = []
    for k in (2, 8):
        pca = PCA(k, random_state=0).fit(X_train)
        baseline = _knn_accuracy(pca, X_train, X_test, y_train, y_test)
        accuracies, seconds = [], []
        for seed in seeds:
            vae = VAETransformer(n_components=k, likelihood="bernoulli",
                                 random_state=seed)
            start = time.perf_counter()
            vae.fit(X_train)
            seconds.append(time.perf_counter() - start)
            accuracies.append(_knn_accuracy(vae, X_train, X_test, y_train, y_test))
        target = baseline + 0.10 if k == 2 else baseline - 0.01
        rows.append({"codes": k, "PCA 5-NN": baseline,
                     "skvae 5-NN": float(np.median(accuracies)),
                     "min": min(accuracies), "max": max(accuracies),
                     "target": target, "fit (s)": float(np.median(seconds))})
    return rows


def _knn_accuracy(encoder, X_train, X_test, y_train, y_test):
    knn = KNeighborsClassifier(5).fit(encoder.transform(X_train), y_train)
    return float(knn.score(encoder.transform(X_test), y_test))


def upsampled_digits_tasks():
    """digits one-vs-rest as in bench_anomaly, on the 28x28 images, in float32:
    the precision the reference computes in (it casts its input), and skvae
    computes in its input's dtype."""
    X, y = upsampled_digits().astype(np.float32), load_digits().target
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y)
    for anomaly in range(10):
        yield X_train[y_train != anomaly], X_test, y_test == anomaly


def reference_detector(TorchVAE):
    """The reference VAE as a detector: 784-512-20, 50 epochs, scored by ELBO."""

    class ReferenceDetector:
        def fit(self, X):
            X = X.astype(np.float32)
            self.model_ = TorchVAE(X.shape[1], 512, 20, seed=0).fit(X, 50)
            return self

        def score_samples(self, X):
            import torch
            with torch.no_grad():
                X = torch.from_numpy(X.astype(np.float32))
                return -self.model_.negative_elbo(X, n_draws=16).numpy()

    return ReferenceDetector


def anomaly(TorchVAE):
    tables = dict(DATASETS)
    tables["digits 28x28 one-vs-rest"] = upsampled_digits_tasks
    rows = []
    for dataset, tasks in tables.items():
        for score_type, result in evaluate_skvae({}, tasks).items():
            rows.append({"dataset": dataset, "detector": f"skvae {score_type}",
                         **result})
        if dataset in DATASETS:
            others = baselines()
        else:
            others = {} if TorchVAE is None else {
                "torch reference VAE": reference_detector(TorchVAE)}
        for name, make in others.items():
            rows.append({"dataset": dataset, "detector": name,
                         **evaluate(make, tasks)})
        print(f"  {dataset}: done", flush=True)
    return rows


def main():
    args = parse_args(__doc__)
    VAETransformer = load_estimator(args.package)
    TorchVAE = torch_reference()
    seeds = range(args.repeats)
    warnings.simplefilter("ignore", ConvergenceWarning)

    print(f"package: {args.package}; seeds {list(seeds)}\n", flush=True)
    quality = time_to_quality(VAETransformer, TorchVAE, seeds)
    print_table(quality, ["data", "model", "target ELBO", "held-out ELBO", "min",
                          "max", "fit (s)", "to target (s)", "to target ratio",
                          "fit ratio"])
    embedding = embeddings(VAETransformer, seeds)
    print("\ndigits 5-NN accuracy of the codes (target: 2-D >= PCA + 0.10, "
          "8-D >= PCA - 0.01)")
    print_table(embedding, ["codes", "PCA 5-NN", "skvae 5-NN", "min", "max",
                            "target", "fit (s)"])
    print("\nanomaly ranking (VAEOutlierDetector defaults)", flush=True)
    detection = anomaly(TorchVAE)
    print_table(detection, ["dataset", "detector", "roc_auc", "average_precision",
                            "fit_seconds"])
    save("defaults", {"package": args.package, "quality": quality,
                      "embeddings": embedding, "anomaly": detection})


if __name__ == "__main__":
    main()
