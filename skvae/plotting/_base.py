"""What every Display shares: the matplotlib check, the Axes, the checks of
estimators and arguments, and the tiling of images.

Displays reach estimators only through their public methods (``transform``,
``inverse_transform``, ``sample``, ``sample_latent``) and attributes, so a
Display works with every estimator that has the methods it needs, and
refuses the others before computing anything.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    Interval,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted

from .._estimator.base import BaseVAE

# Space between tiled images, as a fraction of an image's side.
TILE_GAP = 0.15

# Constraints of the arguments several Displays share.
POSITIVE_INT = Interval(Integral, 1, None, closed="left")
POSITIVE_FINITE = Interval(Real, 0, np.inf, closed="neither")

# What a Display does with each public method it may need, for the message
# that refuses an estimator without it.
USES = {
    "transform": "encodes samples with transform(X, return_std=True)",
    "inverse_transform": "decodes codes with inverse_transform",
    "sample": "draws images with sample",
    "sample_latent": "draws codes from the prior with sample_latent",
}


def check_matplotlib(caller):
    """Raise an ImportError naming the ``plot`` extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with "
            "`pip install skvae[plot]` (or `pip install matplotlib`)."
        ) from e


def check_estimator(caller, estimator, needs=()):
    """Refuse up front an estimator the caller cannot draw.

    ``needs`` names the public methods the caller calls. The estimator must be
    a fitted skvae estimator that has all of them.
    """
    check_matplotlib(caller)
    name = type(estimator).__name__
    if not isinstance(estimator, BaseVAE):
        raise TypeError(
            f"{caller} takes a fitted skvae estimator such as VAETransformer, "
            f"got {name}."
        )
    for method in needs:
        if not hasattr(estimator, method):
            raise TypeError(
                f"{caller} {USES[method]}, which {name} does not have. Fit a "
                "VAETransformer (or a ConditionalVAE) with the same parameters "
                "to draw this picture (LossCurveDisplay draws the training of "
                "any skvae estimator)."
            )
    check_is_fitted(estimator)


def is_conditional(estimator):
    """Whether the fitted estimator decodes codes as classes, p(x | z, y)."""
    return hasattr(estimator, "classes_")


def check_class(caller, estimator, y, *, required=True):
    """Check the class ``y`` to decode as against what the estimator needs.

    A model conditioned on classes needs one (unless ``required`` is False:
    then it draws the classes itself); any other model refuses one.
    """
    name = type(estimator).__name__
    if is_conditional(estimator):
        if y is None and required:
            raise ValueError(
                f"{name} decodes a code as a class, p(x | z, y): pass y, the "
                f"class to draw, to {caller} (one of "
                f"{estimator.classes_.tolist()})."
            )
    elif y is not None:
        raise ValueError(
            f"y is the class a ConditionalVAE decodes as; {name} decodes "
            f"without one. Leave y=None in {caller}."
        )


def decode(estimator, Z, y=None):
    """Decoder means of the codes Z, as the class(es) y for a conditional model."""
    if is_conditional(estimator):
        return estimator.inverse_transform(Z, y)
    return estimator.inverse_transform(Z)


def check_components(components, n_components):
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


def check_image_shape(image_shape, n_features):
    """A pair of positive ints (height, width) with n_features pixels."""
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


def check_one_sample(estimator, x, name):
    """One sample as a one-row input for ``transform``, and its values.

    A pandas Series becomes a one-row DataFrame, so that its feature names
    reach the estimator.
    """
    row = x.to_frame().T if hasattr(x, "to_frame") else np.reshape(x, (1, -1))
    values = check_array(row, dtype=[np.float64, np.float32], input_name=name)
    n_features = estimator.n_features_in_
    if values.shape[1] != n_features:
        raise ValueError(
            f"{name} must be one sample with {n_features} features, got "
            f"{values.shape[1]} values."
        )
    return row, values


def latent_label(i):
    """The axis label of latent dimension i."""
    return f"$z_{{{i}}}$"


Z01 = (latent_label(0), latent_label(1))


class Display:
    """The part of ``plot`` every Display shares: checks and the Axes.

    Subclasses compute what to draw in ``from_estimator`` and draw it in
    ``plot(ax=None, **kwargs)``, which starts with :meth:`_start_plot`.
    """

    # Constraints of the values the constructor stores, checked at plot time
    # (the constructor only stores them, as scikit-learn's Displays do).
    _plot_constraints: dict = {}

    def _start_plot(self, ax, figsize=None):
        """Check matplotlib and the stored values; set and return ``ax_``.

        A new figure with one Axes (of ``figsize`` inches) when ``ax`` is None.
        """
        caller = f"{type(self).__name__}.plot"
        check_matplotlib(caller)
        validate_parameter_constraints(
            self._plot_constraints,
            {name: getattr(self, name) for name in self._plot_constraints},
            caller_name=type(self).__name__,
        )
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=figsize, layout="constrained")
        self.ax_, self.figure_ = ax, ax.figure
        return ax


def tiles_figsize(n_rows, n_cols):
    """A figure size in inches that shows tiles at a readable size."""
    side = min(0.7, 9 / n_cols)
    return n_cols * side + 1.4, n_rows * side + 0.6


def draw_tiles(ax, images, image_shape, kwargs):
    """Draw a 2-D array of flat images as tiles of one Axes.

    Tile (r, c) covers [c (1 + gap), c (1 + gap) + 1] horizontally, row 0 at
    the top.  Returns the AxesImage objects and the tile centres along x and
    y.  All tiles share one colour scale unless ``vmin``/``vmax`` are given.
    """
    n_rows, n_cols = images.shape[:2]
    style = {"cmap": "gray", "vmin": np.nanmin(images), "vmax": np.nanmax(images),
             "interpolation": "nearest"}
    style.update(kwargs)
    step = 1 + TILE_GAP
    artists = np.empty((n_rows, n_cols), dtype=object)
    for r in range(n_rows):
        for c in range(n_cols):
            left, top = c * step, -r * step
            artists[r, c] = ax.imshow(images[r, c].reshape(image_shape),
                                      extent=(left, left + 1, top - 1, top), **style)
    ax.set_xlim(-TILE_GAP, n_cols * step)
    ax.set_ylim(-n_rows * step, TILE_GAP)
    ax.set_aspect("equal")
    # A tinted background that no grey pixel can be mistaken for.
    ax.set_facecolor("#c9d6e3")
    ax.tick_params(length=0)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return artists, np.arange(n_cols) * step + 0.5, -np.arange(n_rows) * step - 0.5
