"""Small helpers of the estimator layer: transactional fits, warnings at the
caller (the convergence warning among them), chunk sizes, means, the training
history."""

import copy
import functools
import os
import sys
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import _set_output

from ..exceptions import DivergenceError

# Where the frames between a user's call and skvae's code come from: skvae
# itself, and scikit-learn's wrappers of fit methods (``_fit_context``, and
# the ``set_output`` wrapper of ``fit_transform``).
_SKVAE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_WRAPPER_FILES = frozenset({_fit_context.__code__.co_filename, _set_output.__file__})

# What scikit-learn's callback API sets on an estimator.
CALLBACK_ATTRIBUTES = frozenset({"_skl_callbacks", "_parent_callback_ctx",
                                 "_callback_fit_ctx", "_skl_callbacks_to_teardown"})


def transactional(fit_method):
    """Make a fitting method complete or leave the estimator as it was.

    Whatever the exception (divergence, KeyboardInterrupt, MemoryError, ...),
    every attribute is restored to its state before the call: an unfitted
    estimator stays unfitted, a fitted one keeps its previous fit. The
    callbacks and callback contexts scikit-learn attaches are neither copied
    nor restored: they are shared with the caller, not the estimator's state.
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        saved = copy.deepcopy({name: value for name, value in self.__dict__.items()
                               if name not in CALLBACK_ATTRIBUTES})
        try:
            return fit_method(self, *args, **kwargs)
        except BaseException as error:
            callbacks = {name: value for name, value in self.__dict__.items()
                         if name in CALLBACK_ATTRIBUTES}
            self.__dict__.clear()
            self.__dict__.update(saved)
            self.__dict__.update(callbacks)
            if isinstance(error, DivergenceError):
                raise DivergenceError(
                    f"{error} {type(self).__name__} was left unchanged, as it was "
                    "before this call. Lower learning_rate_init, or raise alpha."
                ) from None
            raise

    return wrapper


def warn_at_caller(message, category):
    """Warn at the line that called into skvae (fit, partial_fit, ...).

    The stacklevel is counted, not written down: the warning points at the
    first frame outside skvae and scikit-learn's fit wrappers, however many
    frames (decorators, helper methods, the dask route) lie between. This is
    what ``warnings.warn(skip_file_prefixes=...)`` does from Python 3.12.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and (frame.f_code.co_filename.startswith(_SKVAE_DIR)
                                 or frame.f_code.co_filename in _WRAPPER_FILES):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def chunk_n_rows(row_bytes, max_n_rows, working_memory):
    """Rows per chunk so that a chunk's scratch fits ``working_memory`` MiB.

    A local copy of the rule of scikit-learn's private
    ``sklearn.utils._chunking.get_chunk_n_rows``, which has no public
    equivalent: at least one row, at most ``max_n_rows``.
    """
    rows = int(working_memory * 2**20 // max(row_bytes, 1))
    return max(1, min(rows, max_n_rows))


def finite_mean(scores):
    """The mean of finite scores, without overflow when some sit at the
    dtype's limit (far rows): computed on the scores divided by the largest."""
    scores = np.asarray(scores, dtype=np.float64)
    largest = float(np.max(np.abs(scores)))
    if largest <= 1.0:
        return float(np.mean(scores))
    return largest * float(np.mean(scores / largest))


def check_n_samples(n_samples):
    if not isinstance(n_samples, (Integral, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")


def read_only(arrays):
    """Read-only views, so fitted weights cannot be changed by accident."""
    views = []
    for a in arrays:
        v = a.view()
        v.flags.writeable = False
        views.append(v)
    return views


def warn_not_converged(solver, max_iter):
    """The ConvergenceWarning of a fit that ran ``max_iter`` iterations of
    ``solver`` without converging, at the caller's line."""
    warn_at_caller(
        f"{solver}: maximum iterations ({max_iter}) reached and the "
        "optimization hasn't converged yet; raise max_iter or tol.",
        ConvergenceWarning,
    )


class HistoryMixin:
    """Public attributes of a fit's training history, ``_history``."""

    def _store_history(self):
        history = self._history
        self.n_iter_ = history.n_iter
        self.loss_curve_ = list(history.loss_curve)
        self.best_loss_ = history.best_loss
        if history.validation_scores:
            self.validation_scores_ = list(history.validation_scores)
            self.best_validation_score_ = history.best_validation_score
