"""Training throughput of the Adam solver, against PyTorch and the BLAS ceiling.

For each model (64-128-8 on digits binarized at 0.5; 784-512-20 on 5,000
random binary rows): samples per second of an epoch of Adam (Bernoulli,
relu, batch 100, float32), median of repeats, for skvae and for a PyTorch
reference of the very same architecture in the same run (2 threads).

The BLAS ceiling: FLOP/s of plain NumPy float32 matrix products with the
shapes one training step needs (forward, weight gradients, input gradients),
timed back to back. An epoch's achieved FLOP/s over that is the fraction of
the ceiling reached; the ceiling's samples/s is the most any implementation
built on those products could train.

Run: python benchmarks/bench_throughput.py [--package skvae] [--repeats 3]
"""

import warnings

import numpy as np
from _common import (
    MODELS,
    binary_data,
    load_estimator,
    median_time,
    parse_args,
    print_table,
    save,
    torch_reference,
)
from sklearn.exceptions import ConvergenceWarning

BATCH = 100
EPOCHS = {"small 64-128-8": 20, "large 784-512-20": 3}


def step_matmuls(d, h, k):
    """(m, n, p) of every product in one step: A (m x n) @ B (n x p)."""
    b = BATCH
    forward = [(b, d, h), (b, h, 2 * k), (b, k, h), (b, h, d)]
    weight_grads = [(d, b, h), (h, b, 2 * k), (k, b, h), (h, b, d)]
    input_grads = [(b, d, h), (b, h, k), (b, 2 * k, h)]  # decoder x2, encoder x1
    return forward + weight_grads + input_grads


def blas_ceiling(d, h, k, repeats):
    rng = np.random.default_rng(0)
    pairs = [(rng.random((m, n), dtype=np.float32),
              rng.random((n, p), dtype=np.float32))
             for m, n, p in step_matmuls(d, h, k)]
    flops = sum(2 * m * n * p for m, n, p in step_matmuls(d, h, k))

    def run():
        for _ in range(50):
            for A, B in pairs:
                A @ B

    seconds = median_time(run, repeats) / 50
    return flops, flops / seconds


def measure(VAETransformer, TorchVAE, name, d, h, k, repeats):
    X = binary_data(d)
    epochs = EPOCHS[name]
    flops_per_step, ceiling = blas_ceiling(d, h, k, repeats)
    steps = epochs * int(np.ceil(len(X) / BATCH))

    def fit_skvae():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            VAETransformer(k, hidden_layer_sizes=(h,), likelihood="bernoulli",
                           solver="adam", batch_size=BATCH, max_iter=epochs, tol=0,
                           n_iter_no_change=10**6, alpha=0, random_state=0).fit(X)

    seconds = median_time(fit_skvae, repeats)
    row = {"model": name, "epochs": epochs,
           "skvae samples/s": epochs * len(X) / seconds,
           "ceiling samples/s": ceiling / flops_per_step * BATCH,
           "skvae % of ceiling": 100 * flops_per_step * steps / seconds / ceiling,
           "ceiling GFLOP/s": ceiling / 1e9}
    if TorchVAE is not None:
        torch_seconds = median_time(
            lambda: TorchVAE(d, h, k).fit(X, epochs, BATCH), repeats)
        row["torch samples/s"] = epochs * len(X) / torch_seconds
        row["skvae / torch"] = torch_seconds / seconds
    return row


def main():
    args = parse_args(__doc__)
    VAETransformer = load_estimator(args.package)
    TorchVAE = torch_reference()
    rows = [measure(VAETransformer, TorchVAE, *model, args.repeats) for model in MODELS]
    print(f"\npackage: {args.package}; batch {BATCH}, float32, median of "
          f"{args.repeats}\n")
    columns = [c for c in rows[0] if c != "model"]
    print_table(rows, ["model", *columns])
    save("throughput", rows)


if __name__ == "__main__":
    main()
