"""Local SGD (skvae/_train/local_sgd.py): rounds on shards, averaged.

The shards run here, in a loop; the dask tests run them on workers.
"""

import copy

import numpy as np
import pytest

from skvae._models.vae import build_network
from skvae._train.drivers import Settings, fit_adam
from skvae._train.local_sgd import (
    ShardRound,
    average_rounds,
    run_local_sgd,
    shard_learning_rate,
    shard_round,
)
from skvae._train.solvers import Adam, History

SETTINGS = dict(solver="adam", max_iter=4, tol=0.0, n_iter_no_change=10, alpha=1e-3,
                beta=1.0, kl_warmup=0, free_bits=0.0, n_importance_samples=1,
                batch_size=20, learning_rate_init=1e-2, average_decay=0.9,
                early_stopping=False, validation_fraction=0.1, verbose=0)


def network_and_data(n=120, d=5, dtype=np.float64):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((n, 2)) @ rng.standard_normal((2, d))
         + 0.1 * rng.standard_normal((n, d))).astype(dtype)
    net = build_network(d, 2, (6,), "tanh", "gaussian", dtype)
    net.initialize(X, np.random.default_rng(1))
    return net, X


def local_round_trip(shards, seed=0):
    """run_round for run_local_sgd, running every shard here."""

    def run_round(network, optimizer, iteration, score):
        rounds = None
        if iteration is not None:
            rounds = [shard_round(network, X, optimizer, Settings(**SETTINGS),
                                  np.random.default_rng([seed, iteration, w]),
                                  iteration)
                      for w, X in enumerate(shards)]
        return rounds, None

    return run_round


def test_one_shard_is_the_in_memory_driver_epoch_after_epoch():
    # One shard, whose average is itself: the rounds are partial_fit's epochs
    # of fit_adam with the same generators, bit for bit.
    net, X = network_and_data()
    expected, optimizer = net.astype(net.dtype), None
    history = History()
    for iteration in range(4):
        rng = np.random.default_rng([0, iteration, 0])
        optimizer = fit_adam(expected, X, None, rng, history, optimizer,
                             Settings(**SETTINGS), incremental=True,
                             score_noise=None)[0]
    adam = Adam(net.params.size, net.dtype, 1e-2, average_decay=0.9)
    local_history = History()
    run_local_sgd(local_round_trip([X]), net, adam, local_history, max_iter=4, tol=0.0,
                  n_iter_no_change=10, validate=False)
    np.testing.assert_array_equal(net.params, expected.params)
    np.testing.assert_array_equal(adam.iterate, optimizer.iterate)
    np.testing.assert_array_equal(adam.m, optimizer.m)
    assert adam.t == optimizer.t
    assert local_history.loss_curve == history.loss_curve


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rounds_average_iterates_moments_and_polyak_averages(dtype):
    net, X = network_and_data(dtype=dtype)
    start = Adam(net.params.size, dtype, 1e-2, average_decay=0.9)
    rounds = [shard_round(net, X[rows], start, Settings(**SETTINGS),
                          np.random.default_rng(w), 0)
              for w, rows in enumerate([slice(0, 60), slice(60, 120)])]
    # The round's start is left as it was.
    assert start.t == 0 and start.iterate is None and not start.m.any()
    merged, optimizer = net.astype(dtype), copy.deepcopy(start)
    loss = average_rounds(rounds, merged, optimizer)
    assert optimizer.t == rounds[0].optimizer.t == 3  # 60 rows, batches of 20
    for name in ["m", "v", "average", "iterate"]:
        a, b = (getattr(r.optimizer, name) for r in rounds)
        got = getattr(optimizer, name)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, (a.astype(float) + b) / 2, rtol=1e-6)
    np.testing.assert_allclose(merged.params, (rounds[0].params.astype(float)
                                               + rounds[1].params) / 2, rtol=1e-6)
    assert loss == pytest.approx((rounds[0].loss + rounds[1].loss) / 2)
    # The model is the averaged Polyak average, read as run_adam reads it.
    model = np.empty_like(merged.params)
    optimizer.read_average(model)
    np.testing.assert_allclose(model, merged.params, rtol=1e-5, atol=1e-6)


def test_a_shard_steps_at_the_learning_rate_it_is_given():
    net, X = network_and_data()
    start = Adam(net.params.size, net.dtype, 1e-2, average_decay=0.9)
    faster = shard_round(net, X, start, Settings(**SETTINGS), np.random.default_rng(0),
                         0, learning_rate=shard_learning_rate(1e-2, 4))
    assert faster.optimizer.learning_rate_init == 2e-2
    assert start.learning_rate_init == 1e-2
    slower = shard_round(net, X, start, Settings(**SETTINGS), np.random.default_rng(0),
                         0)
    assert slower.optimizer.learning_rate_init == 1e-2
    assert np.abs(faster.params - net.params).sum() > np.abs(
        slower.params - net.params).sum()


def test_shards_with_different_step_counts_are_refused():
    net, X = network_and_data()
    start = Adam(net.params.size, net.dtype, 1e-2, average_decay=0.9)
    rounds = [shard_round(net, X[:rows], start, Settings(**SETTINGS),
                          np.random.default_rng(0), 0) for rows in (60, 100)]
    with pytest.raises(ValueError):
        average_rounds(rounds, net, Adam(net.params.size, net.dtype))


class Scripted:
    """A round trip whose training moves the parameters by +1 a round and
    whose scores are given in advance; records what each call asked."""

    def __init__(self, scores):
        self.scores, self.calls = list(scores), []

    def __call__(self, network, optimizer, iteration, score):
        self.calls.append((iteration, score, float(network.params[0])))
        rounds = None
        if iteration is not None:
            shard = copy.deepcopy(optimizer)
            shard.t += 1
            shard.iterate = network.params + 1
            shard.average = network.params + 1
            rounds = [ShardRound(10.0 - iteration, network.params + 1, shard)]
        return rounds, self.scores.pop(0) if score else None


class Params:
    def __init__(self):
        self.params = np.zeros(1)
        self.dtype = self.params.dtype


def test_a_round_is_scored_with_the_next_and_the_stop_drops_that_next_round():
    net, history = Params(), History()
    optimizer = Adam(1, np.float64, average_decay=0.5)
    scripted = Scripted([1.0, 3.0, 2.0, 2.0, 2.0])
    converged = run_local_sgd(scripted, net, optimizer, history, max_iter=50, tol=0.0,
                              n_iter_no_change=2, validate=True)
    assert converged
    # Round r's model (r + 1 after r + 1 rounds) is scored by the call that
    # trains round r + 1; the first call only trains.
    assert scripted.calls[:3] == [(0, False, 0.0), (1, True, 1.0), (2, True, 2.0)]
    assert history.validation_scores == [1.0, 3.0, 2.0, 2.0, 2.0]
    assert history.n_iter == 5 and len(scripted.calls) == 6
    assert history.loss_curve == [10.0, 9.0, 8.0, 7.0, 6.0]
    # Training ends on the best model (round 2), continued from there; the
    # optimizer is that of the last recorded round (5 steps), not of the
    # sixth round, which was trained but dropped.
    assert net.params[0] == 2.0 and optimizer.t == 5 and optimizer.iterate is None


def test_the_last_round_is_scored_alone():
    net, history = Params(), History()
    scripted = Scripted([1.0, 2.0, 3.0])
    converged = run_local_sgd(scripted, net, Adam(1, np.float64), history, max_iter=3,
                              tol=0.0, n_iter_no_change=10, validate=True)
    assert not converged
    assert [call[:2] for call in scripted.calls] == [
        (0, False), (1, True), (2, True), (None, True)]
    assert history.validation_scores == [1.0, 2.0, 3.0] and net.params[0] == 3.0


def test_without_validation_each_round_is_recorded_at_once():
    net, history = Params(), History()
    seen = []
    scripted = Scripted([])
    run_local_sgd(scripted, net, Adam(1, np.float64), history, max_iter=4, tol=0.0,
                  n_iter_no_change=10, validate=False,
                  on_iteration=lambda params: seen.append(float(params[0])) or
                  len(seen) == 3)
    # A request to stop after the third round: no fourth round is trained.
    assert seen == [1.0, 2.0, 3.0] and len(scripted.calls) == 3
    assert history.n_iter == 3 and net.params[0] == 3.0


def test_a_non_finite_validation_score_is_a_divergence():
    from skvae.exceptions import DivergenceError

    with pytest.raises(DivergenceError, match="iteration 2"):
        run_local_sgd(Scripted([1.0, np.nan]), Params(), Adam(1, np.float64),
                      History(), max_iter=5, tol=0.0, n_iter_no_change=10,
                      validate=True)
