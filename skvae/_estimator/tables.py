"""Tables as they come: a DataFrame's columns to the model matrix, and back.

A :class:`TableCodec` is fitted on the training data when it is a pandas or
polars DataFrame (or when ``likelihood`` names columns). It fixes, per input
column, the likelihood (:func:`column_likelihood`, the ``"auto"`` rule), the
categories of categorical columns and the column's dtype. It turns a table
into the model matrix (floats: values, 0/1, or category codes; NaN where an
entry is missing or a category was not seen at fit) and turns model matrices
back into a table of the fitted columns, dtypes and categories.

pandas and polars are used only when the user passes them; this module
imports neither.
"""

import numpy as np

LIKELIHOODS = ("gaussian", "bernoulli", "categorical")


def frame_library(X):
    """"pandas", "polars" or None: which DataFrame X is."""
    module = type(X).__module__.split(".")[0]
    if module in ("pandas", "polars") and hasattr(X, "columns"):
        return module
    return None


def _pandas_kind(series):
    """"numeric", "bool", "categorical" (category, object, string) or the dtype
    for anything else."""
    dtype = series.dtype
    kind = getattr(dtype, "kind", "O") or "O"
    name = str(dtype)
    if name == "category":
        return "categorical"
    if kind == "b" or name == "boolean":
        return "bool"
    if kind in ("i", "u", "f") or name.startswith(("Int", "UInt", "Float")):
        return "numeric"
    if kind in ("O", "S", "U") or name.startswith("string"):
        return "categorical"
    return name


def _polars_kind(series):
    dtype = series.dtype
    if dtype.is_numeric():
        return "numeric"
    name = str(dtype)
    if name == "Boolean":
        return "bool"
    if name in ("String", "Utf8", "Categorical", "Enum") or name.startswith(
            ("Categorical", "Enum")):
        return "categorical"
    return name


class Column:
    """One input column: its name, likelihood, categories and how to restore it."""

    def __init__(self, name, likelihood, categories, dtype, source_kind):
        self.name = name
        self.likelihood = likelihood
        self.categories = categories
        self.dtype = dtype
        self.source_kind = source_kind


def column_likelihood(source_kind, values):
    """The ``"auto"`` rule: bool, category, object and string columns are
    categorical; a numeric column whose observed values are exactly {0, 1} is
    Bernoulli; other numeric columns are Gaussian."""
    if source_kind in ("bool", "categorical"):
        return "categorical"
    observed = values[~np.isnan(values)]
    if observed.size and np.array_equal(np.unique(observed), [0.0, 1.0]):
        return "bernoulli"
    return "gaussian"


def _can_model(source_kind, likelihood):
    """Whether a column of this kind can have this likelihood: Gaussian needs
    numbers, Bernoulli numbers or booleans; anything can be categorical."""
    if likelihood == "gaussian":
        return source_kind == "numeric"
    if likelihood == "bernoulli":
        return source_kind in ("numeric", "bool")
    return True


def _float_values(series, library):
    if library is None:
        return np.asarray(series, dtype=float)
    if library == "polars":
        return series.cast(float).fill_null(float("nan")).to_numpy().astype(float)
    return series.to_numpy(dtype=float, na_value=np.nan)


def _object_values(series, library):
    """Values as an object array, missing ones as None."""
    if library == "polars":
        return np.array(series.to_list(), dtype=object)
    values = series.astype(object).to_numpy(copy=True)
    missing = series.isna().to_numpy()
    values[missing] = None
    return values


def _categories(series, library, source_kind):
    if library == "pandas" and str(series.dtype) == "category":
        return list(series.cat.categories)
    if source_kind == "bool":
        return [False, True]
    observed = [v for v in _object_values(series, library) if v is not None]
    try:
        return sorted(set(observed))
    except TypeError:  # values of several types: order by their text
        return sorted(set(observed), key=str)


class TableCodec:
    """The columns of a fitted table and the way to and from the model matrix.

    Parameters
    ----------
    columns : list of Column
    library : {"pandas", "polars", None}
        What the training table was; None for an array.
    """

    def __init__(self, columns, library):
        self.columns = columns
        self.library = library

    @classmethod
    def fit(cls, X, likelihood="auto"):
        """The codec of a DataFrame (or of a 2-D array when ``likelihood`` is a
        dict naming its columns by position).

        ``likelihood`` is "auto", "gaussian" or "bernoulli" for every column,
        or a dict ``{column: likelihood}`` for some, the rest "auto".
        """
        library = frame_library(X)
        per_column = likelihood if isinstance(likelihood, dict) else {}
        names = list(X.columns) if library else list(range(np.shape(X)[1]))
        unknown = set(per_column) - set(names)
        if unknown:
            raise ValueError(
                f"likelihood names columns {sorted(unknown, key=str)} that X does not "
                f"have; its columns are {names}.")
        columns = []
        for position, name in enumerate(names):
            series, source_kind = cls._series(X, library, position, name)
            wanted = per_column.get(name, likelihood if isinstance(likelihood, str)
                                    else "auto")
            if wanted not in ("auto", *LIKELIHOODS):
                raise ValueError(
                    f"likelihood of column {name!r} must be one of "
                    f"{('auto', *LIKELIHOODS)}, got {wanted!r}.")
            if source_kind not in ("numeric", "bool", "categorical"):
                raise ValueError(
                    f"Column {name!r} has dtype {source_kind}, which skvae cannot "
                    "model: pass numeric, boolean, categorical or string columns "
                    "(convert dates, e.g., to numbers first).")
            if not _can_model(source_kind, wanted):
                raise ValueError(
                    f"likelihood={wanted!r} needs numeric columns, but column "
                    f"{name!r} is {source_kind}. Use likelihood='auto' (the "
                    "default), which models it as categorical.")
            values = (_float_values(series, library) if source_kind != "categorical"
                      else None)
            kind = (column_likelihood(source_kind, values) if wanted == "auto"
                    else wanted)
            categories = None
            if kind == "categorical":
                categories = (_categories(series, library, source_kind)
                              if values is None or source_kind == "bool"
                              else sorted(set(values[~np.isnan(values)].tolist())))
                categories = categories or [None]  # a column never observed
            columns.append(Column(name, kind, categories,
                                  series.dtype if library else None, source_kind))
        return cls(columns, library)

    @staticmethod
    def _series(X, library, position, name):
        if library == "pandas":
            series = X.iloc[:, position]
            return series, _pandas_kind(series)
        if library == "polars":
            series = X.get_column(name)
            return series, _polars_kind(series)
        return np.asarray(X)[:, position].astype(float), "numeric"

    # -- what the network needs ------------------------------------------

    @property
    def likelihoods(self):
        return [column.likelihood for column in self.columns]

    def head_spec(self):
        """The network's likelihood: one name when every column has it (the
        array path, unchanged), the table's column layout otherwise."""
        kinds = self.likelihoods
        if len(set(kinds)) == 1 and kinds[0] != "categorical":
            return kinds[0]
        return {"kinds": kinds,
                "n_categories": [len(c.categories) for c in self.columns
                                 if c.likelihood == "categorical"]}

    def for_model_matrix(self):
        """The codec of this table's model matrix itself: the same columns and
        likelihoods, categories as their codes (the detector's members are
        fitted on the detector's model matrix)."""
        columns = [Column(c.name, c.likelihood,
                          None if c.categories is None
                          else [float(code) for code in range(len(c.categories))],
                          None, "numeric") for c in self.columns]
        return TableCodec(columns, None)

    def is_numeric(self):
        """Whether every column is numeric and modelled as numbers: the model
        matrix is then the input's values as they are."""
        return all(c.likelihood != "categorical" and c.source_kind == "numeric"
                   for c in self.columns)

    # -- to and from the model matrix ------------------------------------

    def encode(self, X, dtype=np.float64):
        """The model matrix of X: one float column per input column, NaN where
        an entry is missing or its category was not seen at fit."""
        library = frame_library(X)
        if library is None:
            X = np.asarray(X, dtype=object) if np.ndim(X) == 2 else np.asarray(X)
        if np.shape(X)[1] != len(self.columns):
            raise ValueError(
                f"X has {np.shape(X)[1]} columns, but the model was fitted on "
                f"{len(self.columns)}.")
        out = np.empty((np.shape(X)[0], len(self.columns)), dtype=dtype)
        for j, column in enumerate(self.columns):
            if library == "pandas":
                series = X.iloc[:, j]
            elif library == "polars":
                series = X.to_series(j)
            else:
                series = X[:, j]
            out[:, j] = self._encode_column(column, series, library)
        return out

    def _encode_column(self, column, series, library):
        if column.likelihood != "categorical":
            if library == "polars" or (library == "pandas" and _pandas_kind(series)
                                       in ("numeric", "bool")):
                return _float_values(series, library)
            return _array_floats(_object_values(series, library) if library
                                 else series, column)
        values = (_object_values(series, library) if library else series)
        if library is None and _all_numbers(column.categories):
            return _codes_of_numbers(_array_floats(values, column), column.categories)
        if library == "pandas" and column.categories != [None]:
            import pandas as pd

            codes = pd.Index(column.categories).get_indexer(values)
            return np.where(codes >= 0, codes, np.nan)
        index = {value: code for code, value in enumerate(column.categories)}
        codes = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            code = index.get(value)
            if code is None and isinstance(value, (np.generic,)):
                code = index.get(value.item())
            if code is not None:
                codes[i] = code
        return codes

    def decode(self, M):
        """A table of the fitted columns from model-matrix rows M: codes
        become their categories, integer and boolean columns are rounded, and
        each column gets its fitted dtype (an array when fitted on one)."""
        columns = {}
        for j, column in enumerate(self.columns):
            columns[column.name] = self._decode_column(column, M[:, j])
        if self.library == "pandas":
            import pandas as pd

            return pd.DataFrame(columns)
        if self.library == "polars":
            import polars as pl

            return pl.DataFrame(columns)
        return np.column_stack([np.asarray(v, dtype=float) for v in columns.values()])

    def _decode_column(self, column, values):
        if column.likelihood == "categorical":
            codes = np.clip(np.round(values), 0, len(column.categories) - 1)
            labels = np.empty(len(values), dtype=object)
            labels[:] = [column.categories[int(c)] for c in codes]
            return self._restore(column, labels)
        return self._restore(column, values)

    def _restore(self, column, values):
        if self.library is None:
            return values
        if self.library == "polars":
            import polars as pl

            return pl.Series(column.name, list(values) if values.dtype == object
                             else _rounded(values, column.dtype), dtype=column.dtype,
                             strict=False)
        import pandas as pd

        dtype = column.dtype
        if str(dtype) == "category":
            return pd.Series(pd.Categorical(values, dtype=dtype))
        if values.dtype == object:
            if column.source_kind == "bool" and str(dtype) != "boolean":
                return pd.Series(values.astype(bool))
            return pd.Series(values, dtype=dtype)
        return pd.Series(_rounded(values, dtype), dtype=dtype)


def _rounded(values, dtype):
    """Values for an integer or boolean column: rounded, within its range."""
    kind = getattr(dtype, "kind", "") or ""
    name = str(dtype)
    if kind == "b" or name == "boolean" or name == "Boolean":
        return values >= 0.5
    if kind in ("i", "u") or name.startswith(("Int", "UInt")):
        try:
            info = np.iinfo(getattr(dtype, "numpy_dtype", dtype))
        except (TypeError, ValueError):
            info = np.iinfo(np.int64)
        return np.clip(np.round(values), info.min, info.max).astype(np.int64)
    return values


def _all_numbers(categories):
    return all(isinstance(c, (int, float, np.number)) and not isinstance(c, bool)
               for c in categories)


def _codes_of_numbers(values, categories):
    """Codes of numeric values among sorted numeric categories; NaN for a
    value that is missing or not a category."""
    categories = np.asarray(categories, dtype=float)
    position = np.clip(np.searchsorted(categories, values), 0, len(categories) - 1)
    return np.where(categories[position] == values, position, np.nan)


def _array_floats(values, column):
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"Column {column.name!r} was numeric at fit and now holds values that "
            "are not numbers.") from None


# -- persistence: a codec as plain data ----------------------------------------


def table_state(table):
    """A codec as plain data (names, strings, lists), for pickle and skops;
    None stays None."""
    if table is None:
        return None
    return {"library": table.library, "columns": [
        {"name": c.name, "likelihood": c.likelihood, "categories": c.categories,
         "dtype": None if c.dtype is None else str(c.dtype),
         "ordered": bool(getattr(c.dtype, "ordered", False)),
         "source_kind": c.source_kind} for c in table.columns]}


def load_table(state):
    if state is None:
        return None
    library = state["library"]
    columns = [Column(c["name"], c["likelihood"], c["categories"],
                      _dtype_from_name(library, c), c["source_kind"])
               for c in state["columns"]]
    return TableCodec(columns, library)


def _dtype_from_name(library, column):
    name = column["dtype"]
    if library is None or name is None:
        return None
    if library == "polars":
        import polars as pl

        return getattr(pl, name.split("(")[0])
    import pandas as pd

    if name == "category":
        return pd.CategoricalDtype(column["categories"], ordered=column["ordered"])
    return pd.api.types.pandas_dtype(name)
