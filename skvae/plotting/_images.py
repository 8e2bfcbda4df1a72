"""Images encoded and decoded: reconstructions and interpolations."""

from numbers import Integral

import numpy as np
from sklearn.utils import _safe_indexing, check_array
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_consistent_length

from ._base import (
    POSITIVE_INT,
    Display,
    check_class,
    check_estimator,
    check_image_shape,
    check_one_sample,
    decode,
    draw_tiles,
    tiles_figsize,
)


class ReconstructionDisplay(Display):
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
    @validate_params(
        {"X": ["array-like"], "n_images": [POSITIVE_INT]},
        prefer_skip_nested_validation=False,
    )
    def from_estimator(cls, estimator, X, y=None, *, image_shape, n_images=8,
                       ax=None, **kwargs):
        """Reconstruct the first ``n_images`` rows of X and draw them.

        The reconstruction of x is the decoder mean at its posterior mean
        (decoded as the class y for a conditional model).

        Parameters
        ----------
        estimator : fitted skvae estimator
            A fitted estimator with ``transform`` and ``inverse_transform``:
            :class:`~skvae.VAETransformer`, or :class:`~skvae.ConditionalVAE`
            with ``y`` (a :class:`~skvae.VAEOutlierDetector` is refused).

        X : array-like of shape (n_samples, n_features)
            Images, flattened.

        y : label, array-like of shape (n_samples,) or None, default=None
            :class:`~skvae.ConditionalVAE` only, where it is required: the
            class to decode each row as (its own class for a faithful
            reconstruction, another one to transfer its style), or one
            label for every row. Must be None for other estimators.

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
        caller = f"{cls.__name__}.from_estimator"
        check_estimator(caller, estimator, needs=("transform", "inverse_transform"))
        image_shape = check_image_shape(image_shape, estimator.n_features_in_)
        check_class(caller, estimator, y)
        if np.ndim(y) > 0:
            try:
                check_consistent_length(X, y)
            except ValueError as error:
                raise ValueError(
                    f"y must hold one class per row of X, or be one label: {error}"
                ) from error
            y = np.asarray(y)[:n_images]
        # Indexing keeps a DataFrame's feature names for transform.
        head = _safe_indexing(X, slice(0, n_images))
        mu = estimator.transform(head)
        originals = check_array(head, dtype=[np.float64, np.float32])
        display = cls(originals, decode(estimator, mu, y), image_shape=image_shape)
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
        images = np.stack([np.asarray(self.originals),
                           np.asarray(self.reconstructions)])
        ax = self._start_plot(ax, tiles_figsize(*images.shape[:2]))
        self.images_, _, rows = draw_tiles(ax, images, self.image_shape, kwargs)
        ax.set_yticks(rows, ["original", "reconstruction"])
        return self


class InterpolationDisplay(Display):
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
    @validate_params(
        {
            "n_steps": [Interval(Integral, 2, None, closed="left")],
            "show_inputs": ["boolean"],
        },
        prefer_skip_nested_validation=False,
    )
    def from_estimator(cls, estimator, x_start, x_end, *, image_shape, n_steps=8,
                       y=None, show_inputs=True, ax=None, **kwargs):
        """Decode ``n_steps`` codes from mu(x_start) to mu(x_end) and draw them.

        The codes are (1 - t) mu(x_start) + t mu(x_end) for ``n_steps``
        evenly spaced t from 0 to 1.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A fitted estimator with ``transform`` and ``inverse_transform``:
            :class:`~skvae.VAETransformer`, or :class:`~skvae.ConditionalVAE`
            with ``y`` (a :class:`~skvae.VAEOutlierDetector` is refused).

        x_start, x_end : array-like of shape (n_features,)
            The two inputs.

        image_shape : pair of int
            Shape (height, width) of one image; its product must be
            n_features.

        n_steps : int, default=8
            Number of decoded images along the path (at least 2).

        y : label or None, default=None
            :class:`~skvae.ConditionalVAE` only, where it is required: the
            class to decode the whole path as. Must be None for other
            estimators.

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
        caller = f"{cls.__name__}.from_estimator"
        check_estimator(caller, estimator, needs=("transform", "inverse_transform"))
        image_shape = check_image_shape(image_shape, estimator.n_features_in_)
        check_class(caller, estimator, y)
        start_row, start = check_one_sample(estimator, x_start, "x_start")
        end_row, end = check_one_sample(estimator, x_end, "x_end")
        mu_start, mu_end = estimator.transform(start_row), estimator.transform(end_row)
        t = np.linspace(0, 1, n_steps)[:, np.newaxis]
        images = decode(estimator, (1 - t) * mu_start + t * mu_end, y)
        tick_labels = [f"t={v:.2g}" for v in t[:, 0]]
        if show_inputs:
            images = np.vstack([start, images, end])
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
        images = np.asarray(self.images)[np.newaxis]
        ax = self._start_plot(ax, tiles_figsize(*images.shape[:2]))
        from matplotlib.patches import Rectangle

        self.images_, columns, _ = draw_tiles(ax, images, self.image_shape, kwargs)
        if self.show_inputs:
            for centre in columns[[0, -1]]:
                ax.add_patch(Rectangle((centre - 0.5, -1), 1, 1, fill=False,
                                       edgecolor="tab:red", linewidth=1.5))
        ax.set_xticks(columns, self.tick_labels)
        ax.tick_params(labelsize="small")
        return self
