"""The table head: one likelihood per column of a mixed-type table.

A table's model matrix has one column per input column: values for Gaussian
and Bernoulli columns, integer codes for categorical ones. :class:`TableHead`
holds the column layout fixed at fit and one head per kind of column present
(each scoring all its columns at once), and implements the head protocol by
delegating (docs/design.rst, "The head protocol"). The decoder's outputs and
the encoder's inputs are laid out kind by kind, in the order of
:data:`KINDS`: the Gaussian columns' means, then the Bernoulli columns'
logits, then the categorical columns' blocks of logits (or one-hot inputs).

The Gaussian columns are standardized one by one (:func:`column_scaler`),
since a table's columns have units of their own; the density of the original
values gets the log-Jacobian of that scaling, as the one-kind heads' does.
"""

import numpy as np

from ..._nn.layout import Part
from .bernoulli import BernoulliHead
from .categorical import CategoricalHead
from .gaussian import GaussianHead
from .scaling import DataScaler, feature_mean_var

KINDS = ("gaussian", "bernoulli", "categorical")


def column_scaler(X, is_gaussian, sample_weight=None):
    """Standardize each Gaussian column on its own; leave the others as they are.

    Statistics leave missing entries (NaN) out; a column that is constant or
    never observed keeps scale 1.
    """
    shift, var = feature_mean_var(X, sample_weight, np.float64)
    good = is_gaussian & np.isfinite(var) & (var > 0)
    scale = np.where(good, np.sqrt(np.where(good, var, 1.0)), 1.0)
    shift = np.where(is_gaussian & np.isfinite(shift), shift, 0.0)
    return DataScaler(shift, scale)


class TableHead(Part):
    """p(x | a) = prod_j p_j(x_j | a_j), with p_j the likelihood of column j.

    Parameters
    ----------
    kinds : sequence of str
        The likelihood of each column: "gaussian", "bernoulli" or
        "categorical".
    n_categories : sequence of int
        Number of categories of each categorical column, in column order.
    prefix : str, default="decoder"
        Name prefix of the Gaussian columns' log-variances.

    Attributes
    ----------
    heads : list of (str, head, ndarray, slice, slice)
        For each kind present: its name, its head, its columns of the model
        matrix, its slice of the decoder's outputs and of the encoder's input.
    """

    def __init__(self, kinds, n_categories=(), prefix="decoder"):
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"Unknown column likelihoods {sorted(unknown)}; "
                             f"expected some of {KINDS}.")
        self.n_categories = tuple(int(k) for k in n_categories)
        self.prefix = prefix
        kinds = np.asarray(self.kinds)
        self.heads = []
        out = inp = 0
        for kind in KINDS:
            columns = np.flatnonzero(kinds == kind)
            if not columns.size:
                continue
            if kind == "gaussian":
                head = GaussianHead(columns.size, prefix)
            elif kind == "bernoulli":
                head = BernoulliHead(columns.size)
            else:
                head = CategoricalHead(self.n_categories)
            self.heads.append((kind, head, columns,
                               slice(out, out + head.n_outputs),
                               slice(inp, inp + head.n_inputs)))
            out += head.n_outputs
            inp += head.n_inputs
        self.n_columns = len(self.kinds)
        self.n_outputs = out
        self.n_inputs = inp

    @property
    def n_features(self):
        return self.n_columns

    def _head(self, kind):
        for name, head, *_ in self.heads:
            if name == kind:
                return head
        raise AttributeError(f"This table has no {kind} column.")

    @property
    def var_floor(self):
        """The Gaussian columns' variance floor (AttributeError without any)."""
        return self._head("gaussian").var_floor

    @var_floor.setter
    def var_floor(self, value):
        self._head("gaussian").var_floor = value

    @property
    def var(self):
        """The Gaussian columns' variances, in the network's units."""
        return self._head("gaussian").var

    def gaussian_columns(self):
        return np.asarray(self.kinds) == "gaussian"

    # -- the parts' protocol ----------------------------------------------

    def shapes(self):
        return [shape for _, head, *_ in self.heads for shape in head.shapes()]

    def bind(self, params, grads):
        for _, head, *_ in self.heads:
            head.bind(params, grads)

    def scaler(self, X, sample_weight=None):
        """Each Gaussian column standardized on its own (:func:`column_scaler`)."""
        return column_scaler(X, self.gaussian_columns(), sample_weight)

    def initialize(self, X, output_bias, var_floor_fraction, sample_weight=None):
        for _, head, columns, out, _ in self.heads:
            head.initialize(X[:, columns], output_bias[out], var_floor_fraction,
                            sample_weight)

    # -- scores -----------------------------------------------------------

    @staticmethod
    def _mask(mask, columns):
        return None if mask is None else mask[..., columns]

    def log_prob_terms(self, X, a, mask=None):
        """log p(x_j | a) of each column, shape (..., n_columns); 0 where masked."""
        terms = np.empty((*a.shape[:-1], self.n_columns), dtype=a.dtype)
        for _, head, columns, out, _ in self.heads:
            terms[..., columns] = head.log_prob_terms(
                X[..., columns], a[..., out], self._mask(mask, columns))
        return terms

    def log_prob(self, X, a, mask=None):
        """log p(x | a): the columns' terms summed, over observed entries."""
        return sum(
            head.log_prob(X[..., columns], a[..., out], self._mask(mask, columns))
            for _, head, columns, out, _ in self.heads)

    def forward(self, X, a, mask=None):
        log_p, caches = 0, []
        for _, head, columns, out, _ in self.heads:
            lp, cache = head.forward(X[:, columns], a[:, out],
                                     self._mask(mask, columns))
            log_p = log_p + lp
            caches.append(cache)
        return log_p, caches

    def backward(self, caches, row_weights):
        return np.concatenate(
            [head.backward(cache, row_weights)
             for (_, head, *_), cache in zip(self.heads, caches, strict=True)],
            axis=-1)

    # -- decoding ---------------------------------------------------------

    def _per_column(self, method, a, per_column=None):
        values = np.empty((*a.shape[:-1], self.n_columns), dtype=a.dtype)
        for _, head, columns, out, _ in self.heads:
            args = (a[..., out],) if per_column is None else (
                a[..., out], per_column[..., columns])
            values[..., columns] = getattr(head, method)(*args)
        return values

    def mean(self, a):
        """Each column's mean, or its most probable category (as a code)."""
        return self._per_column("mean", a)

    def mixture_mean(self, a, weights):
        """Each column's mean under the mixture sum_k w_k p(x | a_k), or its
        most probable category (as a code); ``a`` of shape (K, n, n_outputs),
        ``weights`` of shape (K, n)."""
        values = np.empty((a.shape[1], self.n_columns), dtype=a.dtype)
        for _, head, columns, out, _ in self.heads:
            values[:, columns] = head.mixture_mean(a[..., out], weights)
        return values

    def draw(self, a, uniform):
        """Draw every column given uniform(0, 1) noise of shape (n, n_columns)."""
        return self._per_column("draw", a, uniform)

    def encoder_input(self, X, mask=None):
        """Values of the Gaussian and Bernoulli columns, one-hot blocks of the
        categorical ones (all zero where missing), laid out kind by kind."""
        return np.concatenate(
            [head.encoder_input(X[..., columns], self._mask(mask, columns))
             for _, head, columns, _, _ in self.heads], axis=-1)

    def reconstruction_error(self, X, a, mask=None):
        """Squared errors of the Gaussian columns (in units of each column's
        standard deviation) plus the cross-entropies of the others."""
        return sum(head.reconstruction_error(X[..., columns], a[..., out],
                                             self._mask(mask, columns))
                   for _, head, columns, out, _ in self.heads)
