"""Training drivers: L-BFGS-B in rounds of fixed noise, Adam in epochs of minibatches.

They connect a :class:`~skvae._models.vae.VAENetwork` to the generic optimizers
of :mod:`skvae._train.solvers`: they draw the training noise, choose the objective
(the ELBO, with the KL warm-up's weight, or the importance-weighted bound),
and hold out validation rows for early stopping.  Nothing here knows
scikit-learn; the estimators pass their settings in a :class:`Settings`.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from .._models.objectives import ELBO, IWAE, kl_weight
from .solvers import Adam, run_adam, run_lbfgs

# L-BFGS-B iterations per draw of the training noise.
LBFGS_ROUND = 20

# The "auto" rules, chosen on binarized digits (64 and 784 features) against
# a PyTorch VAE of the same size (benchmarks/bench_defaults.py; the figures
# are in the user guide): full-batch L-BFGS only below this many rows ...
AUTO_LBFGS_MAX_ROWS = 100
# ... Adam otherwise, with minibatches of 100, a learning rate of
# 2e-3 * (512 / width) ** 0.25 and early stopping on a held-out ELBO that
# waits max(n_iter_no_change, RELATIVE_PATIENCE * best epoch) epochs.
AUTO_BATCH_SIZE = 100
RELATIVE_PATIENCE = 0.25
# The L2 penalty's "auto" strength per input feature: the negative ELBO is a
# sum over features, so the penalty grows with them to keep its weight.
AUTO_ALPHA_PER_FEATURE = 1e-3
# The free bits' "auto" nats per latent dimension, where they apply.
AUTO_FREE_BITS = 0.25
# The stopping tolerance's "auto": per input feature for Adam, whose losses
# and validation ELBO are sums over the features; L-BFGS-B's plain value,
# also the bound on its projected gradient.
AUTO_TOL_PER_FEATURE = 1e-4
LBFGS_TOL = 1e-4
# Validation scores use this many of the fixed scoring draws.
N_VALIDATION_DRAWS = 4


def resolve_solver(solver, n_samples, incremental=False, fitted_solver=None):
    """The solver that trains: Adam for partial_fit (``incremental``: one
    epoch, whatever trained the network before); else ``solver``, so that a
    warm start may change solvers. ``"auto"`` keeps ``fitted_solver``, the
    one that trained the network a warm start continues; for a new network
    it is Adam from AUTO_LBFGS_MAX_ROWS rows on, L-BFGS-B below."""
    if incremental:
        return "adam"
    if solver != "auto":
        return solver
    if fitted_solver is not None:
        return fitted_solver
    return "adam" if n_samples >= AUTO_LBFGS_MAX_ROWS else "lbfgs"


# The "auto" width's bounds, in units.
AUTO_MIN_WIDTH, AUTO_MAX_WIDTH = 64, 512


def auto_hidden_layer_sizes(n_features, n_rows=None):
    """One hidden layer twice as wide as the input, between 64 and 512 units,
    and at most one unit per training row above 64, when ``n_rows`` (all the
    rows the network is fitted to) is known.

    The rows bound the width because a hidden layer of more units than rows
    adds no dimension to what the network computes on them (their n x h
    activations have rank at most n), while its weights, their gradient and
    the solver's state grow with it: on 50 rows of 10,000 columns the
    512-unit layer holds 10 million weights, 2,000 per row. With the bound
    the network has at most about two weights per value of the data.
    """
    width = min(AUTO_MAX_WIDTH, max(AUTO_MIN_WIDTH, 2 * n_features))
    if n_rows is not None:
        width = min(width, max(AUTO_MIN_WIDTH, n_rows))
    return (width,)


def resolve_learning_rate(learning_rate_init, hidden_layer_sizes):
    """"auto": 2e-3 for a 512-wide network, larger for narrower ones."""
    if learning_rate_init != "auto":
        return learning_rate_init
    width = max(hidden_layer_sizes, default=64)
    return 2e-3 * (512 / width) ** 0.25


def resolve_alpha(alpha, n_features):
    """"auto": AUTO_ALPHA_PER_FEATURE per input feature (0.784 for 784 pixels)."""
    if alpha != "auto":
        return alpha
    return AUTO_ALPHA_PER_FEATURE * n_features


def resolve_free_bits(free_bits, solver, n_importance_samples):
    """"auto": AUTO_FREE_BITS when Adam trains the ELBO, else 0 (the
    importance-weighted bound has no KL term to hold up; L-BFGS-B, for small
    data and on dask arrays, was not measured with them, and on dask the
    maximum over all rows' mean KL is no sum over blocks)."""
    if free_bits != "auto":
        return free_bits
    return AUTO_FREE_BITS if solver == "adam" and n_importance_samples == 1 else 0.0


def resolve_tol(tol, solver, n_features):
    """"auto": AUTO_TOL_PER_FEATURE per input feature for Adam (0.0784 nats
    for 784 pixels), LBFGS_TOL for L-BFGS-B."""
    if tol != "auto":
        return tol
    return AUTO_TOL_PER_FEATURE * n_features if solver == "adam" else LBFGS_TOL


def resolve_early_stopping(early_stopping, solver, n_samples, validation_fraction):
    """"auto": on for Adam when the validation split holds at least 10 rows."""
    if early_stopping != "auto":
        return early_stopping
    return solver == "adam" and round(validation_fraction * n_samples) >= 10


@dataclass(frozen=True)
class Settings:
    """What the drivers need of an estimator's parameters."""

    solver: str
    max_iter: int
    tol: float
    n_iter_no_change: int
    alpha: float
    beta: float
    kl_warmup: int
    free_bits: float
    n_importance_samples: int
    batch_size: object
    learning_rate_init: float
    average_decay: float
    early_stopping: bool
    validation_fraction: float
    verbose: int

    @classmethod
    def from_params(cls, params):
        return cls(**{name: params[name] for name in cls.__dataclass_fields__})


def objective_at(settings, iteration):
    """The training objective at a 0-based ``iteration`` (epoch or L-BFGS step)."""
    if settings.n_importance_samples > 1:
        return IWAE(settings.n_importance_samples)
    beta = kl_weight(iteration, settings.beta, settings.kl_warmup)
    return ELBO(beta, settings.free_bits)


def first_iteration_at_full_weight(settings):
    """The iteration from which the objective stops changing, counted as
    History counts (from 1): the stopping rule compares losses only from
    there. The KL weight changes per epoch (Adam) or per round of L-BFGS-B
    iterations, and reaches beta at iteration kl_warmup."""
    if not settings.kl_warmup:
        return 0
    step = 1 if settings.solver == "adam" else LBFGS_ROUND
    return -(-settings.kl_warmup // step) * step + 1


def check_settings(settings):
    if settings.n_importance_samples > 1 and (
            settings.beta != 1 or settings.kl_warmup or settings.free_bits):
        raise ValueError(
            "n_importance_samples > 1 trains on the importance-weighted bound, "
            "which has no separate KL term to weigh: use it with beta=1, "
            "kl_warmup=0 and free_bits=0 (got beta="
            f"{settings.beta}, kl_warmup={settings.kl_warmup}, "
            f"free_bits={settings.free_bits})."
        )


def fit_lbfgs(network, X, condition, rng, history, settings, on_iteration=None,
              sample_weight=None):
    """Rounds of L-BFGS-B on all of X; True when the stopping rule ended them
    (see :func:`lbfgs_rounds`)."""
    shape = (settings.n_importance_samples, X.shape[0], network.noise_dims)
    eps = np.empty(shape, dtype=X.dtype)
    # From a generator of its own: one draw from rng whatever the shape, so
    # the rounds' noise for the first rows does not depend on the row count.
    fixed_eps = np.random.default_rng(rng.integers(2**63)).standard_normal(
        size=shape, dtype=X.dtype)

    def draw_noise():
        rng.standard_normal(out=eps, dtype=X.dtype)
        return eps

    def loss_and_grad(noise, objective):
        return network.loss_and_grad(X, noise, objective, settings.alpha, condition,
                                     sample_weight)

    return lbfgs_rounds(network, history, settings, draw_noise, loss_and_grad,
                        fixed_eps, on_iteration)


def lbfgs_rounds(network, history, settings, draw_noise, loss_and_grad, fixed_noise,
                 on_iteration=None):
    """L-BFGS-B in rounds of fixed noise; True when the stopping rule ended them.

    ``draw_noise()`` gives a round's noise and ``loss_and_grad(noise,
    objective)`` evaluates the loss at the network's parameters, writing the
    gradient. Common random numbers: the noise is fixed within a round, so
    L-BFGS-B sees a deterministic objective, and redrawn between rounds, so
    the model cannot fit one particular draw (held fixed for a whole run,
    longer runs gave lower held-out ELBO).

    The stopping rule compares like with like. Within a round the losses
    share one draw and are compared with each other (a round ends early when
    more than ``n_iter_no_change`` iterations in a row do not improve by
    ``tol``). Across rounds, losses under different draws differ by the
    noise alone, so after each round the rule evaluates the loss under one
    fixed draw, ``fixed_noise``, made at the start of the fit: training stops
    once it has not fallen by ``tol`` for ``ceil(n_iter_no_change /
    LBFGS_ROUND)`` rounds in a row, and ends on the parameters where it was
    lowest.
    """
    patience = -(-settings.n_iter_no_change // LBFGS_ROUND)
    best_loss, best_params = np.inf, network.params.copy()
    rounds_without_improvement = 0
    n_iter_end = history.n_iter + settings.max_iter
    while history.n_iter < n_iter_end:
        noise = draw_noise()
        objective = objective_at(settings, history.n_iter)  # fixed within a round
        history.new_segment()
        run_lbfgs(
            lambda objective=objective, noise=noise: loss_and_grad(noise, objective),
            network.params, network.grad, history,
            max_iter=min(LBFGS_ROUND, n_iter_end - history.n_iter),
            tol=settings.tol, n_iter_no_change=settings.n_iter_no_change,
            verbose=settings.verbose, on_iteration=on_iteration,
        )
        if history.stop_requested:  # by a callback: end on these parameters
            return True
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # A non-finite value compares as no improvement.
            loss = float(loss_and_grad(fixed_noise, objective))
        if history.n_iter <= history.changing_until:  # the objective still changes
            best_loss, rounds_without_improvement = loss, 0
            best_params[...] = network.params
            continue
        rounds_without_improvement = (0 if loss < best_loss - settings.tol
                                      else rounds_without_improvement + 1)
        if loss < best_loss:
            best_loss = loss
            best_params[...] = network.params
        if rounds_without_improvement >= patience:
            network.params[...] = best_params
            return True
    network.params[...] = best_params
    return False


def minibatch_size(batch_size, n, auto=AUTO_BATCH_SIZE, *, stacklevel):
    """Rows per minibatch: ``batch_size``, ``"auto"`` meaning ``min(auto, n)``.

    A size above the ``n`` training rows warns (``stacklevel`` counted from
    the caller) and uses all of them.
    """
    size = min(auto, n) if batch_size == "auto" else batch_size
    if size > n:
        warnings.warn(
            f"batch_size={size} is larger than the {n} training "
            "samples; using all of them in each batch.",
            stacklevel=stacklevel + 1,
        )
        size = n
    return size


def fit_adam(network, X, condition, rng, history, optimizer, settings, *,
             incremental, score_noise, on_iteration=None, sample_weight=None):
    """Epochs of Adam over minibatches of X (one epoch when ``incremental``).

    Returns the optimizer (new unless ``incremental`` continues one) and
    whether the stopping rule ended training. With ``sample_weight``, each
    batch's loss is its weighted mean (scikit-learn's MLP does the same), and
    a batch whose weights are all zero is skipped.
    """
    # Rows are shuffled as one array, [X, condition, weight], so they stay
    # paired.
    d = X.shape[1]
    columns = [X]
    if condition is not None:
        columns.append(condition.astype(X.dtype))
    if sample_weight is not None:
        columns.append(sample_weight.astype(X.dtype)[:, None])
    data = X if len(columns) == 1 else np.hstack(columns)
    weighted = sample_weight is not None

    def split(rows):
        C = None if condition is None else rows[:, d:d + condition.shape[1]]
        return rows[:, :d], C, rows[:, -1] if weighted else None

    validation_score = None
    if settings.early_stopping and not incremental:
        data, held_out = validation_split(data, settings.validation_fraction, rng)
        if weighted and not (np.any(data[:, -1] > 0) and np.any(held_out[:, -1] > 0)):
            raise ValueError(
                "early_stopping's validation split left no row with a positive "
                "sample_weight on one side; use more rows with positive weight, "
                "or early_stopping=False."
            )
        X_val, C_val, w_val = split(held_out)
        noise = score_noise[:N_VALIDATION_DRAWS]
        validation_score = lambda: float(  # noqa: E731
            np.average(network.elbo(X_val, noise, C=C_val), weights=w_val))
    n = data.shape[0]
    batch_size = minibatch_size(settings.batch_size, n, stacklevel=6)
    K, width = settings.n_importance_samples, network.noise_dims
    eps_buffer = np.empty(K * batch_size * width, dtype=X.dtype)

    def loss_and_grad(batch):
        eps = eps_buffer[: K * batch.shape[0] * width].reshape(K, batch.shape[0], width)
        rng.standard_normal(out=eps, dtype=X.dtype)
        X_batch, C_batch, w_batch = split(batch)
        objective = objective_at(settings, history.n_iter)
        return network.loss_and_grad(X_batch, eps, objective, settings.alpha, C_batch,
                                     w_batch)

    if optimizer is None or not incremental:
        optimizer = Adam(network.params.size, network.dtype,
                         settings.learning_rate_init,
                         average_decay=settings.average_decay)
    else:
        continue_adam(optimizer, settings)
    converged = run_adam(
        loss_and_grad, network.params, network.grad, optimizer, history, data,
        batch_size=batch_size, max_iter=1 if incremental else settings.max_iter,
        tol=settings.tol, n_iter_no_change=settings.n_iter_no_change, rng=rng,
        validation_score=validation_score, verbose=settings.verbose,
        relative_patience=RELATIVE_PATIENCE,
        on_iteration=on_iteration,
        batch_weight=(lambda batch: float(np.sum(batch[:, -1], dtype=np.float64)))
        if weighted else None,
    )
    return optimizer, converged


def continue_adam(optimizer, settings):
    """Set the Adam that partial_fit continues to the settings of this call.

    Its step size follows ``learning_rate_init``; its moving average of the
    iterates cannot change its decay midway (the average and its bias
    correction are of the old decay), so a new ``average_decay`` is refused.
    """
    if optimizer.average_decay != settings.average_decay:
        raise ValueError(
            "partial_fit continues Adam's moving average of the iterates, kept "
            f"with average_decay={optimizer.average_decay}, and cannot change it "
            f"to {settings.average_decay}. Call discard_optimizer_state() first "
            "to restart Adam with the new value, or fit to train anew."
        )
    optimizer.learning_rate_init = float(settings.learning_rate_init)


def validation_split(X, validation_fraction, rng):
    """Training and validation rows, the validation ones drawn at random."""
    n = X.shape[0]
    n_val = int(round(validation_fraction * n))
    check_validation_rows(n_val, n, validation_fraction)
    order = rng.permutation(n)
    return X[order[n_val:]], X[order[:n_val]]


def check_validation_rows(n_val, n, validation_fraction):
    """Refuse a validation split of ``n_val`` of ``n`` rows that leaves one
    side empty."""
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"early_stopping with validation_fraction={validation_fraction} "
            f"leaves {n_val} of {n} samples for validation; each side needs at "
            "least one. Use more samples, change validation_fraction, or set "
            "early_stopping=False."
        )
