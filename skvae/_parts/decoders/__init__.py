"""Decoders p(x | z): a network from the code to one output per feature, then a head.

Every decoder follows one protocol, so the objective never asks which one it
holds.  The input ``Z`` is the code, with any condition already appended
(``[z, c]``); the head (:mod:`skvae._parts.heads`) turns the outputs into a
likelihood.

- ``forward(X, Z)`` -> ``(log_px, cache)`` and ``backward(cache, row_weights)``
  -> d/dZ of ``sum_i w_i log p(x_i | z_i)``, writing the decoder's gradients:
  the training pass.
- ``log_prob(X, Z)``: log p(x | z) for codes of shape (..., n, width), X
  repeated over the leading axes.
- ``mean(Z)``: what the decoder makes of codes (``inverse_transform``);
  ``reconstruction_error(X, Z)``.

:class:`MLPDecoder` is a dense MLP.  :class:`AutoregressiveDecoder` is a MADE
conditioned on the code: p(x | z) = prod_j p(x_j | x_<j, z) (Chen et al. 2017).

One module per decoder, registered by name in ``DECODERS`` below (the
estimators' ``decoder`` values); each builds itself from the estimator's
settings with ``from_settings``.  A new decoder is one new module and one line
in ``DECODERS``.

Imports: :mod:`skvae._nn` only (the head is handed in); no scikit-learn.
"""

from .autoregressive import AutoregressiveDecoder
from .mlp import MLPDecoder

DECODERS = {"mlp": MLPDecoder, "autoregressive": AutoregressiveDecoder}
