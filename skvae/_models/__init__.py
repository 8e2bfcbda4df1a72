"""The models: parts composed into networks, and the objectives they train on.

- :mod:`.vae`: :class:`~.vae.VAENetwork` (encoder, prior and decoder in one
  flat parameter buffer; training loss and gradient, scores, sampling) and
  :func:`~.vae.build_network`, which assembles it from the registered parts;
- :mod:`.objectives`: the ELBO and the importance-weighted bound as training
  objectives, and their variants (KL warm-up, free bits);
- :mod:`.semisupervised`: model M2 (the conditional VAE plus a classifier,
  the class summed out on unlabeled rows);
- :mod:`.auxiliary`: the skip deep generative model (M2 with an auxiliary
  variable);
- :mod:`.vq`: the VQ-VAE network.

A network is a deterministic function of its parameters and of the noise it is
handed: it never draws random numbers itself.

Imports: NumPy, SciPy, :mod:`skvae._nn` and :mod:`skvae._parts`; nothing of
training or the estimators, and no scikit-learn.
"""
