"""The codes of many samples in a 2-D view of the latent space."""

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from ._base import (
    POSITIVE_FINITE,
    Z01,
    Display,
    check_components,
    check_estimator,
    latent_label,
)


class LatentSpaceDisplay(Display):
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
                 axis_labels=Z01):
        self.codes = codes
        self.labels = labels
        self.covariances = covariances
        self.axis_labels = axis_labels

    @classmethod
    @validate_params(
        {
            "X": ["array-like"],
            "y": ["array-like", None],
            "projection": [StrOptions({"pca"}), None],
            "show_uncertainty": ["boolean"],
            "n_std": [POSITIVE_FINITE],
        },
        prefer_skip_nested_validation=False,
    )
    def from_estimator(cls, estimator, X, y=None, *, components=None,
                       projection=None, ax=None, show_uncertainty=False,
                       n_std=1.0, cmap=None, **kwargs):
        """Encode X with a fitted VAE and draw the posterior means.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A fitted estimator with ``transform(X, return_std=True)``:
            :class:`~skvae.VAETransformer` or :class:`~skvae.ConditionalVAE`
            (a :class:`~skvae.VAEOutlierDetector` is refused).

        X : array-like of shape (n_samples, n_features)
            Samples to encode.

        y : array-like of shape (n_samples,), default=None
            Labels to colour the samples by.

        components : pair of int, default=None
            The two latent dimensions to draw; None means ``(0, 1)``. Not
            allowed with ``projection="pca"``.

        projection : {None, "pca"}, default=None
            ``"pca"`` draws the first two principal components of the codes,
            a view of all ``n_components`` latent dimensions at once; it
            needs at least two samples.

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
        check_estimator(f"{cls.__name__}.from_estimator", estimator,
                        needs=("transform",))
        mu, std = estimator.transform(X, return_std=True)
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
            if estimator.n_components_ < 2:
                raise ValueError(
                    "projection='pca' needs n_components >= 2, got "
                    f"{estimator.n_components_}."
                )
            if mu.shape[0] < 2:
                raise ValueError(
                    "projection='pca' finds the two principal axes of the codes "
                    f"of X and needs at least 2 samples, got {mu.shape[0]}. "
                    "Pass more samples, or draw two latent dimensions with "
                    "components."
                )
            # Principal axes of the posterior means; the posterior covariances
            # diag(std^2) project to A diag(std^2) A^T.
            centred = mu - mu.mean(axis=0)
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            principal = vt[:2]
            codes = centred @ principal.T
            covariances = np.einsum("ik,nk,jk->nij", principal, std**2, principal)
            axis_labels = ("first principal axis of $z$",
                           "second principal axis of $z$")
        elif projection is None:
            i, j = check_components((0, 1) if components is None else components,
                                    estimator.n_components_)
            codes = mu[:, [i, j]]
            covariances = np.zeros((mu.shape[0], 2, 2), dtype=mu.dtype)
            covariances[:, 0, 0] = std[:, i] ** 2
            covariances[:, 1, 1] = std[:, j] ** 2
            axis_labels = (latent_label(i), latent_label(j))
        display = cls(codes, labels=y, covariances=covariances,
                      axis_labels=axis_labels)
        return display.plot(ax=ax, show_uncertainty=show_uncertainty, n_std=n_std,
                            cmap=cmap, **kwargs)

    @validate_params(
        {"show_uncertainty": ["boolean"], "n_std": [POSITIVE_FINITE]},
        prefer_skip_nested_validation=False,
    )
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
        if show_uncertainty and self.covariances is None:
            raise ValueError("show_uncertainty=True needs the covariances.")
        ax = self._start_plot(ax)
        import matplotlib as mpl
        from matplotlib.collections import EllipseCollection

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
        return self
