"""Optimizers on a flat parameter buffer: an L-BFGS-B driver and Adam.

Neither knows what a VAE is.  Each is handed the flat ``params`` buffer, the
flat ``grad`` buffer and a function that evaluates the loss at the current
``params`` and writes its gradient into ``grad``.  Both update ``params`` in
place and record their progress in a :class:`History`.
"""

import functools
import math

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from ..exceptions import DivergenceError


class History:
    """Progress of training, kept across ``warm_start`` and ``partial_fit`` calls.

    Implements scikit-learn's MLP stopping rule: an iteration counts as no
    improvement when the training loss is not ``tol`` below the best so far
    (or, with a validation set, the validation score not ``tol`` above the
    best); training stops after more than ``n_iter_no_change`` of them in a row.

    Up to iteration ``changing_until`` the objective itself changes (a
    schedule raises a weight), so a loss is not comparable with earlier ones:
    each such iteration becomes the best so far, and none counts against
    the stopping rule. Likewise :meth:`new_segment` starts a stretch of
    iterations whose losses are compared only with each other (e.g. a new
    draw of a stochastic objective); ``best_loss`` stays the lowest overall.

    ``stop_requested`` (set when an ``on_iteration`` hook of the solvers
    asks to stop) ends training like the stopping rule does.
    """

    def __init__(self):
        self.loss_curve = []
        self.validation_scores = []
        self.best_loss = np.inf
        self.segment_best_loss = np.inf
        self.best_validation_score = -np.inf
        self.best_iteration = 0
        self.no_improvement_count = 0
        self.n_iter = 0
        self.changing_until = 0
        self.stop_requested = False

    def record(self, loss, tol, validation_score=None):
        """Append one iteration; return True when it improved on the best."""
        self.n_iter += 1
        self.loss_curve.append(float(loss))
        if self.n_iter <= self.changing_until:
            self.best_loss = self.segment_best_loss = float(loss)
            if validation_score is not None:
                self.validation_scores.append(float(validation_score))
                self.best_validation_score = float(validation_score)
                self.best_iteration = self.n_iter
            self.no_improvement_count = 0
            return True
        if validation_score is None:
            improved = loss < self.segment_best_loss - tol
            self.segment_best_loss = min(self.segment_best_loss, float(loss))
            self.best_loss = min(self.best_loss, float(loss))
            best_so_far = improved
        else:
            self.validation_scores.append(float(validation_score))
            improved = validation_score > self.best_validation_score + tol
            best_so_far = validation_score > self.best_validation_score
            if improved:
                self.best_iteration = self.n_iter
            self.best_validation_score = max(self.best_validation_score,
                                             float(validation_score))
            self.best_loss = min(self.best_loss, float(loss))
        self.no_improvement_count = 0 if improved else self.no_improvement_count + 1
        return best_so_far

    def new_segment(self):
        """Compare the next losses only with each other."""
        self.segment_best_loss = np.inf
        self.no_improvement_count = 0

    def stalled(self, n_iter_no_change, relative_patience=0.0):
        """A stop was requested, or more than max(n_iter_no_change,
        relative_patience * the iteration of the best validation score)
        iterations went without improvement in a row."""
        patience = max(n_iter_no_change, relative_patience * self.best_iteration)
        return self.stop_requested or self.no_improvement_count > patience

    def after_iteration(self, on_iteration, params):
        """Call the ``on_iteration(params)`` hook, if any; note a request to stop."""
        if on_iteration is not None and on_iteration(params):
            self.stop_requested = True


class _NonFinite(Exception):
    """Raised out of SciPy's minimize when the objective is not finite."""


def _diverged(n_iter):
    return DivergenceError(
        f"Training diverged at iteration {n_iter}: the loss is NaN or infinite."
    )


@functools.cache
def _blas_controller():
    """The process's thread pools, looked up once: ``threadpool_limits`` looks
    the loaded libraries up again on every call, a fixed cost per L-BFGS-B
    round that small fits (a few rounds of a few milliseconds) paid many
    times over. A BLAS loaded after the first fit is not limited."""
    return ThreadpoolController()


def run_lbfgs(loss_and_grad, params, grad, history, *, max_iter, tol,
              n_iter_no_change, verbose=0, on_iteration=None):
    """Minimize with SciPy's L-BFGS-B, starting from and ending in ``params``.

    ``loss_and_grad()`` must be a deterministic function of ``params`` (the
    caller holds the noise fixed). ``on_iteration(x)``, if given, is called
    after each iteration with its parameters; True asks to stop. Returns
    True when L-BFGS-B stopped by its own criteria or the stopping rule,
    False when it ran out of iterations.

    Raises
    ------
    DivergenceError
        When the loss becomes non-finite; ``params`` then holds the last
        accepted iterate.
    """
    last_good = params.copy()

    def fun(x):
        # SciPy passes a different float64 array from call to call: copy it
        # into our own buffer (casting to the fit dtype), never keep views.
        params[...] = x
        loss = loss_and_grad()
        if not np.isfinite(loss):
            raise _NonFinite
        # SciPy keeps the gradient it is handed, so give it its own copy.
        return float(loss), grad.astype(np.float64)

    def callback(intermediate_result):
        last_good[...] = intermediate_result.x
        history.record(intermediate_result.fun, tol)
        if verbose:
            print(f"Iteration {history.n_iter}, loss = {intermediate_result.fun:.8f}")
        history.after_iteration(on_iteration, intermediate_result.x)
        if history.stalled(n_iter_no_change):
            raise StopIteration

    start = history.n_iter
    # SciPy's L-BFGS-B calls SciPy's own OpenBLAS between our NumPy products;
    # two pools of spinning threads on two cores starve each other, so
    # NumPy's BLAS runs on one thread while L-BFGS-B runs.
    try:
        with (_blas_controller().limit(limits=1, user_api="blas"),
              np.errstate(over="ignore", invalid="ignore", divide="ignore")):
            result = minimize(
                fun, params.astype(np.float64), method="L-BFGS-B", jac=True,
                callback=callback,
                options={"maxiter": max_iter, "maxfun": 20 * max_iter, "gtol": tol},
            )
    except _NonFinite:
        params[...] = last_good
        raise _diverged(history.n_iter + 1) from None
    params[...] = result.x
    if history.n_iter == start:
        # Converged before a single step (e.g. already at a minimum).
        history.record(result.fun, tol)
        history.after_iteration(on_iteration, params)
    return result.status != 1


class Adam:
    """Adam (Kingma and Ba, 2015) updating a flat buffer in place.

    Keeps its two moment estimates and a scratch array of one chunk, all
    allocated once; a step allocates nothing. The moments are kept unnormalized,
    ``m' = m / (1 - beta_1)`` and ``u = v / (1 - beta_2)``, so that their
    updates ``m' = beta_1 m' + g`` and ``u = beta_2 u + g**2`` take two and
    three passes instead of three and four; the constant factors move into
    the step size and epsilon. A step runs over the buffer in chunks of
    ``CHUNK`` elements, so that its ten passes reuse data from the L2 cache
    instead of streaming every array from memory ten times
    (``benchmarks/bench_throughput.py`` times a step).

    With ``average_decay > 0`` it also keeps an exponential moving average of
    the iterates (Polyak averaging), updated in the same chunks:
    ``a = d a + (1 - d) params`` from ``a = 0``, read bias-corrected as
    ``a / (1 - d**n)`` (as Adam corrects its moments) by :meth:`read_average`.
    :func:`run_adam` makes the average the model and keeps the last iterate
    in ``iterate``, from which the next run continues (``partial_fit``), as
    :class:`~sklearn.linear_model.SGDClassifier` keeps its standard and
    averaged coefficients.
    Two threads, one per half of the buffer, gained nothing more in training,
    where OpenBLAS's threads hold both cores. (SciPy's BLAS ``axpy``/``scal``
    would save passes, but SciPy ships its own OpenBLAS: its spinning threads
    fought NumPy's for the two cores and made training steps 30 times slower.)
    """

    # 256 KiB of float32 per array: five arrays' chunks fit a 2 MiB L2 cache.
    CHUNK = 65536

    def __init__(self, n_params, dtype, learning_rate_init=1e-3, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, average_decay=0.0):
        # Python floats: NumPy float64 scalars (from np.linspace, say) would
        # run float32 arrays through float64 loops.
        self.learning_rate_init = float(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.average_decay = float(average_decay)
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self.average = np.zeros(n_params, dtype=dtype) if average_decay else None
        self.iterate = None
        self._scratch = np.empty(min(n_params, self.CHUNK), dtype=dtype)

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_scratch"]  # contents never outlive a step
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._scratch = np.empty(min(self.m.size, self.CHUNK), dtype=self.m.dtype)

    def step(self, params, grad):
        """params -= lr_t * m / (sqrt(v) + epsilon), with bias-corrected lr_t.

        In the unnormalized moments: lr_t (1 - beta_1) / sqrt(1 - beta_2)
        * m' / (sqrt(u) + epsilon / sqrt(1 - beta_2)).
        """
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # Python floats: NumPy float64 scalars would run float32 arrays
        # through float64 loops.
        lr = (self.learning_rate_init * (1 - b1) / (1 - b1**self.t)
              * math.sqrt((1 - b2**self.t) / (1 - b2)))
        epsilon = self.epsilon / math.sqrt(1 - b2)
        for start in range(0, params.size, self.CHUNK):
            rows = slice(start, start + self.CHUNK)
            p, g = params[rows], grad[rows]
            m, v = self.m[rows], self.v[rows]
            tmp = self._scratch[: p.size]
            m *= b1
            m += g
            np.multiply(g, g, out=tmp)
            v *= b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += epsilon
            np.divide(m, tmp, out=tmp)
            tmp *= lr
            p -= tmp
            if self.average is not None:
                a = self.average[rows]  # a = d (a - p) + p = d a + (1 - d) p
                a -= p
                a *= self.average_decay
                a += p

    def read_average(self, out):
        """Write the bias-corrected average of the iterates into ``out``."""
        np.multiply(self.average, 1 / self._bias(), out=out)

    def restart_average(self, params):
        """Make the average read as ``params``, and continue from them."""
        np.multiply(params, self._bias(), out=self.average)
        self.iterate = None

    def _bias(self):
        """The weight ``1 - d**t`` that the zero-started average lacks."""
        return 1 - self.average_decay**self.t


def run_adam(loss_and_grad, params, grad, optimizer, history, X, *, batch_size,
             max_iter, tol, n_iter_no_change, rng, validation_score=None,
             verbose=0, relative_patience=0.0, on_iteration=None, batch_weight=None):
    """Epochs of Adam over shuffled minibatches of X, updating ``params``.

    ``loss_and_grad(X_batch)`` evaluates the loss on a batch (drawing its own
    noise) and writes the gradient into ``grad``.  Each epoch permutes the rows
    into one preallocated array, so that every minibatch is a contiguous slice.
    ``validation_score()``, if given, scores the current ``params`` on held-out
    data (higher is better); training then ends on the best-scoring params.
    ``on_iteration(params)``, if given, is called after each epoch; True asks
    to stop. ``batch_weight(batch)``, if given, is a batch's weight in the
    epoch's mean loss (its number of rows otherwise); a batch of weight zero
    is skipped. When ``optimizer`` averages its iterates, the average is the
    model: it is what ``validation_score`` scores, ``on_iteration`` sees and
    training ends on; the iterate itself continues in the next epoch and is
    left in ``optimizer.iterate`` for the next run, unless training ended on
    the best validation score, from which the next run then continues.

    Returns True when the stopping rule ended training, False when it ran
    ``max_iter`` epochs.

    Raises
    ------
    DivergenceError
        When a batch loss is non-finite; ``params`` then holds the parameters
        of the end of the last epoch.
    """
    n = X.shape[0]
    if batch_weight is None:
        batch_weight = len
    shuffled = np.empty_like(X)
    averaging = optimizer.average is not None
    if averaging and optimizer.iterate is not None:
        params[...] = optimizer.iterate  # continue from the last iterate
    epoch_start = params.copy()
    iterate = params.copy() if averaging else None
    best_params = params.copy() if validation_score is not None else None
    converged = False
    for _ in range(max_iter):
        epoch_start[...] = params
        np.take(X, rng.permutation(n), axis=0, out=shuffled)
        total = total_weight = 0.0
        for start in range(0, n, batch_size):
            batch = shuffled[start:start + batch_size]
            weight = batch_weight(batch)
            if not weight:
                continue
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss = loss_and_grad(batch)
            if not np.isfinite(loss):
                params[...] = epoch_start
                raise _diverged(history.n_iter + 1)
            total += float(loss) * weight
            total_weight += weight
            optimizer.step(params, grad)
        loss = total / total_weight
        if averaging:  # evaluate the average; the iterate goes on training
            iterate[...] = params
            optimizer.read_average(params)
        score = None
        if validation_score is not None:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                score = validation_score()
            if not np.isfinite(score):  # the epoch's last steps diverged
                params[...] = epoch_start
                raise _diverged(history.n_iter + 1)
        if history.record(loss, tol, score) and best_params is not None:
            best_params[...] = params
        if verbose:
            extra = "" if score is None else f", validation score = {score:.8f}"
            print(f"Iteration {history.n_iter}, loss = {loss:.8f}{extra}")
        history.after_iteration(on_iteration, params)
        if averaging:
            params[...] = iterate
        if history.stalled(n_iter_no_change, relative_patience):
            converged = True
            break
    if averaging:
        optimizer.iterate = params.copy()
        optimizer.read_average(params)
    if best_params is not None:
        params[...] = best_params
        if averaging:
            # Training ended on the best epoch's model: a later run continues
            # from it, as without averaging, not from an iterate that went on
            # past it; the average restarts as that model.
            optimizer.restart_average(params)
    return converged
