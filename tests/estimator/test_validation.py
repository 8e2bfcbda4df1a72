"""Input checks: array API dispatch, and the dtypes the estimators preserve."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sklearn.utils import get_tags

from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer, VQVAETransformer


@pytest.mark.parametrize("estimator", [VAETransformer(), ConditionalVAE(),
                                       VQVAETransformer()])
def test_transformers_declare_that_they_preserve_float32(estimator):
    assert get_tags(estimator).transformer_tags.preserves_dtype == ["float64",
                                                                    "float32"]


def test_detector_is_no_transformer():
    assert get_tags(VAEOutlierDetector()).transformer_tags is None


def test_array_api_dispatch_is_refused_with_a_clear_message():
    """scipy reads SCIPY_ARRAY_API at import, so this runs in a fresh process."""
    pytest.importorskip("array_api_strict")
    script = textwrap.dedent("""
        import array_api_strict as xp
        import numpy as np
        import sklearn
        from skvae import VAETransformer, VQVAETransformer

        X = np.random.default_rng(0).normal(size=(40, 3))
        vae = VAETransformer(max_iter=2).fit(X)
        with sklearn.config_context(array_api_dispatch=True):
            for call in (lambda: VAETransformer(max_iter=2).fit(xp.asarray(X)),
                         lambda: VQVAETransformer(max_iter=2).fit(xp.asarray(X)),
                         lambda: vae.transform(xp.asarray(X)),
                         lambda: vae.inverse_transform(xp.asarray(X[:, :2]))):
                try:
                    call()
                except ValueError as error:
                    assert "array API dispatch" in str(error), error
                    assert "np.asarray(X)" in str(error), error
                else:
                    raise AssertionError("not refused")
            assert vae.transform(X).shape == (40, 2)  # NumPy input still works
        print("ok")
    """)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "SCIPY_ARRAY_API": "1",
           "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", script], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
