"""Settings take effect at fit (skvae/_estimator/fitted.py, issue 26).

The property family: for every estimator and every public parameter, changing
the parameter with ``set_params`` after fit leaves everything inference
returns bit for bit as it was (values, dtypes, shapes), until the next fit.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skvae import (
    ConditionalVAE,
    VAEClassifier,
    VAEOutlierDetector,
    VAETransformer,
    VQVAETransformer,
)
from skvae._estimator.fitted import fitted_settings

SMALL = dict(hidden_layer_sizes=(8,), random_state=0)

# name: (estimator, labels: "none", "all" or "some" (a quarter unlabeled))
ESTIMATORS = {
    "transformer-lbfgs": (VAETransformer(2, max_iter=5, **SMALL), "none"),
    "transformer-adam-flow-f32": (
        VAETransformer(2, solver="adam", prior="flow", max_iter=2, **SMALL), "none"),
    "transformer-hierarchical": (
        VAETransformer(2, prior="hierarchical", max_iter=5, **SMALL), "none"),
    "transformer-autoregressive": (
        VAETransformer(2, decoder="autoregressive", window=2, max_iter=5, **SMALL),
        "none"),
    "detector-single": (
        VAEOutlierDetector(2, n_estimators=1, max_iter=3, **SMALL), "none"),
    "detector-ensemble": (
        VAEOutlierDetector(n_estimators=2, max_samples=40, n_trim_rounds=1,
                           random_state=0), "none"),
    "conditional": (ConditionalVAE(2, max_iter=5, **SMALL), "all"),
    "conditional-semi": (ConditionalVAE(2, max_iter=3, **SMALL), "some"),
    "classifier-sdgm": (
        VAEClassifier(2, n_auxiliary_components=2, max_iter=2, **SMALL), "some"),
    "vqvae": (VQVAETransformer(2, 4, code_dim=2, max_iter=2, **SMALL), "none"),
}

# Valid values of every public parameter: a test takes the first that differs
# from the estimator's own. A new parameter needs an entry here.
ALTERNATIVES = {
    "n_components": [3, 2],
    "hidden_layer_sizes": [(5, 3), (8,)],
    "activation": ["tanh", "relu"],
    "likelihood": ["bernoulli", "gaussian"],
    "variance_floor": [0.5, 0.25],
    "beta": [2.0, 1.0],
    "kl_warmup": [7, 0],
    "free_bits": [0.5, "auto"],
    "n_importance_samples": [3, 1],
    "prior": ["flow", "normal"],
    "n_flow_layers": [3, 2],
    "flow_hidden_layer_sizes": [(4,), (32,)],
    "n_top_components": [3, 2],
    "top_hidden_layer_sizes": [(4,), (32,)],
    "decoder": ["autoregressive", "mlp"],
    "window": [3, None],
    "solver": ["adam", "lbfgs"],
    "alpha": [0.5, "auto"],
    "batch_size": [7, "auto"],
    "learning_rate_init": [0.5, 0.01],
    "average_decay": [0.5, 0.98],
    "max_iter": [1, 2],
    "tol": [0.5, 1e-4],
    "n_iter_no_change": [2, 3],
    "early_stopping": [True, False],
    "validation_fraction": [0.5, 0.1],
    "random_state": [123, 0],
    "verbose": [1, 0],
    "warm_start": [True, False],
    "score_type": ["log_likelihood", "elbo"],
    "contamination": [0.4, 0.1],
    "log_likelihood_samples": [3, 100],
    "n_estimators": [3, 1],
    "max_samples": [0.5, 256],
    "trim_fraction": [0.4, 0.25],
    "n_trim_rounds": [0, 2],
    "estimator": [VAETransformer(3, hidden_layer_sizes=(4,)), None],
    "classification_weight": [0.5, 10.0],
    "n_auxiliary_components": [0, 3],
    "n_groups": [3, 2],
    "n_codes": [5, 4],
    "code_dim": [3, 2],
    "commitment_cost": [1.0, 0.25],
    "decay": [0.5, 0.99],
    "dead_code_threshold": [0.5, 0.1],
}


def differs(a, b):
    return type(a) is not type(b) or a != b


def alternative(estimator, name):
    current = estimator.get_params(deep=False)[name]
    return next(v for v in ALTERNATIVES[name] if differs(v, current))


def data(labels):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5)) @ rng.normal(size=(5, 5))
    y = np.arange(90) % 3
    if labels == "some":
        y = np.where(np.arange(90) % 4 == 0, -1, y)
    return X, (None if labels == "none" else y), np.arange(90) % 3


_FITTED = {}


def fitted(name):
    """The fitted estimator of ESTIMATORS[name] (fitted once), X and labels."""
    if name not in _FITTED:
        template, labels = ESTIMATORS[name]
        X, y_fit, y = data(labels)
        if name.endswith("f32"):
            X = X.astype(np.float32)
        estimator = clone(template)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X) if y_fit is None else estimator.fit(X, y_fit)
        _FITTED[name] = estimator, X, (None if y_fit is None else y)
    estimator, X, y = _FITTED[name]
    return pickle.loads(pickle.dumps(estimator)), X, y


def inference(estimator, X, y):
    """Everything the fitted estimator's inference returns on X (and y)."""
    out = {}

    def call(key, name, *args, **kwargs):
        method = getattr(estimator, name, None)
        if method is not None:
            out[key] = method(*args, **kwargs)

    labels = {} if y is None else {"y": y}
    call("transform", "transform", X)
    if isinstance(estimator, (VAETransformer, ConditionalVAE)):
        Z, Z_std = estimator.transform(X, return_std=True)
        out["transform_std"] = Z_std
        out["inverse_transform"] = estimator.inverse_transform(Z, **labels)
        out["sample"] = estimator.sample(6, random_state=0)
        out["feature_names"] = estimator.get_feature_names_out()
    if isinstance(estimator, VQVAETransformer):
        codes = estimator.encode(X)
        out.update(encode=codes, decode=estimator.decode(codes),
                   inverse_transform=estimator.inverse_transform(
                       estimator.transform(X)),
                   sample=estimator.sample(6, random_state=0),
                   feature_names=estimator.get_feature_names_out())
    if isinstance(estimator, VAEClassifier):
        out["sample"] = estimator.sample(6, random_state=0)
        call("score", "score", X, y)
    else:
        call("score_samples", "score_samples", X, **labels)
        call("score", "score", X, **labels)
    if isinstance(estimator, ConditionalVAE):
        out["score_samples_marginal"] = estimator.score_samples(X)
    call("sample_latent", "sample_latent", 6, random_state=0)
    call("log_likelihood", "log_likelihood", X, n_samples=5)
    call("reconstruction_error", "reconstruction_error", X)
    for name in ("predict", "predict_proba", "predict_log_proba",
                 "decision_function"):
        call(name, name, X)
    return out


def assert_same(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        values = value if isinstance(value, tuple) else (value,)
        news = after[key] if isinstance(after[key], tuple) else (after[key],)
        for old, new in zip(values, news, strict=True):
            old, new = np.asarray(old), np.asarray(new)
            assert old.dtype == new.dtype, key
            np.testing.assert_array_equal(new, old, err_msg=key, strict=True)


CASES = [(name, param) for name, (estimator, _) in ESTIMATORS.items()
         for param in estimator.get_params(deep=False)]


def test_every_parameter_has_an_alternative():
    missing = {param for _, param in CASES} - set(ALTERNATIVES)
    assert not missing


@pytest.mark.parametrize(("name", "param"), CASES)
def test_set_params_after_fit_leaves_inference_as_fitted(name, param):
    estimator, X, y = fitted(name)
    before = inference(estimator, X, y)
    estimator.set_params(**{param: alternative(estimator, param)})
    assert_same(before, inference(estimator, X, y))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_all_parameters_changed_at_once_leave_inference_as_fitted(name):
    estimator, X, y = fitted(name)
    before = inference(estimator, X, y)
    estimator.set_params(**{param: alternative(estimator, param)
                            for param in estimator.get_params(deep=False)})
    assert_same(before, inference(estimator, X, y))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fit_freezes_the_settings_inference_reads(name):
    estimator, _, _ = fitted(name)
    params = estimator.get_params(deep=False)
    frozen = fitted_settings(estimator)
    assert frozen == {key: params[key] for key in frozen}
    if name != "detector-ensemble":
        assert set(frozen) == set(estimator._fitted_settings)


@pytest.mark.parametrize("cls", [VAETransformer, ConditionalVAE, VAEClassifier,
                                 VAEOutlierDetector, VQVAETransformer])
def test_every_frozen_setting_is_a_documented_attribute(cls):
    attributes = cls.__doc__.split("Attributes\n    ----------")[1]
    documented = set()
    for line in re.findall(r"^    (\w.*) : ", attributes, re.M):
        documented.update(name.strip() for name in line.split(","))
    assert {f"{name}_" for name in cls._fitted_settings} <= documented


def test_the_reproducers_of_the_issue():
    X = np.random.default_rng(0).normal(size=(150, 4))
    detector = VAEOutlierDetector(n_estimators=1, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
        vae = VAETransformer(n_components=2, max_iter=5, random_state=0).fit(X)
    labels = detector.predict(X)
    detector.set_params(score_type="elbo")
    np.testing.assert_array_equal(detector.predict(X), labels)
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=0.02)
    Z = vae.transform(X)
    vae.set_params(n_components=3)
    np.testing.assert_array_equal(vae.transform(X), Z)
    assert vae.inverse_transform(Z).shape == X.shape
    with pytest.raises(ValueError, match="n_components=2 columns, got 3"):
        vae.inverse_transform(np.zeros((2, 3)))


def test_a_refit_takes_the_new_settings():
    estimator, X, _ = fitted("transformer-lbfgs")
    estimator.set_params(n_components=3, prior="flow")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    assert (estimator.n_components_, estimator.prior_) == (3, "flow")
    assert estimator.transform(X).shape == (len(X), 3)


def test_bernoulli_support_is_that_of_the_fitted_likelihood():
    # Gaussian fit on data outside [0, 1]: a later likelihood="bernoulli"
    # does not refuse them, and a Bernoulli fit refuses them whatever the
    # parameter says now.
    estimator, X, _ = fitted("transformer-lbfgs")
    scores = estimator.score_samples(X)
    estimator.set_params(likelihood="bernoulli")
    np.testing.assert_array_equal(estimator.score_samples(X), scores)
    bernoulli = VAETransformer(likelihood="bernoulli", max_iter=2, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bernoulli.fit((X > 0).astype(float))
    bernoulli.set_params(likelihood="gaussian")
    with pytest.raises(ValueError, match="needs X in"):
        bernoulli.transform(X)


@pytest.mark.parametrize("name", ["transformer-lbfgs", "detector-single",
                                  "detector-ensemble", "vqvae"])
def test_a_model_saved_before_the_freeze_loads_with_its_settings(name):
    # Models saved before fit froze n_components_ and the rest hold only the
    # parameters: loading takes the settings from them.
    estimator, X, y = fitted(name)
    before = inference(estimator, X, y)
    state = estimator.__getstate__()
    for setting in estimator._fitted_settings:
        state.pop(f"{setting}_", None)
    old = type(estimator).__new__(type(estimator))
    old.__setstate__(state)
    assert_same(before, inference(old, X, y))
    assert fitted_settings(old) == fitted_settings(estimator)


def test_dask_inference_reads_the_fitted_settings():
    da = pytest.importorskip("dask.array")
    estimator, X, _ = fitted("transformer-lbfgs")
    lazy = da.from_array(X, chunks=30)
    Z = estimator.transform(lazy).compute()
    scores = estimator.score_samples(lazy).compute()
    estimator.set_params(n_components=3, likelihood="bernoulli")
    np.testing.assert_array_equal(estimator.transform(lazy).compute(), Z)
    np.testing.assert_array_equal(estimator.score_samples(lazy).compute(), scores)
    decoded = estimator.inverse_transform(da.from_array(Z, chunks=30)).compute()
    np.testing.assert_array_equal(decoded, estimator.inverse_transform(Z))


def test_displays_draw_the_fitted_model(pyplot):
    from skvae.plotting import LatentSpaceDisplay, PosteriorDisplay

    estimator, X, _ = fitted("transformer-lbfgs")
    estimator.set_params(n_components=1, prior="flow")
    latent = LatentSpaceDisplay.from_estimator(estimator, X, projection="pca")
    assert latent.codes.shape == (len(X), 2)
    posterior = PosteriorDisplay.from_estimator(estimator, X[0], random_state=0)
    assert posterior.prior_draws is None  # the fitted prior is N(0, I)


# -- what a continued fit honours -----------------------------------------------


def quiet(method, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return method(*args)


def test_partial_fit_after_an_lbfgs_fit_is_one_epoch_of_adam():
    X = np.random.default_rng(0).normal(size=(50, 4))
    vae = quiet(VAETransformer(max_iter=40, **SMALL).fit, X)
    assert vae.solver_ == "lbfgs"
    n_iter = vae.n_iter_
    params = vae._network.params.copy()
    vae.partial_fit(X)
    assert vae.n_iter_ == n_iter + 1 and vae.solver_ == "adam"
    assert vae._optimizer.t == 1  # one minibatch of 50 rows, a fresh Adam
    assert not np.array_equal(vae._network.params, params)
    vae.partial_fit(X)
    assert vae.n_iter_ == n_iter + 2 and vae._optimizer.t == 2


@pytest.mark.parametrize(("first", "then"), [("lbfgs", "adam"), ("adam", "lbfgs")])
def test_a_warm_start_trains_with_the_solver_asked_for(first, then):
    X = np.random.default_rng(0).normal(size=(120, 4))
    vae = VAETransformer(solver=first, max_iter=3, warm_start=True, **SMALL)
    quiet(vae.fit, X)
    network = vae._network
    quiet(vae.set_params(solver=then, max_iter=2).fit, X)
    assert vae._network is network and vae.solver_ == then
    assert vae.n_iter_ == 5 and len(vae.loss_curve_) == 5
    assert (vae._optimizer is None) == (then == "lbfgs")
    quiet(vae.set_params(solver="auto", max_iter=1).fit, X)
    assert vae.solver_ == then and vae.n_iter_ == 6
    vae.partial_fit(X)
    assert vae.solver_ == "adam" and vae.n_iter_ == 7


def test_a_warm_start_reads_the_detectors_other_settings_anew():
    X = np.random.default_rng(0).normal(size=(80, 4))
    detector = VAEOutlierDetector(2, n_estimators=1, max_iter=2, warm_start=True,
                                  score_type="log_likelihood", **SMALL)
    quiet(detector.fit, X)
    quiet(detector.set_params(log_likelihood_samples=7, contamination=0.3).fit, X)
    assert detector.log_likelihood_samples_ == 7
    np.testing.assert_array_equal(
        detector.score_samples(X), detector._log_likelihood(X, 7, None))
    assert np.mean(detector.predict(X) == -1) == pytest.approx(0.3, abs=0.02)
    detector.set_params(n_components=3)
    with pytest.raises(ValueError, match="must stay as they were"):
        detector.fit(X)


# -- what inference returns keeps the fit's float32 --------------------------------


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_every_float_output_of_a_float32_fit_is_float32(name):
    template, labels = ESTIMATORS[name]
    X, y_fit, y = data(labels)
    X = X.astype(np.float32)
    estimator = clone(template)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X) if y_fit is None else estimator.fit(X, y_fit)
    wrong = {}
    for key, value in inference(estimator, X, None if y_fit is None else y).items():
        for array in value if isinstance(value, tuple) else (value,):
            array = np.asarray(array)
            if array.ndim and array.dtype.kind == "f" and array.dtype != np.float32:
                wrong[key] = array.dtype
    assert not wrong


def test_partial_fit_follows_a_new_learning_rate_and_refuses_a_new_average_decay():
    X = np.random.default_rng(0).normal(size=(60, 4))
    vae = VAETransformer(solver="adam", **SMALL).partial_fit(X)
    vae.set_params(learning_rate_init=0.05).partial_fit(X)
    assert vae._optimizer.learning_rate_init == 0.05 and vae.n_iter_ == 2
    vae.set_params(average_decay=0.5)
    with pytest.raises(ValueError, match="average_decay=0.98.*discard_optimizer"):
        vae.partial_fit(X)
    assert vae.n_iter_ == 2  # left as it was
    vae.discard_optimizer_state().partial_fit(X)
    assert vae._optimizer.average_decay == 0.5 and vae.n_iter_ == 3
    vq = VQVAETransformer(2, 4, code_dim=2, **SMALL).partial_fit(X)
    vq.set_params(learning_rate_init=0.05).partial_fit(X)
    assert vq._optimizer.learning_rate_init == 0.05


@pytest.mark.parametrize("name", ["transformer-lbfgs", "vqvae"])
def test_a_continued_fit_refuses_a_new_variance_floor(name):
    estimator, X, _ = fitted(name)
    before = inference(estimator, X, None)
    estimator.set_params(variance_floor=0.5)
    if name == "vqvae":
        method = estimator.partial_fit
    else:
        method = estimator.set_params(warm_start=True).fit
    with pytest.raises(ValueError, match=r"started from variance_floor=.*\(now 0.5\)"):
        method(X)
    assert_same(before, inference(estimator, X, None))
