"""Small synthetic data sets for trying out and teaching VAEs."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["PATTERN_NAMES", "make_patterns"]

# The four 4x4 templates of the seed notebook, in label order.
_PATTERNS = np.zeros((4, 4, 4))
_PATTERNS[0, 1, :] = 1  # a horizontal line (second row)
_PATTERNS[1, :, 1] = 1  # a vertical line (second column)
_PATTERNS[2] = np.eye(4)  # the main diagonal
_PATTERNS[3, :2, :2] = 1  # a 2x2 square in the top-left corner

PATTERN_NAMES = ("horizontal", "vertical", "diagonal", "square")
"""Names of the four pattern types of :func:`make_patterns`, by label."""


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_patterns(n_samples=400, *, noise=0.1, shuffle=True, random_state=None):
    """Generate noisy 4x4 images of four simple patterns.

    Each sample is a 4x4 image flattened to 16 features: a horizontal line
    (label 0), a vertical line (label 1), the main diagonal (label 2) or a
    2x2 square in the top-left corner (label 3). Pixels of the pattern are 1
    and the others 0, before independent Gaussian noise of standard
    deviation ``noise`` is added and the result clipped to [0, 1]. The data
    suit ``likelihood="bernoulli"``; these are the patterns of the VAE
    teaching notebook skvae grew out of.

    Parameters
    ----------
    n_samples : int, default=400
        Number of samples. The four types come in equal proportions: each
        gets ``n_samples // 4`` samples, and the first ``n_samples % 4``
        types one more.

    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to every pixel.

    shuffle : bool, default=True
        Shuffle the samples. Otherwise they are ordered by label.

    random_state : int, RandomState instance or None, default=None
        Determines the noise and the shuffling. Pass an int for reproducible
        output across multiple function calls.

    Returns
    -------
    X : ndarray of shape (n_samples, 16)
        The images, row by row, with values in [0, 1]. Reshape a row with
        ``.reshape(4, 4)`` to see it as an image.

    y : ndarray of shape (n_samples,)
        The pattern type of each sample, an int in {0, 1, 2, 3}; the names
        are ``skvae.datasets.PATTERN_NAMES[y]``.

    See Also
    --------
    sklearn.datasets.load_digits : 8x8 images of handwritten digits.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.datasets import make_patterns
    >>> X, y = make_patterns(n_samples=8, noise=0.0, shuffle=False)
    >>> X.shape, y.tolist()
    ((8, 16), [0, 0, 1, 1, 2, 2, 3, 3])
    >>> X[0].reshape(4, 4)
    array([[0., 0., 0., 0.],
           [1., 1., 1., 1.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.]])
    """
    generator = check_random_state(random_state)
    n_types = len(_PATTERNS)
    counts = np.full(n_types, n_samples // n_types)
    counts[: n_samples % n_types] += 1
    y = np.repeat(np.arange(n_types), counts)
    X = _PATTERNS.reshape(n_types, -1)[y]
    X = np.clip(X + noise * generator.standard_normal(X.shape), 0.0, 1.0)
    if shuffle:
        order = generator.permutation(n_samples)
        X, y = X[order], y[order]
    return X, y
