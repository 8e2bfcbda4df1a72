"""
==============================================
Synthetic rows of a mixed-type table
==============================================

A table as it comes, with numeric and categorical columns, goes into
:class:`~skvae.VAETransformer` as a DataFrame; ``sample`` draws new rows of
the model, returned as a DataFrame of the same columns, dtypes and
categories. Nothing is encoded by hand: the default ``likelihood="auto"``
gives each column its likelihood (Gaussian for numbers, categorical for the
category columns).

We judge the synthetic rows as SDMetrics' quality report does, against rows
held out of training: *column shapes* (1 minus the Kolmogorov-Smirnov
statistic of a numeric column, 1 minus the total variation distance of a
categorical one) and *column pair trends* (1 minus half the difference of
two numeric columns' correlations; the total variation distance of the
joint frequencies where a categorical column is involved, numbers binned).
The simple baseline is a 10-component Gaussian mixture on the one-hot and
standardized encoding, mapped back by hand.
"""

# %%
# A small mixed table
# -------------------
# scikit-learn's diabetes data, with ``sex`` as a category, and the disease
# progression as a three-level category beside its value.
from collections import Counter
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.datasets import load_diabetes
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from skvae import VAETransformer

data = load_diabetes(as_frame=True, scaled=False).frame
data["sex"] = pd.Categorical(np.where(data["sex"] == 1, "female", "male"))
data["progression"] = pd.cut(data["target"], [0, 100, 200, 400],
                             labels=["low", "mid", "high"])
train, test = train_test_split(data, test_size=0.3, random_state=0)
print(data.dtypes.value_counts())

# %%
# Fit on the DataFrame, sample a DataFrame
# ----------------------------------------
vae = VAETransformer(random_state=0).fit(train)
print(dict(zip(vae.feature_names_in_, vae.feature_likelihoods_, strict=True)))
synthetic = vae.sample(len(train), random_state=0)
print(synthetic.head())
assert synthetic.dtypes.equals(train.dtypes)

# %%
# The baseline: a Gaussian mixture on the one-hot and standardized encoding
# --------------------------------------------------------------------------
categorical = [c for c in train.columns if train[c].dtype == "category"]
numeric = [c for c in train.columns if c not in categorical]
encoded = pd.get_dummies(train, columns=categorical, dtype=float)
center, scale = encoded[numeric].mean(), encoded[numeric].std()
encoded[numeric] = (encoded[numeric] - center) / scale
mixture = GaussianMixture(10, random_state=0).fit(encoded)
drawn = pd.DataFrame(mixture.sample(len(train))[0], columns=encoded.columns)
mixture_rows = drawn[numeric] * scale + center
for column in categorical:
    block = [f"{column}_{level}" for level in train[column].cat.categories]
    levels = np.asarray(train[column].cat.categories)
    mixture_rows[column] = pd.Categorical(levels[drawn[block].to_numpy().argmax(1)],
                                          categories=levels)


# %%
# Column shapes and column pair trends
# ------------------------------------
def total_variation(real, synthetic):
    p, q = Counter(real), Counter(synthetic)
    return 0.5 * sum(abs(p[k] / len(real) - q[k] / len(synthetic))
                     for k in p.keys() | q.keys())


def binned(values):
    values = np.asarray(values, dtype=float)
    return list(np.digitize(values, np.histogram_bin_edges(values)))


def column_shape(real, synthetic, column):
    if column in categorical:
        return 1 - total_variation(list(real[column]), list(synthetic[column]))
    return 1 - ks_2samp(real[column], synthetic[column]).statistic


def pair_trend(real, synthetic, a, b):
    if a in categorical or b in categorical:
        def keys(frame, c):
            return list(frame[c]) if c in categorical else binned(frame[c])

        def joint(frame):
            return list(zip(keys(frame, a), keys(frame, b), strict=True))

        return 1 - total_variation(joint(real), joint(synthetic))
    r, s = (np.corrcoef(frame[a], frame[b])[0, 1] for frame in (real, synthetic))
    return 1 - abs(r - s) / 2


rows = {"skvae VAETransformer()": synthetic, "GaussianMixture(10)": mixture_rows,
        "training rows (ceiling)": train}
scores = {}
for name, rows_ in rows.items():
    shapes = np.mean([column_shape(test, rows_, c) for c in test.columns])
    pairs = np.mean([pair_trend(test, rows_, a, b)
                     for a, b in combinations(test.columns, 2)])
    scores[name] = {"column shapes": shapes, "column pair trends": pairs,
                    "quality": (shapes + pairs) / 2}
print(pd.DataFrame(scores).T.round(3))

# %%
# ``benchmarks/bench_tables.py`` runs the same comparison with SDMetrics
# itself, a machine-learning efficacy score and ctgan's TVAE on five real
# tables (the figures are on the benchmarks page of the docs).
#
# What the samples look like
# --------------------------
# Two numeric columns against each other, and a categorical column's
# frequencies, for the held-out rows and the VAE's draws.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
left.scatter(test["bmi"], test["target"], s=8, alpha=0.6, label="held-out rows")
left.scatter(synthetic["bmi"], synthetic["target"], s=8, alpha=0.6,
             label="VAE samples")
left.set(xlabel="bmi", ylabel="disease progression")
left.legend()
levels = list(train["progression"].cat.categories)
width = 0.4
for shift, (name, frame) in zip((-width / 2, width / 2),
                                (("held-out rows", test), ("VAE samples", synthetic)),
                                strict=True):
    freq = frame["progression"].value_counts(normalize=True).reindex(levels)
    right.bar(np.arange(len(levels)) + shift, freq, width, label=name)
right.set(xticks=range(len(levels)), xticklabels=levels, ylabel="share of rows",
          title="progression")
right.legend()
plt.show()
