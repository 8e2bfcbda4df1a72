import numpy as np
import pytest

from skvae._train.solvers import Adam, History, run_adam, run_lbfgs
from skvae.exceptions import DivergenceError

TARGET = np.array([1.0, -2.0, 3.0])


def quadratic(params, grad):
    """0.5 ||params - TARGET||^2, its gradient written into grad."""
    def loss_and_grad(*_):
        np.subtract(params, TARGET, out=grad)
        return 0.5 * float(grad @ grad)
    return loss_and_grad


@pytest.mark.parametrize("chunk", [Adam.CHUNK, 3])
def test_adam_matches_the_textbook_update(monkeypatch, chunk):
    # chunk=3 splits the 10 parameters 3 + 3 + 3 + 1.
    monkeypatch.setattr(Adam, "CHUNK", chunk)
    rng = np.random.default_rng(0)
    params = rng.normal(size=10)
    expected = params.copy()
    m = v = np.zeros(10)
    adam = Adam(10, np.float64, learning_rate_init=0.1)
    for t in range(1, 6):
        grad = rng.normal(size=10)
        adam.step(params, grad)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        # Kingma and Ba section 2, "efficient" form: epsilon scaled by the bias term.
        expected -= 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8 / np.sqrt(1 - 0.999**t))
    np.testing.assert_allclose(params, expected, rtol=1e-12)


def test_adam_step_keeps_float32():
    params = np.ones(3, dtype=np.float32)
    Adam(3, np.float32).step(params, np.ones(3, dtype=np.float32))
    assert params.dtype == np.float32


def test_lbfgs_finds_the_minimum_in_float32_buffers():
    params, grad = np.zeros(3, dtype=np.float32), np.zeros(3, dtype=np.float32)
    history = History()
    converged = run_lbfgs(quadratic(params, grad), params, grad, history,
                          max_iter=50, tol=1e-6, n_iter_no_change=10)
    assert converged and params.dtype == np.float32
    np.testing.assert_allclose(params, TARGET, atol=1e-4)
    assert history.n_iter == len(history.loss_curve) >= 1
    assert history.loss_curve[-1] == pytest.approx(0, abs=1e-6)


def test_lbfgs_reports_running_out_of_iterations():
    params, grad = np.zeros(3), np.zeros(3)

    def rosenbrock():
        x, y = params[0], params[1]
        grad[:] = [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2), 0]
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2

    assert not run_lbfgs(rosenbrock, params, grad, History(), max_iter=3, tol=0,
                         n_iter_no_change=10)


def test_lbfgs_divergence_keeps_the_last_accepted_parameters():
    params, grad = np.zeros(3), np.zeros(3)
    calls = []
    inner = quadratic(params, grad)

    def explodes_later():
        calls.append(params.copy())
        return inner() if len(calls) < 4 else np.nan

    history = History()
    with pytest.raises(DivergenceError, match="NaN or infinite"):
        run_lbfgs(explodes_later, params, grad, history, max_iter=50, tol=0,
                  n_iter_no_change=10)
    # Back at an iterate evaluated before the NaN (the start counts as one).
    assert any(np.array_equal(params, finite) for finite in calls[:3])
    assert not np.array_equal(params, calls[3])


def test_adam_divergence_restores_the_epoch_start():
    params, grad = np.ones(3), np.zeros(3)
    X = np.zeros((10, 1))
    step = iter(range(100))

    def loss_and_grad(batch):
        grad[:] = 1.0
        return 1.0 if next(step) < 7 else np.inf

    history = History()
    with pytest.raises(DivergenceError, match="iteration 4"):
        run_adam(loss_and_grad, params, grad, Adam(3, np.float64), history, X,
                 batch_size=5, max_iter=10, tol=0, n_iter_no_change=100,
                 rng=np.random.default_rng(0))
    assert history.n_iter == 3
    # Steps 0..5 were applied (three epochs of two batches), step 6 was the
    # last finite one, of the fourth epoch, which was rolled back.
    reference = np.ones(3)
    adam = Adam(3, np.float64)
    for _ in range(6):
        adam.step(reference, np.ones(3))
    np.testing.assert_allclose(params, reference)


def test_history_stopping_rule_counts_like_scikit_learn():
    history = History()
    for loss in [10.0, 9.0, 9.0, 8.99995, 9.5]:
        history.record(loss, tol=1e-4)
    assert history.no_improvement_count == 3
    assert history.stalled(2) and not history.stalled(3)
    assert history.best_loss == 8.99995


def test_history_compares_nothing_while_the_objective_changes():
    history = History()
    history.changing_until = 3
    # A KL warm-up raises the loss: no stall counted, each is the new best.
    for loss in [1.0, 2.0, 3.0]:
        assert history.record(loss, tol=0)
    assert history.no_improvement_count == 0 and history.best_loss == 3.0
    history.record(3.5, tol=0)  # compared with the first full-weight loss
    assert history.no_improvement_count == 1


def test_early_stopping_ends_on_the_best_validation_parameters():
    params, grad = np.zeros(1), np.zeros(1)
    X = np.zeros((4, 1))

    def loss_and_grad(batch):
        grad[:] = -1.0  # always climbs: params grows by about lr per step
        return 0.0

    scores = iter([1.0, 3.0, 2.0, 2.5, 0.0, 0.0, 0.0])
    seen = []

    def validation_score():
        seen.append(params[0])
        return next(scores)

    converged = run_adam(loss_and_grad, params, grad, Adam(1, np.float64, 0.5),
                         History(), X, batch_size=4, max_iter=7, tol=0,
                         n_iter_no_change=2, rng=np.random.default_rng(0),
                         validation_score=validation_score)
    assert converged
    assert params[0] == seen[1]


@pytest.mark.parametrize("chunk", [Adam.CHUNK, 3])
def test_adam_average_is_the_bias_corrected_moving_average(monkeypatch, chunk):
    monkeypatch.setattr(Adam, "CHUNK", chunk)
    rng = np.random.default_rng(0)
    params = rng.normal(size=10)
    adam = Adam(10, np.float64, learning_rate_init=0.1, average_decay=0.9)
    plain = Adam(10, np.float64, learning_rate_init=0.1)
    twin = params.copy()
    average = np.zeros(10)
    for t in range(1, 8):
        grad = rng.normal(size=10)
        adam.step(params, grad)
        plain.step(twin, grad)
        average = 0.9 * average + 0.1 * params
        out = np.empty(10)
        adam.read_average(out)
        np.testing.assert_allclose(out, average / (1 - 0.9**t), rtol=1e-12)
    # Averaging reads the iterates; it does not change them.
    np.testing.assert_array_equal(params, twin)
    assert plain.average is None


def run_epochs(optimizer, params, grad, n_epochs, validation_score=None):
    X = np.zeros((4, 1))
    rng = np.random.default_rng(0)
    return run_adam(quadratic(params, grad), params, grad, optimizer, History(), X,
                    batch_size=2, max_iter=n_epochs, tol=0, n_iter_no_change=100,
                    rng=rng, validation_score=validation_score)


def test_run_adam_ends_on_the_average_and_continues_from_the_iterate():
    params, grad = np.zeros(3), np.zeros(3)
    adam = Adam(3, np.float64, 0.5, average_decay=0.8)
    run_epochs(adam, params, grad, 3)
    # The model is the average of the six iterates; the last iterate is kept.
    iterates, reference = [], Adam(3, np.float64, 0.5)
    twin, twin_grad = np.zeros(3), np.zeros(3)
    for _ in range(6):
        quadratic(twin, twin_grad)()
        reference.step(twin, twin_grad)
        iterates.append(twin.copy())
    weights = 0.2 * 0.8 ** np.arange(5, -1, -1)
    expected = weights @ np.array(iterates) / (1 - 0.8**6)
    np.testing.assert_allclose(params, expected, rtol=1e-12)
    np.testing.assert_array_equal(adam.iterate, iterates[-1])
    # One more epoch starts from the iterate, not from the average: as if
    # the four steps had run in one go.
    run_epochs(adam, params, grad, 1)
    for _ in range(2):
        quadratic(twin, twin_grad)()
        reference.step(twin, twin_grad)
    np.testing.assert_array_equal(adam.iterate, twin)


def test_validation_scores_the_average_and_training_ends_on_the_best_one():
    params, grad = np.zeros(3), np.zeros(3)
    adam = Adam(3, np.float64, 0.5, average_decay=0.8)
    seen, scores = [], iter([1.0, 3.0, 2.0, 2.0, 2.0])

    def validation_score():
        average = np.empty(3)
        adam.read_average(average)
        np.testing.assert_array_equal(params, average)
        seen.append(params.copy())
        return next(scores)

    run_epochs(adam, params, grad, 5, validation_score)
    np.testing.assert_array_equal(params, seen[1])
    # The next run continues from that model, not from the last iterate, and
    # the average restarts as it.
    assert adam.iterate is None
    average = np.empty(3)
    adam.read_average(average)
    np.testing.assert_allclose(average, seen[1], rtol=1e-12)


def test_adam_settings_are_python_floats():
    # A NumPy float64 decay or step (np.linspace) would run float32 buffers
    # through float64 loops and change the result.
    adam = Adam(3, np.float32, np.float64(0.01), average_decay=np.float64(0.98))
    assert type(adam.learning_rate_init) is float and type(adam.average_decay) is float
    params, grad = np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float32)
    twin = params.copy()
    adam.step(params, grad)
    Adam(3, np.float32, 0.01, average_decay=0.98).step(twin, grad)
    np.testing.assert_array_equal(params, twin)
