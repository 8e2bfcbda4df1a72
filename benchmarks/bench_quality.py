"""Quality at equal budget: held-out ELBO after the same epochs, and L-BFGS's time.

Digits binarized at 0.5, a fixed 70/30 split, the 64-128-8 model (relu,
Bernoulli, float32). skvae's Adam (batch 100, learning rate 1e-3, no L2) and
the PyTorch reference train for the same number of epochs, for three seeds;
both held-out ELBOs use the analytic KL and 16 noise draws per row. Then
skvae's L-BFGS (warm-started in steps of 10 iterations) runs until its
held-out ELBO reaches the reference's median; the time counted is fitting
time only.

Run: python benchmarks/bench_quality.py [--package skvae]
"""

import time
import warnings

import numpy as np
from _common import (
    binary_data,
    load_estimator,
    parse_args,
    print_table,
    save,
    torch_reference,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

EPOCHS, SEEDS, HIDDEN, K = 50, (0, 1, 2), 128, 8


def main():
    args = parse_args(__doc__)
    VAETransformer = load_estimator(args.package)
    TorchVAE = torch_reference()
    X = binary_data(64)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    warnings.simplefilter("ignore", ConvergenceWarning)

    skvae_scores, torch_scores = [], []
    for seed in SEEDS:
        vae = VAETransformer(K, hidden_layer_sizes=(HIDDEN,), likelihood="bernoulli",
                             solver="adam", batch_size=100, alpha=0, tol=0,
                             max_iter=EPOCHS, n_iter_no_change=10**6,
                             random_state=seed).fit(X_train)
        skvae_scores.append(vae.score(X_test))
        if TorchVAE is not None:
            model = TorchVAE(64, HIDDEN, K, seed=seed).fit(X_train, EPOCHS, seed=seed)
            torch_scores.append(model.score(X_test))
    rows = [{"model": "skvae adam", "epochs": EPOCHS,
             "median held-out ELBO": float(np.median(skvae_scores)),
             "min": min(skvae_scores), "max": max(skvae_scores)}]
    if torch_scores:
        rows.append({"model": "torch adam", "epochs": EPOCHS,
                     "median held-out ELBO": float(np.median(torch_scores)),
                     "min": min(torch_scores), "max": max(torch_scores)})
    target = float(np.median(torch_scores or skvae_scores))

    vae = VAETransformer(K, hidden_layer_sizes=(HIDDEN,), likelihood="bernoulli",
                         solver="lbfgs", alpha=0, max_iter=10, warm_start=True,
                         n_iter_no_change=10**6, random_state=0)
    seconds, score = 0.0, -np.inf
    while score < target and vae.__dict__.get("n_iter_", 0) < 1000:
        start = time.perf_counter()
        vae.fit(X_train)
        seconds += time.perf_counter() - start
        score = vae.score(X_test)
    rows.append({"model": "skvae lbfgs", "epochs": f"{vae.n_iter_} iterations",
                 "median held-out ELBO": score, "min": score, "max": score,
                 "seconds to reach target": seconds})
    print(f"\npackage: {args.package}; target ELBO {target:.3f} "
          f"({'torch' if torch_scores else 'skvae adam'} median)\n")
    columns = ["model", "epochs", "median held-out ELBO", "min", "max"]
    print_table(rows, columns)
    print(f"\nlbfgs reached {score:.3f} in {seconds:.2f} s of fitting "
          f"({vae.n_iter_} iterations)")
    save("quality", rows)


if __name__ == "__main__":
    main()
