"""
================================================
skvae demo: a VAE on the 8x8 digits, next to PCA
================================================

Fits VAETransformer (Bernoulli likelihood on pixels scaled to [0, 1]) with 2
and 8 latent components, prints the train and test ELBO and the accuracy of a
5-nearest-neighbour classifier on the codes, beside PCA with as many
components, and writes the table to demo_results.json.
"""

import json
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skvae import VAETransformer


def knn_accuracy(model, X_train, X_test, y_train, y_test):
    knn = KNeighborsClassifier(n_neighbors=5).fit(model.transform(X_train), y_train)
    return knn.score(model.transform(X_test), y_test)


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.3, random_state=0, stratify=y
    )
    models = []
    for k in (2, 8):
        models += [
            (f"PCA({k})", PCA(k)),
            (f"VAE({k})", VAETransformer(k, likelihood="bernoulli", random_state=0)),
            (f"beta-VAE({k}), beta=0.2", VAETransformer(
                k, likelihood="bernoulli", beta=0.2, early_stopping=False,
                max_iter=100, random_state=0)),
        ]
    rows = []
    for name, model in models:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train)
        seconds = time.perf_counter() - start
        is_vae = isinstance(model, VAETransformer)
        rows.append({
            "model": name,
            "train_elbo": model.score(X_train) if is_vae else None,
            "test_elbo": model.score(X_test) if is_vae else None,
            "knn_accuracy": knn_accuracy(model, X_train, X_test, y_train, y_test),
            "fit_seconds": seconds,
        })

    print(f"digits: {len(X_train)} train / {len(X_test)} test rows, "
          "64 pixels in [0, 1]")
    print("ELBO in nats per image (higher is better; Bernoulli likelihood)\n")
    header = (f"{'model':<26}{'train ELBO':>11}{'test ELBO':>11}"
              f"{'5-NN acc':>10}{'fit (s)':>9}")
    print(header)
    print("-" * len(header))
    for row in rows:
        elbo = ("" if row["train_elbo"] is None else
                f"{row['train_elbo']:>11.2f}{row['test_elbo']:>11.2f}")
        print(f"{row['model']:<26}{elbo or ' ' * 22}{row['knn_accuracy']:>10.3f}"
              f"{row['fit_seconds']:>9.2f}")
    with open("demo_results.json", "w") as f:
        json.dump(rows, f, indent=2)
    print("\nwritten: demo_results.json")


if __name__ == "__main__":
    main()
