"""The categorical head: p(x | a) a softmax over each column's categories.

A categorical column holds integer codes 0 .. K_j - 1 in the model matrix
(one column per input column); the decoder gives it K_j logits and the
encoder sees it as a one-hot block of K_j inputs. Several columns are scored
at once: their logits sit side by side, column j's block at
``offsets[j] : offsets[j] + K_j``, and every block-wise reduction (the
log-softmax, the draws) is one ``reduceat`` over the last axis.
"""

import numpy as np

from ..._nn.layout import Part
from .scaling import DataScaler


class CategoricalHead(Part):
    """p(x_j = c | a) = softmax(a_block_j)_c, one block of logits per column.

    Parameters
    ----------
    n_categories : sequence of int
        Number of categories K_j of each column, each at least 1.

    Attributes
    ----------
    n_columns : int
        Columns of the model matrix scored (one code each).
    n_outputs : int
        Decoder outputs read: sum of K_j logits.
    n_inputs : int
        Encoder inputs the columns become: sum of K_j one-hot entries.
    """

    def __init__(self, n_categories):
        self.n_categories = np.asarray(n_categories, dtype=np.intp)
        if self.n_categories.ndim != 1 or np.any(self.n_categories < 1):
            raise ValueError("Every categorical column needs at least one category.")
        self.n_columns = self.n_categories.size
        self.n_outputs = self.n_inputs = int(self.n_categories.sum())
        self.offsets = np.concatenate([[0], np.cumsum(self.n_categories)[:-1]])
        # The column of each logit.
        self.owner = np.repeat(np.arange(self.n_columns), self.n_categories)

    # kept for the decoders, which ask their head for its width
    @property
    def n_features(self):
        return self.n_columns

    def scaler(self, X, sample_weight=None):
        """Codes stay codes: no scaling."""
        return DataScaler.identity(self.n_columns)

    def initialize(self, X, output_bias, var_floor_fraction, sample_weight=None):
        """Start the logits at the log of each category's (weighted) frequency.

        Missing codes (NaN) are left out; a category never seen gets the
        frequency of half a row, so that its logit is finite.
        """
        for j, (start, k) in enumerate(zip(self.offsets, self.n_categories,
                                           strict=True)):
            codes = X[:, j]
            seen = ~np.isnan(codes)
            weights = None if sample_weight is None else sample_weight[seen]
            counts = np.bincount(codes[seen].astype(np.intp), weights=weights,
                                 minlength=k)[:k].astype(np.float64)
            unit = 1.0 if weights is None else max(float(np.mean(weights)), 1e-12)
            counts = np.maximum(counts, 0.5 * unit)
            log_freq = np.log(counts / counts.sum())
            output_bias[start:start + k] = log_freq - log_freq.mean()

    # -- the log-softmax of every block ----------------------------------

    def _log_normalizer(self, a):
        """log sum_c exp(a_c) over each block: shape (..., n_columns)."""
        top = np.maximum.reduceat(a, self.offsets, axis=-1)
        shifted = a - top[..., self.owner]
        np.exp(shifted, out=shifted)
        total = np.add.reduceat(shifted, self.offsets, axis=-1)
        return top + np.log(total)

    def _codes(self, X, mask):
        """Integer codes of X, 0 where the entry is missing."""
        X = X if mask is None else np.where(mask > 0, X, 0)
        return X.astype(np.intp)

    def log_prob_terms(self, X, a, mask=None):
        """log p(x_j | a) of each column, shape (..., n_columns); 0 where masked."""
        codes = self._codes(X, mask) + self.offsets
        codes = np.broadcast_to(codes, (*a.shape[:-1], self.n_columns))
        terms = np.take_along_axis(a, codes, axis=-1) - self._log_normalizer(a)
        if mask is not None:
            terms *= mask
        return terms

    def log_prob(self, X, a, mask=None):
        """log p(x | a), summed over the columns, broadcast over leading axes."""
        return np.sum(self.log_prob_terms(X, a, mask), axis=-1)

    def probabilities(self, a):
        """softmax of each block: shape like ``a``."""
        return np.exp(a - self._log_normalizer(a)[..., self.owner])

    def forward(self, X, a, mask=None):
        """log p(x | a) per row and d log p / d a = onehot(x) - softmax(a)."""
        log_norm = self._log_normalizer(a)
        rows = np.arange(a.shape[0])[:, None]
        codes = self._codes(X, mask) + self.offsets
        terms = a[rows, codes] - log_norm
        d_a = -np.exp(a - log_norm[:, self.owner])
        np.add.at(d_a, (np.broadcast_to(rows, codes.shape), codes), 1.0)
        if mask is not None:
            terms *= mask
            d_a *= mask[:, self.owner]
        return terms.sum(axis=-1), d_a

    def backward(self, d_a, row_weights):
        """d (sum_i w_i log p(x_i | a_i)) / d a, in place of ``d_a``."""
        d_a *= row_weights[:, None]
        return d_a

    def mean(self, a):
        """The most probable category of each column, as a code."""
        best = np.empty((*a.shape[:-1], self.n_columns), dtype=a.dtype)
        for j, (start, k) in enumerate(zip(self.offsets, self.n_categories,
                                           strict=True)):
            best[..., j] = np.argmax(a[..., start:start + k], axis=-1)
        return best

    def mixture_mean(self, a, weights):
        """The most probable category of each column under the mixture
        sum_k w_k p(x | a_k), as a code: the argmax of sum_k w_k softmax(a_k).

        ``a`` has shape (K, n, n_outputs) and ``weights`` (K, n), each row's
        weights summing to one; the result has shape (n, n_columns).
        """
        return self.mean(np.einsum("kn,knd->nd", weights, self.probabilities(a)))

    def draw(self, a, uniform):
        """Draw each column's code given uniform(0, 1) noise of shape (n, n_columns).

        The code is the number of categories whose cumulative probability
        stays below the noise: inverse-CDF sampling, block by block.
        """
        cumulative = np.cumsum(self.probabilities(a), axis=-1)
        before = np.concatenate(
            [np.zeros((*a.shape[:-1], 1), dtype=a.dtype), cumulative[..., :-1]],
            axis=-1)[..., self.offsets]
        cumulative -= before[..., self.owner]
        below = (cumulative < uniform[..., self.owner]).astype(np.intp)
        codes = np.add.reduceat(below, self.offsets, axis=-1)
        return np.minimum(codes, self.n_categories - 1).astype(a.dtype)

    def encoder_input(self, X, mask=None):
        """One-hot blocks of the codes; a missing code (NaN, or 0 in ``mask``)
        is an all-zero block."""
        out = np.zeros((*X.shape[:-1], self.n_inputs), dtype=X.dtype)
        seen = ~np.isnan(X) if mask is None else (mask > 0) & ~np.isnan(X)
        rows, cols = np.nonzero(seen)
        out[rows, self.offsets[cols] + X[rows, cols].astype(np.intp)] = 1
        return out

    def reconstruction_error(self, X, a, mask=None):
        """Cross-entropy, summed over the (observed) columns."""
        return -self.log_prob(X, a, mask)
