"""
=======================================================
Conditional generation: one style, drawn as every digit
=======================================================

:class:`~skvae.ConditionalVAE` gives the decoder the class y beside the code
z: p(x | z, y). Since the decoder is told which digit to draw, the code no
longer needs to say it, and keeps what the label does not: the thickness,
slant and size of the stroke. Encoding one handwritten digit and decoding its
code as each of the ten classes draws every digit in that hand.
"""

# %%
# Fit on digits with their labels
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skvae import ConditionalVAE

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.3, random_state=0, stratify=y
)
cvae = ConditionalVAE(n_components=4, likelihood="bernoulli", free_bits=0.3,
                      random_state=0)
cvae.fit(X_train, y_train)
print(f"held-out ELBO given the labels: {cvae.score(X_test, y_test):.2f} nats")
print(f"held-out ELBO, labels summed out: {cvae.score(X_test):.2f} nats")

# %%
# ``free_bits=0.3`` keeps the code from collapsing to the prior. Without it,
# the decoder learns to draw each class from the label alone and every row
# below comes out nearly the same; with ``free_bits=1.0`` the code carries
# so much that the decoder redraws the input and ignores the class.
#
# Style transfer
# --------------
# Each row takes one test digit (left), encodes it without its label, and
# decodes that code as 0, 1, ..., 9. On 8x8 images the style a code carries
# is modest: mostly the thickness and width of the stroke.
inputs = X_test[[0, 5, 12, 20, 33]]
codes = cvae.transform(inputs)
fig, axes = plt.subplots(len(inputs), 11, figsize=(8, 4), layout="constrained")
for row, (image, code) in enumerate(zip(inputs, codes, strict=True)):
    axes[row, 0].imshow(image.reshape(8, 8), cmap="gray_r")
    drawn = cvae.inverse_transform(np.tile(code, (10, 1)), y=np.arange(10))
    for digit in range(10):
        axes[row, digit + 1].imshow(drawn[digit].reshape(8, 8), cmap="gray_r")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_title("input", fontsize=9)
for digit in range(10):
    axes[0, digit + 1].set_title(str(digit), fontsize=9)
plt.show()

# %%
# Drawing new digits of a chosen class
# ------------------------------------
# :meth:`~skvae.ConditionalVAE.sample` draws codes from the prior and decodes
# them as the classes asked for (``mean=True``: the decoder means, smoother
# than draws of p(x | z, y)); with ``y=None`` it draws the classes too,
# in their training proportions, and returns them beside the images.
images, labels = cvae.sample(10, y=7, random_state=0, mean=True)
fig, axes = plt.subplots(1, 10, figsize=(8, 1), layout="constrained")
for ax, image in zip(axes, images, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
