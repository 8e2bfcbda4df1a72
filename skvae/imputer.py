"""VAEImputer: missing values filled in by a variational autoencoder."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import MissingIndicator
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, MissingValues
from sklearn.utils.validation import (
    _check_feature_names,
    _check_feature_names_in,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from ._estimator.tables import TableCodec, frame_library
from ._estimator.utils import transactional
from ._estimator.validation import check_not_array_api
from ._models.impute import draw_missing, impute_mean
from .transformer import VAETransformer

# The default VAE's training budget, run in full (see default_estimator).
DEFAULT_EPOCHS = 500


def default_estimator():
    """The VAE fitted when ``estimator=None``: eight latent dimensions, no
    free bits, and a fixed 500 epochs (or L-BFGS-B iterations), without
    early stopping.

    Chosen on the development tables of ``benchmarks/bench_impute.py``, 20%
    and 50% of the entries masked completely at random: the estimator's own
    defaults (two dimensions, stopped early) stop before the observed
    entries are fitted, and free bits keep unneeded dimensions active, which
    distorts p(x) when the data have fewer dimensions than the code (on a
    correlated 2-D Gaussian the model's correlation fell from 0.8 to 0.53).
    The user guide gives the figures.
    """
    return VAETransformer(n_components=8, free_bits=0.0, max_iter=DEFAULT_EPOCHS,
                          early_stopping=False, n_iter_no_change=DEFAULT_EPOCHS)


class VAEImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with a variational autoencoder.

    A VAE (``estimator``) is fitted to X with its gaps: its likelihood
    scores the observed entries only, and its encoder sees the observed
    values and which entries are missing. ``transform`` then fills each
    missing entry with the model's expectation given the row's observed
    entries, estimated by self-normalized importance sampling (MIWAE [1]_):
    codes z_k are drawn from the encoder's q(z | x_obs) and weighed by
    w_k ∝ p(x_obs | z_k) p(z_k) / q(z_k | x_obs), and a missing Gaussian or
    Bernoulli entry gets sum_k w_k E[x | z_k], a missing categorical entry
    the category of largest sum_k w_k p(category | z_k). A row with every
    entry missing gets the model's mean under the prior. Observed entries
    are returned as they were.

    With ``sample_posterior=True`` each ``transform`` draws one plausible
    completion instead (a draw z_k picked by its weight, then
    x ~ p(x | z_k)): repeated calls give the draws of a multiple
    imputation.

    Numeric columns are standardized with their observed entries' mean and
    standard deviation before the VAE sees them, so the imputation does not
    depend on the columns' units. DataFrames go in with the column types of
    the VAE's ``likelihood="auto"`` rule (numbers, booleans, categories,
    strings) and come out as DataFrames of the same columns and dtypes,
    categorical columns filled with categories.

    Parameters
    ----------
    estimator : VAETransformer, default=None
        The VAE to fit (a clone of it; its ``random_state`` is replaced by
        one drawn from ``random_state``). None fits
        ``VAETransformer(n_components=8, free_bits=0.0, max_iter=500,
        early_stopping=False, n_iter_no_change=500)``: 500 epochs run in
        full, without a ConvergenceWarning (see the user guide for how this
        was chosen).

    missing_values : float or None, default=np.nan
        The placeholder of a missing value: NaN, or None (the same, for
        DataFrames and object arrays). Other placeholders are refused:
        replace them with NaN first.

    sample_posterior : bool, default=False
        Draw each missing entry from the model's conditional distribution
        given the observed entries, instead of filling in its conditional
        mean (or most probable category). Each call of ``transform`` draws
        anew.

    n_importance_samples : int, default=200
        Number K of codes drawn per row to estimate the conditional
        expectation. The same K noise vectors, drawn at fit, serve every
        row, so ``transform`` is deterministic and row by row.

    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator` of the features
        with missing values at fit to the output, as
        :class:`~sklearn.impute.SimpleImputer` does.

    keep_empty_features : bool, default=False
        Keep the features with no observed value at fit in the output,
        filled with 0 (a categorical one with its first category). By
        default they are dropped, as scikit-learn's imputers drop them.

    random_state : int, RandomState instance or None, default=None
        Seeds the VAE's fit, the importance draws and, with
        ``sample_posterior``, the draws of each ``transform``.

    Attributes
    ----------
    estimator_ : VAETransformer
        The fitted VAE, on the standardized columns with observed values.

    indicator_ : MissingIndicator or None
        The fitted indicator of the missing values; None without
        ``add_indicator``.

    random_state_ : RandomState
        The generator of the posterior draws of ``transform``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.impute.IterativeImputer : Imputation by a regression of each
        feature on the others, round after round.
    sklearn.impute.KNNImputer : Imputation by the nearest neighbours' values.
    sklearn.impute.SimpleImputer : Imputation by a statistic of each column.
    VAETransformer : The VAE fitted here.

    References
    ----------
    .. [1] P.-A. Mattei and J. Frellsen, "MIWAE: Deep Generative Modelling
       and Imputation of Incomplete Data Sets", ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEImputer
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(300, 1))
    >>> X = np.hstack([z, 2 * z, -z]) + 0.1 * rng.normal(size=(300, 3))
    >>> X_gaps = X.copy()
    >>> X_gaps[rng.random(X.shape) < 0.2] = np.nan
    >>> imputer = VAEImputer(random_state=0).fit(X_gaps)
    >>> X_filled = imputer.transform(X_gaps)
    >>> bool(np.isnan(X_filled).any())
    False
    >>> gaps = np.isnan(X_gaps)
    >>> error = np.sqrt(np.mean((X_filled - X)[gaps] ** 2))
    >>> column_means = np.nanmean(X_gaps, axis=0)
    >>> mean_error = np.sqrt(np.mean((column_means - X)[gaps] ** 2))
    >>> bool(error < 0.5 * mean_error)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [None, VAETransformer],
        "missing_values": [MissingValues()],
        "sample_posterior": ["boolean"],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, missing_values=np.nan,
                 sample_posterior=False, n_importance_samples=200,
                 add_indicator=False, keep_empty_features=False, random_state=None):
        self.estimator = estimator
        self.missing_values = missing_values
        self.sample_posterior = sample_posterior
        self.n_importance_samples = n_importance_samples
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- fit -----------------------------------------------------------------

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE to X, gaps and all.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with missing values (NaN, or None in a DataFrame).

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : VAEImputer
            The fitted imputer.
        """
        marker = self.missing_values
        if not (marker is None or (isinstance(marker, Real) and np.isnan(marker))):
            raise ValueError(
                "VAEImputer takes missing_values=np.nan or None, got "
                f"{self.missing_values!r}. Replace the placeholder with NaN "
                "first, e.g. X[X == placeholder] = np.nan.")
        template = default_estimator() if self.estimator is None else self.estimator
        self._table = self._fit_table(X, template.likelihood)
        M, missing = self._validate(X, reset=True)
        self._kinds = np.asarray(self._table.likelihoods if self._table else
                                 ["bernoulli" if template.likelihood == "bernoulli"
                                  else "gaussian"] * M.shape[1])
        observed = ~missing
        self._valid = observed.any(axis=0)
        if not self._valid.any():
            raise ValueError(
                "Every entry of X is missing: there is nothing to learn the "
                "imputations from.")
        self._shift, self._scale = self._standardizer(M, observed)
        self.random_state_ = check_random_state(self.random_state)
        seed = self.random_state_.randint(np.iinfo(np.int32).max)
        self.estimator_ = clone(template).set_params(
            likelihood=self._inner_likelihood(), random_state=seed)
        with warnings.catch_warnings():
            if self.estimator is None:  # a fixed budget, run in full by design
                warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator_.fit(self._standardized(M))
        net = self.estimator_._network
        self._importance_noise = self.random_state_.standard_normal(
            (self.n_importance_samples, 1, net.noise_dims)).astype(net.dtype)
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(error_on_new=False).fit(
                np.where(missing, np.nan, 0.0))
        return self

    @staticmethod
    def _fit_table(X, likelihood):
        """The codec of a DataFrame, or of an array whose ``likelihood``
        names columns; None for an array of one likelihood."""
        if frame_library(X) is None and not isinstance(likelihood, dict):
            return None
        return TableCodec.fit(X, likelihood)

    def _validate(self, X, *, reset):
        """X as its model matrix (floats, codes for categories, NaN where
        missing) and where it is missing."""
        check_not_array_api(X)
        if self._table is None:
            M = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                              ensure_all_finite="allow-nan")
            return M, np.isnan(M)
        _check_feature_names(self, X, reset=reset)
        float32 = all(str(c.dtype) == "float32" for c in self._table.columns)
        M = check_array(self._table.encode(X, np.float32 if float32 else np.float64),
                        ensure_all_finite="allow-nan", estimator=self)
        _check_n_features(self, M, reset=reset)
        return M, self._missing_entries(X, M)

    def _missing_entries(self, X, M):
        """Where a table's entries are missing: NaN or None in X (an entry of a
        category not seen at fit is NaN in M, but not missing)."""
        library = frame_library(X)
        if library == "pandas":
            return X.isna().to_numpy()
        if library == "polars":
            return np.column_stack([
                (series.is_null() | series.is_nan()).to_numpy()
                if series.dtype.is_float() else series.is_null().to_numpy()
                for series in X.get_columns()])
        values = np.asarray(X, dtype=object)
        return np.array([[v is None or (isinstance(v, float) and np.isnan(v))
                          for v in row] for row in values], dtype=bool).reshape(M.shape)

    def _standardizer(self, M, observed):
        """Shift and scale of each Gaussian column, from its observed entries
        (0 and 1 for the other columns, and for a constant one)."""
        gaussian = (self._kinds == "gaussian") & self._valid
        count = np.maximum(observed.sum(axis=0), 1)
        values = np.where(observed, M, 0).astype(np.float64)
        mean = values.sum(axis=0) / count
        var = (np.where(observed, values - mean, 0) ** 2).sum(axis=0) / count
        shift = np.where(gaussian, mean, 0.0)
        scale = np.where(gaussian & (var > 0), np.sqrt(np.where(var > 0, var, 1)), 1.0)
        return shift, scale

    def _standardized(self, M):
        """The columns the VAE models, standardized, in M's dtype."""
        valid = self._valid
        return ((M[:, valid] - self._shift[valid]) / self._scale[valid]).astype(
            M.dtype, copy=False)

    def _inner_likelihood(self):
        """The VAE's likelihood on the columns it models: one name when they
        share it, else one per column (by position)."""
        kinds = self._kinds[self._valid]
        if len(set(kinds)) == 1 and kinds[0] != "categorical":
            return str(kinds[0])
        return {j: str(kind) for j, kind in enumerate(kinds)}

    # -- transform -----------------------------------------------------------

    def transform(self, X):
        """Fill the missing entries of X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with missing values, of the features seen at fit.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            X with every missing entry filled: an array in X's float dtype,
            or, for a DataFrame, a DataFrame of the same columns and dtypes.
            Features with no observed value at fit are dropped unless
            ``keep_empty_features``; the indicator's columns follow with
            ``add_indicator``.
        """
        check_is_fitted(self)
        M, missing = self._validate(X, reset=False)
        valid = self._valid
        filled = np.zeros_like(M)
        filled[:, valid] = self._impute(self._standardized(M)) * self._scale[
            valid] + self._shift[valid]
        # Observed entries as they were; an entry the model cannot read (a
        # category not seen at fit) gets the model's value in the model
        # matrix, and its own value back in a table.
        filled = np.where(np.isnan(M), filled, M)
        kept = np.ones(M.shape[1], dtype=bool) if self.keep_empty_features else valid
        if self._table is None:
            out = filled[:, kept]
        else:
            out = self._table_output(X, filled, missing, kept)
        if self.indicator_ is None:
            return out
        indicator = self.indicator_.transform(np.where(missing, np.nan, 0.0))
        if self._table is None or self._table.library is None:
            return np.hstack([out, indicator.astype(out.dtype)])
        names = self.indicator_.get_feature_names_out(
            np.asarray([c.name for c in self._table.columns], dtype=object))
        if self._table.library == "polars":
            import polars as pl

            return pl.concat([out, pl.DataFrame(indicator, schema=list(names))],
                             how="horizontal")
        import pandas as pd

        return pd.concat([out, pd.DataFrame(indicator, columns=names,
                                            index=out.index)], axis=1)

    def _impute(self, M):
        """The VAE's completion of the standardized rows M, as M's values."""
        vae = self.estimator_
        net, noise = vae._network, self._importance_noise
        inner = vae._validate_X(M, reset=False)
        K = noise.shape[0]
        if not self.sample_posterior:
            filled = vae._map_rows(lambda x: impute_mean(net, x, noise), inner,
                                   n_draws=K, n_columns=inner.shape[1])
        else:
            d = inner.shape[1]
            tiny = np.finfo(net.dtype).eps
            uniform = np.clip(self.random_state_.random_sample((len(inner), 1 + d)),
                              tiny, 1 - tiny).astype(inner.dtype)

            def draw(rows):
                return draw_missing(net, rows[:, :d], noise, rows[:, d:])

            filled = vae._map_rows(draw, np.hstack([inner, uniform]), n_draws=K,
                                   n_columns=d)
        return vae._output(filled)

    def _table_output(self, X, filled, missing, kept):
        """The table of the model matrix ``filled``, with X's observed entries
        as they were: the fitted columns and dtypes, those in ``kept``."""
        table = self._table
        decoded = table.decode(filled)
        if table.library is None:  # an array with a likelihood per column
            original = check_array(X, dtype=filled.dtype, ensure_all_finite="allow-nan")
            return np.where(missing, decoded, original).astype(filled.dtype)[:, kept]
        library = frame_library(X)
        names = [c.name for c in table.columns]
        if library == "pandas" and table.library == "pandas":
            decoded.index = X.index
            for j, name in enumerate(names):
                column = X.iloc[:, j]
                decoded[name] = (decoded[name].where(missing[:, j], column)
                                 if missing[:, j].any() else column)
        elif library == "polars" and table.library == "polars":
            import polars as pl

            decoded = decoded.with_columns([
                X.to_series(j).zip_with(pl.Series(~missing[:, j]), decoded[name])
                .alias(name) for j, name in enumerate(names)])
        return decoded[[name for name, keep in zip(names, kept, strict=True)
                        if keep]]

    def get_feature_names_out(self, input_features=None):
        """Get the output feature names: the imputed ones, then the indicator's.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; None uses ``feature_names_in_``, or
            ``["x0", "x1", ...]`` without it.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The features kept (all of them with ``keep_empty_features``),
            then ``missingindicator_<name>`` for each feature the indicator
            marks.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        kept = names if self.keep_empty_features else names[self._valid]
        if self.indicator_ is None:
            return kept
        return np.concatenate([kept, self.indicator_.get_feature_names_out(names)])
