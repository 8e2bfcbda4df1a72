"""scikit-learn's callback API (``sklearn.callback``, 1.9+) for the skvae estimators.

A fit is one task whose subtasks are the training iterations: one per
L-BFGS-B iteration (``"lbfgs-iter"``) or Adam epoch (``"epoch"``), as
:class:`~sklearn.linear_model.LogisticRegression` has one per L-BFGS
iteration. Each subtask begins when the previous one ends, so after the
last iteration one empty subtask is left, which :meth:`IterationTasks.close`
ends (as scikit-learn does): a fit has at most ``max_iter + 1`` subtasks. The
hooks get the training ``X``, the ``y`` that ``fit`` was given (ignored by
the unsupervised models, but what :class:`~sklearn.callback.ScoringMonitor`
needs before it scores), ``sample_weight`` as metadata, and on request a
copy of the estimator as it stood after the iteration. A callback's request
to stop ends training after the current iteration.

Inference over several chunks of rows (``transform``, ``score_samples``,
...) is reported the same way, one subtask per chunk, when callbacks are set
on the estimator itself: a :class:`~sklearn.callback.ProgressBar` then shows
its progress.

With scikit-learn older than 1.9 there is no ``sklearn.callback``: the
estimators then have no ``set_callbacks`` and train as before.
"""

import copy
import functools
from contextlib import contextmanager

try:
    from sklearn.callback import CallbackSupportMixin
    from sklearn.callback._callback_support import callback_management_context

    CALLBACKS_SUPPORTED = True
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stands in for ``sklearn.callback.CallbackSupportMixin`` (absent)."""

    CALLBACKS_SUPPORTED = False


# Frames that fit_task adds between a fit method and its caller, for the
# stacklevel of warnings issued in fit.
FIT_TASK_FRAMES = 1 if CALLBACKS_SUPPORTED else 0


def has_callbacks(estimator):
    return CALLBACKS_SUPPORTED and bool(getattr(estimator, "_skl_callbacks", None))


def snapshot_network(network, params):
    """A copy of ``network`` holding ``params``: the model as it stood then."""
    snapshot = copy.deepcopy(network)
    snapshot.params[...] = params
    return snapshot


def _hook_args(X, y, sample_weight):
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    return {"X": X, "y": y, "metadata": metadata}


def fit_task(fit_method):
    """Run a fit method as the estimator's root callback task.

    Goes under scikit-learn's ``_fit_context``, which tears the callbacks
    down: ``@transactional @_fit_context(...) @fit_task def fit(...)``. The
    root task ends when the method has set every fitted attribute. Its
    subtasks, the iterations, come from :func:`iteration_tasks`.
    """
    if not CALLBACKS_SUPPORTED:
        return fit_method

    @functools.wraps(fit_method)
    def wrapper(estimator, X, *args, **kwargs):
        y = args[0] if args else kwargs.get("y")
        hook_args = _hook_args(X, y, kwargs.get("sample_weight"))
        root = estimator._init_callback_context(max_subtasks=estimator.max_iter + 1)
        root.call_on_fit_task_begin(estimator=estimator, **hook_args)
        result = fit_method(estimator, X, *args, **kwargs)
        root.call_on_fit_task_end(estimator=estimator, **hook_args,
                                  reconstruction_attributes={})
        return result

    return wrapper


class IterationTasks:
    """One callback subtask per iteration of a fit, under its root task.

    Parameters
    ----------
    estimator : estimator
        The estimator being fitted, inside a method wrapped by :func:`fit_task`.
    task_name : str
        Name of the iteration subtasks.
    X, y, sample_weight
        What the hooks receive.
    reconstruction : callable
        ``reconstruction(params)`` -> the fitted attributes of the estimator
        with parameters ``params``; called only when a callback asks for a
        fitted estimator.
    """

    def __init__(self, estimator, task_name, X, y, sample_weight, reconstruction):
        self.estimator = estimator
        self.task_name = task_name
        self.reconstruction = reconstruction
        self.hook_args = _hook_args(X, y, sample_weight)
        self.root = estimator._callback_fit_ctx
        self.current = self._begin()

    def _begin(self):
        task = self.root.subcontext(task_name=self.task_name)
        task.call_on_fit_task_begin(estimator=self.estimator, **self.hook_args)
        return task

    def iteration_end(self, params):
        """End the current iteration (parameters ``params``), begin the next.

        Returns True when a callback asks to stop training.
        """
        stop = self.current.call_on_fit_task_end(
            estimator=self.estimator, **self.hook_args,
            reconstruction_attributes=lambda: self.reconstruction(params),
        )
        self.current = self._begin()
        return stop

    def close(self):
        """End the subtask begun after the last iteration, which never ran."""
        self.current.call_on_fit_task_end(estimator=self.estimator)


@contextmanager
def iteration_tasks(estimator, task_name, X, y, sample_weight, reconstruction):
    """Yield the ``on_iteration(params)`` hook for a training loop, or None
    when no callback is set (the loop then runs as without callbacks)."""
    if not (has_callbacks(estimator) and hasattr(estimator, "_callback_fit_ctx")):
        yield None
        return
    tasks = IterationTasks(estimator, task_name, X, y, sample_weight, reconstruction)
    try:
        yield tasks.iteration_end
    finally:
        tasks.close()


@contextmanager
def reported_chunks(estimator, batches, task_name="inference"):
    """Yield an iterator over ``batches`` that reports each as a subtask.

    Reports only when callbacks are set on the estimator, there is more than
    one chunk, and no fit of the estimator is running (a fit's own inference,
    such as the detector's threshold, belongs to the fit).
    """
    batches = list(batches)
    if (len(batches) < 2 or not has_callbacks(estimator)
            or hasattr(estimator, "_callback_fit_ctx")):
        yield iter(batches)
        return
    with callback_management_context(estimator):
        root = estimator._init_callback_context(task_name=task_name,
                                                max_subtasks=len(batches))
        root.call_on_fit_task_begin(estimator=estimator)

        def chunks():
            for rows in batches:
                task = root.subcontext(task_name="chunk")
                task.call_on_fit_task_begin(estimator=estimator)
                yield rows
                task.call_on_fit_task_end(estimator=estimator)

        yield chunks()
        root.call_on_fit_task_end(estimator=estimator)
