"""The estimator layer shared by skvae's public estimators: where scikit-learn comes in.

- :mod:`.base`: :class:`~.base.BaseVAE`, the parameters, fit and inference of
  the VAE estimators (it builds a network, hands it to a training driver and
  stores what the fit produced): one fit path for every kind of data;
- :mod:`.source`: the data sources that fit path trains on (NumPy arrays in
  memory, or through :mod:`.dask` blocks on the workers);
- :mod:`.validation`: input checks (``validate_data``, sample weights, the
  array-API refusal); :mod:`.inference`: row-chunked inference of bounded
  memory; :mod:`.persistence`: saving as plain data; :mod:`.callbacks`:
  scikit-learn's callback API; :mod:`.docs`: the shared parameter docs;
  :mod:`.fitted`: the settings a fit freezes for inference;
- :mod:`.mixins`: the public methods of the models that encode and decode;
  :mod:`.labels`: fitting on labels of which some may be -1;
  :mod:`.thresholds`: the outlier detector's threshold and probabilities;
  :mod:`.diagnostics`: the latent diagnostics of a fitted model;
- :mod:`.dask`: training on and scoring dask arrays (the dask data source);
- :mod:`.vqfit`: the VQ-VAE's set-up, training and inference;
- :mod:`.utils`: small helpers (transactional fit, warnings at the caller,
  chunk sizes).

Imports: scikit-learn, :mod:`skvae._train`, :mod:`skvae._models`,
:mod:`skvae._parts`, :mod:`skvae._nn` and :mod:`skvae.exceptions`; never the
public estimator modules, which build on this one.
"""
