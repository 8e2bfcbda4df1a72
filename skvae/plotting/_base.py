"""What every Display shares: the matplotlib check, axes, and argument checks."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._base import BaseVAE

# Space between tiled images, as a fraction of an image's side.
_GAP = 0.15


# -- shared checks and computations --------------------------------------------


def _check_matplotlib(caller):
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with "
            "`pip install skvae[plot]` (or `pip install matplotlib`)."
        ) from e


def _axes(ax, figsize=None):
    """The given Axes and its figure, or a new figure with one Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax, ax.figure


def _tiles_figsize(n_rows, n_cols):
    """A figure size in inches that shows tiles at a readable size."""
    side = min(0.7, 9 / n_cols)
    return n_cols * side + 1.4, n_rows * side + 0.6


def _check_vae(estimator, caller):
    _check_matplotlib(caller)
    if not isinstance(estimator, BaseVAE):
        raise TypeError(
            f"{caller} takes a fitted skvae estimator such as VAETransformer, "
            f"got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)


def _check_components(components, n_components):
    """A pair of distinct latent dimensions, each in [0, n_components)."""
    if n_components < 2:
        raise ValueError(
            "This display draws two latent dimensions, but the estimator has "
            f"n_components={n_components}. Fit it with n_components >= 2."
        )
    if (
        not isinstance(components, (tuple, list))
        or len(components) != 2
        or not all(isinstance(c, Integral) for c in components)
        or components[0] == components[1]
        or not all(0 <= c < n_components for c in components)
    ):
        raise ValueError(
            "components must be a pair of two different latent dimensions in "
            f"[0, {n_components - 1}] (the estimator has n_components="
            f"{n_components}), got {components!r}."
        )
    return int(components[0]), int(components[1])


def _check_image_shape(image_shape, n_features):
    if (
        not isinstance(image_shape, (tuple, list))
        or len(image_shape) != 2
        or not all(isinstance(s, Integral) and s > 0 for s in image_shape)
    ):
        raise ValueError(
            "image_shape must be a pair of positive ints (height, width), got "
            f"{image_shape!r}."
        )
    if image_shape[0] * image_shape[1] != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)} holds "
            f"{image_shape[0] * image_shape[1]} pixels, but the estimator was "
            f"fitted on {n_features} features. Pass the shape of the images the "
            "rows of X come from, e.g. (8, 8) for load_digits."
        )
    return int(image_shape[0]), int(image_shape[1])


def _check_one_sample(estimator, x, name):
    """One sample as a validated row; a pandas Series keeps its names."""
    x = x.to_frame().T if hasattr(x, "to_frame") else np.reshape(x, (1, -1))
    n_features = estimator.n_features_in_
    if x.shape[1] != n_features:
        raise ValueError(
            f"{name} must be one sample with {n_features} features, got "
            f"{x.shape[1]} values."
        )
    return estimator._validate_X(x, reset=False)


def _posterior(estimator, X):
    """Posterior means and standard deviations of the rows of validated X."""
    return estimator._transform(X, return_std=True)


def _decode(estimator, Z):
    """Decoder means of the codes Z."""
    return estimator.inverse_transform(Z)


def _latent_label(i):
    return f"$z_{{{i}}}$"


_Z01 = (_latent_label(0), _latent_label(1))


def _draw_tiles(ax, images, image_shape, kwargs):
    """Draw a 2-D array of flat images as tiles of one Axes.

    Tile (r, c) covers [c (1 + gap), c (1 + gap) + 1] horizontally, row 0 at
    the top.  Returns the AxesImage objects and the tile centres along x and
    y.  All tiles share one colour scale unless ``vmin``/``vmax`` are given.
    """
    n_rows, n_cols = images.shape[:2]
    style = {"cmap": "gray", "vmin": np.nanmin(images), "vmax": np.nanmax(images),
             "interpolation": "nearest"}
    style.update(kwargs)
    step = 1 + _GAP
    artists = np.empty((n_rows, n_cols), dtype=object)
    for r in range(n_rows):
        for c in range(n_cols):
            left, top = c * step, -r * step
            artists[r, c] = ax.imshow(images[r, c].reshape(image_shape),
                                      extent=(left, left + 1, top - 1, top), **style)
    ax.set_xlim(-_GAP, n_cols * step)
    ax.set_ylim(-n_rows * step, _GAP)
    ax.set_aspect("equal")
    # A tinted background that no grey pixel can be mistaken for.
    ax.set_facecolor("#c9d6e3")
    ax.tick_params(length=0)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return artists, np.arange(n_cols) * step + 0.5, -np.arange(n_rows) * step - 0.5
