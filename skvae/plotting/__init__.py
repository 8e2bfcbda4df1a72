"""Pictures of a fitted VAE, following scikit-learn's Display convention.

Each ``XDisplay.from_estimator(estimator, ...)`` computes what to draw from a
fitted skvae estimator and calls ``plot``; ``plot(ax=None, **kwargs)`` draws
on ``ax`` (a new figure when None), passing ``kwargs`` to the main matplotlib
call, and keeps the artists, ``ax_`` and ``figure_`` as attributes.
matplotlib is imported only when drawing: ``pip install skvae[plot]``.

Displays use the estimators' public methods only. One that needs a method
the estimator lacks refuses it up front, naming the method: a
:class:`~skvae.VAEOutlierDetector` has no ``transform``, so only
:class:`LossCurveDisplay` draws it. A :class:`~skvae.ConditionalVAE` is
decoded as the class passed in ``y``.
"""

from ._images import InterpolationDisplay, ReconstructionDisplay
from ._latent import LatentSpaceDisplay
from ._loss import LossCurveDisplay
from ._posterior import PosteriorDisplay
from ._samples import SampleGridDisplay

__all__ = [
    "InterpolationDisplay",
    "LatentSpaceDisplay",
    "LossCurveDisplay",
    "PosteriorDisplay",
    "ReconstructionDisplay",
    "SampleGridDisplay",
]
