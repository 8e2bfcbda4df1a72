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
from sklearn.utils.validation import _check_sample_weight


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
    >>> from skvae._validation import check_not_array_api
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
