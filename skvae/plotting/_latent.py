"""Pictures of the latent space: codes of many samples, the posterior of one."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    _Z01,
    _axes,
    _check_components,
    _check_matplotlib,
    _check_one_sample,
    _check_vae,
    _latent_label,
    _posterior,
)


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
