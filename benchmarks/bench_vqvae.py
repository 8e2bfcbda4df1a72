"""VQ-VAE compression of digits: reconstruction error at 16 bits a row.

Digits pixels / 16, an 80/20 split with ``random_state=0``. The VQ-VAE
rows use ``n_groups=4, n_codes=16`` (4 codes of 4 bits: 16 bits a row),
fitted with seeds 0, 1 and 2; the first row has every other parameter at
its default. Each is compared with KMeans (a row coded by its nearest
centroid: 8 bits for 256 centroids, 10 for 1024) and PCA (8 or 4 float
coefficients a row). For each: the held-out squared reconstruction error
(summed over the 64 pixels, averaged over rows; mean and max-min spread
over seeds), each group's perplexity (exp of the entropy of its code
frequencies) over the held-out rows, the smallest over groups and seeds,
and the fit time.

Run: python benchmarks/bench_vqvae.py [--package skvae]
"""

import importlib
import time
import warnings

import numpy as np
from _common import parse_args, print_table, save
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

SEEDS = (0, 1, 2)
VARIANTS = {
    "VQ-VAE, defaults": {},
    "VQ-VAE, bernoulli": {"likelihood": "bernoulli"},
}


def squared_error(X, X_hat):
    return float(np.mean(np.sum((X - X_hat) ** 2, axis=1)))


def perplexities(codes, n_codes):
    counts = np.stack([np.bincount(column, minlength=n_codes) for column in codes.T])
    p = counts / counts.sum(axis=1, keepdims=True)
    return np.exp(-np.sum(p * np.log(np.where(p > 0, p, 1)), axis=1))


def timed_fit(estimator, X):
    start = time.perf_counter()
    estimator.fit(X)
    return estimator, time.perf_counter() - start


def main():
    args = parse_args(__doc__)
    VQVAETransformer = importlib.import_module(args.package).VQVAETransformer
    X = load_digits().data / 16
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []
    for name, params in VARIANTS.items():
        errors, group_perplexities, times = [], [], []
        for seed in SEEDS:
            vq, seconds = timed_fit(VQVAETransformer(n_groups=4, n_codes=16,
                                                     random_state=seed, **params),
                                    X_train)
            codes = vq.encode(X_test)
            errors.append(squared_error(X_test, vq.decode(codes)))
            group_perplexities.append(perplexities(codes, vq.n_codes))
            times.append(seconds)
        group_perplexities = np.array(group_perplexities)
        rows.append({"model": name, "code": "16 bits",
                     "error": float(np.mean(errors)), "spread": float(np.ptp(errors)),
                     "min perplexity": float(group_perplexities.min()),
                     "fit time (s)": float(np.mean(times)),
                     "error per seed": errors,
                     "perplexity per seed and group": group_perplexities.tolist()})
        print(f"{name}: done", flush=True)
    baselines = {
        "KMeans(256)": (KMeans(256, random_state=0), "8 bits"),
        "KMeans(1024)": (KMeans(1024, random_state=0), "10 bits"),
        "PCA(8)": (PCA(8), "8 floats"),
        "PCA(4)": (PCA(4), "4 floats"),
    }
    for name, (estimator, code) in baselines.items():
        estimator, seconds = timed_fit(estimator, X_train)
        if isinstance(estimator, KMeans):
            X_hat = estimator.cluster_centers_[estimator.predict(X_test)]
        else:
            X_hat = estimator.inverse_transform(estimator.transform(X_test))
        rows.append({"model": name, "code": code, "error": squared_error(X_test, X_hat),
                     "spread": "", "min perplexity": "", "fit time (s)": seconds})
    print(f"\npackage: {args.package}; digits / 16, 80/20 split; held-out squared "
          f"error per row (sum over pixels), VQ-VAE mean over seeds {SEEDS}\n")
    print_table(rows, ["model", "code", "error", "spread", "min perplexity",
                       "fit time (s)"])
    save("vqvae", rows)


if __name__ == "__main__":
    main()
