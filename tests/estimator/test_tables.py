"""The table codec: DataFrame columns to the model matrix and back."""

import numpy as np
import pytest

from skvae._estimator.tables import TableCodec, column_likelihood

pd = pytest.importorskip("pandas")


def frame():
    return pd.DataFrame({
        "age": [23.0, 45.0, 31.0, np.nan],
        "sex": pd.Categorical(["m", "f", "f", None]),
        "city": pd.Series(["a", "b", "c", "a"], dtype=object),
        "flag": [True, False, True, True],
        "y01": [0, 1, 1, 0],
        "income": np.array([1.5, 2.5, 3.5, 4.5], dtype=np.float32),
        "text": pd.array(["x", "y", None, "x"], dtype="string"),
        "count": pd.array([1, None, 3, 4], dtype="Int64"),
        "size": pd.Categorical(["s", "l", "m", "s"], categories=["s", "m", "l"],
                               ordered=True),
    })


def test_auto_rule_from_the_dtypes():
    codec = TableCodec.fit(frame())
    assert codec.likelihoods == ["gaussian", "categorical", "categorical",
                                 "categorical", "bernoulli", "gaussian",
                                 "categorical", "gaussian", "categorical"]
    categories = {c.name: c.categories for c in codec.columns}
    assert categories["sex"] == ["f", "m"]  # the dtype's categories
    assert categories["size"] == ["s", "m", "l"]  # in the dtype's order
    assert categories["city"] == ["a", "b", "c"]
    assert categories["flag"] == [False, True]


def test_encode_gives_codes_and_nan_for_missing_or_unseen():
    codec = TableCodec.fit(frame())
    M = codec.encode(frame())
    np.testing.assert_array_equal(M[:, 2], [0, 1, 2, 0])
    np.testing.assert_array_equal(M[:, 8], [0, 2, 1, 0])
    assert np.isnan(M[3, 0]) and np.isnan(M[3, 1]) and np.isnan(M[2, 6])
    assert np.isnan(M[1, 7])
    unseen = frame()
    unseen.loc[0, "city"] = "zzz"
    assert np.isnan(codec.encode(unseen)[0, 2])


def test_decode_restores_columns_dtypes_and_categories():
    data = frame()
    codec = TableCodec.fit(data)
    M = np.nan_to_num(codec.encode(data), nan=0.4)
    out = codec.decode(M)
    assert list(out.columns) == list(data.columns)
    assert out.dtypes.tolist() == data.dtypes.tolist()
    assert out["size"].cat.ordered
    assert out.loc[1, "city"] == "b" and out.loc[1, "size"] == "l"
    assert out["count"].tolist() == [1, 0, 3, 4]  # integer columns are rounded


def test_head_spec_is_one_name_without_categories():
    numeric = pd.DataFrame({"a": [0.5, 1.5], "b": [2.0, 3.0]})
    assert TableCodec.fit(numeric).head_spec() == "gaussian"
    spec = TableCodec.fit(frame()).head_spec()
    assert spec["n_categories"] == [2, 3, 2, 2, 3]


def test_per_column_likelihoods_and_clear_refusals():
    data = frame()
    codec = TableCodec.fit(data, {"y01": "categorical", "age": "gaussian"})
    assert codec.likelihoods[4] == "categorical"
    with pytest.raises(ValueError, match="needs numeric columns.*'city'"):
        TableCodec.fit(data, {"city": "gaussian"})
    with pytest.raises(ValueError, match="does not have"):
        TableCodec.fit(data, {"nope": "gaussian"})
    with pytest.raises(ValueError, match="must be one of"):
        TableCodec.fit(data, {"age": "poisson"})
    dates = pd.DataFrame({"d": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    with pytest.raises(ValueError, match="cannot model"):
        TableCodec.fit(dates)


def test_an_array_names_its_columns_by_position():
    X = np.array([[0.5, 2.0], [1.5, 3.0], [1.0, 2.0]])
    codec = TableCodec.fit(X, {1: "categorical"})
    assert codec.likelihoods == ["gaussian", "categorical"]
    np.testing.assert_array_equal(codec.encode(X)[:, 1], [0, 1, 0])
    np.testing.assert_array_equal(codec.decode(codec.encode(X)), X)


def test_model_matrix_codec_reads_codes():
    codec = TableCodec.fit(frame()).for_model_matrix()
    M = TableCodec.fit(frame()).encode(frame())
    np.testing.assert_array_equal(codec.encode(M), M)


def test_column_likelihood_rule():
    assert column_likelihood("numeric", np.array([0.0, 1.0, np.nan])) == "bernoulli"
    assert column_likelihood("numeric", np.array([0.0, 2.0])) == "gaussian"
    assert column_likelihood("bool", None) == "categorical"


def test_polars_round_trip():
    pl = pytest.importorskip("polars")
    data = pl.DataFrame({"a": [1.0, 2.0, None], "b": ["x", "y", "x"],
                         "c": [1, 2, 3]})
    codec = TableCodec.fit(data)
    assert codec.likelihoods == ["gaussian", "categorical", "gaussian"]
    M = codec.encode(data)
    assert np.isnan(M[2, 0])
    out = codec.decode(np.nan_to_num(M))
    assert out.columns == data.columns and out.dtypes == data.dtypes
