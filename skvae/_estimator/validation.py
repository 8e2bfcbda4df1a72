"""Input checks shared by the estimators that scikit-learn does not make.

- :func:`check_sample_weight`: scikit-learn's own check, plus a refusal of
  weights that are all zero (nothing to fit).
- :func:`check_not_array_api`: skvae computes with NumPy only. Under
  ``set_config(array_api_dispatch=True)`` scikit-learn hands other array
  namespaces (array_api_strict, PyTorch, CuPy) through; skvae refuses them
  with a message that says what to pass instead, rather than failing inside
  scikit-learn's validation on a NumPy dtype.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils import check_array
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    check_X_y,
    validate_data,
)

from .tables import TableCodec, frame_library

# How far outside [0, 1] Bernoulli data may stray through rounding.
BERNOULLI_TOLERANCE = 1e-6


def check_sample_weight(sample_weight, X):
    """Non-negative weights, one per row of X, in X's dtype; None stays None."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                         ensure_non_negative=True)
    if not np.any(sample_weight > 0):
        raise ValueError(
            "Sample weights must contain at least one non-zero number: with "
            "every weight zero there is nothing to fit."
        )
    return sample_weight


def check_not_array_api(X, name="X"):
    """Refuse a non-NumPy array-API array under ``array_api_dispatch=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._estimator.validation import check_not_array_api
    >>> check_not_array_api(np.zeros((2, 2)))  # NumPy input always passes
    """
    if not get_config().get("array_api_dispatch", False):
        return
    if isinstance(X, np.ndarray) or not hasattr(X, "__array_namespace__"):
        return
    namespace = getattr(X.__array_namespace__(), "__name__", type(X).__module__)
    raise ValueError(
        f"skvae computes with NumPy only and does not support array API "
        f"dispatch: {name} is a {namespace} array and "
        "set_config(array_api_dispatch=True) is on. Pass a NumPy array "
        f"(e.g. np.asarray({name}), after moving it to the CPU), or turn "
        "array_api_dispatch off."
    )


class ValidationMixin:
    """Input checks of the estimators: X (and y), the likelihood's support,
    hidden layer sizes and sample weights.

    ``_lazy_dask`` says whether a dask array is validated lazily, block by
    block (the VAE estimators, which train and score on the blocks), or
    loaded into memory like any array-like.

    ``_models_tables`` says whether the estimator takes tables as they come:
    DataFrames of mixed column types (through a
    :class:`~skvae._estimator.tables.TableCodec` fixed at fit, ``_table``)
    and missing values (NaN, masked by the network). Without it, X must be
    numeric and complete.
    """

    _lazy_dask = False
    _models_tables = False
    _check_sample_weight = staticmethod(check_sample_weight)

    def _hidden_sizes(self, name="hidden_layer_sizes", n_rows=None):
        value = getattr(self, name)
        if isinstance(value, str) and value == "auto":  # from the input's shape
            from .._train.drivers import auto_hidden_layer_sizes

            return auto_hidden_layer_sizes(self.n_features_in_, n_rows)
        sizes = np.atleast_1d(value)
        if sizes.ndim != 1 or (sizes.size and (
                not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1))):
            raise ValueError(
                f"{name} must be a positive int or a sequence of positive ints, "
                f"got {value!r}."
            )
        return tuple(int(s) for s in sizes)

    def _validate_X(self, X, *, reset, y="no_validation"):
        """Check X (and y, if given) like scikit-learn does, plus the likelihood's
        support. Returns X, or (X, y) when y is given."""
        if self._lazy_dask and isinstance(y, str):
            from .dask import is_dask

            if is_dask(X):  # checked lazily, per block
                from . import dask as _dask

                return _dask.validate(self, X, reset=reset)
        check_not_array_api(X)
        if self._models_tables:
            if reset:
                self._table = self._fit_table(X)
            table = getattr(self, "_table", None)
            if table is not None and not table.is_numeric():
                return self._validate_table(X, y, reset)
            # A numeric DataFrame is validated as scikit-learn validates it:
            # the arrays it gave before tables existed, bit for bit.
        try:
            out = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32],
                                ensure_all_finite=self._finite_check())
        except ValueError as error:
            if "could not convert" not in str(error):
                raise
            raise ValueError(
                f"X must be numeric: {error}. Encode text or categorical columns "
                "first, e.g. with OneHotEncoder."
            ) from error
        # A fit checks X against the parameter, inference against the fitted
        # model's likelihood (see .fitted).
        self._check_likelihood_support(out if isinstance(y, str) else out[0],
                                       self.likelihood if reset else self.likelihood_)
        return out

    def _finite_check(self):
        """NaN marks a missing value for an estimator that models them (not
        with the autoregressive decoder, which reads every entry)."""
        if self._models_tables and getattr(self, "decoder", "mlp") != "autoregressive":
            return "allow-nan"
        return True

    def _fit_table(self, X):
        """The codec of a DataFrame, or of an array whose ``likelihood`` names
        columns; None for the array path (every column one likelihood)."""
        member_table = getattr(self, "_member_table", None)
        if member_table is not None:  # a detector's member: its model matrix
            return member_table
        if frame_library(X) is None and not isinstance(self.likelihood, dict):
            return None
        return TableCodec.fit(X, self.likelihood)

    def _validate_table(self, X, y, reset):
        """X (a table) as its model matrix, checked as validate_data checks
        arrays; its feature names are those of the table."""
        table = self._table
        _check_feature_names(self, X, reset=reset)
        float32 = all(str(c.dtype) == "float32" for c in table.columns)
        M = table.encode(X, np.float32 if float32 else np.float64)
        params = {"dtype": [np.float64, np.float32],
                  "ensure_all_finite": self._finite_check(), "estimator": self}
        if isinstance(y, str):
            out = M = check_array(M, **params)
        else:
            out = check_X_y(M, y, **params)
            M = out[0]
        _check_n_features(self, M, reset=reset)
        self._check_likelihood_support(M)
        return out

    def _column_likelihoods(self, n_columns):
        """The likelihood of each of the ``n_columns`` input columns, as fitted
        (or about to be)."""
        table = getattr(self, "_table", None)
        if table is not None:
            return table.likelihoods
        likelihood = "gaussian" if self.likelihood == "auto" else self.likelihood
        return [likelihood] * n_columns

    def _check_likelihood_support(self, X, likelihood=None):
        """Bernoulli columns in [0, 1]: those of the fitted table, or all of X
        when ``likelihood`` (the parameter at fit, ``likelihood_`` after) is
        "bernoulli"."""
        if getattr(self, "_table", None) is None:
            if likelihood == "bernoulli":
                check_bernoulli_support(X)
            return
        bernoulli = [j for j, kind in enumerate(self._table.likelihoods)
                     if kind == "bernoulli"]
        if bernoulli:
            check_bernoulli_support(X[:, bernoulli])


def check_bernoulli_support(X):
    """Bernoulli data lie in [0, 1], up to rounding (MinMaxScaler may give
    1 + 1e-16); missing entries (NaN) are left out."""
    if not X.size or np.isnan(X).all():
        return
    low, high = np.nanmin(X), np.nanmax(X)
    if low < -BERNOULLI_TOLERANCE or high > 1 + BERNOULLI_TOLERANCE:
        raise ValueError(
            "likelihood='bernoulli' needs X in [0, 1], got values in "
            f"[{float(low)!r}, {float(high)!r}]. Scale X (e.g. with "
            "MinMaxScaler, clipping new data) or use likelihood='gaussian'."
        )
