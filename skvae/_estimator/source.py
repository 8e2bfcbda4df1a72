"""Training data sources: what a fit asks of its data, in memory or on dask workers.

:meth:`BaseVAE._fit <skvae._estimator.base.BaseVAE._fit>` is one fit path
for every kind of data; what differs between kinds is behind a *data
source*, built by :func:`data_source`:

- :class:`ArraySource`: NumPy arrays in memory (with an optional condition
  and row weights);
- :class:`~skvae._estimator.dask.DaskSource`: a dask array persisted on the
  workers, trained there by data-parallel L-BFGS-B or by local SGD with
  Adam.

A source answers what the fit needs, and nothing else:

``X``, ``condition``, ``sample_weight``
    The training data, as the callbacks' hooks receive them.
``n_rows``
    Number of training rows (for the "auto" settings).
``initialization_rows``
    Rows from which :meth:`~skvae._models.vae.VAENetwork.initialize` starts
    the network as it would from all of X.
``solver(solver, incremental, fitted_solver)``
    The solver that trains on this data (``fitted_solver``: the one that
    trained the network before, when the fit continues it).
``fit_lbfgs(...)``, ``fit_adam(...)``
    The training driver of that solver, returning as
    :mod:`skvae._train.drivers` does.
``mean_kl(estimator)``
    The latent diagnostics' mean KL per component over the training rows.

Settings, the fit transaction, callbacks, the history and the convergence
warning stay in the one fit path.
"""

from .._train.drivers import fit_adam, fit_lbfgs, resolve_solver
from .dask import is_dask
from .diagnostics import mean_kl


def data_source(estimator, X, *, incremental, condition=None, sample_weight=None,
                dtype=None):
    """The source of validated training data X (NumPy or dask).

    ``dtype``, when given, is the fitted network's: a continued fit trains
    on data of that dtype.
    """
    if is_dask(X):
        from .dask import DaskSource

        return DaskSource(estimator, X, incremental=incremental, condition=condition,
                          sample_weight=sample_weight, dtype=dtype)
    return ArraySource(X, condition=condition, sample_weight=sample_weight,
                       dtype=dtype)


class ArraySource:
    """Training data in memory: X, its condition and row weights (or None)."""

    def __init__(self, X, *, condition=None, sample_weight=None, dtype=None):
        if dtype is not None:
            X = X.astype(dtype, copy=False)
            if sample_weight is not None:
                sample_weight = sample_weight.astype(dtype, copy=False)
        self.X, self.condition, self.sample_weight = X, condition, sample_weight
        self.n_rows = X.shape[0]
        self.initialization_rows = X

    def solver(self, solver, incremental, fitted_solver=None):
        return resolve_solver(solver, self.n_rows, incremental, fitted_solver)

    def fit_lbfgs(self, network, rng, history, settings, on_iteration):
        return fit_lbfgs(network, self.X, self.condition, rng, history, settings,
                         on_iteration, self.sample_weight)

    def fit_adam(self, network, rng, history, optimizer, settings, *, incremental,
                 score_noise, on_iteration):
        return fit_adam(network, self.X, self.condition, rng, history, optimizer,
                        settings, incremental=incremental, score_noise=score_noise,
                        on_iteration=on_iteration, sample_weight=self.sample_weight)

    def mean_kl(self, estimator):
        Z, Z_std = estimator._transform(self.X, return_std=True)
        return mean_kl(Z, Z_std, self.sample_weight)
