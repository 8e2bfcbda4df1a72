"""Images decoded from the latent space: samples of the model, a latent grid."""

import numpy as np
from scipy.special import ndtri
from sklearn.utils._param_validation import StrOptions, validate_params

from ._base import (
    POSITIVE_INT,
    Display,
    check_class,
    check_components,
    check_estimator,
    check_image_shape,
    decode,
    draw_tiles,
    is_conditional,
    latent_label,
    tiles_figsize,
)


class SampleGridDisplay(Display):
    """A grid of images decoded from the latent space.

    Either samples of the model (``estimator.sample``: codes from its prior,
    a learned flow prior included, decoded), or a regular grid over two
    latent dimensions (the others held at 0): the classic manifold picture.

    Parameters
    ----------
    images : ndarray of shape (n_rows, n_cols, n_features)
        The decoded images, flattened.

    image_shape : pair of int
        Shape (height, width) of one image.

    grid_values : tuple of two ndarray, default=None
        For a latent grid, the values of the latent dimension along the
        columns and along the rows (top to bottom).

    axis_labels : tuple of str, default=None
        Names of the two latent dimensions of the grid.

    Attributes
    ----------
    images_ : ndarray of matplotlib AxesImage, shape (n_rows, n_cols)
        The tiles.

    ax_ : matplotlib Axes
        Axes with the images.

    figure_ : matplotlib Figure
        Figure containing the images.

    See Also
    --------
    skvae.VAETransformer.sample : Decode codes drawn from the prior.
    InterpolationDisplay : Decoded images along a line between two codes.

    Examples
    --------
    >>> from skvae import VAETransformer
    >>> from skvae.datasets import make_patterns
    >>> from skvae.plotting import SampleGridDisplay
    >>> X, y = make_patterns(n_samples=100, random_state=0)
    >>> vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(16,),
    ...                      max_iter=200, tol=1e-2, random_state=0).fit(X)
    >>> display = SampleGridDisplay.from_estimator(
    ...     vae, image_shape=(4, 4), method="grid", n_rows=5, n_cols=5)
    >>> display.images_.shape
    (5, 5)
    """

    def __init__(self, images, *, image_shape, grid_values=None, axis_labels=None):
        self.images = images
        self.image_shape = image_shape
        self.grid_values = grid_values
        self.axis_labels = axis_labels

    @classmethod
    @validate_params(
        {
            "method": [StrOptions({"prior", "grid"})],
            "n_rows": [POSITIVE_INT],
            "n_cols": [POSITIVE_INT],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=False,
    )
    def from_estimator(cls, estimator, *, image_shape, method="prior", n_rows=8,
                       n_cols=8, components=(0, 1), y=None, random_state=None,
                       ax=None, **kwargs):
        """Draw samples of the model, or decode a latent grid, and show them.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A fitted :class:`~skvae.VAETransformer` or
            :class:`~skvae.ConditionalVAE`: ``method="prior"`` calls its
            ``sample``, ``method="grid"`` its ``inverse_transform`` (a
            :class:`~skvae.VAEOutlierDetector` has neither and is refused).

        image_shape : pair of int
            Shape (height, width) of one image; its product must be
            n_features.

        method : {"prior", "grid"}, default="prior"
            ``"prior"``: ``estimator.sample``, the decoder means of codes
            drawn from the model's prior (a learned flow prior included).
            ``"grid"``: decoder means on a grid over the latent dimensions
            ``components``, at the 5%, ..., 95% quantiles of N(0, 1), so
            that equal prior mass lies between neighbouring tiles under the
            standard normal prior (not under a flow prior, whose quantiles
            differ).

        n_rows, n_cols : int, default=8
            Shape of the grid of images.

        components : pair of int, default=(0, 1)
            The latent dimensions of the columns and rows (``"grid"`` only).

        y : label or None, default=None
            :class:`~skvae.ConditionalVAE` only: the class to draw. Required
            with ``method="grid"``; with ``"prior"``, None draws each
            sample's class from ``class_prior_``. Must be None for other
            estimators.

        random_state : int, RandomState instance or None, default=None
            Seeds ``estimator.sample`` (``"prior"`` only).

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : SampleGridDisplay
            The display, with its artists.
        """
        caller = f"{cls.__name__}.from_estimator"
        needs = ("sample",) if method == "prior" else ("inverse_transform",)
        check_estimator(caller, estimator, needs=needs)
        image_shape = check_image_shape(image_shape, estimator.n_features_in_)
        check_class(caller, estimator, y, required=method == "grid")
        n_images, grid_values, axis_labels = n_rows * n_cols, None, None
        if method == "prior":
            if is_conditional(estimator):
                images, _ = estimator.sample(n_images, y=y, random_state=random_state,
                                             mean=True)
            else:
                images = estimator.sample(n_images, random_state=random_state,
                                          mean=True)
        else:
            k = estimator.n_components_
            i, j = check_components(components, k)
            across = ndtri(np.linspace(0.05, 0.95, n_cols))
            down = ndtri(np.linspace(0.95, 0.05, n_rows))
            Z = np.zeros((n_rows, n_cols, k))
            Z[:, :, i] = across[np.newaxis, :]
            Z[:, :, j] = down[:, np.newaxis]
            images = decode(estimator, Z.reshape(-1, k), y)
            grid_values = (across, down)
            axis_labels = (latent_label(i), latent_label(j))
        display = cls(images.reshape(n_rows, n_cols, -1), image_shape=image_shape,
                      grid_values=grid_values, axis_labels=axis_labels)
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, **kwargs):
        """Draw the grid of images.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : SampleGridDisplay
            The display, with its artists.
        """
        images = np.asarray(self.images)
        ax = self._start_plot(ax, tiles_figsize(*images.shape[:2]))
        self.images_, columns, rows = draw_tiles(ax, images, self.image_shape,
                                                 kwargs)
        if self.grid_values is not None:
            across, down = self.grid_values
            ax.set_xticks(columns, [f"{v:.2g}" for v in across])
            ax.set_yticks(rows, [f"{v:.2g}" for v in down])
            ax.tick_params(labelsize="small")
            ax.set_xlabel(self.axis_labels[0])
            ax.set_ylabel(self.axis_labels[1])
        return self
