"""Tolerances that floating-point arithmetic supports, each with its reason.

skvae's promise on row-wise results (see the user guide's "Reproducibility"):
a row's codes, scores and probabilities do not depend on the other rows of the
call, up to rounding. A BLAS chooses its kernel by the number of rows (a
matrix-vector product for one row, a blocked matrix product for many, split
over threads) and so sums each dot product in another order; the results then
differ in their last bits, by an amount that grows with the number of terms
summed and their magnitude, and with the dtype's machine epsilon.
"""

import numpy as np
import pytest


def rowwise_tolerance(dtype, n_terms):
    """Relative tolerance between a row computed alone and inside a batch.

    ``n_terms`` is the longest sum behind a value (the input width or a hidden
    layer's, whichever is larger). For a sum of n terms of magnitude ``s``
    each, either order is within ``n * eps * sum|t|`` = ``n^2 eps s`` of the
    exact value at worst, and about ``sqrt(n) * eps * sum|t|`` = ``n^1.5 eps s``
    in practice (rounding errors add up like a random walk). The tolerance is
    four times the latter, below the worst case for n above 16. For digits'
    64 pixels in float32 it is 2.4e-4 nats per nat of term scale, where a
    semi-supervised model's log-probabilities differed by at most 1.7e-5 over
    50 rows scored alone and in batches of 2, 3, 7 and 50, on one and on two
    BLAS threads.
    """
    return 4 * n_terms**1.5 * np.finfo(dtype).eps


def assert_rows_agree(alone, in_batch, dtype, n_terms, scale=1.0, err_msg=""):
    """``alone`` equals ``in_batch`` up to the rounding a BLAS may change:
    within :func:`rowwise_tolerance` times ``scale``, the magnitude of the terms
    behind each value (absolute), and the same relative to each value."""
    tol = rowwise_tolerance(dtype, n_terms)
    np.testing.assert_allclose(alone, in_batch, rtol=tol, atol=tol * scale,
                               err_msg=err_msg)


def assert_float32_matches_float64(loss32, loss64, grad32, grad64):
    """A float32 loss and gradient agree with the float64 ones of the same network.

    The suite's small networks sum a few hundred terms of order one into the
    loss: float32 keeps it to a few hundred units of its epsilon (1.2e-7), so
    1e-5 relative holds with a margin. Gradient entries are differences of such
    terms and may be close to zero, so they get 1e-3 relative and 1e-4 absolute,
    the precision float32 leaves after the cancellation.
    """
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-3, atol=1e-4)
