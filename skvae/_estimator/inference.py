"""Inference in row chunks of bounded memory, shared by every estimator.

Every scoring and decoding method maps its rows through the fitted network
chunk by chunk, so that memory stays bounded whatever the number of rows,
and reports values clipped to the dtype's finite range (a density too small
for the dtype becomes its most negative value, never -inf).
"""

from numbers import Integral

import numpy as np
from sklearn import get_config
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from .callbacks import reported_chunks
from .dask import is_dask
from .utils import chunk_n_rows

# Scratch memory per inference chunk, in MiB (scikit-learn's working_memory
# when smaller): chunks that stay in cache transform faster than the 1 GiB
# working_memory default (docs/benchmarks.rst, "Implementation choices").
INFERENCE_CHUNK_MIB = 32


class RowChunksMixin:
    """Inference of a fitted ``_network`` in row chunks of bounded memory, for
    every estimator (the VAEs and the VQ-VAE).

    An estimator using it defines ``_as_network_dtype(X)`` and
    ``_row_width(n_draws)``: the scratch values one row of inference needs.
    """

    def _map_rows(self, function, X, n_draws=1, n_columns=None, condition=None):
        """Apply ``function`` to X in row chunks of bounded scratch memory.

        ``function`` maps a chunk (cast to the network's dtype), and the same
        rows of ``condition`` if given, to an array of one value (or
        ``n_columns`` values) per row; the result is returned in X's dtype
        (a lazy dask array, mapped over the blocks, when X is one).
        """
        if is_dask(X):
            from . import dask as _dask
            return _dask.map_rows(self, function, X, n_draws, n_columns, condition)
        check_is_fitted(self)
        shape = (X.shape[0],) if n_columns is None else (X.shape[0], n_columns)
        return self._map_chunks(function, X, np.empty(shape, dtype=X.dtype),
                                n_draws, condition)

    def _map_chunks(self, function, X, out, n_draws=1, condition=None):
        """:meth:`_map_rows` into ``out``, of any dtype: row i of ``out``
        holds ``function``'s values for row i of X."""
        width = self._row_width(n_draws)
        budget = min(get_config()["working_memory"], INFERENCE_CHUNK_MIB)
        chunk = chunk_n_rows(width * self._network.dtype.itemsize, X.shape[0], budget)
        # A density of a row far from the data can fall below the most negative
        # float (and an error above the largest): report those bounds, never
        # -inf or inf.
        bounds = (np.finfo(out.dtype) if np.issubdtype(out.dtype, np.floating)
                  else None)
        with (np.errstate(over="ignore"),
              reported_chunks(self, gen_batches(X.shape[0], chunk)) as batches):
            for rows in batches:
                chunk_args = [self._as_network_dtype(X[rows])]
                if condition is not None:
                    chunk_args.append(self._as_network_dtype(condition[rows]))
                values = function(*chunk_args)
                if bounds is not None:
                    values = np.clip(values, bounds.min, bounds.max)
                out[rows] = values
        return out


class InferenceMixin(RowChunksMixin):
    """Chunked inference of a fitted VAE ``_network``: the private scoring
    methods the public ones call, and :meth:`sample_latent`."""

    def _row_width(self, n_draws):
        net = self._network
        return n_draws * (2 * net.n_features + 4 * sum(net.encoder.sizes[1:-1])
                          + 4 * net.n_components)

    def _transform(self, X, return_std=False):
        net, k = self._network, self.n_components_
        if not return_std:
            return self._map_rows(lambda x: net.encode(x)[0], X, n_columns=k)
        both = self._map_rows(lambda x: np.hstack(net.encode(x)), X, n_columns=2 * k)
        # copy(), not np.ascontiguousarray, which would compute a dask array.
        return both[:, :k].copy(), np.exp(0.5 * both[:, k:])

    def _score_samples(self, X, condition=None):
        # The true ELBO (beta = 1) whatever the training beta: a lower bound on
        # log p(x), comparable across models, so GridSearchCV can tune beta.
        noise = self._score_noise

        def elbo(x, c=None):
            return self._network.elbo(x, noise, C=c)

        return self._map_rows(elbo, X, n_draws=noise.shape[0], condition=condition)

    def _log_likelihood(self, X, n_samples, random_state):
        # The same n_samples noise vectors for every row: each row still gets
        # an unbiased importance-weighted estimate, and a subset of rows gets
        # exactly those rows of the full result.
        check_is_fitted(self)
        seed = self._log_likelihood_seed if random_state is None else random_state
        rng = check_random_state(seed)
        noise = rng.standard_normal((n_samples, 1, self._network.noise_dims))
        noise = noise.astype(self._network.dtype)
        return self._map_rows(lambda x: self._network.log_likelihood(x, noise), X,
                              n_draws=n_samples)

    def _reconstruction_error(self, X):
        return self._map_rows(self._network.reconstruction_error, X)

    def _sample_latent(self, n_samples, random_state):
        rng = check_random_state(random_state)
        eps = rng.standard_normal((n_samples, self._network.noise_dims))
        return self._network.sample_prior(eps.astype(self._network.dtype))

    @validate_params(
        {"n_samples": [Interval(Integral, 1, None, closed="left")],
         "random_state": ["random_state"]},
        prefer_skip_nested_validation=True,
    )
    def sample_latent(self, n_samples=1, random_state=None):
        """Draw codes z from the model's prior p(z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of codes to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; None uses NumPy's global random state, as
            :meth:`sample` does.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Codes drawn from N(0, I), or from the learned prior when
            ``prior="flow"`` or ``"hierarchical"`` (z drawn given a top-level
            code drawn from N(0, I)), in the fit dtype.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(50, 4))
        >>> vae = VAETransformer(n_components=2, max_iter=5, random_state=0).fit(X)
        >>> vae.sample_latent(3, random_state=0).shape
        (3, 2)
        """
        check_is_fitted(self)
        return self._sample_latent(n_samples, random_state)
