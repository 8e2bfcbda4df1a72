"""The training drivers: the L-BFGS stopping rule under common random numbers."""

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from skvae._train.drivers import LBFGS_ROUND, Settings, fit_lbfgs
from skvae._train.solvers import History

SETTINGS = dict(solver="lbfgs", max_iter=400, tol=1e-4, n_iter_no_change=10,
                alpha=0.0, beta=1.0, kl_warmup=0, free_bits=0.0,
                n_importance_samples=1, batch_size="auto", learning_rate_init=1e-3,
                average_decay=0.0, early_stopping=False, validation_fraction=0.1,
                verbose=0)


class NoisyRosenbrock:
    """A stand-in network: Rosenbrock's function plus a noise draw's offset.

    The offset (10 times the mean of the draw) does not depend on the
    parameters, so every draw has the same minimizer, but losses under two
    draws differ by up to several units: comparing them says nothing about
    progress.
    """

    n_components = 2
    noise_dims = 2

    def __init__(self, n_params=8):
        self.params = np.full(n_params, -1.0)
        self.grad = np.zeros(n_params)
        self.dtype = self.params.dtype

    def loss_and_grad(self, X, eps, objective, alpha, C=None, sample_weight=None):
        self.grad[...] = rosen_der(self.params)
        return rosen(self.params) + 10 * float(eps.mean())


def test_lbfgs_does_not_stop_on_noise_between_rounds():
    net = NoisyRosenbrock()
    X = np.zeros((3, 1))
    history = History()
    fit_lbfgs(net, X, None, np.random.default_rng(1), history,
              Settings(**SETTINGS))
    # Comparing raw losses across rounds would have stopped early: some
    # round's losses all lie above the best of an earlier round although
    # the parameters kept improving.
    curve = np.array(history.loss_curve)
    rounds = [curve[i:i + LBFGS_ROUND] for i in range(0, len(curve), LBFGS_ROUND)]
    assert any(r.min() > np.min(np.concatenate(rounds[:i]))
               for i, r in enumerate(rounds) if i > 0)
    # The fixed-draw comparison let it run to the minimum (all ones).
    assert history.n_iter > 2 * LBFGS_ROUND
    np.testing.assert_allclose(net.params, 1.0, atol=1e-3)



def test_auto_rules_pick_what_they_document():
    from skvae._train.drivers import (
        auto_hidden_layer_sizes,
        resolve_alpha,
        resolve_early_stopping,
        resolve_free_bits,
        resolve_learning_rate,
        resolve_solver,
        resolve_tol,
    )

    assert resolve_solver("auto", 99) == "lbfgs"
    assert resolve_solver("auto", 100) == "adam"
    assert resolve_solver("auto", 10, incremental=True) == "adam"
    assert resolve_solver("lbfgs", 10**6) == "lbfgs"
    # partial_fit is one epoch of Adam whatever trained before; a warm start
    # takes the solver asked for, "auto" the one that trained.
    assert resolve_solver("auto", 10, incremental=True, fitted_solver="lbfgs") == "adam"
    assert resolve_solver("adam", 10, fitted_solver="lbfgs") == "adam"
    assert resolve_solver("lbfgs", 10**6, fitted_solver="adam") == "lbfgs"
    assert resolve_solver("auto", 10**6, fitted_solver="lbfgs") == "lbfgs"
    assert [auto_hidden_layer_sizes(d) for d in (4, 64, 200, 784)] == [
        (64,), (128,), (400,), (512,)]
    # The rows bound the width only where they are fewer than its units, and
    # never below 64.
    for d in (4, 64, 200, 784, 10_000):
        (width,) = auto_hidden_layer_sizes(d)
        assert auto_hidden_layer_sizes(d, width) == auto_hidden_layer_sizes(d, 10**6)
        assert auto_hidden_layer_sizes(d, width) == (width,)
        assert auto_hidden_layer_sizes(d, width - 1) == (max(64, width - 1),)
    assert auto_hidden_layer_sizes(4, 10) == (64,)
    assert auto_hidden_layer_sizes(10_000, 50) == (64,)
    assert auto_hidden_layer_sizes(20_000, 200) == (200,)
    assert resolve_learning_rate("auto", (512,)) == pytest.approx(2e-3)
    assert resolve_learning_rate("auto", (128,)) == pytest.approx(2e-3 * 2**0.5)
    assert resolve_learning_rate(0.01, (128,)) == 0.01
    assert resolve_early_stopping("auto", "adam", 100, 0.1)
    assert not resolve_early_stopping("auto", "adam", 90, 0.1)  # 9 validation rows
    assert not resolve_early_stopping("auto", "lbfgs", 10**6, 0.1)
    assert resolve_alpha("auto", 784) == pytest.approx(0.784)
    assert resolve_alpha("auto", 64) == pytest.approx(0.064)
    assert resolve_alpha(1e-4, 784) == 1e-4
    assert resolve_free_bits("auto", "adam", 1) == 0.25
    assert resolve_free_bits("auto", "adam", 5) == 0  # the IWAE bound has no KL
    assert resolve_free_bits("auto", "lbfgs", 1) == 0
    assert resolve_free_bits(0.5, "lbfgs", 1) == 0.5
    assert resolve_tol("auto", "adam", 784) == pytest.approx(0.0784)
    assert resolve_tol("auto", "adam", 64) == pytest.approx(0.0064)
    assert resolve_tol("auto", "lbfgs", 784) == 1e-4
    assert resolve_tol(0.0, "adam", 784) == 0.0


def test_defaults_resolve_from_the_data():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skvae import VAETransformer

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small = VAETransformer(max_iter=3, random_state=0).fit(rng.random((50, 4)))
        large = VAETransformer(max_iter=3, random_state=0).fit(rng.random((150, 64)))
    assert (small.solver_, small.hidden_layer_sizes_) == ("lbfgs", (64,))
    assert (large.solver_, large.hidden_layer_sizes_) == ("adam", (128,))
    assert len(large.validation_scores_) == large.n_iter_  # early stopping is on
    assert not hasattr(small, "validation_scores_")


def test_auto_free_bits_train_adam_only_and_give_way_to_the_iwae_bound():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skvae import VAETransformer

    X = np.random.default_rng(0).random((150, 6))

    def fit(**params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return VAETransformer(max_iter=3, random_state=0, **params).fit(X)

    # "auto" trains what the explicit value trains: 0.25 with Adam ...
    np.testing.assert_array_equal(fit().transform(X), fit(free_bits=0.25).transform(X))
    assert not np.array_equal(fit().transform(X), fit(free_bits=0.0).transform(X))
    # ... and 0 with L-BFGS-B or the importance-weighted bound, which
    # refuses explicit free bits.
    np.testing.assert_array_equal(fit(solver="lbfgs").transform(X),
                                  fit(solver="lbfgs", free_bits=0.0).transform(X))
    fit(n_importance_samples=3)
    with pytest.raises(ValueError, match="free_bits=0"):
        fit(n_importance_samples=3, free_bits=0.25)


def test_auto_tol_is_per_feature_with_adam_only():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skvae import VAETransformer

    X = (np.random.default_rng(0).random((300, 40)) > 0.5).astype(float)

    def fit(**params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return VAETransformer(2, likelihood="bernoulli", max_iter=60,
                                  random_state=0, **params).fit(X)

    # With Adam "auto" stops where 1e-4 nats per feature stops, sooner than
    # the plain 1e-4 would: each epoch's gain must now beat 0.004 nats.
    auto, per_feature, plain = fit(), fit(tol=40e-4), fit(tol=1e-4)
    assert auto.n_iter_ == per_feature.n_iter_ < plain.n_iter_
    np.testing.assert_array_equal(auto.transform(X), per_feature.transform(X))
    # With L-BFGS-B it is the plain 1e-4, also the bound on the gradient.
    np.testing.assert_array_equal(fit(solver="lbfgs").transform(X),
                                  fit(solver="lbfgs", tol=1e-4).transform(X))


def test_early_stopping_restores_the_best_parameters():
    from skvae._train.solvers import Adam, History, run_adam

    # Every step moves the parameter by the same amount; the validation
    # score peaks when it passes 0.5, then falls: training ends where it
    # peaked, not where it stopped.
    params, grad = np.zeros(1), np.full(1, -1.0)
    seen = []

    def validation_score():
        seen.append((float(params[0]), -abs(float(params[0]) - 0.5)))
        return seen[-1][1]

    history = History()
    run_adam(lambda batch: 1.0, params, grad, Adam(1, np.float64, 0.05), history,
             np.zeros((4, 1)), batch_size=4, max_iter=100, tol=0.0,
             n_iter_no_change=3, rng=np.random.default_rng(0),
             validation_score=validation_score)
    best_param, best_score = max(seen, key=lambda item: item[1])
    assert history.n_iter < 100 and seen[-1][1] < best_score
    assert params[0] == best_param
