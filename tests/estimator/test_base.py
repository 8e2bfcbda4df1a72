"""The one fit path of the estimators (skvae/_estimator/base.py, source.py).

Fits here are short: they check where the fit's warnings point and which
fitted attributes it sets, not the models' quality.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import ConditionalVAE, VAEClassifier, VAEOutlierDetector, VAETransformer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 4))
Y = (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("estimator, method, y", [
    (VAETransformer(solver="lbfgs", max_iter=3), "fit", None),
    (VAETransformer(solver="adam", max_iter=2), "fit", None),
    (VAETransformer(solver="lbfgs", max_iter=3), "fit_transform", None),
    (VAEOutlierDetector(n_estimators=1, solver="lbfgs", max_iter=3), "fit", None),
    (ConditionalVAE(solver="lbfgs", max_iter=3), "fit", Y),
    (VAEClassifier(hidden_layer_sizes=(8,), max_iter=2), "fit", Y),
], ids=["lbfgs", "adam", "fit_transform", "detector", "conditional", "classifier"])
def test_convergence_warning_points_at_the_caller(estimator, method, y):
    # However many frames lie between (decorators, _fit_labels, set_output's
    # wrapper of fit_transform), the warning names the line that called fit.
    estimator.set_params(random_state=0)
    args = (X,) if y is None else (X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(estimator, method)(*args)
    (warning,) = [w for w in caught if w.category is ConvergenceWarning]
    assert warning.filename == __file__


# -- the "auto" hidden width follows the rows of the fit ------------------------


def quiet(method, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return method(*args)


WIDE = RNG.normal(size=(300, 300))  # "auto" is 512 units without the rows


@pytest.mark.parametrize(("n_rows", "width"), [(50, 64), (200, 200), (300, 300)])
def test_the_auto_width_is_bounded_by_the_rows_of_fit(n_rows, width):
    vae = quiet(VAETransformer(max_iter=1, random_state=0).fit, WIDE[:n_rows])
    assert vae.hidden_layer_sizes_ == (width,)
    assert vae.encoder_coefs_[0].shape == (300, width)


def test_a_continued_fit_keeps_the_auto_width_and_partial_fit_is_unbounded():
    vae = VAETransformer(max_iter=1, warm_start=True, random_state=0)
    quiet(vae.fit, WIDE[:50])
    quiet(vae.fit, WIDE)  # more rows: the fitted network goes on
    assert vae.hidden_layer_sizes_ == (64,) and vae.n_iter_ == 2
    vae.partial_fit(WIDE)
    assert vae.hidden_layer_sizes_ == (64,)
    # The first chunk does not say how many rows the network will see.
    chunked = VAETransformer(random_state=0).partial_fit(WIDE[:50])
    assert chunked.hidden_layer_sizes_ == (512,)


def test_a_dask_fit_bounds_the_auto_width_by_all_its_rows():
    da = pytest.importorskip("dask.array")
    vae = VAETransformer(solver="lbfgs", max_iter=1, random_state=0)
    quiet(vae.fit, da.from_array(WIDE[:200], chunks=(50, 300)))
    assert vae.hidden_layer_sizes_ == (200,)
