"""Local SGD: Adam on shards of the rows side by side, averaged after every round.

The rows are split into shards; a *round* trains every shard from the same
parameters and optimizer state for one epoch of the minibatch Adam driver
(:func:`~skvae._train.drivers.fit_adam` as ``partial_fit`` runs it: one
epoch, the optimizer continued), then averages what the shards ended with:
the iterates, Adam's two moment estimates and the Polyak average of the
iterates. This is federated averaging with one local epoch (McMahan et al.
2017; Lin, Stich, Patel and Jaggi 2020, "Don't use large mini-batches, use
local SGD"): one synchronization per epoch instead of one per minibatch.

The shards step with the learning rate times the square root of their
number (:func:`shard_learning_rate`): averaging W shards' iterates divides
the noise of their steps by about sqrt(W) but not the distance they cover,
since Adam's step is about the learning rate whatever the batch, so the
square-root rule for Adam (Malladi, Lyu, Panigrahi and Arora 2022, "On the
SDEs and scaling rules for adaptive gradient algorithms") brings the
covered distance up while the noise stays where one shard's would be.

Every shard trains on the same number of rows, so every shard takes the same
number of steps and the averaged optimizer has one step count. The average
of the shards' Polyak averages is the Polyak average of the averaged
iterates (the moving average is linear in the iterates), and it is the
model, as in :func:`~skvae._train.solvers.run_adam`: what a validation score
scores, what ``on_iteration`` sees and what training ends on.

Where the shards' rounds run is the caller's (in this process in the tests,
on dask workers in :mod:`skvae._estimator.dask`): :func:`run_local_sgd` is
handed a function that runs one round on every shard and scores a model on
held-out rows, and sees only what comes back.
"""

import copy
import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .drivers import fit_adam
from .solvers import History, _diverged

# The optimizer state a round averages over the shards.
AVERAGED = ("m", "v", "average", "iterate")


@dataclass
class ShardRound:
    """What one shard's round ends with."""

    loss: float  # the mean minibatch loss of its epoch
    params: np.ndarray  # its model (the Polyak average, or the iterate)
    optimizer: object  # its Adam, holding its iterate and moments


def shard_learning_rate(learning_rate, n_shards):
    """The learning rate of each of ``n_shards`` shards: ``learning_rate``
    times sqrt(n_shards)."""
    return learning_rate * math.sqrt(n_shards)


def shard_round(network, X, optimizer, settings, rng, iteration, learning_rate=None):
    """One round on one shard: an epoch of Adam over X, continuing ``optimizer``.

    ``network`` and ``optimizer`` are the round's start, shared by all the
    shards: they are copied, never changed. ``iteration`` (0-based) is the
    round's index in the fit, which sets the objective (the KL warm-up's
    weight). ``learning_rate``, if given, replaces the optimizer's for this
    round. ``settings.batch_size`` must not exceed the rows of X.
    """
    network = network.astype(network.dtype)
    optimizer = copy.deepcopy(optimizer)
    if learning_rate is not None:  # fit_adam sets the optimizer's from settings
        settings = dataclasses.replace(settings,
                                       learning_rate_init=float(learning_rate))
    history = History()
    history.n_iter = iteration
    fit_adam(network, X, None, rng, history, optimizer, settings, incremental=True,
             score_noise=None)
    return ShardRound(history.loss_curve[-1], network.params, optimizer)


def _mean(arrays, dtype):
    """The mean of same-shaped arrays, summed in float64 in the given order."""
    total = np.zeros(arrays[0].shape)
    for array in arrays:
        total += array
    return (total / len(arrays)).astype(dtype, copy=False)


def average_rounds(rounds, network, optimizer):
    """Average the shards' rounds into ``network.params`` and ``optimizer``;
    return the mean loss."""
    steps = {r.optimizer.t for r in rounds}
    if len(steps) > 1:
        raise ValueError(
            f"The shards ended on different step counts {sorted(steps)}: each "
            "must train on the same number of rows with the same batch size."
        )
    optimizer.t = steps.pop()
    for name in AVERAGED:
        states = [getattr(r.optimizer, name) for r in rounds]
        if states[0] is not None:
            setattr(optimizer, name, _mean(states, network.dtype))
    network.params[...] = _mean([r.params for r in rounds], network.dtype)
    return float(np.mean([r.loss for r in rounds]))


def run_local_sgd(run_round, network, optimizer, history, *, max_iter, tol,
                  n_iter_no_change, validate, verbose=0, relative_patience=0.0,
                  on_iteration=None):
    """Rounds of local SGD from ``network.params`` and ``optimizer``.

    ``run_round(network, optimizer, iteration, score)`` runs one round trip
    to the shards: unless ``iteration`` is None, round ``iteration`` (0-based,
    counted over the fit's history) on every shard from the network's
    parameters and the optimizer's state (as :func:`shard_round`), giving the
    list of :class:`ShardRound`; with ``score``, the validation score of the
    network's parameters on the held-out rows (higher is better). It returns
    ``(rounds or None, score or None)`` and changes neither argument.

    The stopping rule, the history, ``verbose`` and ``on_iteration`` work
    per round as :func:`~skvae._train.solvers.run_adam`'s do per epoch, and
    training ends as there: on the best-scoring model with ``validate`` (the
    next run continues from it), on the last one otherwise. A round's score
    travels with the next round: the round trip that trains round r + 1
    also scores the model of round r, so each round costs one round trip;
    when the rule stops at round r, round r + 1 is dropped, and the last
    round is scored alone.

    Returns True when the stopping rule ended training, False when it ran
    ``max_iter`` rounds.

    Raises
    ------
    DivergenceError
        When a shard's minibatch loss or the validation score is not finite.
    """
    best_params = network.params.copy() if validate else None

    def end_round(loss, score):
        """Record a round; True when training stops after it."""
        if history.record(loss, tol, score) and best_params is not None:
            best_params[...] = network.params
        if verbose:
            extra = "" if score is None else f", validation score = {score:.8f}"
            print(f"Iteration {history.n_iter}, loss = {loss:.8f}{extra}")
        history.after_iteration(on_iteration, network.params)
        return history.stalled(n_iter_no_change, relative_patience)

    unscored = None  # the loss of the round whose model awaits its score
    converged = False
    first, n_rounds = history.n_iter, 0
    while n_rounds < max_iter or unscored is not None:
        train = n_rounds < max_iter
        rounds, score = run_round(network, optimizer,
                                  first + n_rounds if train else None,
                                  unscored is not None)
        if unscored is not None:
            if not np.isfinite(score):
                raise _diverged(history.n_iter + 1)
            if end_round(unscored, score):  # the new round is dropped
                converged = True
                break
            unscored = None
        if not train:
            break
        loss = average_rounds(rounds, network, optimizer)
        n_rounds += 1
        if validate:
            unscored = loss
        elif end_round(loss, None):
            converged = True
            break
    if validate:
        network.params[...] = best_params
        if optimizer.average is not None:
            # As in run_adam: a later run continues from the best model.
            optimizer.restart_average(network.params)
    return converged
