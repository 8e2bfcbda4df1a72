"""Golden outputs: record what every estimator computes, and compare two records.

A guard for refactors that must not change behaviour (a module moved, a
function shared): record at the commit before the change, record again
after, and compare bit for bit::

    python benchmarks/golden.py record before.npz
    ... change the code ...
    python benchmarks/golden.py record after.npz
    python benchmarks/golden.py compare before.npz after.npz --pickles before_pickles

``record OUT.npz`` fits every case of :data:`CASES` (each estimator, each
model variant, both solvers, both dtypes, the sample-weight, warm-start,
partial-fit and dask paths) on small bundled data and stores, under
``case/what``, everything public the fitted estimator computes (transforms,
inverse transforms, samples, scores, predictions), its public fitted
attributes (``loss_curve_``, ``n_iter_``, ``offset_``, ...), the arrays and
numbers of its saved state (``__getstate__``) and the warnings its fit
raised.  It also pickles each fitted estimator (and saves it with skops when
skops is installed) to ``OUT_pickles/``.

``compare A.npz B.npz`` prints every key whose values differ (with the
largest absolute difference) or that only one record has, and exits 1 if
any.  Equality is ``np.array_equal`` with NaN equal to NaN: bit for bit, no
tolerance.  With ``--pickles DIR`` it also loads the estimators that the
record A saved in DIR with the code installed now, recomputes their outputs
and compares them with A: saved models survive the change.

Only the public API is used, so the script runs unchanged on both sides of
a refactor.  BLAS threads change floating-point sums, so the script runs
BLAS on one thread (``threadpoolctl``), for ``record`` and for the recomputed
outputs of ``compare --pickles`` alike.
"""

import argparse
import inspect
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, make_blobs
from threadpoolctl import threadpool_limits

import skvae
from skvae import (
    ConditionalVAE,
    VAEClassifier,
    VAEOutlierDetector,
    VAETransformer,
    VQVAETransformer,
)
from skvae.datasets import make_patterns

PUBLIC_CLASSES = (ConditionalVAE, VAEClassifier, VAEOutlierDetector,
                  VAETransformer, VQVAETransformer)


# -- data ----------------------------------------------------------------------


def blobs(dtype=np.float64):
    """Three Gaussian clusters in 6 dimensions: 240 rows and their cluster."""
    X, y = make_blobs(n_samples=240, n_features=6, centers=3, random_state=0)
    return X.astype(dtype), y


def digits(dtype=np.float64):
    """The first 300 digits, scaled to [0, 1] (Bernoulli data), and their class."""
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(dtype), y[:300]


def patterns(dtype=np.float64):
    """200 noisy 4x4 patterns in [0, 1] and their type."""
    X, y = make_patterns(200, random_state=0)
    return X.astype(dtype), y


def some_unlabeled(y):
    """y with every third label replaced by -1 (unlabeled)."""
    y = y.copy()
    y[::3] = -1
    return y


def weights(n_rows):
    return np.random.default_rng(0).uniform(0.2, 2.0, size=n_rows)


# -- how each case fits --------------------------------------------------------


def fit(estimator, X, y):
    return estimator.fit(X) if y is None else estimator.fit(X, y)


def fit_weighted(estimator, X, y):
    w = weights(len(X))
    if y is None:
        return estimator.fit(X, sample_weight=w)
    return estimator.fit(X, y, sample_weight=w)


def fit_twice(estimator, X, y):
    """warm_start: a second fit continues from the first."""
    fit(estimator, X, y)
    estimator.set_params(max_iter=10)
    return fit(estimator, X, y)


def fit_partially(estimator, X, y):
    """Three partial_fit calls on halves of the data."""
    half = len(X) // 2
    for rows in (slice(None, half), slice(half, None), slice(None)):
        estimator.partial_fit(X[rows])
    return estimator


def fit_dask(estimator, X, y):
    import dask.array as da

    return estimator.fit(da.from_array(X, chunks=60))


# -- the cases -----------------------------------------------------------------

# Short fits: the record checks that the computation is unchanged, not that
# the models are good.
LBFGS = dict(solver="lbfgs", max_iter=30, random_state=0)
ADAM = dict(solver="adam", max_iter=8, random_state=0)
SEMI = dict(hidden_layer_sizes=(32,), max_iter=8, random_state=0)
VQ = dict(hidden_layer_sizes=(32,), max_iter=8, random_state=0)

# name: (estimator, data, dtype, labels ("none", "all", "some"), fit)
CASES = {
    # VAETransformer: solvers, dtypes, defaults
    "vae_lbfgs_f64": (VAETransformer(**LBFGS), blobs, np.float64, "none", fit),
    "vae_lbfgs_f32": (VAETransformer(**LBFGS), blobs, np.float32, "none", fit),
    "vae_adam_f64": (VAETransformer(**ADAM), blobs, np.float64, "none", fit),
    "vae_adam_f32": (VAETransformer(**ADAM), blobs, np.float32, "none", fit),
    "vae_adam_early_stopping": (
        VAETransformer(**ADAM, early_stopping=True), blobs, np.float64, "none", fit),
    "vae_defaults": (
        VAETransformer(max_iter=30, random_state=0), digits, np.float64, "none", fit),
    # the model variants
    "vae_bernoulli": (
        VAETransformer(likelihood="bernoulli", **LBFGS), digits, np.float64, "none",
        fit),
    "vae_bernoulli_adam_f32": (
        VAETransformer(likelihood="bernoulli", **ADAM), digits, np.float32, "none",
        fit),
    "vae_beta": (VAETransformer(beta=2.0, **LBFGS), blobs, np.float64, "none", fit),
    "vae_free_bits": (
        VAETransformer(free_bits=0.5, **LBFGS), blobs, np.float64, "none", fit),
    "vae_kl_warmup_lbfgs": (
        VAETransformer(kl_warmup=10, **LBFGS), blobs, np.float64, "none", fit),
    "vae_kl_warmup_adam": (
        VAETransformer(kl_warmup=4, **ADAM), blobs, np.float64, "none", fit),
    "vae_iwae": (
        VAETransformer(n_importance_samples=4, **LBFGS), blobs, np.float64, "none",
        fit),
    "vae_iwae_adam_f32": (
        VAETransformer(n_importance_samples=3, **ADAM), blobs, np.float32, "none",
        fit),
    "vae_flow": (VAETransformer(prior="flow", **LBFGS), blobs, np.float64, "none", fit),
    "vae_flow_adam_f32": (
        VAETransformer(prior="flow", **ADAM), blobs, np.float32, "none", fit),
    "vae_hierarchical": (
        VAETransformer(prior="hierarchical", **LBFGS), blobs, np.float64, "none", fit),
    "vae_hierarchical_adam_f32": (
        VAETransformer(prior="hierarchical", **ADAM), blobs, np.float32, "none", fit),
    "vae_autoregressive": (
        VAETransformer(decoder="autoregressive", likelihood="bernoulli", **LBFGS),
        patterns, np.float64, "none", fit),
    "vae_autoregressive_window_f32": (
        VAETransformer(decoder="autoregressive", window=3, **ADAM),
        patterns, np.float32, "none", fit),
    # the other fit paths
    "vae_sample_weight": (VAETransformer(**LBFGS), blobs, np.float64, "none",
                          fit_weighted),
    "vae_sample_weight_adam": (VAETransformer(**ADAM), blobs, np.float64, "none",
                               fit_weighted),
    "vae_warm_start": (VAETransformer(warm_start=True, **LBFGS), blobs, np.float64,
                       "none", fit_twice),
    "vae_partial_fit": (VAETransformer(**ADAM), blobs, np.float64, "none",
                        fit_partially),
    "vae_dask": (VAETransformer(**LBFGS), blobs, np.float64, "none", fit_dask),
    # VAEOutlierDetector: each score
    "outlier_elbo": (VAEOutlierDetector(score_type="elbo", **LBFGS), blobs,
                     np.float64, "none", fit),
    "outlier_log_likelihood": (
        VAEOutlierDetector(score_type="log_likelihood", log_likelihood_samples=20,
                           **LBFGS), blobs, np.float64, "none", fit),
    "outlier_reconstruction": (
        VAEOutlierDetector(score_type="reconstruction", **LBFGS), blobs, np.float64,
        "none", fit),
    "outlier_auto_adam_f32": (
        VAEOutlierDetector(contamination="auto", **ADAM), blobs, np.float32, "none",
        fit),
    # ConditionalVAE: labeled, semi-supervised
    "conditional": (ConditionalVAE(**LBFGS), blobs, np.float64, "all", fit),
    "conditional_adam_f32": (ConditionalVAE(**ADAM), blobs, np.float32, "all", fit),
    "conditional_semi": (ConditionalVAE(**LBFGS), blobs, np.float64, "some", fit),
    "conditional_weighted": (ConditionalVAE(**LBFGS), blobs, np.float64, "some",
                             fit_weighted),
    # VAEClassifier: M2 and the SDGM (the default)
    "classifier_m2": (VAEClassifier(n_auxiliary_components=0, **SEMI), digits,
                      np.float64, "some", fit),
    "classifier_sdgm": (VAEClassifier(**SEMI), digits, np.float64, "some", fit),
    "classifier_sdgm_f32": (VAEClassifier(**SEMI), digits, np.float32, "some", fit),
    "classifier_m2_lbfgs": (
        VAEClassifier(n_auxiliary_components=0, solver="lbfgs",
                      **{**SEMI, "max_iter": 20}), blobs, np.float64, "all", fit),
    "classifier_sdgm_weighted": (VAEClassifier(**SEMI), digits, np.float64, "some",
                                 fit_weighted),
    # VQVAETransformer
    "vq_f64": (VQVAETransformer(**VQ), blobs, np.float64, "none", fit),
    "vq_f32": (VQVAETransformer(**VQ), blobs, np.float32, "none", fit),
    "vq_bernoulli": (VQVAETransformer(likelihood="bernoulli", **VQ), digits,
                     np.float64, "none", fit),
    "vq_sample_weight": (VQVAETransformer(**VQ), blobs, np.float64, "none",
                         fit_weighted),
    "vq_partial_fit": (VQVAETransformer(**VQ), blobs, np.float64, "none",
                       fit_partially),
}


def has_dask():
    try:
        import dask.array  # noqa: F401
    except ImportError:
        return False
    return True


def case_data(name):
    """X, the labels to fit on and the labels to score with (all known)."""
    _, data, dtype, labels, _ = CASES[name]
    X, y = data(dtype)
    if labels == "none":
        return X, None, None
    return X, (some_unlabeled(y) if labels == "some" else y), y


# -- what is recorded ----------------------------------------------------------


def flatten(value, key, out):
    """Store value under key: arrays and numbers as arrays, containers by item."""
    if isinstance(value, dict):
        for name, item in value.items():
            flatten(item, f"{key}/{name}", out)
    elif isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (float, np.number)) or type(v) is int
                         for v in value):
            out[key] = np.asarray(value)
            return
        for i, item in enumerate(value):
            flatten(item, f"{key}/{i}", out)
        out[f"{key}/len"] = np.asarray(len(value))
    elif isinstance(value, np.ndarray):
        out[key] = value.astype(str) if value.dtype == object else value
    elif value is None:
        out[key] = np.asarray("None")
    elif isinstance(value, int) and not isinstance(value, bool):
        # PCG64 states are 128-bit integers
        out[key] = np.asarray(value if abs(value) < 2**63 else str(value))
    elif isinstance(value, (bool, float, str, np.generic)):
        out[key] = np.asarray(value)
    elif hasattr(value, "compute"):  # a lazy dask result
        flatten(value.compute(), key, out)
    else:  # a type the saved state should not hold: record which
        out[key] = np.asarray(
            f"<{type(value).__module__}.{type(value).__qualname__}>")


def accepts(method, name):
    return name in inspect.signature(method).parameters


def outputs(estimator, X, y):
    """Everything public the fitted estimator computes on X (and y)."""
    out = {}

    def call(key, name, *args, **kwargs):
        method = getattr(estimator, name, None)
        if method is None:
            return
        if (y is not None and name != "sample" and accepts(method, "y")
                and "y" not in kwargs):
            kwargs["y"] = y
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flatten(method(*args, **kwargs), key, out)

    call("transform", "transform", X)
    if accepts(getattr(estimator, "transform", lambda X: None), "return_std"):
        call("transform_std", "transform", X, return_std=True)
    if hasattr(estimator, "transform"):
        call("inverse_transform", "inverse_transform", estimator.transform(X))
    call("encode", "encode", X)
    call("sample", "sample", 7, random_state=0)
    if hasattr(estimator, "classes_"):
        chosen = estimator.classes_[np.arange(7) % len(estimator.classes_)]
        call("sample_classes", "sample", 7, y=chosen, random_state=0)
    call("sample_latent", "sample_latent", 7, random_state=0)
    call("score_samples", "score_samples", X)
    call("score", "score", X)
    if y is not None and hasattr(estimator, "score_samples"):
        call("score_samples_marginal", "score_samples", X, y=None)
    call("log_likelihood", "log_likelihood", X, n_samples=20, random_state=0)
    call("reconstruction_error", "reconstruction_error", X)
    for name in ("predict", "predict_proba", "predict_log_proba",
                 "decision_function"):
        call(name, name, X)
    if has_dask() and isinstance(estimator, VAETransformer):
        import dask.array as da

        lazy = da.from_array(X, chunks=70)
        call("dask/transform", "transform", lazy)
        call("dask/score_samples", "score_samples", lazy)
        call("dask/inverse_transform", "inverse_transform", estimator.transform(lazy))
    for name in dir(estimator):  # public fitted attributes, properties included
        if name.endswith("_") and not name.startswith("_"):
            try:
                value = getattr(estimator, name)
            except AttributeError:
                continue
            flatten(value, f"attr/{name}", out)
    flatten(estimator.__getstate__(), "state", out)
    return out


def record_case(name, pickles):
    template, _, _, _, fit_case = CASES[name]
    X, y_fit, y = case_data(name)
    estimator = template.__class__(**template.get_params())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_case(estimator, X, y_fit)
    out = outputs(estimator, X, y)
    # A warning should point at the caller's line (its stacklevel): say whether
    # it does, not the file it points at, which a move inside skvae renames.
    out["fit_warnings"] = np.asarray(sorted(
        f"{w.category.__name__}: {w.message} "
        f"[at {'the caller' if w.filename == __file__ else 'another file'}]"
        for w in caught) or ["none"])
    (pickles / f"{name}.pkl").write_bytes(pickle.dumps(estimator))
    try:
        import skops.io as sio
    except ImportError:
        pass
    else:
        sio.dump(estimator, pickles / f"{name}.skops")
    return out


def record(path):
    path = Path(path)
    pickles = path.with_name(path.stem + "_pickles")
    pickles.mkdir(parents=True, exist_ok=True)
    with_dask = has_dask()
    if with_dask:
        import dask

        dask.config.set(scheduler="synchronous")
    result = {"skvae_version": np.asarray(skvae.__version__)}
    for name in CASES:
        if name.endswith("_dask") and not with_dask:
            continue
        for key, value in record_case(name, pickles).items():
            result[f"{name}/{key}"] = value
        print(f"recorded {name}", flush=True)
    np.savez(path, **result)
    print(f"{len(result)} arrays in {path}; estimators saved in {pickles}/")


# -- comparison ----------------------------------------------------------------


def difference(a, b):
    """None if a and b are equal bit for bit (NaN equal to NaN), else a message."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"shape/dtype {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    if a.dtype.kind in "fc":
        if np.array_equal(a, b, equal_nan=True):
            return None
        both = np.isfinite(a) & np.isfinite(b)
        diff = np.abs(a[both] - b[both]).max() if both.any() else np.nan
        return f"max abs diff {diff:.3g}"
    if np.array_equal(a, b):
        return None
    return f"{a.ravel()[:3]} vs {b.ravel()[:3]}"


def compare_dicts(a, b, label):
    """Print the keys that differ; return their number."""
    n_different = 0
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            print(f"{label}{key}: only in {'B' if key not in a else 'A'}")
            n_different += 1
            continue
        message = difference(a[key], b[key])
        if message is not None:
            print(f"{label}{key}: {message}")
            n_different += 1
    return n_different


def compare_pickles(a, directory):
    """Load the estimators saved with A and compare their outputs with A's."""
    import importlib.util

    sio = None
    if importlib.util.find_spec("skops") is not None:
        import skops.io as sio
    public = {f"{cls.__module__}.{cls.__name__}" for cls in PUBLIC_CLASSES}
    n_different = n_loaded = 0
    for name in CASES:
        prefix = f"{name}/"
        expected = {k[len(prefix):]: v for k, v in a.items() if k.startswith(prefix)}
        expected.pop("fit_warnings", None)
        if not expected:
            continue
        X, _, y = case_data(name)
        loaded = {"pickle": pickle.loads((directory / f"{name}.pkl").read_bytes())}
        skops_file = directory / f"{name}.skops"
        if sio is not None and skops_file.exists():
            untrusted = sio.get_untrusted_types(file=skops_file)
            if not set(untrusted) <= public:
                print(f"skops:{name}: asks to trust {untrusted}")
                n_different += 1
            loaded["skops"] = sio.load(skops_file, trusted=untrusted)
        for kind, estimator in loaded.items():
            n_different += compare_dicts(expected, outputs(estimator, X, y),
                                         f"{kind}:{name}/")
            n_loaded += 1
    print(f"{n_loaded} saved estimators loaded and recomputed")
    return n_different


def compare(path_a, path_b, pickles=None):
    with np.load(path_a) as file_a, np.load(path_b) as file_b:
        a, b = dict(file_a), dict(file_b)
    a.pop("skvae_version"), b.pop("skvae_version")
    n_different = compare_dicts(a, b, "")
    print(f"{len(set(a) | set(b))} keys, {n_different} differ")
    if pickles is not None:
        if has_dask():
            import dask

            dask.config.set(scheduler="synchronous")
        n_pickles = compare_pickles(a, Path(pickles))
        print(f"{n_pickles} outputs of saved estimators differ")
        n_different += n_pickles
    return 1 if n_different else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    record_parser = commands.add_parser("record", help="fit every case and save")
    record_parser.add_argument("out")
    compare_parser = commands.add_parser("compare", help="compare two records")
    compare_parser.add_argument("a")
    compare_parser.add_argument("b")
    compare_parser.add_argument("--pickles", help="estimators saved with A")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1, user_api="blas"):
        if args.command == "record":
            record(args.out)
            return 0
        return compare(args.a, args.b, args.pickles)


if __name__ == "__main__":
    sys.exit(main())
