"""Data-parallel L-BFGS on dask: 10^6 x 32 float32 rows on two local workers.

A ``LocalCluster(n_workers=2, threads_per_worker=1)`` generates the rows on
the workers (16 blocks of 62,500 rows, 122 MiB; the client never holds them)
and ``VAETransformer`` (the defaults with ``solver="lbfgs"``, what "auto"
means for a dask array, for both fits: hidden (64,), 2 codes) fits
them there. Then the same rows, generated block by block in this process, are
fitted in memory with the same parameters, on the same two cores (the
workers idle meanwhile).

Reported, for both: wall time of the fit, per L-BFGS iteration and per
loss-and-gradient evaluation; the growth of this process's resident memory
during the fit (sampled every 2 ms with psutil); the held-out ELBO (``score``
on 20,000 fresh rows of the same distribution).

On a shared machine the two fits, minutes apart, may see different loads.
So single evaluations at the same weights are also timed in pairs, dask then
in memory, five times; for the dask ones distributed's task stream tells
where the time goes: the workers' compute (the busier worker's) and the rest
(graph, scheduling, sending the parameters and the results, the reduction).

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
from threadpoolctl import threadpool_limits

from skvae import VAETransformer
from skvae._estimator import dask as skvae_dask
from skvae._models.objectives import ELBO
from skvae._models.vae import VAENetwork

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
    """Times the calls of a function it replaces on an object."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name
        self.seconds = []

    def __enter__(self):
        self.original = getattr(self.owner, self.name)
        original = self.original

        def counted(*args, **kwargs):
            start = time.perf_counter()
            result = original(*args, **kwargs)
            self.seconds.append(time.perf_counter() - start)
            return result

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
    return vae, seconds, calls.seconds, memory.growth_mib


def paired_evaluations(client, vae, X, X_np, repeats=5):
    """Median seconds of an evaluation on dask, of the busier worker's compute
    in it, and of an in-memory evaluation, timed in alternation."""
    net = vae._network
    eps = X.map_blocks(skvae_dask._noise_block, seed=0, per_row=net.n_components,
                       target=net.dtype, dtype=net.dtype,
                       chunks=(X.chunks[0], (net.n_components,))).persist()
    wait(eps)
    eps_np = eps.compute()[None]
    skvae_dask.loss_and_grad(net, X, eps, ELBO(), vae.alpha, N_ROWS)  # warm up
    walls, busiest, in_memory = [], [], []
    for _ in range(repeats):
        with get_task_stream(client) as stream:
            start = time.perf_counter()
            skvae_dask.loss_and_grad(net, X, eps, ELBO(), vae.alpha, N_ROWS)
            walls.append(time.perf_counter() - start)
        per_worker = {}
        for task in stream.data:
            for step in task["startstops"]:
                if step["action"] == "compute":
                    per_worker[task["worker"]] = (per_worker.get(task["worker"], 0)
                                                  + step["stop"] - step["start"])
        busiest.append(max(per_worker.values()))
        with threadpool_limits(limits=1, user_api="blas"):  # as run_lbfgs does
            start = time.perf_counter()
            net.loss_and_grad(X_np, eps_np, ELBO(), vae.alpha)
            in_memory.append(time.perf_counter() - start)
    return float(np.median(walls)), float(np.median(busiest)), float(
        np.median(in_memory))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-iter", type=int, default=25,
                        help="L-BFGS iterations of each fit (default: 25)")
    args = parser.parse_args()
    # The in-memory default on 10^6 rows would be Adam: compare like with like.
    params = dict(solver="lbfgs", max_iter=args.max_iter, random_state=0)
    load_before = os.getloadavg()
    X_test = make_rows(TEST_SEED, 0, N_TEST)
    rows = []
    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=":0") as cluster,
          Client(cluster) as client):
        n_blocks = N_ROWS // BLOCK_ROWS
        X = da.map_blocks(_block, chunks=((BLOCK_ROWS,) * n_blocks, (N_FEATURES,)),
                          dtype=np.float32, meta=np.empty((0, 0), np.float32))
        X = X.persist()  # generated on the workers, before the fit's clock starts
        wait(X)
        for name, data, owner in [("dask, 2 workers", X, skvae_dask),
                                  ("in memory", None, VAENetwork)]:
            if data is None:  # the same rows, made here
                data = X_np = np.vstack([make_rows(DATA_SEED, start, BLOCK_ROWS)
                                         for start in range(0, N_ROWS, BLOCK_ROWS)])
            vae, seconds, evaluations, growth = timed_fit(data, params, owner,
                                                          "loss_and_grad")
            rows.append({
                "fit": name, "n_iter": vae.n_iter_, "evaluations": len(evaluations),
                "fit_s": seconds, "s_per_iter": seconds / vae.n_iter_,
                "s_per_eval": seconds / len(evaluations),
                "eval_median_s": float(np.median(evaluations)),
                "eval_min_s": float(np.min(evaluations)),
                "client_growth_MiB": growth,
                "held_out_elbo": vae.score(X_test),
            })
        load_fits = os.getloadavg()
        wall, busiest, in_memory = paired_evaluations(client, vae, X, X_np)
    load_after = os.getloadavg()
    print(f"{N_ROWS:,} x {N_FEATURES} float32 ({X_np.nbytes / 2**20:.0f} MiB), "
          f"blocks of {BLOCK_ROWS:,} rows, VAETransformer(solver='lbfgs'), "
          f"max_iter={args.max_iter}")
    print_table(rows, ["fit", "n_iter", "evaluations", "fit_s", "s_per_iter",
                       "s_per_eval", "eval_median_s", "eval_min_s",
                       "client_growth_MiB", "held_out_elbo"])
    dask_row, memory_row = rows
    print(f"\ndask/in-memory time per iteration: "
          f"{dask_row['s_per_iter'] / memory_row['s_per_iter']:.2f}, per evaluation: "
          f"{dask_row['s_per_eval'] / memory_row['s_per_eval']:.2f}")
    print(f"held-out ELBO, dask - in memory: "
          f"{dask_row['held_out_elbo'] - memory_row['held_out_elbo']:+.3f} nats")
    print(f"paired evaluations (medians of 5): dask {wall:.3f} s, of which the "
          f"busier worker computes {busiest:.3f} s; in memory {in_memory:.3f} s; "
          f"ratio {wall / in_memory:.2f}")
    print(f"load average (1, 5, 15 min) before: {load_before}, after the fits: "
          f"{load_fits}, at the end: {load_after}")
    save("bench_dask", {"rows": rows, "max_iter": args.max_iter, "paired": {
        "dask_s": wall, "busiest_worker_s": busiest, "in_memory_s": in_memory},
        "load": [load_before, load_fits, load_after]})


if __name__ == "__main__":
    main()
