"""dask on a 10^6 x 32 float32 array: Adam on the workers, L-BFGS-B, in memory.

Two comparisons, on rows generated on the workers of a ``LocalCluster(
n_workers=2, threads_per_worker=1)`` in 16 blocks of 62,500 rows (122 MiB;
the client never holds them) and, for the in-memory fits, the same rows made
block by block in this process, fitted on the same two cores (the workers
are closed or idle meanwhile). The held-out ELBO is ``score`` on 20,000
fresh rows of the same distribution. On a shared machine fits minutes apart
may see different loads: the load average is printed before and after.

``--compare solvers`` (the default; issue 28): rows near a 3-D nonlinear
manifold plus noise, ``VAETransformer(n_components=3, random_state=0)``
with every other parameter at its default on both sides, so Adam with
early stopping (local SGD on the workers for a dask array). Fitted: dask
Adam on 2 workers, dask Adam on 1 worker (a ``LocalCluster(n_workers=1)``),
dask L-BFGS-B on 2 workers (``solver="lbfgs"``, ``--lbfgs-max-iter``
iterations, 40 by default as in the issue: its 200 by default take most of
an hour) and in-memory Adam on all the rows. For each: wall time, rounds or
epochs or iterations, the growth of this process's resident memory during the
fit (sampled every 2 ms with psutil), the final held-out ELBO, and the
held-out ELBO against wall time (the model after each iteration, saved by
the fit's ``on_iteration`` hook and scored after the fit), from which the time
to come within 0.5 nats of the in-memory fit's final ELBO, and the 2-worker
speed-up over 1 worker to the ELBO both reach. The targets (issue 28): within
0.5 nats of the in-memory fit in at most 1.5 times its wall time, client
growth under 64 MiB, two workers faster than one. ``--mixing-seed`` draws
another generator of the same kind (the held-back one: 2028).

``--compare lbfgs-evaluations`` (issue 17): rows of a 4-factor nonlinear
model, the defaults with ``solver="lbfgs"`` (hidden (64,), 2 codes), dask
against in memory, 25 iterations by default (``--max-iter``, past the first
redraw of the training noise, every 20): time per iteration and per
loss-and-gradient evaluation, client memory growth, held-out ELBO; then
single evaluations at the same weights timed in pairs, dask then in memory,
five times, with distributed's task stream telling where the time goes: the
workers' compute (the busier worker's) and the rest (graph, scheduling,
sending the parameters and the results, the reduction). Targets (issue 17):
client growth under 64 MiB, held-out ELBO within 0.5 nats of the in-memory
fit, time per iteration at most 1.5 times the in-memory fit's.

Needs the dask extra: pip install 'skvae[dask]' (psutil comes with distributed).

Run: python benchmarks/bench_dask.py [--compare solvers|lbfgs-evaluations]
"""

import argparse
import copy
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
from skvae._train.solvers import History

N_ROWS, N_FEATURES, N_BLOCKS, N_TEST = 1_000_000, 32, 16, 20_000
BLOCK_ROWS = N_ROWS // N_BLOCKS
DATA_SEED, TEST_SEED = 0, 1


def make_rows(seed, start, n_rows, n_factors=3, mixing_seed=12345):
    """Rows near an ``n_factors``-dimensional nonlinear manifold in 32
    dimensions, plus noise; a function of the seeds and of ``start``."""
    mixing = np.random.default_rng(mixing_seed)
    A = mixing.standard_normal((n_factors, 16))
    B = mixing.standard_normal((16, N_FEATURES)) / 4
    rng = np.random.default_rng([seed, start])
    factors = rng.standard_normal((n_rows, n_factors))
    X = np.tanh(factors @ A) @ B + 0.1 * rng.standard_normal((n_rows, N_FEATURES))
    return X.astype(np.float32)


def _block(block_info=None, **generator):
    (start, stop), _ = block_info[None]["array-location"]
    return make_rows(DATA_SEED, start, stop - start, **generator)


def dask_rows(generator, n_rows=N_ROWS):
    """The rows as a dask array generated and persisted on the workers."""
    block_rows = n_rows // N_BLOCKS
    X = da.map_blocks(_block, chunks=((block_rows,) * N_BLOCKS, (N_FEATURES,)),
                      dtype=np.float32, meta=np.empty((0, 0), np.float32),
                      **generator)
    X = X.persist()  # generated on the workers, before the fit's clock starts
    wait(X)
    return X


def numpy_rows(generator, n_rows=N_ROWS):
    """The same rows, made here."""
    block_rows = n_rows // N_BLOCKS
    return np.vstack([make_rows(DATA_SEED, start, block_rows, **generator)
                      for start in range(0, n_rows, block_rows)])


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


def compare_lbfgs_evaluations(args):
    # The in-memory default on 10^6 rows would be Adam: compare like with like.
    params = dict(solver="lbfgs", max_iter=args.max_iter, random_state=0)
    load_before = os.getloadavg()
    generator = {"n_factors": 4}
    X_test = make_rows(TEST_SEED, 0, N_TEST, **generator)
    rows = []
    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=":0") as cluster,
          Client(cluster) as client):
        X = dask_rows(generator)
        for name, data, owner in [("dask, 2 workers", X, skvae_dask),
                                  ("in memory", None, VAENetwork)]:
            if data is None:
                data = X_np = numpy_rows(generator)
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
    save("bench_dask_lbfgs", {"rows": rows, "max_iter": args.max_iter, "paired": {
        "dask_s": wall, "busiest_worker_s": busiest, "in_memory_s": in_memory},
        "load": [load_before, load_fits, load_after]})


class Snapshots:
    """The model after each iteration of a fit, with its wall time: recorded
    where every solver reports an iteration (``History.after_iteration``,
    which the fit's ``on_iteration`` hook goes through), scored after the fit."""

    def __enter__(self):
        self.original = History.after_iteration
        self.start, self.taken = time.perf_counter(), []
        snapshots = self

        def after_iteration(history, on_iteration, params):
            snapshots.taken.append((time.perf_counter() - snapshots.start,
                                    np.array(params, copy=True)))
            return snapshots.original(history, on_iteration, params)

        History.after_iteration = after_iteration
        return self

    def __exit__(self, *exc):
        History.after_iteration = self.original

    def curve(self, vae, X_test):
        """[(seconds, held-out ELBO)] of the fitted ``vae``'s snapshots."""
        model = copy.deepcopy(vae)
        points = []
        for seconds, params in self.taken:
            model._network.params[...] = params
            points.append((seconds, float(model.score(X_test))))
        return points


def time_to(curve, target):
    """The first time the held-out ELBO reached ``target`` (None if never)."""
    return next((seconds for seconds, elbo in curve if elbo >= target), None)


def snapshot_fit(X, params, X_test):
    with (PeakRSS() as memory, Snapshots() as snapshots,
          warnings.catch_warnings()):
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        vae = VAETransformer(**params).fit(X)
        seconds = time.perf_counter() - start
    curve = snapshots.curve(vae, X_test)
    return {"fit_s": seconds, "n_iter": vae.n_iter_, "solver": vae.solver_,
            "client_growth_MiB": memory.growth_mib,
            "held_out_elbo": float(vae.score(X_test)), "curve": curve}


def compare_solvers(args):
    generator = {"n_factors": 3, "mixing_seed": args.mixing_seed}
    adam = dict(n_components=3, random_state=0)
    lbfgs = dict(adam, solver="lbfgs", max_iter=args.lbfgs_max_iter)
    plan = [(2, "dask Adam, 2 workers", adam), (2, "dask L-BFGS-B, 2 workers", lbfgs),
            (1, "dask Adam, 1 worker", adam), (0, "in memory Adam", adam)]
    plan = [run for run in plan
            if not args.only or any(word in run[1] for word in args.only)]
    load_before = os.getloadavg()
    X_test = make_rows(TEST_SEED, 0, N_TEST, **generator)
    fits = {}
    for n_workers in sorted({n for n, _, _ in plan}, reverse=True):
        runs = [(name, params) for n, name, params in plan if n == n_workers]
        if n_workers == 0:  # in this process, after the clusters are closed
            X = numpy_rows(generator, args.n_rows)
            for name, params in runs:
                fits[name] = snapshot_fit(X, params, X_test)
            del X
            continue
        with (LocalCluster(n_workers=n_workers, threads_per_worker=1,
                           processes=True, dashboard_address=":0") as cluster,
              Client(cluster)):
            X = dask_rows(generator, args.n_rows)
            for name, params in runs:
                fits[name] = snapshot_fit(X, params, X_test)
                print(f"{name}: {fits[name]['fit_s']:.0f} s", flush=True)
            del X
    load_after = os.getloadavg()
    memory = fits.get("in memory Adam")
    target = None if memory is None else memory["held_out_elbo"] - 0.5
    one, two = fits.get("dask Adam, 1 worker"), fits.get("dask Adam, 2 workers")
    common = None if not (one and two) else min(one["held_out_elbo"],
                                                two["held_out_elbo"])
    rows = [{"fit": name, "solver": fit["solver"], "n_iter": fit["n_iter"],
             "fit_s": fit["fit_s"], "client_growth_MiB": fit["client_growth_MiB"],
             "held_out_elbo": fit["held_out_elbo"],
             "s_to_target": target and time_to(fit["curve"], target),
             "s_to_common": common and time_to(fit["curve"], common)}
            for name, fit in fits.items()]
    print(f"\n{args.n_rows:,} x {N_FEATURES} float32, {N_BLOCKS} blocks, "
          f"3-D manifold (mixing seed {args.mixing_seed}), "
          f"VAETransformer(n_components=3, random_state=0), L-BFGS-B "
          f"max_iter={args.lbfgs_max_iter}")
    print(f"target: the in-memory final ELBO - 0.5 = {target}; common: the lower "
          f"of the two dask-Adam finals = {common}")
    print_table(rows, ["fit", "solver", "n_iter", "fit_s", "client_growth_MiB",
                       "held_out_elbo", "s_to_target", "s_to_common"])
    if memory and two:
        print(f"\ndask Adam (2 workers) - in memory: "
              f"{two['held_out_elbo'] - memory['held_out_elbo']:+.3f} nats, wall "
              f"time ratio {two['fit_s'] / memory['fit_s']:.2f}")
    if common is not None:
        print(f"2 workers over 1 to ELBO {common:.3f}: "
              f"{time_to(one['curve'], common) / time_to(two['curve'], common):.2f}"
              " times faster")
    for name, fit in fits.items():
        print(f"\n{name}, (seconds, held-out ELBO):")
        print(", ".join(f"({s:.0f}, {e:.2f})" for s, e in fit["curve"]))
    print(f"\nload average (1, 5, 15 min) before: {load_before}, after: {load_after}")
    save("bench_dask", {"fits": fits, "rows": rows, "target": target,
                        "n_rows": args.n_rows, "mixing_seed": args.mixing_seed,
                        "lbfgs_max_iter": args.lbfgs_max_iter,
                        "load": [load_before, load_after]})


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compare", choices=["solvers", "lbfgs-evaluations"],
                        default="solvers")
    parser.add_argument("--mixing-seed", type=int, default=12345,
                        help="solvers: the generator's seed (held back: 2028)")
    parser.add_argument("--n-rows", type=int, default=N_ROWS,
                        help="solvers: rows of the data (default: 1,000,000)")
    parser.add_argument("--only", nargs="*",
                        help="solvers: run only the fits whose names contain one "
                             "of these words (e.g. --only memory '2 workers')")
    parser.add_argument("--lbfgs-max-iter", type=int, default=40,
                        help="solvers: L-BFGS-B iterations (default: 40)")
    parser.add_argument("--max-iter", type=int, default=25,
                        help="lbfgs-evaluations: L-BFGS iterations of each fit "
                             "(default: 25)")
    args = parser.parse_args()
    if args.compare == "solvers":
        compare_solvers(args)
    else:
        compare_lbfgs_evaluations(args)


if __name__ == "__main__":
    main()
