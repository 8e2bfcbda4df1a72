"""The parts a model is assembled from, one family a folder or module.

- :mod:`.encoders`: the Gaussian encoder q(z|x);
- :mod:`.heads`: the likelihoods p(x | a) at the end of every decoder, one
  module each, registered in ``HEADS``; :mod:`.heads.scaling`, the data
  scaling they start from;
- :mod:`.decoders`: the networks from a code to the head's outputs,
  registered in ``DECODERS``;
- :mod:`.priors`: the priors p(z), registered in ``PRIORS``;
- :mod:`.quantizer`: the VQ-VAE's codebook and its updates;
- :mod:`.classifiers`: the softmax classifier q(y|x) of the semi-supervised
  models.

A part owns its parameters (it declares their shapes and gets views of the
network's flat buffer, :class:`skvae._nn.layout.Part`), its forward and its
backward pass.  A family's registry, in its ``__init__``, maps the value an
estimator parameter takes to the part's class: a new likelihood, decoder or
prior is one new module and one registry line.

Imports: NumPy, SciPy, :mod:`skvae._nn` and other parts; nothing above
(models, training, estimators) and no scikit-learn.
"""
