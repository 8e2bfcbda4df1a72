"""Data-parallel L-BFGS on dask: 10^6 x 32 float32 rows on two local workers.

A ``LocalCluster(n_workers=2, threads_per_worker=1)`` generates the rows on
the workers (16 blocks of 62,500 rows, 122 MiB; the client never holds them)
and ``VAETransformer`` (the defaults: hidden (64,), 2 codes, L-BFGS-B) fits
them there. Then the same rows, generated block by block in this process, are
fitted in memory with the same parameters, after the cluster has shut down,
so that both fits have the machine's two cores.

Reported, for both: wall time of the fit, per L-BFGS iteration and per
loss-and-gradient evaluation; the growth of this process's resident memory
during the fit (sampled every 2 ms with psutil); the held-out ELBO (``score``
on 20,000 fresh rows of the same distribution). For the dask fit, where the
time of an evaluation goes, from distributed's task stream over a few
evaluations at the fitted weights: the workers' compute (the busier one) and
the rest (scheduling, transfer of the parameters and results, the reduction).

The targets (issue 17): the client grows by less than 64 MiB; held-out ELBO
within 0.5 nats of the in-memory fit; time per iteration at most 1.5 times
the in-memory fit's. The machine's load average is printed before and after.

Iterations: 25 by default, past the first redraw of the training noise
(every 20), rather than the estimator's 200: the times per iteration and per
evaluation do not depend on it, and 200 iterations of two fits of a million
rows take over an hour on a loaded 2-core machine.

Needs the dask extra: pip install 'skvae[dask]' (psutil comes with distributed).

Run: python benchmarks/bench_dask.py [--max-iter 25]
"""

import argparse
import gc
import os
import threading
import time
import warnings

import dask.array as da
import numpy as np
import psutil
from _common import print_table, save
from distributed import Client, LocalCluster, get_task_stream, wait
from sklearn.exceptions import ConvergenceWarning

import skvae._dask
from skvae import VAETransformer
from skvae._objective import ELBO, VAENetwork

N_ROWS, N_FEATURES, BLOCK_ROWS, N_TEST = 1_000_000, 32, 62_500, 20_000
DATA_SEED, TEST_SEED = 0, 1


def make_rows(seed, start, n_rows):
    """Rows of a fixed nonlinear 4-factor model (a function of seed and start)."""
    mixing = np.random.default_rng(12345)
    A = mixing.standard_normal((4, 16))
    B = mixing.standard_normal((16, N_FEATURES)) / 4
    rng = np.random.default_rng([seed, start])
    factors = rng.standard_normal((n_rows, 4))
    X = np.tanh(factors @ A) @ B + 0.1 * rng.standard_normal((n_rows, N_FEATURES))
    return X.astype(np.float32)


def _block(block_info=None):
    (start, stop), _ = block_info[None]["array-location"]
    return make_rows(DATA_SEED, start, stop - start)


class PeakRSS:
    """Peak growth of this process's resident memory inside a with block."""

    def __init__(self, interval=0.002):
        self.interval = interval
        self.process = psutil.Process()

    def __enter__(self):
        gc.collect()
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self):
        return (self.peak - self.baseline) / 2**20


class Counter:
    """Counts calls of a function it replaces on an object."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name
        self.calls = 0

    def __enter__(self):
        self.original = getattr(self.owner, self.name)
        original = self.original

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        setattr(self.owner, self.name, counted)
        return self

    def __exit__(self, *exc):
        setattr(self.owner, self.name, self.original)


def timed_fit(X, params, counter_owner, counter_name):
    with (PeakRSS() as memory, Counter(counter_owner, counter_name) as calls,
          warnings.catch_warnings()):
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        vae = VAETransformer(**params).fit(X)
        seconds = time.perf_counter() - start
    return vae, seconds, calls.calls, memory.growth_mib


def evaluation_breakdown(client, vae, X, repeats=5):
    """Wall time of an evaluation and the busier worker's compute time."""
    net = vae._network
    eps = X.map_blocks(skvae._dask._noise_block, seed=0, per_row=net.n_components,
                       target=net.dtype, dtype=net.dtype,
                       chunks=(X.chunks[0], (net.n_components,))).persist()
    wait(eps)
    skvae._dask.loss_and_grad(net, X, eps, ELBO(), vae.alpha, N_ROWS)  # warm up
    walls, busiest = [], []
    for _ in range(repeats):
        with get_task_stream(client) as stream:
            start = time.perf_counter()
            skvae._dask.loss_and_grad(net, X, eps, ELBO(), vae.alpha, N_ROWS)
            walls.append(time.perf_counter() - start)
        per_worker = {}
        for task in stream.data:
            for step in task["startstops"]:
                if step["action"] == "compute":
                    per_worker[task["worker"]] = (per_worker.get(task["worker"], 0)
                                                  + step["stop"] - step["start"])
        busiest.append(max(per_worker.values()))
    return float(np.median(walls)), float(np.median(busiest))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-iter", type=int, default=25,
                        help="L-BFGS iterations of each fit (default: 25)")
    args = parser.parse_args()
    params = dict(max_iter=args.max_iter, random_state=0)
    load_before = os.getloadavg()
    X_test = make_rows(TEST_SEED, 0, N_TEST)
    rows = []
    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=None) as cluster,
          Client(cluster) as client):
        n_blocks = N_ROWS // BLOCK_ROWS
        X = da.map_blocks(_block, chunks=((BLOCK_ROWS,) * n_blocks, (N_FEATURES,)),
                          dtype=np.float32, meta=np.empty((0, 0), np.float32))
        X = X.persist()  # generated on the workers, before the fit's clock starts
        wait(X)
        vae, seconds, evaluations, growth = timed_fit(X, params, skvae._dask,
                                                      "loss_and_grad")
        wall, busiest = evaluation_breakdown(client, vae, X)
        rows.append({
            "fit": "dask, 2 workers", "n_iter": vae.n_iter_,
            "evaluations": evaluations, "fit_s": seconds,
            "s_per_iter": seconds / vae.n_iter_,
            "s_per_eval": seconds / evaluations,
            "client_growth_MiB": growth, "held_out_elbo": vae.score(X_test),
            "eval_wall_s": wall, "eval_busiest_worker_s": busiest,
        })
    X_np = np.vstack([make_rows(DATA_SEED, start, BLOCK_ROWS)
                      for start in range(0, N_ROWS, BLOCK_ROWS)])
    vae, seconds, evaluations, growth = timed_fit(X_np, params, VAENetwork,
                                                  "loss_and_grad")
    rows.append({
        "fit": "in memory", "n_iter": vae.n_iter_, "evaluations": evaluations,
        "fit_s": seconds, "s_per_iter": seconds / vae.n_iter_,
        "s_per_eval": seconds / evaluations, "client_growth_MiB": growth,
        "held_out_elbo": vae.score(X_test), "eval_wall_s": float("nan"),
        "eval_busiest_worker_s": float("nan"),
    })
    load_after = os.getloadavg()
    print(f"{N_ROWS:,} x {N_FEATURES} float32 ({X_np.nbytes / 2**20:.0f} MiB), "
          f"blocks of {BLOCK_ROWS:,} rows, VAETransformer defaults, "
          f"max_iter={args.max_iter}")
    print_table(rows, ["fit", "n_iter", "evaluations", "fit_s", "s_per_iter",
                       "s_per_eval", "client_growth_MiB", "held_out_elbo"])
    dask_row, memory_row = rows
    print(f"\ndask/in-memory time per iteration: "
          f"{dask_row['s_per_iter'] / memory_row['s_per_iter']:.2f}, per evaluation: "
          f"{dask_row['s_per_eval'] / memory_row['s_per_eval']:.2f}")
    print(f"held-out ELBO, dask - in memory: "
          f"{dask_row['held_out_elbo'] - memory_row['held_out_elbo']:+.3f} nats")
    print(f"one dask evaluation: {dask_row['eval_wall_s']:.3f} s wall, the busier "
          f"worker computing {dask_row['eval_busiest_worker_s']:.3f} s")
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {load_after}")
    save("bench_dask", {"rows": rows, "load_before": load_before,
                        "load_after": load_after, "max_iter": args.max_iter})


if __name__ == "__main__":
    main()
