"""
====================================
How many latent dimensions are used
====================================

A VAE given more latent dimensions than it needs switches the extra ones
off: their posterior q(z_k|x) stays at the prior N(0, 1) whatever x is, so
they carry no information about x. After a fit,
``kl_per_component_`` holds the mean KL(q(z_k|x) || N(0, 1)) of each
dimension over the training rows, in nats: an upper bound on what the
dimension tells about x (with the standard normal prior they sum to the KL
term of the ELBO). ``active_components_`` marks the dimensions above 0.1
nats.

Here twelve measurements are driven by three hidden factors. A VAE with
eight latent dimensions finds that three are enough; with ``beta = 4`` every
nat of KL costs four times as much, and it keeps fewer.
"""

# %%
# Data from three factors, and two models with eight dimensions
# -------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from skvae import VAETransformer

rng = np.random.default_rng(0)
factors = rng.normal(size=(1000, 3))
X = np.tanh(factors @ rng.normal(size=(3, 12))) + 0.1 * rng.normal(size=(1000, 12))

models = {
    beta: VAETransformer(n_components=8, beta=beta, max_iter=300,
                         random_state=0).fit(X)
    for beta in (1.0, 4.0)
}
for beta, vae in models.items():
    print(f"beta = {beta:g}: {vae.active_components_.sum()} active dimensions, "
          f"{vae.kl_per_component_.sum():.2f} nats of KL in all")

# %%
# KL per dimension
# ----------------
# Each bar is one latent dimension, sorted by its KL; filled bars are the
# active ones. The others sit at about 0.01 nats: the model ignores them, and
# :meth:`~skvae.VAETransformer.transform` returns nearly constant values
# there.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True, layout="constrained")
for (beta, vae), ax in zip(models.items(), axes, strict=True):
    order = np.argsort(vae.kl_per_component_)[::-1]
    kl, active = vae.kl_per_component_[order], vae.active_components_[order]
    ax.bar(np.arange(8), kl, color=np.where(active, "tab:blue", "white"),
           edgecolor="tab:blue")
    ax.axhline(0.1, color="gray", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(8), order)
    ax.set_xlabel("latent dimension (sorted by KL)")
    ax.set_title(f"beta = {beta:g}: {active.sum()} of 8 active")
axes[0].set_ylabel("mean KL(q(z_k|x) || N(0, 1)) [nats]")
plt.show()

# %%
# Keeping the active dimensions
# -----------------------------
# The codes of the inactive dimensions barely vary: dropping them loses next
# to nothing of what the model learned, and leaves fewer features for the
# next step of a pipeline.
vae = models[1.0]
Z = vae.transform(X)
print("standard deviation of each code:", Z.std(axis=0).round(2))
print("kept:", Z[:, vae.active_components_].shape)
