"""Shared pieces of the benchmarks: data, timing, results, the PyTorch reference.

PyTorch is optional and never a dependency of skvae: install the CPU build
with ``pip install torch==2.13.0`` to include the reference.
"""

import argparse
import importlib
import json
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"

# (name, n_features, hidden, n_components): 8x8 digits and 28x28-image sized.
MODELS = [("small 64-128-8", 64, 128, 8), ("large 784-512-20", 784, 512, 20)]


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--package", default="skvae",
                        help="import VAETransformer from this package (e.g. a copy "
                             "of an older version, to measure before and after)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--early-stopping", action="store_true",
                        help="bench_variants: stop each fit on a 10%% validation "
                             "split instead of running every epoch")
    return parser.parse_args()


def load_estimator(package):
    return importlib.import_module(package).VAETransformer


def binary_data(n_features, n_samples=5000, seed=0):
    """Digits binarized at 0.5 for 64 features; random binary rows otherwise."""
    if n_features == 64:
        from sklearn.datasets import load_digits
        return (load_digits().data / 16 > 0.5).astype(np.float32)
    rng = np.random.default_rng(seed)
    return (rng.random((n_samples, n_features)) < 0.3).astype(np.float32)


def median_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def save(name, rows):
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(rows, indent=2))
    print(f"\nwritten: {path}")


def print_table(rows, columns):
    widths = [max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in columns]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(_fmt(row[c]).rjust(w)
                        for c, w in zip(columns, widths, strict=True)))


def _fmt(value):
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def blas_threads():
    """Threads of the BLAS NumPy uses (threadpoolctl, a scikit-learn dependency)."""
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info()
              if pool["user_api"] == "blas"]
    return max(counts, default=1)


def torch_reference():
    """A PyTorch VAE of the very same architecture, or None without torch."""
    try:
        import torch
    except ImportError:
        print("PyTorch not installed: the reference is skipped "
              "(pip install torch==2.13.0 for the CPU build)")
        return None
    # The same number of threads as NumPy's BLAS, which skvae computes with:
    # both sides get what the environment (e.g. OPENBLAS_NUM_THREADS) gives.
    torch.set_num_threads(blas_threads())

    class TorchVAE:
        """MLP encoder/decoder, relu, Bernoulli likelihood, analytic KL, Adam."""

        def __init__(self, n_features, hidden, n_components, seed=0):
            torch.manual_seed(seed)
            nn = torch.nn
            self.k = n_components
            self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                         nn.Linear(hidden, 2 * n_components))
            self.decoder = nn.Sequential(nn.Linear(n_components, hidden), nn.ReLU(),
                                         nn.Linear(hidden, n_features))
            parameters = [*self.encoder.parameters(), *self.decoder.parameters()]
            self.optimizer = torch.optim.Adam(parameters, lr=1e-3)

        def negative_elbo(self, x, n_draws=1):
            out = self.encoder(x)
            mu, log_var = out[:, :self.k], out[:, self.k:]
            kl = -0.5 * (1 + log_var - mu**2 - log_var.exp()).sum(1)
            rec = 0
            for _ in range(n_draws):
                z = mu + (0.5 * log_var).exp() * torch.randn_like(mu)
                logits = self.decoder(z)
                rec = rec + torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, x, reduction="none").sum(1)
            return rec / n_draws + kl

        def fit(self, X, epochs, batch_size=100, seed=0):
            X = torch.from_numpy(X)
            generator = torch.Generator().manual_seed(seed)
            for _ in range(epochs):
                order = torch.randperm(len(X), generator=generator)
                for start in range(0, len(X), batch_size):
                    batch = X[order[start:start + batch_size]]
                    loss = self.negative_elbo(batch).mean()
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
            return self

        def score(self, X, n_draws=16):
            with torch.no_grad():
                return -float(self.negative_elbo(torch.from_numpy(X), n_draws).mean())

    return TorchVAE
