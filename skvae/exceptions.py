"""Exceptions raised by skvae.

Examples
--------
>>> from skvae.exceptions import DivergenceError
>>> issubclass(DivergenceError, FloatingPointError)
True
"""

__all__ = ["DivergenceError"]


class DivergenceError(FloatingPointError):
    """The training loss became NaN or infinite, so the fit was abandoned.

    Raised by ``fit`` and ``partial_fit``; the estimator is left exactly as it
    was before the call (unfitted, or in its previous fitted state). Scaling
    the data is rarely the cure (the estimators standardize internally);
    lowering ``learning_rate_init`` or raising ``alpha`` usually is.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAETransformer
    >>> from skvae.exceptions import DivergenceError
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> vae = VAETransformer(solver="adam", learning_rate_init=1e3, random_state=0)
    >>> try:
    ...     vae.fit(X)
    ... except DivergenceError:
    ...     print("diverged; fitted:", hasattr(vae, "n_iter_"))
    diverged; fitted: False
    """
