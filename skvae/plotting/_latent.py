"""Pictures of the latent space: codes of many samples, the posterior of one."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)

from ._base import (
    POSITIVE_FINITE,
    POSITIVE_INT,
    Z01,
    Display,
    check_components,
    check_estimator,
    check_one_sample,
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
            if estimator.n_components < 2:
                raise ValueError(
                    "projection='pca' needs n_components >= 2, got "
                    f"{estimator.n_components}."
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
                                    estimator.n_components)
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


class PosteriorDisplay(Display):
    """The reparameterization trick for one input.

    Draws codes z = mu + sigma * eps, eps ~ N(0, I), from the posterior
    q(z|x) of one sample, marks the mean mu, and outlines the ellipse
    ``n_std`` posterior standard deviations from it (semi-axes
    ``n_std * sigma``), in two latent dimensions. Beside it, the model's
    prior p(z): the ``n_std``-sigma circle of N(0, I), or codes drawn from a
    learned flow prior.

    Parameters
    ----------
    mean : ndarray of shape (2,)
        Posterior mean in the two dimensions drawn.

    std : ndarray of shape (2,)
        Posterior standard deviations in those dimensions.

    draws : ndarray of shape (n_draws, 2)
        Codes drawn from the posterior.

    n_std : float, default=2.0
        Size of the ellipse, in standard deviations; positive and finite.

    prior_draws : ndarray of shape (n_prior_draws, 2), default=None
        Codes drawn from the prior p(z) in the two dimensions drawn. None
        means the prior is N(0, I), drawn exactly as its ``n_std``-sigma
        circle.

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

    prior_scatter_ : matplotlib PathCollection or None
        The codes drawn from the prior, when ``prior_draws`` are drawn.

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

    _plot_constraints = {"n_std": [POSITIVE_FINITE]}

    def __init__(self, mean, std, draws, *, n_std=2.0, prior_draws=None,
                 axis_labels=Z01):
        self.mean = mean
        self.std = std
        self.draws = draws
        self.n_std = n_std
        self.prior_draws = prior_draws
        self.axis_labels = axis_labels

    @classmethod
    @validate_params(
        {
            "n_draws": [POSITIVE_INT],
            "n_std": [POSITIVE_FINITE],
            "random_state": ["random_state"],
            "show_prior": ["boolean"],
        },
        prefer_skip_nested_validation=False,
    )
    def from_estimator(cls, estimator, x, *, components=(0, 1), n_draws=500,
                       n_std=2.0, random_state=None, ax=None, show_prior=True,
                       **kwargs):
        """Draw from the posterior of one input and plot the draws.

        Parameters
        ----------
        estimator : fitted skvae estimator
            A fitted estimator with ``transform(X, return_std=True)``:
            :class:`~skvae.VAETransformer` or :class:`~skvae.ConditionalVAE`
            (a :class:`~skvae.VAEOutlierDetector` is refused).

        x : array-like of shape (n_features,)
            The input.

        components : pair of int, default=(0, 1)
            The two latent dimensions to draw.

        n_draws : int, default=500
            Number of codes to draw from the posterior, and from a flow
            prior.

        n_std : float, default=2.0
            Size of the ellipse, in posterior standard deviations.

        random_state : int, RandomState instance or None, default=None
            Seeds the noise eps, then the draws from a flow prior.

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        show_prior : bool, default=True
            Also draw the model's prior: the ``n_std``-sigma circle of
            N(0, I) for ``prior="normal"``, ``n_draws`` codes drawn with
            ``estimator.sample_latent`` otherwise.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter` for the draws.

        Returns
        -------
        display : PosteriorDisplay
            The display, with its artists.
        """
        check_estimator(f"{cls.__name__}.from_estimator", estimator,
                        needs=("transform", "sample_latent"))
        i, j = check_components(components, estimator.n_components)
        row, _ = check_one_sample(estimator, x, "x")
        mu, std = estimator.transform(row, return_std=True)
        mean, std = mu[0, [i, j]], std[0, [i, j]]
        rng = check_random_state(random_state)
        eps = rng.standard_normal((n_draws, 2))
        prior_draws = None
        if estimator.prior != "normal":
            prior_draws = estimator.sample_latent(n_draws, random_state=rng)[:, [i, j]]
        display = cls(mean, std, mean + std * eps, n_std=n_std,
                      prior_draws=prior_draws,
                      axis_labels=(latent_label(i), latent_label(j)))
        return display.plot(ax=ax, show_prior=show_prior, **kwargs)

    def plot(self, ax=None, *, show_prior=True, **kwargs):
        """Draw the codes, the mean, the ellipse and the prior.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        show_prior : bool, default=True
            Also draw the prior: ``prior_draws`` when given, else the
            ``n_std``-sigma circle of N(0, I).

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter` for the draws.

        Returns
        -------
        display : PosteriorDisplay
            The display, with its artists.
        """
        # Not validate_params: it would name plot in the errors about n_std,
        # which _start_plot checks as a value of the constructor.
        validate_parameter_constraints({"show_prior": ["boolean"]},
                                       {"show_prior": show_prior},
                                       caller_name=f"{type(self).__name__}.plot")
        ax = self._start_plot(ax)
        from matplotlib.patches import Ellipse

        mean, std, n_std = np.asarray(self.mean), np.asarray(self.std), self.n_std
        self.prior_ellipse_ = self.prior_scatter_ = None
        if show_prior and self.prior_draws is not None:
            prior_draws = np.asarray(self.prior_draws)
            self.prior_scatter_ = ax.scatter(
                prior_draws[:, 0], prior_draws[:, 1], s=6, alpha=0.3,
                color="gray", label=r"$z \sim p(z)$, the prior")
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
        if show_prior and self.prior_draws is None:
            self.prior_ellipse_ = Ellipse((0, 0), 2 * n_std, 2 * n_std, fill=False,
                                          edgecolor="gray", linestyle="--",
                                          label=rf"${n_std:g}\sigma$ circle of $p(z)$")
            ax.add_patch(self.prior_ellipse_)
        ax.set_xlabel(self.axis_labels[0])
        ax.set_ylabel(self.axis_labels[1])
        ax.set_aspect("equal", adjustable="datalim")
        ax.autoscale_view()
        ax.legend(loc="best", fontsize="small", framealpha=0.9)
        return self
