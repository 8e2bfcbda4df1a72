"""Training: generic optimizers, and the drivers that run them on a network.

- :mod:`.solvers`: L-BFGS-B and Adam on a flat parameter buffer, with the
  :class:`~.solvers.History` of a fit (loss curve, early stopping); neither
  knows what a VAE is;
- :mod:`.drivers`: L-BFGS-B in rounds of fixed noise and Adam in epochs of
  minibatches on a network of :mod:`skvae._models`: the training noise, the
  objective of each iteration (KL warm-up), the validation rows, and the
  ``auto`` settings resolved from the data's shape;
- :mod:`.local_sgd`: Adam on shards of the rows side by side (each shard one
  epoch of the Adam driver a round), averaged after every round, wherever
  the caller runs the shards (dask workers).

Imports: NumPy, SciPy, threadpoolctl, :mod:`skvae._models` (and what it
builds on) and :mod:`skvae.exceptions`; nothing of the estimators, and no
scikit-learn.
"""
