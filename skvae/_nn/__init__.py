"""Neural-network mathematics: arrays in, arrays out, nothing about models.

- :mod:`.activations`: each activation and its derivative, in name -> function
  tables;
- :mod:`.layout`: :class:`~.layout.Layout` (where each parameter array sits in
  one flat buffer) and :class:`~.layout.Part` (the protocol of everything that
  owns parameters in it);
- :mod:`.mlp`: a dense MLP's forward pass and its backward pass into gradient
  views, and the :class:`~.mlp.MLPPart` built on them;
- :mod:`.made`: masked autoregressive MLPs (MADE);
- :mod:`.gaussian`: the diagonal Gaussian, written once for every model: its
  log densities (by variance, by log-variance, the standard normal, the
  posterior at its own draw) with their gradients, and the reparameterization
  z = mu + exp(log_var / 2) * eps with its backward;
- :mod:`.likelihoods`: the Bernoulli log density of decoder outputs and its
  gradients, and the Gaussian likelihood's variance floor.

Imports: NumPy and SciPy only; nothing else of skvae, and no scikit-learn.
"""
