"""Pictures of a fitted VAE, following scikit-learn's Display convention.

Each ``XDisplay.from_estimator(estimator, ...)`` computes what to draw from a
fitted skvae estimator and calls ``plot``; ``plot(ax=None, **kwargs)`` draws
on ``ax`` (a new figure when None), passing ``kwargs`` to the main matplotlib
call, and keeps the artists, ``ax_`` and ``figure_`` as attributes.
matplotlib is imported only when drawing: ``pip install skvae[plot]``.
"""

from numbers import Integral

import numpy as np
from scipy.special import ndtri
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import BaseVAE

__all__ = [
    "InterpolationDisplay",
    "LatentSpaceDisplay",
    "LossCurveDisplay",
    "PosteriorDisplay",
    "ReconstructionDisplay",
    "SampleGridDisplay",
]

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


# -- displays ------------------------------------------------------------------


class LatentSpaceDisplay:
    """Codes of samples in a 2-D view of the latent space.

    Use :meth:`from_estimator` to compute the codes; the constructor takes
    them ready-made.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, 2)
        Positions of the samples: two latent dimensions, or a projection.

    labels : array-like of shape (n_samples,), default=None
        Class of each sample; each class gets its own colour and legend entry.

    covariances : ndarray of shape (n_samples, 2, 2), default=None
        Posterior covariance of each code in the same 2-D view, for the
        uncertainty ellipses.

    axis_labels : tuple of str, default=("$z_{0}$", "$z_{1}$")
        Labels of the x and y axes.

    Attributes
    ----------
    scatter_ : list of matplotlib PathCollection
        One scatter per class, in the order of ``classes_``.

    ellipses_ : list of matplotlib EllipseCollection or None
        The uncertainty ellipses of each class, when drawn.

    classes_ : ndarray
        The distinct labels, sorted (``[None]`` without labels).

    ax_ : matplotlib Axes
        Axes with the scatter.

    figure_ : matplotlib Figure
        Figure containing the scatter.

    See Also
    --------
    PosteriorDisplay : The posterior of one sample, drawn by sampling.

    Examples
    --------
    >>> from skvae import VAETransformer
    >>> from skvae.datasets import make_patterns
    >>> from skvae.plotting import LatentSpaceDisplay
    >>> X, y = make_patterns(n_samples=100, random_state=0)
    >>> vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(16,),
    ...                      max_iter=200, tol=1e-2, random_state=0).fit(X)
    >>> display = LatentSpaceDisplay.from_estimator(vae, X, y,
    ...                                             show_uncertainty=True)
    >>> len(display.scatter_)
    4
    """

    def __init__(self, codes, *, labels=None, covariances=None,
                 axis_labels=_Z01):
        self.codes = codes
        self.labels = labels
        self.covariances = covariances
        self.axis_labels = axis_labels

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, components=None,
                       projection=None, ax=None, show_uncertainty=False,
                       n_std=1.0, cmap=None, **kwargs):
        """Encode X with a fitted VAE and draw the posterior means.

        Parameters
        ----------
        estimator : fitted skvae estimator
            For example a fitted :class:`~skvae.VAETransformer`.

        X : array-like of shape (n_samples, n_features)
            Samples to encode.

        y : array-like of shape (n_samples,), default=None
            Labels to colour the samples by.

        components : pair of int, default=None
            The two latent dimensions to draw; None means ``(0, 1)``. Not
            allowed with ``projection="pca"``.

        projection : {None, "pca"}, default=None
            ``"pca"`` draws the first two principal components of the codes,
            a view of all ``n_components`` latent dimensions at once.

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        show_uncertainty : bool, default=False
            Draw each sample's ``n_std``-sigma posterior ellipse.

        n_std : float, default=1.0
            Size of the ellipses, in posterior standard deviations.

        cmap : str or matplotlib Colormap, default=None
            Colours of the classes; None uses "tab10" (up to 10 classes) or
            "viridis".

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        display : LatentSpaceDisplay
            The display, with its artists.
        """
        _check_vae(estimator, f"{cls.__name__}.from_estimator")
        mu, std = _posterior(estimator, estimator._validate_X(X, reset=False))
        if y is not None:
            y = np.asarray(y)
            if y.shape != (mu.shape[0],):
                raise ValueError(
                    f"y must hold one label per sample of X, {mu.shape[0]} in "
                    f"all; got shape {y.shape}."
                )
        if projection == "pca":
            if components is not None:
                raise ValueError(
                    "Pass either components (a pair of latent dimensions) or "
                    "projection='pca', not both."
                )
            if estimator.n_components < 2:
                raise ValueError(
                    "projection='pca' needs n_components >= 2, got "
                    f"{estimator.n_components}."
                )
            # Principal axes of the posterior means; the posterior covariances
            # diag(std^2) project to P diag(std^2) P^T.
            centred = mu - mu.mean(axis=0)
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            P = vt[:2]
            codes = centred @ P.T
            covariances = np.einsum("ik,nk,jk->nij", P, std**2, P)
            axis_labels = ("first principal axis of $z$",
                           "second principal axis of $z$")
        elif projection is None:
            i, j = _check_components((0, 1) if components is None else components,
                                     estimator.n_components)
            codes = mu[:, [i, j]]
            covariances = np.zeros((mu.shape[0], 2, 2), dtype=mu.dtype)
            covariances[:, 0, 0] = std[:, i] ** 2
            covariances[:, 1, 1] = std[:, j] ** 2
            axis_labels = (_latent_label(i), _latent_label(j))
        else:
            raise ValueError(f"projection must be None or 'pca', got {projection!r}.")
        display = cls(codes, labels=y, covariances=covariances,
                      axis_labels=axis_labels)
        return display.plot(ax=ax, show_uncertainty=show_uncertainty, n_std=n_std,
                            cmap=cmap, **kwargs)

    def plot(self, ax=None, *, show_uncertainty=False, n_std=1.0, cmap=None,
             **kwargs):
        """Draw the codes.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        show_uncertainty : bool, default=False
            Draw each sample's ``n_std``-sigma posterior ellipse; needs
            ``covariances``.

        n_std : float, default=1.0
            Size of the ellipses, in posterior standard deviations.

        cmap : str or matplotlib Colormap, default=None
            Colours of the classes; None uses "tab10" (up to 10 classes) or
            "viridis".

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        display : LatentSpaceDisplay
            The display, with its artists.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib as mpl
        from matplotlib.collections import EllipseCollection

        if show_uncertainty and self.covariances is None:
            raise ValueError("show_uncertainty=True needs the covariances.")
        ax, figure = _axes(ax)
        codes = np.asarray(self.codes)
        if self.labels is None:
            self.classes_ = np.array([None])
            members = [np.ones(len(codes), dtype=bool)]
        else:
            labels = np.asarray(self.labels)
            self.classes_ = np.unique(labels)
            members = [labels == c for c in self.classes_]
        n = len(self.classes_)
        if cmap is None:
            cmap = "tab10" if n <= 10 else "viridis"
        colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
        if colormap.N <= 20:
            colors = [colormap(i % colormap.N) for i in range(n)]
        else:
            colors = [colormap(t) for t in np.linspace(0, 1, n)]

        style = {"s": 12, "alpha": 0.8}
        style.update(kwargs)
        self.scatter_, self.ellipses_ = [], None
        if show_uncertainty:
            self.ellipses_ = []
        for cls, color, mask in zip(self.classes_, colors, members, strict=True):
            if show_uncertainty:
                # Axes of the ellipse {z : z' C^-1 z = n_std^2}: eigenvectors
                # of C, half-lengths n_std * sqrt(eigenvalue).
                variances, vectors = np.linalg.eigh(self.covariances[mask])
                half = n_std * np.sqrt(np.maximum(variances, 0))
                angles = np.degrees(np.arctan2(vectors[:, 1, 1], vectors[:, 0, 1]))
                ellipses = EllipseCollection(
                    2 * half[:, 1], 2 * half[:, 0], angles, units="xy",
                    offsets=codes[mask], offset_transform=ax.transData,
                    facecolors="none", edgecolors=[color], linewidths=0.5,
                    alpha=0.3,
                )
                ax.add_collection(ellipses, autolim=False)
                reach = half[:, 1:]
                ax.update_datalim(np.vstack([codes[mask] - reach,
                                             codes[mask] + reach]))
                self.ellipses_.append(ellipses)
            label = None if cls is None else str(cls)
            self.scatter_.append(ax.scatter(codes[mask, 0], codes[mask, 1],
                                            color=[color], label=label, **style))
        ax.set_xlabel(self.axis_labels[0])
        ax.set_ylabel(self.axis_labels[1])
        if self.labels is not None:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
                      markerscale=1.5, borderaxespad=0)
        ax.autoscale_view()
        self.ax_, self.figure_ = ax, figure
        return self


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


class PosteriorDisplay:
    """The reparameterization trick for one input.

    Draws codes z = mu + sigma * eps, eps ~ N(0, I), from the posterior
    q(z|x) of one sample, marks the mean mu, and outlines the ellipse
    ``n_std`` posterior standard deviations from it (semi-axes
    ``n_std * sigma``), in two latent dimensions.

    Parameters
    ----------
    mean : ndarray of shape (2,)
        Posterior mean in the two dimensions drawn.

    std : ndarray of shape (2,)
        Posterior standard deviations in those dimensions.

    draws : ndarray of shape (n_draws, 2)
        Codes drawn from the posterior.

    n_std : float, default=2.0
        Size of the ellipse, in standard deviations.

    axis_labels : tuple of str, default=("$z_{0}$", "$z_{1}$")
        Labels of the x and y axes.

    Attributes
    ----------
    scatter_ : matplotlib PathCollection
        The drawn codes.

    mean_marker_ : matplotlib Line2D
        The marker at the mean.

    ellipse_ : matplotlib Ellipse
        The ``n_std``-sigma ellipse.

    prior_ellipse_ : matplotlib Ellipse or None
        The ``n_std``-sigma circle of the prior N(0, I), when drawn.

    ax_ : matplotlib Axes
        Axes with the picture.

    figure_ : matplotlib Figure
        Figure containing the picture.

    See Also
    --------
    LatentSpaceDisplay : The posterior means of many samples.

    Examples
    --------
    >>> from skvae import VAETransformer
    >>> from skvae.datasets import make_patterns
    >>> from skvae.plotting import PosteriorDisplay
    >>> X, y = make_patterns(n_samples=100, random_state=0)
    >>> vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(16,),
    ...                      max_iter=200, tol=1e-2, random_state=0).fit(X)
    >>> display = PosteriorDisplay.from_estimator(vae, X[0], random_state=0)
    >>> display.draws.shape
    (500, 2)
    """

    def __init__(self, mean, std, draws, *, n_std=2.0,
                 axis_labels=_Z01):
        self.mean = mean
        self.std = std
        self.draws = draws
        self.n_std = n_std
        self.axis_labels = axis_labels

    @classmethod
    def from_estimator(cls, estimator, x, *, components=(0, 1), n_draws=500,
                       n_std=2.0, random_state=None, ax=None, show_prior=True,
                       **kwargs):
        """Draw from the posterior of one input and plot the draws.

        Parameters
        ----------
        estimator : fitted skvae estimator
            For example a fitted :class:`~skvae.VAETransformer`.

        x : array-like of shape (n_features,)
            The input.

        components : pair of int, default=(0, 1)
            The two latent dimensions to draw.

        n_draws : int, default=500
            Number of codes to draw.

        n_std : float, default=2.0
            Size of the ellipse, in posterior standard deviations.

        random_state : int, RandomState instance or None, default=None
            Seeds the noise eps.

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        show_prior : bool, default=True
            Also outline the ``n_std``-sigma circle of the prior N(0, I).

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter` for the draws.

        Returns
        -------
        display : PosteriorDisplay
            The display, with its artists.
        """
        _check_vae(estimator, f"{cls.__name__}.from_estimator")
        i, j = _check_components(components, estimator.n_components)
        if not isinstance(n_draws, Integral) or n_draws < 1:
            raise ValueError(f"n_draws must be a positive int, got {n_draws!r}.")
        mu, std = _posterior(estimator, _check_one_sample(estimator, x, "x"))
        mean, std = mu[0, [i, j]], std[0, [i, j]]
        eps = check_random_state(random_state).standard_normal((n_draws, 2))
        display = cls(mean, std, mean + std * eps, n_std=n_std,
                      axis_labels=(_latent_label(i), _latent_label(j)))
        return display.plot(ax=ax, show_prior=show_prior, **kwargs)

    def plot(self, ax=None, *, show_prior=True, **kwargs):
        """Draw the codes, the mean and the ellipse.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        show_prior : bool, default=True
            Also outline the ``n_std``-sigma circle of the prior N(0, I).

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter` for the draws.

        Returns
        -------
        display : PosteriorDisplay
            The display, with its artists.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        from matplotlib.patches import Ellipse

        ax, figure = _axes(ax)
        mean, std, n_std = np.asarray(self.mean), np.asarray(self.std), self.n_std
        style = {"s": 8, "alpha": 0.4, "color": "tab:blue",
                 "label": r"$z = \mu + \sigma \odot \epsilon$"}
        style.update(kwargs)
        self.scatter_ = ax.scatter(self.draws[:, 0], self.draws[:, 1], **style)
        self.ellipse_ = Ellipse(mean, 2 * n_std * std[0], 2 * n_std * std[1],
                                fill=False, edgecolor="tab:red", linewidth=2,
                                label=rf"${n_std:g}\sigma$ ellipse of $q(z|x)$")
        ax.add_patch(self.ellipse_)
        (self.mean_marker_,) = ax.plot(*mean, marker="X", markersize=12,
                                       color="black", linestyle="none",
                                       label=r"$\mu(x)$")
        self.prior_ellipse_ = None
        if show_prior:
            self.prior_ellipse_ = Ellipse((0, 0), 2 * n_std, 2 * n_std, fill=False,
                                          edgecolor="gray", linestyle="--",
                                          label=rf"${n_std:g}\sigma$ circle of $p(z)$")
            ax.add_patch(self.prior_ellipse_)
        ax.set_xlabel(self.axis_labels[0])
        ax.set_ylabel(self.axis_labels[1])
        ax.set_aspect("equal", adjustable="datalim")
        ax.autoscale_view()
        ax.legend(loc="best", fontsize="small", framealpha=0.9)
        self.ax_, self.figure_ = ax, figure
        return self


class LossCurveDisplay:
    """Training loss, and validation score, per iteration.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Training loss (negative mean ELBO plus penalty) per iteration.

    validation_scores : array-like of shape (n_iter,), default=None
        Mean ELBO of the validation data per epoch; drawn negated, so that
        both curves go down as the model improves.

    xlabel : str, default="iteration"
        Label of the x axis.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss.

    validation_line_ : matplotlib Line2D or None
        The negated validation scores, when given.

    ax_ : matplotlib Axes
        Axes with the curves.

    figure_ : matplotlib Figure
        Figure containing the curves.

    Examples
    --------
    >>> from skvae import VAETransformer
    >>> from skvae.datasets import make_patterns
    >>> from skvae.plotting import LossCurveDisplay
    >>> X, y = make_patterns(n_samples=100, random_state=0)
    >>> vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(16,),
    ...                      max_iter=200, tol=1e-2, random_state=0).fit(X)
    >>> display = LossCurveDisplay.from_estimator(vae)
    >>> len(display.line_.get_xdata()) == vae.n_iter_
    True
    """

    def __init__(self, loss_curve, *, validation_scores=None, xlabel="iteration"):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.xlabel = xlabel

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Draw the loss curve recorded by a fitted VAE.

        Parameters
        ----------
        estimator : fitted skvae estimator
            For example a fitted :class:`~skvae.VAETransformer`; its
            ``validation_scores_`` are drawn when present.

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the training loss.

        Returns
        -------
        display : LossCurveDisplay
            The display, with its artists.
        """
        _check_vae(estimator, f"{cls.__name__}.from_estimator")
        display = cls(estimator.loss_curve_,
                      validation_scores=getattr(estimator, "validation_scores_", None),
                      xlabel="epoch" if estimator.solver == "adam" else "iteration")
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the training loss.

        Returns
        -------
        display : LossCurveDisplay
            The display, with its artists.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        ax, figure = _axes(ax)
        loss = np.asarray(self.loss_curve)
        style = {"label": "training loss"}
        style.update(kwargs)
        (self.line_,) = ax.plot(np.arange(1, len(loss) + 1), loss, **style)
        self.validation_line_ = None
        if self.validation_scores is not None:
            scores = np.asarray(self.validation_scores)
            (self.validation_line_,) = ax.plot(
                np.arange(1, len(scores) + 1), -scores,
                label="validation: negative mean ELBO")
            ax.legend()
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel("negative mean ELBO + penalty (nats)")
        self.ax_, self.figure_ = ax, figure
        return self
