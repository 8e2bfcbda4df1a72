"""From training scores to a detector's threshold and outlier probabilities.

Pure functions of arrays, used by :class:`skvae.VAEOutlierDetector`:

- :func:`weighted_quantile`: the quantile of scores under sample weights;
- :func:`score_threshold`: the ``offset_`` a contamination sets, a quantile
  of the training scores, or for ``"auto"`` a robust distance below their
  median;
- :func:`robust_spread`: the scale of the training scores that
  :func:`outlier_probability` measures distances from the threshold in.
"""

import numpy as np
from scipy.special import expit

# "auto" contamination: flag scores more than this many robust standard
# deviations (1.4826 median absolute deviations) below the training median.
AUTO_THRESHOLD = 3.0

# A median absolute deviation times this estimates a normal standard deviation.
MAD_TO_STD = 1.4826


def weighted_quantile(values, q, sample_weight=None):
    """The ``q``-quantile of ``values``; with weights, of their weighted
    distribution (the inverted CDF: the smallest value whose cumulative
    weight reaches ``q`` of the total).

    Without weights it is NumPy's default (linear interpolation). With
    integer weights it equals the inverted-CDF quantile of the values
    repeated as many times; zero weights leave values out.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._estimator.thresholds import weighted_quantile
    >>> float(weighted_quantile(np.array([1.0, 2.0, 3.0]), 0.5, np.array([1, 0, 3])))
    3.0
    """
    if sample_weight is None:
        return float(np.percentile(values, 100 * q))
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(np.asarray(sample_weight, dtype=np.float64)[order])
    index = np.searchsorted(cumulative, q * cumulative[-1], side="left")
    return float(values[order][min(index, len(values) - 1)])


def weighted_median(values, sample_weight=None):
    if sample_weight is None:
        return float(np.median(values))
    return weighted_quantile(values, 0.5, sample_weight)


def median_and_spread(scores, sample_weight=None):
    """The (weighted) median of the scores and 1.4826 times their median
    absolute deviation: their standard deviation if they were normal,
    unmoved by outliers."""
    median = weighted_median(scores, sample_weight)
    return median, MAD_TO_STD * weighted_median(np.abs(scores - median),
                                                sample_weight)


def robust_spread(scores, sample_weight=None):
    """The robust spread of :func:`median_and_spread`; the standard deviation,
    then 1, for scores with no spread."""
    spread = median_and_spread(scores, sample_weight)[1]
    if spread > 0 and np.isfinite(spread):
        return spread
    mean = np.average(scores, weights=sample_weight)
    std = float(np.sqrt(np.average((scores - mean) ** 2, weights=sample_weight)))
    return std if std > 0 and np.isfinite(std) else 1.0


def score_threshold(scores, contamination, sample_weight=None):
    """The ``offset_`` below which a score flags an outlier.

    A float contamination takes that (weighted) quantile of the training
    scores; ``"auto"`` sits three robust standard deviations below their
    (weighted) median, which may flag none.
    """
    if contamination == "auto":
        median, spread = median_and_spread(scores, sample_weight)
        return float(median - AUTO_THRESHOLD * spread)
    return weighted_quantile(scores, contamination, sample_weight)


def outlier_probability(decision, scale):
    """P(outlier) = sigmoid(-decision / scale), in [0, 1].

    A logistic of the decision function (score minus threshold) measured in
    ``scale`` units: 1/2 at the threshold, so that it agrees with
    ``predict``; decreasing in the score; about 0.73 one ``scale`` below the
    threshold and 0.27 one above.
    """
    with np.errstate(over="ignore"):
        return expit(-np.asarray(decision, dtype=np.float64) / scale)
