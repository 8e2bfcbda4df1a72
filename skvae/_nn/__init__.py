"""Neural-network mathematics: arrays in, arrays out, nothing about models.

- :mod:`.activations`: each activation and its derivative, in name -> function
  tables;
- :mod:`.layout`: :class:`~.layout.Layout` (where each parameter array sits in
  one flat buffer) and :class:`~.layout.Part` (the protocol of everything that
  owns parameters in it);
- :mod:`.mlp`: a dense MLP's forward pass and its backward pass into gradient
  views, and the :class:`~.mlp.MLPPart` built on them;
- :mod:`.made`: masked autoregressive MLPs (MADE);
- :mod:`.likelihoods`: the Bernoulli and Gaussian log densities of decoder
  outputs and their gradients.

Imports: NumPy and SciPy only; nothing else of skvae, and no scikit-learn.
"""
