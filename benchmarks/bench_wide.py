"""Wide tables of few rows: the "auto" hidden width, fit time and peak memory.

``VAETransformer(n_components=2)`` with every other setting at its default,
fitted on 50 x 10,000 and 200 x 20,000 float64 tables (rows of five latent
factors through a random linear map, plus noise of standard deviation 0.5;
50 rows fit with L-BFGS-B, 200 with Adam under ``solver="auto"``). Each fit
runs in a fresh process, so that its memory is its own. Reported: the
hidden width ``"auto"`` chose, the number of weights, the iterations run,
the fit's time and time per iteration, the data's size, the peak resident
memory the fit added to the process (Linux: the high-water mark, reset
before the fit), and the held-out ELBO per feature on as many new rows.

With ``--max-iter N`` each fit stops after N iterations (a ConvergenceWarning
is expected), to compare time per iteration and memory quickly; the default
runs the fits to their own end.

Run: python benchmarks/bench_wide.py [--package skvae] [--max-iter N]
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import load_estimator, print_table, save

CASES = [(50, 10_000), (200, 20_000)]
N_FACTORS, NOISE = 5, 0.5


def wide_data(n_rows, n_features, seed=0):
    """Training and held-out rows of the same low-rank table plus noise."""
    rng = np.random.default_rng(seed)
    loadings = rng.standard_normal((N_FACTORS, n_features)) / np.sqrt(N_FACTORS)
    factors = rng.standard_normal((2 * n_rows, N_FACTORS))
    X = factors @ loadings
    X += NOISE * rng.standard_normal(X.shape)
    return X[:n_rows], X[n_rows:]


def resident_mib(field):
    """VmRSS or VmHWM (the peak) of this process in MiB; None off Linux."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def reset_peak():
    """Reset the process's high-water mark to its current size (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(package, n_rows, n_features, max_iter):
    """Fit one case in this process and print its measurements as JSON."""
    from sklearn.exceptions import ConvergenceWarning

    VAETransformer = load_estimator(package)
    X, X_test = wide_data(n_rows, n_features)
    params = {} if max_iter is None else {"max_iter": max_iter}
    vae = VAETransformer(n_components=2, random_state=0, **params)
    before = resident_mib("VmRSS")
    exact_peak = reset_peak()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    seconds = time.perf_counter() - start
    if exact_peak:
        peak = resident_mib("VmHWM")
    else:  # the lifetime peak, an upper bound
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_weights = sum(W.size for W in vae.encoder_coefs_ + vae.decoder_coefs_)
    print(json.dumps({
        "rows x features": f"{n_rows} x {n_features:,}",
        "width": vae.hidden_layer_sizes_[0],
        "solver": vae.solver_,
        "weights (M)": n_weights / 1e6,
        "iterations": vae.n_iter_,
        "fit (s)": seconds,
        "s / iteration": seconds / vae.n_iter_,
        "data (MiB)": X.nbytes / 2**20,
        "peak added (MiB)": None if before is None else peak - before,
        "held-out ELBO / feature": float(vae.score(X_test)) / n_features,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="skvae",
                        help="import VAETransformer from this package (e.g. a copy "
                             "of an older version, to measure before and after)")
    parser.add_argument("--max-iter", type=int, default=None,
                        help="stop each fit after this many iterations")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.package, *args.child, args.max_iter)
        return
    rows = []
    for n_rows, n_features in CASES:
        command = [sys.executable, __file__, "--package", args.package,
                   "--child", str(n_rows), str(n_features)]
        if args.max_iter is not None:
            command += ["--max-iter", str(args.max_iter)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append({"package": args.package, **json.loads(result.stdout)})
        print(f"measured {rows[-1]['rows x features']}", flush=True)
    print_table(rows, list(rows[0]))
    save(f"wide_{args.package}", rows)


if __name__ == "__main__":
    main()
