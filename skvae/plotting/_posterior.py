"""The posterior of one sample beside the prior: the reparameterization trick."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
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
        i, j = check_components(components, estimator.n_components_)
        row, _ = check_one_sample(estimator, x, "x")
        mu, std = estimator.transform(row, return_std=True)
        mean, std = mu[0, [i, j]], std[0, [i, j]]
        rng = check_random_state(random_state)
        eps = rng.standard_normal((n_draws, 2))
        prior_draws = None
        if estimator.prior_ != "normal":
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
