"""Inference in chunks of bounded memory, shared by every estimator.

Every scoring and decoding method maps its rows through the fitted network
chunk by chunk, so that memory stays bounded whatever the number of rows,
and reports values clipped to the dtype's finite range (a density too small
for the dtype becomes its most negative value, never -inf). The scores that
average or sum over noise draws (``score_samples``' ELBO, ``log_likelihood``)
also take the draws in chunks when one row's scratch for all of them exceeds
the budget, so that memory stays bounded whatever the number of draws; the
result is then the same up to rounding (a sum over the chunks' partial
means, or logsumexps, instead of one).
"""

import functools
import math
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


def chunk_budget_mib():
    """Scratch memory per inference chunk, in MiB."""
    return min(get_config()["working_memory"], INFERENCE_CHUNK_MIB)


def log_sum_weights(network, X, noise):
    """log sum_k w_k of the importance weights of the draws ``noise``: the
    log-likelihood estimate before dividing by their number."""
    return network.log_likelihood(X, noise) + math.log(noise.shape[0])


def clipped(values):
    """``values`` within their dtype's finite range."""
    bounds = np.finfo(values.dtype)
    return np.clip(values, bounds.min, bounds.max)


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
        chunk = chunk_n_rows(width * self._network.dtype.itemsize, X.shape[0],
                             chunk_budget_mib())
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

    def _draws_per_chunk(self, n_draws):
        """Noise draws a chunk takes: all ``n_draws`` while one row's scratch
        for all of them fits the budget (then only rows are chunked), else as
        many as fit, at least one."""
        per_draw = self._row_width(1) * self._network.dtype.itemsize
        return max(1, min(n_draws, int(chunk_budget_mib() * 2**20 // per_draw)))

    def _score_samples(self, X, condition=None):
        # The true ELBO (beta = 1) whatever the training beta: a lower bound on
        # log p(x), comparable across models, so GridSearchCV can tune beta.
        noise = self._score_noise
        n_draws = noise.shape[0]
        size = self._draws_per_chunk(n_draws)

        def elbo(x, c=None, noise=noise):
            return self._network.elbo(x, noise, C=c)

        if size == n_draws:
            return self._map_rows(elbo, X, n_draws=n_draws, condition=condition)
        # The ELBO is a mean over the draws: the chunks' means, weighted.
        total = None
        with np.errstate(over="ignore"):
            for start in range(0, n_draws, size):
                draws = noise[start:start + size]
                part = self._map_rows(functools.partial(elbo, noise=draws), X,
                                      n_draws=len(draws), condition=condition)
                part = part * (len(draws) / n_draws)
                total = part if total is None else total + part
        return clipped(total)

    def _log_likelihood(self, X, n_samples, random_state):
        # The same n_samples noise vectors for every row: each row still gets
        # an unbiased importance-weighted estimate, and a subset of rows gets
        # exactly those rows of the full result.
        check_is_fitted(self)
        seed = self._log_likelihood_seed if random_state is None else random_state
        rng = check_random_state(seed)
        net = self._network
        size = self._draws_per_chunk(n_samples)

        def draw(n):
            noise = rng.standard_normal((n, 1, net.noise_dims))
            return noise.astype(net.dtype)

        if size == n_samples:
            noise = draw(n_samples)
            return self._map_rows(lambda x: net.log_likelihood(x, noise), X,
                                  n_draws=n_samples)
        # log sum_k w_k over chunks of draws, drawn in turn from the one
        # stream (the noise of one draw of all), combined with logaddexp.
        total = None
        for start in range(0, n_samples, size):
            n = min(size, n_samples - start)
            weights = functools.partial(log_sum_weights, net, noise=draw(n))
            part = self._map_rows(weights, X, n_draws=n)
            total = part if total is None else np.logaddexp(total, part)
        return clipped(total - math.log(n_samples))

    def _reconstruction_error(self, X):
        return self._map_rows(self._network.reconstruction_error, X)

    def _decode(self, Z, condition=None, rng=None):
        """Decode codes Z (and the condition's rows): decoder means, or with
        ``rng`` draws x ~ p(x | z); as the user's data (:meth:`_output`)."""
        net = self._network
        if rng is None:
            M = self._map_rows(net.decoded_mean, Z, n_columns=net.n_features,
                               condition=condition)
            return self._output(M)
        # The draws' uniform noise rides with the codes through the row chunks.
        tiny = np.finfo(net.dtype).eps
        uniform = np.clip(rng.random_sample((Z.shape[0], net.n_features)), tiny,
                          1 - tiny)
        k = Z.shape[1]

        def draw(codes_and_noise, c=None):
            return net.decoded_draw(codes_and_noise[:, :k], codes_and_noise[:, k:], c)

        M = self._map_rows(draw, np.hstack([Z, uniform.astype(Z.dtype)]),
                           n_columns=net.n_features, condition=condition)
        return self._output(M)

    def _sample_latent(self, n_samples, random_state):
        # The noise is drawn at once (one row of it per code), the prior's
        # networks (a flow's, a hierarchical prior's) run in row chunks.
        rng = check_random_state(random_state)
        net = self._network
        eps = rng.standard_normal((n_samples, net.noise_dims)).astype(net.dtype)
        return self._map_rows(net.sample_prior, eps, n_columns=net.n_components)

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
