"""The training curve."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..vqvae import VQVAETransformer
from ._base import Display, check_estimator, check_matplotlib


class LossCurveDisplay(Display):
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
        """Draw the loss curve recorded by a fitted skvae estimator.

        Parameters
        ----------
        estimator : fitted skvae estimator
            Any fitted skvae estimator (:class:`~skvae.VAETransformer`,
            :class:`~skvae.ConditionalVAE`, :class:`~skvae.VAEOutlierDetector`,
            :class:`~skvae.VQVAETransformer`); its ``validation_scores_`` are
            drawn when present.

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the training loss.

        Returns
        -------
        display : LossCurveDisplay
            The display, with its artists.
        """
        caller = f"{cls.__name__}.from_estimator"
        if isinstance(estimator, VQVAETransformer):  # trained by Adam's epochs
            check_matplotlib(caller)
            check_is_fitted(estimator)
        else:
            check_estimator(caller, estimator)
        display = cls(estimator.loss_curve_,
                      validation_scores=getattr(estimator, "validation_scores_", None),
                      xlabel="epoch" if getattr(estimator, "solver", "adam") == "adam"
                      else "iteration")
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
        ax = self._start_plot(ax)
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
        return self
