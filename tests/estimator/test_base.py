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
