"""
========================================
The latent space of handwritten digits
========================================

A VAE with two latent dimensions trained on scikit-learn's 8x8 digits, next
to PCA with two components. The VAE's map is non-linear: the digits separate
better, and decoding a grid over the latent space shows how one digit morphs
into the next.
"""

# %%
# Fitting
# -------
# Pixel intensities run from 0 to 16; scaled to [0, 1] they suit the
# Bernoulli likelihood. Adam with minibatches trains this model in a few
# seconds.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skvae import VAETransformer
from skvae.plotting import LatentSpaceDisplay, SampleGridDisplay

X, y = load_digits(return_X_y=True)
X = X / 16

vae = VAETransformer(
    n_components=2,
    hidden_layer_sizes=(64,),
    likelihood="bernoulli",
    solver="adam",
    learning_rate_init=3e-3,
    max_iter=100,
    random_state=0,
)
vae.fit(X)
print(f"mean ELBO: {vae.score(X):.1f} nats per image")

# %%
# VAE codes and PCA scores
# ------------------------
# Each point is one image, coloured by its digit. PCA keeps the two
# directions of largest variance, where most digits overlap; the VAE bends
# its map and gives several digits a region of their own, without ever
# seeing the labels. Digits that look alike in 8x8 pixels still share the
# middle.
fig, (ax_pca, ax_vae) = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
pca_codes = PCA(n_components=2).fit_transform(X)
LatentSpaceDisplay(pca_codes, labels=y,
                   axis_labels=("first principal component",
                                "second principal component")).plot(ax=ax_pca)
ax_pca.set_title("PCA")
LatentSpaceDisplay.from_estimator(vae, X, y, ax=ax_vae)
ax_vae.set_title("VAE posterior means")
plt.show()

# %%
# The manifold of digits
# ----------------------
# Decoding a regular grid of codes, at the 5% to 95% quantiles of the prior,
# draws the whole learnt manifold: neighbouring tiles are similar images, and
# each region of the latent space decodes to the digit found there above.
SampleGridDisplay.from_estimator(vae, image_shape=(8, 8), method="grid",
                                 n_rows=12, n_cols=12)
plt.show()
