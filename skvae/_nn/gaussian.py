"""The diagonal Gaussian: its log densities, the reparameterization and its backward.

Every model in skvae writes its Gaussians through this module, so the formula
is reviewed and tested once. The functions sum over the last axis (or keep it,
the ``_terms`` forms) and broadcast over any leading axes, so a stack of noise
draws of shape (n_draws, n_samples, k) is handled in one call. Scalars are
Python floats, so float32 arrays stay float32.

The density is written in the forms the models need, each once, and each in a
fixed order of operations (results are reproduced bit for bit):

- by variance, :func:`gaussian_log_prob` (the Gaussian likelihood's heads,
  whose variance is a per-feature parameter with a floor);
- by log-variance, :func:`gaussian_log_density_terms` and
  :func:`gaussian_log_density` (the outputs of a Gaussian MLP);
- :func:`standard_normal_log_density`, log N(z; 0, I);
- :func:`posterior_log_density` and :func:`posterior_log_density_terms`: the
  density of N(mu, exp(log_var)) at its own draw z = mu + std * eps, written
  through eps, where (z - mu)^2 / var is eps^2.

The reparameterization z = mu + exp(log_var / 2) * eps
(:func:`reparameterize`) and its backward (:func:`reparameterize_backward`)
sit side by side, as micrograd keeps each local derivative beside its forward.
"""

import math

import numpy as np

LOG_2PI = math.log(2 * math.pi)  # a Python float: keeps float32 arrays float32


def gaussian_log_prob(X, mean, var):
    """Log density of N(mean, diag(var)) at X, summed over the last axis.

    -1/2 sum_j [(x_j - m_j)^2 / v_j + log(2 pi v_j)], for a variance ``var``
    shared by every row (one value per feature).

    Parameters
    ----------
    X : ndarray of shape (..., n_features)
        Points.
    mean : ndarray broadcastable to X
        Means.
    var : ndarray of shape (n_features,)
        Variances, positive.

    Returns
    -------
    log_p : ndarray of shape X.shape[:-1]
        Log density of each row.

    See Also
    --------
    gaussian_log_prob_grads : Its gradients in the mean and the variance.
    gaussian_log_density : The same density by log-variance.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import gaussian_log_prob
    >>> print(round(float(gaussian_log_prob(np.zeros((1, 2)), 0.0, np.ones(2))[0]), 6))
    -1.837877
    """
    sq = (X - mean) ** 2
    sq /= var
    return -0.5 * (np.sum(sq, axis=-1) + np.sum(np.log(var)) + X.shape[-1] * LOG_2PI)


def gaussian_log_prob_grads(X, mean, var):
    """Gradients of :func:`gaussian_log_prob`, per element.

    Parameters
    ----------
    X, mean, var : ndarray
        As for :func:`gaussian_log_prob`.

    Returns
    -------
    d_mean : ndarray, shape like X
        (x - m) / v; d/dx is its negative.
    d_var : ndarray, shape like X
        1/2 ((x - m)^2 / v^2 - 1 / v), per element (sum over rows yourself).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import gaussian_log_prob_grads
    >>> d_mean, d_var = gaussian_log_prob_grads(np.array([[2.0]]), 0.0, np.ones(1))
    >>> float(d_mean[0, 0]), float(d_var[0, 0])
    (2.0, 1.5)
    """
    d_mean = X - mean
    d_mean /= var
    d_var = d_mean**2
    d_var -= 1 / var
    d_var *= 0.5
    return d_mean, d_var


def gaussian_log_density_terms(X, mean, log_var):
    """log N(x_j; m_j, exp(lv_j)) of each entry, elementwise.

    -1/2 ((x - m)^2 exp(-lv) + lv + log 2 pi).

    Parameters
    ----------
    X : ndarray
        Points.
    mean, log_var : ndarray broadcastable to X
        Means and log-variances.

    Returns
    -------
    terms : ndarray, the broadcast shape
        Log density of each entry.

    See Also
    --------
    gaussian_log_density : Their sum over the last axis.
    gaussian_log_density_grads : Their gradients.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import gaussian_log_density_terms
    >>> print(np.round(gaussian_log_density_terms(np.array([0.0, 1.0]), 0.0, 0.0), 6))
    [-0.918939 -1.418939]
    """
    return -0.5 * ((X - mean) ** 2 * np.exp(-log_var) + log_var + LOG_2PI)


def gaussian_log_density(X, mean, log_var):
    """log N(x; mean, diag(exp(log_var))), summed over the last axis.

    Parameters
    ----------
    X, mean, log_var : ndarray
        As for :func:`gaussian_log_density_terms`, X of shape (..., k).

    Returns
    -------
    log_p : ndarray of shape X.shape[:-1]
        Log density of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import gaussian_log_density
    >>> print(round(float(gaussian_log_density(np.zeros(2), 0.0, 0.0)), 6))
    -1.837877
    """
    return np.sum(gaussian_log_density_terms(X, mean, log_var), axis=-1)


def gaussian_log_density_grads(X, mean, log_var):
    """Gradients of :func:`gaussian_log_density_terms` in the mean and log-variance.

    With u = (x - m) exp(-lv): d/dm = u, d/dlv = ((x - m) u - 1) / 2, and
    d/dx = -u.

    Parameters
    ----------
    X, mean, log_var : ndarray
        As for :func:`gaussian_log_density_terms`.

    Returns
    -------
    d_mean : ndarray
        u, per entry; d/dx is its negative.
    d_log_var : ndarray
        ((x - m) u - 1) / 2, per entry.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import gaussian_log_density_grads
    >>> d_mean, d_log_var = gaussian_log_density_grads(np.array([2.0]), 0.0, 0.0)
    >>> float(d_mean[0]), float(d_log_var[0])
    (2.0, 1.5)
    """
    resid = X - mean
    d_mean = resid * np.exp(-log_var)
    return d_mean, 0.5 * (d_mean * resid - 1)


def standard_normal_log_density(Z):
    """log N(z; 0, I), summed over the last axis.

    Its gradient in z is -z.

    Parameters
    ----------
    Z : ndarray of shape (..., k)
        Points.

    Returns
    -------
    log_p : ndarray of shape Z.shape[:-1]
        Log density of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import standard_normal_log_density
    >>> print(round(float(standard_normal_log_density(np.zeros((1, 2)))[0]), 6))
    -1.837877
    """
    return -0.5 * (np.sum(Z**2, axis=-1) + Z.shape[-1] * LOG_2PI)


def posterior_log_density(eps, log_var):
    """log N(z; mu, diag(exp(log_var))) at its draw z = mu + exp(log_var / 2) * eps.

    -1/2 sum_k (eps_k^2 + log_var_k + log 2 pi): the density of a diagonal
    Gaussian at a point written through its standardized noise. At fixed
    eps, its gradient in log_var is -1/2 per dimension, and it does not
    depend on mu.

    Parameters
    ----------
    eps : ndarray of shape (..., k)
        The standard normal noise of the draw.
    log_var : ndarray broadcastable to eps
        Log-variances.

    Returns
    -------
    log_q : ndarray of shape eps.shape[:-1]
        Log density of each draw.

    See Also
    --------
    posterior_log_density_terms : The same per dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import posterior_log_density
    >>> print(round(float(posterior_log_density(np.zeros(2), np.zeros(2))), 6))
    -1.837877
    """
    return -0.5 * (np.sum(eps**2, axis=-1) + np.sum(log_var, axis=-1)
                   + eps.shape[-1] * LOG_2PI)


def posterior_log_density_terms(eps, log_var):
    """:func:`posterior_log_density` of each dimension, elementwise.

    -1/2 (eps^2 + log_var + log 2 pi).

    Parameters
    ----------
    eps, log_var : ndarray
        As for :func:`posterior_log_density`.

    Returns
    -------
    terms : ndarray, the broadcast shape
        Log density of each dimension of the draw.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import posterior_log_density_terms
    >>> print(np.round(posterior_log_density_terms(np.array([0.0, 1.0]), 0.0), 6))
    [-0.918939 -1.418939]
    """
    return -0.5 * (eps**2 + log_var + LOG_2PI)


def reparameterize(mu, log_var, eps):
    """The draw z = mu + exp(log_var / 2) * eps, and the standard deviation.

    Parameters
    ----------
    mu : ndarray of shape (..., k)
        Means.
    log_var : ndarray of shape (..., k)
        Log-variances.
    eps : ndarray broadcastable with mu
        Standard normal noise; a leading axis of draws is broadcast over.

    Returns
    -------
    Z : ndarray, the broadcast shape
        The draws.
    std : ndarray, shape like log_var
        exp(log_var / 2), which :func:`reparameterize_backward` needs.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import reparameterize
    >>> Z, std = reparameterize(np.array([1.0]), np.log(np.array([4.0])),
    ...                         np.array([0.5]))
    >>> float(Z[0]), float(std[0])
    (2.0, 2.0)
    """
    std = np.exp(0.5 * log_var)
    return mu + std * eps, std


def reparameterize_backward(d_Z, eps, std):
    """Gradients in mu and log_var of a loss whose gradient in z is ``d_Z``.

    Through z = mu + std * eps, std = exp(log_var / 2): d/dmu = d_Z and
    d/dlog_var = d_Z * eps * std / 2, each summed over the leading axes of
    draws that ``d_Z`` has and ``std`` has not.

    Parameters
    ----------
    d_Z : ndarray of shape (..., k)
        Gradient in the draws z.
    eps : ndarray broadcastable to d_Z
        The noise of the draws.
    std : ndarray
        The standard deviation that :func:`reparameterize` returned.

    Returns
    -------
    d_mu : ndarray, shape like std
        Gradient in mu; ``d_Z`` itself when there are no draws to sum over.
    d_log_var : ndarray, shape like std
        Gradient in log_var.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae._nn.gaussian import reparameterize_backward
    >>> d_mu, d_log_var = reparameterize_backward(
    ...     np.ones((3, 1, 1)), np.full((3, 1, 1), 2.0), np.array([[0.5]]))
    >>> float(d_mu[0, 0]), float(d_log_var[0, 0])
    (3.0, 1.5)
    """
    d_log_var = 0.5 * d_Z * eps * std
    draws = d_Z.ndim - np.ndim(std)
    if draws > 0:
        axes = tuple(range(draws))
        return np.sum(d_Z, axis=axes), np.sum(d_log_var, axis=axes)
    return d_Z, d_log_var
