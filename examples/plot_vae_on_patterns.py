"""
=============================================
A variational autoencoder on 4x4 pattern data
=============================================

The teaching notebook skvae grew out of, reproduced end to end: four kinds of
noisy 4x4 images, a VAE with a two-dimensional latent space, the terms of its
loss for one input, the latent codes coloured by pattern type, images decoded
from the prior and from a grid over the latent space, an interpolation
between two codes, and the reparameterization trick.
"""

# %%
# The data
# --------
# :func:`~skvae.datasets.make_patterns` draws horizontal lines, vertical
# lines, diagonals and corner squares, with Gaussian noise clipped to
# [0, 1]. Each image is a row of 16 features. Here are eight of each type,
# one type per row.
import matplotlib.pyplot as plt
import numpy as np

from skvae import VAETransformer
from skvae.datasets import PATTERN_NAMES, make_patterns
from skvae.plotting import (
    InterpolationDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    PosteriorDisplay,
    ReconstructionDisplay,
    SampleGridDisplay,
)

X, y = make_patterns(n_samples=400, noise=0.1, random_state=0)
first_eight = np.vstack([X[y == label][:8] for label in range(4)])
SampleGridDisplay(first_eight.reshape(4, 8, 16), image_shape=(4, 4)).plot()
plt.show()

# %%
# Fitting the model
# -----------------
# Pixel values lie in [0, 1], so the decoder models each pixel as a
# Bernoulli variable. The encoder maps an image to a Gaussian posterior over
# two latent variables. L-BFGS-B maximizes the ELBO on all 400 images.
vae = VAETransformer(
    n_components=2,
    hidden_layer_sizes=(16,),
    likelihood="bernoulli",
    max_iter=300,
    tol=3e-3,
    random_state=0,
)
vae.fit(X)
LossCurveDisplay.from_estimator(vae)
plt.show()

# %%
# The reparameterization trick
# ----------------------------
# For an input x the encoder gives a mean mu(x) and a standard deviation
# sigma(x) per latent dimension. Training needs gradients through a random
# draw z ~ q(z|x). Writing z = mu + sigma * eps with eps ~ N(0, I) moves the
# randomness into eps, so that z is a differentiable function of mu and
# sigma. Here are 1000 such draws for the first image: they fill the ellipse
# two posterior standard deviations around mu, well inside the prior's own
# 2-sigma circle.
x = X[:1]
posterior = PosteriorDisplay.from_estimator(vae, x[0], n_draws=1000, random_state=0)
plt.show()

# %%
# The loss terms of one input
# ---------------------------
# The ELBO is the expected log-likelihood of x under the decoder, minus the
# KL divergence of the posterior from the prior N(0, I):
#
# .. math::
#
#    \mathrm{ELBO}(x) = \mathbb{E}_{q(z|x)}[\log p(x|z)]
#    - \tfrac12 \sum_k \left(\mu_k^2 + \sigma_k^2 - 1 - \log \sigma_k^2\right).
#
# :meth:`~skvae.VAETransformer.score_samples` returns the ELBO; the KL term
# follows from the posterior that the display above computed (with two latent
# dimensions it holds all of them). The expected log-likelihood is their sum.
# The importance-weighted estimate of log p(x) lies above the ELBO, which is
# a lower bound on it.
mu, sigma = posterior.mean, posterior.std
kl = 0.5 * np.sum(mu**2 + sigma**2 - 1 - np.log(sigma**2))
elbo = vae.score_samples(x)[0]
print(f"pattern type:               {PATTERN_NAMES[y[0]]}")
print(f"posterior mean, std:        {np.round(mu, 3)}, {np.round(sigma, 3)}")
print(f"E_q[log p(x|z)]:            {elbo + kl:8.3f} nats")
print(f"KL(q(z|x) || p(z)):         {kl:8.3f} nats")
print(f"ELBO:                       {elbo:8.3f} nats")
print(f"log p(x), 1000 samples:     {vae.log_likelihood(x)[0]:8.3f} nats")
print(f"reconstruction error (BCE): {vae.reconstruction_error(x)[0]:8.3f} nats")

# %%
# The latent space
# ----------------
# The posterior means of the four types form four clusters. The ellipses
# reach one posterior standard deviation from each code: the encoder is only
# as precise as the decoder needs to tell the types apart.
# sphinx_gallery_thumbnail_number = 4
names = np.array(PATTERN_NAMES)[y]
LatentSpaceDisplay.from_estimator(vae, X, names, show_uncertainty=True)
plt.show()

# %%
# Reconstructions
# ---------------
# Decoding the posterior mean of each image gives back its pattern, without
# the noise: the decoder has learnt the four templates.
ReconstructionDisplay.from_estimator(vae, X, image_shape=(4, 4), n_images=10)
plt.show()

# %%
# Generating new images
# ---------------------
# Codes drawn from the prior N(0, I) decode to the four patterns, and to
# blends where the prior falls between clusters.
SampleGridDisplay.from_estimator(vae, image_shape=(4, 4), n_rows=4, n_cols=8,
                                 random_state=0)
plt.show()

# %%
# The latent grid shows the whole map at once: each tile decodes one point of
# a regular grid over the two latent dimensions, placed at the prior's 5% to
# 95% quantiles.
SampleGridDisplay.from_estimator(vae, image_shape=(4, 4), method="grid",
                                 n_rows=8, n_cols=8)
plt.show()

# %%
# Interpolation
# -------------
# Decoding the straight line from the code of a horizontal line to the code
# of a diagonal moves smoothly through the latent space; the framed tiles at
# the ends are the two inputs.
InterpolationDisplay.from_estimator(vae, X[y == 0][0], X[y == 2][0],
                                    image_shape=(4, 4), n_steps=8)
plt.show()
