"""
=================================
Digits in 16 bits with a VQ-VAE
=================================

A VQ-VAE codes each sample with a few integers: its encoder's output is cut
into groups, and each group is replaced by the nearest vector of that
group's learned codebook. With 4 groups of 16 codes, a digit image of 64
pixels becomes 4 integers below 16: 16 bits.

We fit :class:`~skvae.VQVAETransformer` on 80% of the digits, compress the
rest, and look at what comes back, how evenly each codebook is used, and
what each group's codes change in the image.
"""

# %%
# Compress and reconstruct
# ------------------------
# Pixels are scaled to [0, 1]; the Bernoulli likelihood suits such
# intensities (the Gaussian default also works, with a somewhat larger
# error; see the user guide's table).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skvae import VQVAETransformer

X = load_digits().data / 16
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
vq = VQVAETransformer(n_groups=4, n_codes=16, likelihood="bernoulli",
                      random_state=0).fit(X_train)
codes = vq.encode(X_test)
X_hat = vq.decode(codes)
print("codes of the first test digits:\n", codes[:3])


def error(X_hat):
    return np.mean(np.sum((X_test - X_hat) ** 2, axis=1))


kmeans = KMeans(256, random_state=0).fit(X_train)
print(f"squared error per image, VQ-VAE (16 bits): {error(X_hat):.2f}")
print("squared error per image, KMeans(256) (8 bits): "
      f"{error(kmeans.cluster_centers_[kmeans.predict(X_test)]):.2f}")

fig, axes = plt.subplots(2, 10, figsize=(8, 2), layout="constrained")
for column, i in enumerate(range(10)):
    for ax, image in zip(axes[:, column], (X_test[i], X_hat[i]), strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_ylabel("original", rotation=0, ha="right", va="center")
axes[1, 0].set_ylabel("16 bits", rotation=0, ha="right", va="center")
plt.show()

# %%
# Code usage
# ----------
# Dead codes, codes no input is assigned to, are the known failure of
# VQ-VAEs. The codebooks here start at encoder outputs and follow moving
# averages of the outputs assigned to them, and a code that falls out of use
# is moved to an encoder output of the current batch. The perplexity, exp of
# the entropy of a group's code frequencies, counts the codes in effective
# use: 16 if all were used equally.
fig, axes = plt.subplots(1, 4, figsize=(8, 2), sharey=True, layout="constrained")
for group, ax in enumerate(axes):
    ax.bar(np.arange(16), vq.code_counts_[group])
    ax.set_title(f"group {group}: perplexity {vq.perplexity_[group]:.1f}",
                 fontsize=9)
    ax.set_xlabel("code")
axes[0].set_ylabel("training images")
plt.show()

# %%
# What each group's codes do
# --------------------------
# Starting from the codes of one test digit, each row changes one group's
# code through its 16 values and keeps the others: the decoder's view of
# what that group encodes.
base = codes[0]
fig, axes = plt.subplots(4, 16, figsize=(8, 2.4), layout="constrained")
for group in range(4):
    varied = np.tile(base, (16, 1))
    varied[:, group] = np.arange(16)
    for ax, image in zip(axes[group], vq.decode(varied), strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[group, 0].set_ylabel(f"group {group}", rotation=0, ha="right",
                              va="center", fontsize=8)
plt.show()
