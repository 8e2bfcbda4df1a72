"""The detector's ensemble: small VAEs on subsamples, trimmed, their scores combined.

:class:`~skvae.VAEOutlierDetector` with ``n_estimators > 1`` fits clones of a
member VAE to row subsamples of the per-feature standardized input
(:func:`fit_members`), each trimmed: refitted without the rows it scores
lowest (:func:`trimmed_fit`). A row's score is the mean of the members'
scores, each standardized by its median and robust spread on its own rows
(:func:`combined_scores`). The members are any fitted skvae VAEs; this module
takes them (and the scoring rule) as arguments.

Imports: NumPy, scikit-learn, the estimator layer's thresholds and the heads'
statistics.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from .._parts.heads.scaling import feature_mean_var
from .thresholds import median_and_spread, weighted_quantile


def elbo_at_mean(model, X):
    """log p(x | z = mu(x)) - KL(q(z|x) || p(z)): the ELBO with its
    expectation replaced by one decoding of the posterior mean."""
    network = model._network
    noise = np.zeros((1, 1, network.noise_dims), dtype=network.dtype)
    return model._map_rows(lambda x: network.elbo(x, noise), X)


def model_scores(model, X, score_type, log_likelihood_samples):
    """One fitted VAE's normality scores of validated X (higher is more normal)."""
    if score_type == "elbo":
        return model._score_samples(X)
    if score_type == "elbo_at_mean":
        return elbo_at_mean(model, X)
    if score_type == "log_likelihood":
        return model._log_likelihood(X, log_likelihood_samples, None)
    return -model._reconstruction_error(X)


def feature_standardizer(X, sample_weight=None, numeric=None):
    """Per-feature (weighted) mean and standard deviation of X; a constant
    feature keeps the scale 1, as :class:`~sklearn.preprocessing.StandardScaler`
    does. Missing entries (NaN) are left out. Only the ``numeric`` features
    (a boolean mask; all by default) are standardized: a table's category
    codes and 0/1 columns keep shift 0 and scale 1."""
    if np.isnan(X).any():
        center, var = feature_mean_var(X, sample_weight, X.dtype)
        scale = np.sqrt(var)
    else:
        center = np.average(X, axis=0, weights=sample_weight)
        scale = np.sqrt(np.average((X - center) ** 2, axis=0, weights=sample_weight))
    scale[~(scale > 0)] = 1.0
    if numeric is not None:
        center = np.where(numeric, center, 0.0)
        scale = np.where(numeric, scale, 1.0)
    return center.astype(X.dtype), scale.astype(X.dtype)


def trimmed_fit(member, X, sample_weight, trim_fraction, n_rounds, score):
    """Fit ``member`` to X, then ``n_rounds`` times: score the rows and continue
    training (half as many iterations) on the rows scoring above the
    ``trim_fraction`` (weighted) quantile, the rest given weight zero."""
    max_iter = member.max_iter
    weight = np.ones(len(X), X.dtype) if sample_weight is None else sample_weight
    # The members are trained briefly by design: that they stop short of
    # convergence is not worth a warning per member and round.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        member.fit(X, sample_weight=sample_weight)
        for _ in range(n_rounds):
            scores = score(member, X)
            keep = scores >= weighted_quantile(scores, trim_fraction, sample_weight)
            member.set_params(warm_start=True, max_iter=max(1, max_iter // 2))
            member.fit(X, sample_weight=weight * keep)
    return member.set_params(warm_start=False, max_iter=max_iter)


def member_rows(rng, sample_weight, n_samples, max_samples):
    """A member's rows: ``max_samples`` (an int, or a fraction of) the rows with
    a positive weight, drawn without replacement, in order."""
    rows = (np.arange(n_samples) if sample_weight is None
            else np.flatnonzero(sample_weight > 0))
    if isinstance(max_samples, Integral):
        size = min(max_samples, len(rows))
    else:
        size = max(1, int(max_samples * len(rows)))
    return np.sort(rng.choice(rows, size, replace=False))


def fit_members(template, Z, sample_weight, rng, n_estimators, max_samples,
                trim_fraction, n_trim_rounds, score, table=None):
    """Fit ``n_estimators`` trimmed clones of ``template`` to subsamples of Z.

    ``table`` (a :class:`~.tables.TableCodec` of Z, or None) gives every
    member Z's column layout, whatever its subsample holds. Returns the
    members, their rows, and the median and robust spread of each member's
    ``score(member, rows)`` on its own rows (a spread of 0 becomes 1).
    """
    members, samples, centers, scales = [], [], [], []
    for _ in range(n_estimators):
        seed = int(rng.randint(np.iinfo(np.int32).max))
        rows = member_rows(rng, sample_weight, Z.shape[0], max_samples)
        weight = None if sample_weight is None else sample_weight[rows]
        member = clone(template).set_params(random_state=seed, warm_start=False)
        if table is not None:
            member._member_table = table
        trimmed_fit(member, Z[rows], weight, trim_fraction, n_trim_rounds, score)
        member_center, member_scale = median_and_spread(score(member, Z[rows]),
                                                        weight)
        members.append(member)
        samples.append(rows)
        centers.append(member_center)
        scales.append(member_scale if member_scale > 0 else 1.0)
    return members, samples, centers, scales


def combined_scores(members, centers, scales, Z, score):
    """The mean of the members' standardized scores of Z, in Z's dtype."""
    # Each member's score is clipped to the finite floats (see _map_rows);
    # standardized, each is kept within a share of the largest float, so
    # that the mean of extreme scores stays finite.
    bound = np.finfo(Z.dtype).max / len(members)
    total = np.zeros(Z.shape[0], dtype=np.float64)
    for member, center, scale in zip(members, centers, scales, strict=True):
        scores = score(member, Z).astype(np.float64)
        with np.errstate(over="ignore"):
            total += np.clip((scores - center) / scale, -bound, bound)
    return (total / len(members)).astype(Z.dtype)
