"""Model variants: held-out log-likelihood, KL and code quality.

Digits binarized at 0.5 with a fixed 70/30 split; Bernoulli likelihood,
8 codes, hidden (128,) unless the variant says otherwise, Adam (learning
rate 3e-3, batch 100, 200 epochs; with ``--early-stopping``, at most 200,
stopping on a 10% validation split), three seeds. For each variant: the
held-out importance-weighted log-likelihood (``log_likelihood``, 1000
samples), the mean KL of q(z|x) from the prior per sample, and the 5-NN
accuracy of the codes.
Every row gives its smallest gain over the plain VAE, paired by seed, and
its active units (Burda et al. 2016: dimensions whose posterior mean varies
over held-out rows by more than 0.01), of z and, for the hierarchical prior,
of the top-level code z2. The recipe rows also give their gain over the flow
prior of the same hidden size, paired by seed (mean, and min over seeds).
The autoregressive decoder mirrors the encoder's hidden sizes, so "hidden
256" grows both networks; the flow prior it is compared with gets the same
(256,). The hierarchical prior's rows keep the plain VAE's first level (8
codes, hidden (128,)); the top level is its defaults (2 codes, hidden
(32,)), or 4 codes and hidden (64, 64), where the top layer collapses,
with the remedies for it: KL warm-up, free bits.

Run: python benchmarks/bench_variants.py [--package skvae]
"""

import warnings

import numpy as np
from _common import binary_data, load_estimator, parse_args, print_table, save
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

SEEDS = (0, 1, 2)
TOP_4_64_64 = {"prior": "hierarchical", "n_top_components": 4,
               "top_hidden_layer_sizes": (64, 64)}
VARIANTS = {
    "plain VAE": {},
    "IWAE, K=5": {"n_importance_samples": 5},
    "free bits 0.5": {"free_bits": 0.5},
    "KL warm-up 50": {"kl_warmup": 50},
    "flow prior": {"prior": "flow"},
    "flow prior + free bits 0.5": {"prior": "flow", "free_bits": 0.5},
    # Two stochastic layers (Burda et al. 2016).
    "hierarchical prior": {"prior": "hierarchical"},
    "hierarchical prior, IWAE K=5": {"prior": "hierarchical",
                                     "n_importance_samples": 5},
    "hierarchical, top 4 codes (64, 64)": TOP_4_64_64,
    "hierarchical, top 4 codes (64, 64) + KL warm-up 50": {**TOP_4_64_64,
                                                           "kl_warmup": 50},
    "hierarchical, top 4 codes (64, 64) + free bits 0.25": {**TOP_4_64_64,
                                                            "free_bits": 0.25},
    "autoregressive decoder": {"decoder": "autoregressive"},
    "autoregressive decoder, window 8": {"decoder": "autoregressive", "window": 8},
    # The Variational Lossy Autoencoder's recipe.
    "flow + window 8 + free bits 0.5": {"prior": "flow", "decoder": "autoregressive",
                                        "window": 8, "free_bits": 0.5},
    "flow + window 16 + free bits 0.5": {"prior": "flow", "decoder": "autoregressive",
                                         "window": 16, "free_bits": 0.5},
    "flow prior, hidden 256": {"prior": "flow", "hidden_layer_sizes": (256,)},
    "flow + window 16 + free bits 0.5, hidden 256": {
        "prior": "flow", "decoder": "autoregressive", "window": 16, "free_bits": 0.5,
        "hidden_layer_sizes": (256,)},
}

# Each recipe row against the flow prior of the same hidden size.
PAIRED = {
    "flow + window 8 + free bits 0.5": "flow prior",
    "flow + window 16 + free bits 0.5": "flow prior",
    "flow + window 16 + free bits 0.5, hidden 256": "flow prior, hidden 256",
}


def kl_per_sample(vae, X):
    # Analytic for N(0, I); for the flow and hierarchical priors a Monte Carlo
    # estimate over the estimator's fixed scoring noise (private: no public
    # KL method yet). For the hierarchical prior, the KL of both layers.
    return float(np.mean(vae._network.kl(X, vae._score_noise)))


def active_units(vae, X, threshold=0.01):
    """Active units of z, and of z2 under the hierarchical prior (else nan):
    for z2, the mean of q(z2 | z) averaged over the scoring draws of
    z ~ q(z | x) (private: the top level has no public method)."""
    mu, std = vae.transform(X, return_std=True)
    n_active = int(np.sum(mu.var(axis=0) > threshold))
    if vae.prior != "hierarchical":
        return n_active, np.nan
    k = vae.n_components
    Z = mu + std * vae._score_noise[:, :, :k]
    mu2 = vae._network.prior.top_encoder.encode(Z.reshape(-1, k))[0]
    mu2 = mu2.reshape(*Z.shape[:2], -1).mean(axis=0)
    return n_active, int(np.sum(mu2.var(axis=0) > threshold))


def main():
    args = parse_args(__doc__)
    VAETransformer = load_estimator(args.package)
    X, y = binary_data(64), load_digits().target
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y)
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []
    for name, params in VARIANTS.items():
        results = []
        for seed in SEEDS:
            settings = dict(hidden_layer_sizes=(128,), likelihood="bernoulli",
                            solver="adam", learning_rate_init=3e-3,
                            batch_size=100, max_iter=200,
                            early_stopping=args.early_stopping,
                            tol=1e-4 if args.early_stopping else 0,
                            n_iter_no_change=10 if args.early_stopping else 10**6,
                            random_state=seed)
            vae = VAETransformer(8, **{**settings, **params}).fit(X_train)
            knn = KNeighborsClassifier(5).fit(vae.transform(X_train), y_train)
            results.append((vae.log_likelihood(X_test, 1000, random_state=0).mean(),
                            kl_per_sample(vae, X_test),
                            knn.score(vae.transform(X_test), y_test),
                            *active_units(vae, X_test)))
        results = np.array(results)
        rows.append({"variant": name,
                     "log p(x) mean": results[:, 0].mean(),
                     "log p(x) spread": np.ptp(results[:, 0]),
                     "KL per sample": results[:, 1].mean(),
                     "5-NN accuracy": results[:, 2].mean(),
                     "active z": results[:, 3].mean(),
                     "active z2": (results[:, 4].mean()
                                   if not np.isnan(results[0, 4]) else ""),
                     "log p(x) per seed": results[:, 0].tolist()})
        print(f"{name}: done", flush=True)
    base = rows[0]["log p(x) mean"]
    by_name = {row["variant"]: row for row in rows}
    for row in rows:
        row["gain over plain (nats)"] = row["log p(x) mean"] - base
        row["gain over plain: min"] = float(np.min(np.subtract(
            row["log p(x) per seed"], rows[0]["log p(x) per seed"])))
        row["gain over flow: mean"] = row["min"] = ""
        reference = by_name.get(PAIRED.get(row["variant"]))
        if reference is not None:
            gains = np.subtract(row["log p(x) per seed"],
                                reference["log p(x) per seed"])
            row["gain over flow: mean"] = float(np.mean(gains))
            row["min"] = float(np.min(gains))
    print(f"\npackage: {args.package}; held-out log p(x) in nats per image, "
          f"mean and max-min spread over seeds {SEEDS}\n")
    print_table(rows, [c for c in rows[0] if c != "log p(x) per seed"])
    save("variants_early_stopping" if args.early_stopping else "variants", rows)


if __name__ == "__main__":
    main()
