"""Inference at scale: transform and score_samples on 1,000,000 rows x 64 features.

A VAETransformer (64 features, hidden (64,), 8 codes, float32) is fitted on
a small sample, then ``transform`` and ``score_samples`` run on a million
rows. Reported: rows per second (median of repeats) and the peak memory
allocated beyond the input and the output (NumPy's allocations, traced with
tracemalloc), under scikit-learn's default ``working_memory`` (1 GiB) and a
small one (4 MiB). Chunks use at most 32 MiB of scratch, or working_memory
when smaller, so the extra memory stays bounded whatever the number of rows.

The ceiling: rows per second of plain NumPy float32 products with the
encoder's shapes (rows x 64 @ 64 x 64, then @ 64 x 16) in chunks of 10,000
rows; ``transform`` does that work plus the activation and copying.
``score_samples`` decodes 16 noise draws per row, so it does about 16 times
the decoder's work on top.

Draws: ``log_likelihood`` of 3 rows with 1,000 to 1,000,000 importance
samples, its time and the same peak memory beyond the output: the draws are
chunked too, so the memory stays bounded whatever their number.

Run: python benchmarks/bench_inference.py [--package skvae] [--repeats 3]
"""

import tracemalloc
import warnings

import numpy as np
from _common import load_estimator, median_time, parse_args, print_table, save
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning

N_ROWS, N_FEATURES, HIDDEN, K = 1_000_000, 64, 64, 8


def encoder_ceiling(X, repeats):
    rng = np.random.default_rng(0)
    W1 = rng.random((N_FEATURES, HIDDEN), dtype=np.float32)
    W2 = rng.random((HIDDEN, 2 * K), dtype=np.float32)

    def run():
        for start in range(0, len(X), 10_000):
            (X[start:start + 10_000] @ W1) @ W2

    return len(X) / median_time(run, repeats)


def peak_extra_bytes(function, X):
    """Peak traced allocation during ``function(X)``, less its output."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = function(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - out.nbytes


def main():
    args = parse_args(__doc__)
    VAETransformer = load_estimator(args.package)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, N_FEATURES), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(K, hidden_layer_sizes=(HIDDEN,), max_iter=20,
                             random_state=0).fit(X[:2000])
    ceiling = encoder_ceiling(X, args.repeats)
    rows = []
    for budget_mib in (1024, 4):
        with config_context(working_memory=budget_mib):
            for method in ("transform", "score_samples"):
                function = getattr(vae, method)
                seconds = median_time(lambda f=function: f(X), args.repeats)
                extra = peak_extra_bytes(function, X)
                rows.append({
                    "method": method, "working_memory MiB": budget_mib,
                    "rows/s": N_ROWS / seconds,
                    "encoder ceiling rows/s": ceiling,
                    "ceiling / rows/s": ceiling * seconds / N_ROWS,
                    "extra memory MiB": extra / 2**20,
                })
                print(f"{method}, working_memory={budget_mib}: done", flush=True)
    print(f"\npackage: {args.package}; {N_ROWS:,} x {N_FEATURES} float32 "
          f"({X.nbytes / 2**20:.0f} MiB); median of {args.repeats}\n")
    print_table(rows, list(rows[0]))
    save("inference", rows)
    draw_rows = []
    for n_draws in (1_000, 100_000, 1_000_000):
        def log_likelihood(rows, n_draws=n_draws):
            return vae.log_likelihood(rows, n_samples=n_draws)

        draw_rows.append({
            "method": "log_likelihood, 3 rows", "draws": n_draws,
            "seconds": median_time(lambda f=log_likelihood: f(X[:3]), args.repeats),
            "extra memory MiB": peak_extra_bytes(log_likelihood, X[:3]) / 2**20,
        })
        print(f"log_likelihood, {n_draws:,} draws: done", flush=True)
    print()
    print_table(draw_rows, list(draw_rows[0]))
    save("inference_draws", draw_rows)


if __name__ == "__main__":
    main()
