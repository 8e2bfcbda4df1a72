"""Pictures made of images: reconstructions, sample grids, interpolations."""

from numbers import Integral

import numpy as np
from scipy.special import ndtri
from sklearn.utils import check_random_state

from ._base import (
    _axes,
    _check_components,
    _check_image_shape,
    _check_matplotlib,
    _check_one_sample,
    _check_vae,
    _decode,
    _draw_tiles,
    _latent_label,
    _posterior,
    _tiles_figsize,
)


class ReconstructionDisplay:
    """Images above their reconstructions by a VAE.

    Parameters
    ----------
    originals : ndarray of shape (n_images, n_features)
        The images, flattened.

    reconstructions : ndarray of shape (n_images, n_features)
        Their reconstructions, flattened.

    image_shape : pair of int
        Shape (height, width) of one image.

    Attributes
    ----------
    images_ : ndarray of matplotlib AxesImage, shape (2, n_images)
        Originals in row 0, reconstructions in row 1.

    ax_ : matplotlib Axes
        Axes with the images.

    figure_ : matplotlib Figure
        Figure containing the images.

    See Also
    --------
    skvae.VAETransformer.reconstruction_error : The error of each row.

    Examples
    --------
    >>> from skvae import VAETransformer
    >>> from skvae.datasets import make_patterns
    >>> from skvae.plotting import ReconstructionDisplay
    >>> X, y = make_patterns(n_samples=100, random_state=0)
    >>> vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(16,),
    ...                      max_iter=200, tol=1e-2, random_state=0).fit(X)
    >>> display = ReconstructionDisplay.from_estimator(vae, X, image_shape=(4, 4))
    >>> display.images_.shape
    (2, 8)
    """

    def __init__(self, originals, reconstructions, *, image_shape):
        self.originals = originals
        self.reconstructions = reconstructions
        self.image_shape = image_shape

    @classmethod
    def from_estimator(cls, estimator, X, *, image_shape, n_images=8, ax=None,
                       **kwargs):
        """Reconstruct the first ``n_images`` rows of X and draw them.

        The reconstruction of x is the decoder mean at its posterior mean.

        Parameters
        ----------
        estimator : fitted skvae estimator
            For example a fitted :class:`~skvae.VAETransformer`.

        X : array-like of shape (n_samples, n_features)
            Images, flattened.

        image_shape : pair of int
            Shape (height, width) of one image; its product must be
            n_features.

        n_images : int, default=8
            Number of images to draw (at most n_samples).

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with its artists.
        """
        _check_vae(estimator, f"{cls.__name__}.from_estimator")
        image_shape = _check_image_shape(image_shape, estimator.n_features_in_)
        if not isinstance(n_images, Integral) or n_images < 1:
            raise ValueError(f"n_images must be a positive int, got {n_images!r}.")
        X = estimator._validate_X(X, reset=False)[:n_images]
        mu, _ = _posterior(estimator, X)
        display = cls(X, _decode(estimator, mu), image_shape=image_shape)
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, **kwargs):
        """Draw originals (top row) and reconstructions (bottom row).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with its artists.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        images = np.stack([np.asarray(self.originals),
                           np.asarray(self.reconstructions)])
        ax, figure = _axes(ax, _tiles_figsize(*images.shape[:2]))
        self.images_, _, rows = _draw_tiles(ax, images, self.image_shape, kwargs)
        ax.set_yticks(rows, ["original", "reconstruction"])
        self.ax_, self.figure_ = ax, figure
        return self


class SampleGridDisplay:
    """A grid of images decoded from the latent space.

    Either samples from the prior N(0, I), or a regular grid over two latent
    dimensions (the others held at 0): the classic manifold picture.

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
    def from_estimator(cls, estimator, *, image_shape, method="prior", n_rows=8,
                       n_cols=8, components=(0, 1), random_state=None, ax=None,
                       **kwargs):
        """Decode prior samples or a latent grid and draw them.

        Parameters
        ----------
        estimator : fitted skvae estimator
            For example a fitted :class:`~skvae.VAETransformer`.

        image_shape : pair of int
            Shape (height, width) of one image; its product must be
            n_features.

        method : {"prior", "grid"}, default="prior"
            ``"prior"``: decoder means of codes drawn from N(0, I).
            ``"grid"``: decoder means on a grid over the latent dimensions
            ``components``, at the 5%, ..., 95% quantiles of the prior, so
            that equal prior mass lies between neighbouring tiles.

        n_rows, n_cols : int, default=8
            Shape of the grid of images.

        components : pair of int, default=(0, 1)
            The latent dimensions of the columns and rows (``"grid"`` only).

        random_state : int, RandomState instance or None, default=None
            Seeds the prior samples (``"prior"`` only).

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : SampleGridDisplay
            The display, with its artists.
        """
        _check_vae(estimator, f"{cls.__name__}.from_estimator")
        image_shape = _check_image_shape(image_shape, estimator.n_features_in_)
        for name, value in (("n_rows", n_rows), ("n_cols", n_cols)):
            if not isinstance(value, Integral) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        k = estimator.n_components
        grid_values = axis_labels = None
        if method == "prior":
            Z = check_random_state(random_state).standard_normal((n_rows * n_cols, k))
        elif method == "grid":
            i, j = _check_components(components, k)
            across = ndtri(np.linspace(0.05, 0.95, n_cols))
            down = ndtri(np.linspace(0.95, 0.05, n_rows))
            Z = np.zeros((n_rows, n_cols, k))
            Z[:, :, i] = across[np.newaxis, :]
            Z[:, :, j] = down[:, np.newaxis]
            Z = Z.reshape(-1, k)
            grid_values = (across, down)
            axis_labels = (_latent_label(i), _latent_label(j))
        else:
            raise ValueError(f"method must be 'prior' or 'grid', got {method!r}.")
        images = _decode(estimator, Z).reshape(n_rows, n_cols, -1)
        display = cls(images, image_shape=image_shape, grid_values=grid_values,
                      axis_labels=axis_labels)
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
        _check_matplotlib(f"{type(self).__name__}.plot")
        images = np.asarray(self.images)
        ax, figure = _axes(ax, _tiles_figsize(*images.shape[:2]))
        self.images_, columns, rows = _draw_tiles(ax, images, self.image_shape,
                                                  kwargs)
        if self.grid_values is not None:
            across, down = self.grid_values
            ax.set_xticks(columns, [f"{v:.2g}" for v in across])
            ax.set_yticks(rows, [f"{v:.2g}" for v in down])
            ax.tick_params(labelsize="small")
            ax.set_xlabel(self.axis_labels[0])
            ax.set_ylabel(self.axis_labels[1])
        self.ax_, self.figure_ = ax, figure
        return self


class InterpolationDisplay:
    """Images decoded along the straight line between two codes.

    Parameters
    ----------
    images : ndarray of shape (n_images, n_features)
        The images in order, flattened: the decoded points of the path, with
        the two inputs first and last when they are shown.

    image_shape : pair of int
        Shape (height, width) of one image.

    tick_labels : list of str
        A caption under each image.

    show_inputs : bool, default=False
        Whether the first and last images are the two inputs; they are then
        framed.

    Attributes
    ----------
    images_ : ndarray of matplotlib AxesImage, shape (1, n_images)
        The tiles.

    ax_ : matplotlib Axes
        Axes with the images.

    figure_ : matplotlib Figure
        Figure containing the images.

    See Also
    --------
    SampleGridDisplay : Decoded images over a whole 2-D latent grid.

    Examples
    --------
    >>> from skvae import VAETransformer
    >>> from skvae.datasets import make_patterns
    >>> from skvae.plotting import InterpolationDisplay
    >>> X, y = make_patterns(n_samples=100, random_state=0)
    >>> vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(16,),
    ...                      max_iter=200, tol=1e-2, random_state=0).fit(X)
    >>> display = InterpolationDisplay.from_estimator(
    ...     vae, X[y == 0][0], X[y == 1][0], image_shape=(4, 4), n_steps=6)
    >>> display.images_.shape
    (1, 8)
    """

    def __init__(self, images, *, image_shape, tick_labels, show_inputs=False):
        self.images = images
        self.image_shape = image_shape
        self.tick_labels = tick_labels
        self.show_inputs = show_inputs

    @classmethod
    def from_estimator(cls, estimator, x_start, x_end, *, image_shape, n_steps=8,
                       show_inputs=True, ax=None, **kwargs):
        """Decode ``n_steps`` codes from mu(x_start) to mu(x_end) and draw them.

        The codes are (1 - t) mu(x_start) + t mu(x_end) for ``n_steps``
        evenly spaced t from 0 to 1.

        Parameters
        ----------
        estimator : fitted skvae estimator
            For example a fitted :class:`~skvae.VAETransformer`.

        x_start, x_end : array-like of shape (n_features,)
            The two inputs.

        image_shape : pair of int
            Shape (height, width) of one image; its product must be
            n_features.

        n_steps : int, default=8
            Number of decoded images along the path (at least 2).

        show_inputs : bool, default=True
            Draw the two inputs at the ends of the path.

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : InterpolationDisplay
            The display, with its artists.
        """
        _check_vae(estimator, f"{cls.__name__}.from_estimator")
        image_shape = _check_image_shape(image_shape, estimator.n_features_in_)
        if not isinstance(n_steps, Integral) or n_steps < 2:
            raise ValueError(f"n_steps must be an int >= 2, got {n_steps!r}.")
        ends = np.vstack([_check_one_sample(estimator, x_start, "x_start"),
                          _check_one_sample(estimator, x_end, "x_end")])
        mu, _ = _posterior(estimator, ends)
        t = np.linspace(0, 1, n_steps)
        images = _decode(estimator, (1 - t)[:, None] * mu[0] + t[:, None] * mu[1])
        tick_labels = [f"t={v:.2g}" for v in t]
        if show_inputs:
            images = np.vstack([ends[:1], images, ends[1:]])
            tick_labels = ["x_start", *tick_labels, "x_end"]
        display = cls(images, image_shape=image_shape, tick_labels=tick_labels,
                      show_inputs=show_inputs)
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, **kwargs):
        """Draw the images in a row.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : InterpolationDisplay
            The display, with its artists.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        from matplotlib.patches import Rectangle

        images = np.asarray(self.images)[np.newaxis]
        ax, figure = _axes(ax, _tiles_figsize(*images.shape[:2]))
        self.images_, columns, _ = _draw_tiles(ax, images, self.image_shape, kwargs)
        if self.show_inputs:
            for centre in columns[[0, -1]]:
                ax.add_patch(Rectangle((centre - 0.5, -1), 1, 1, fill=False,
                                       edgecolor="tab:red", linewidth=1.5))
        ax.set_xticks(columns, self.tick_labels)
        ax.tick_params(labelsize="small")
        self.ax_, self.figure_ = ax, figure
        return self
