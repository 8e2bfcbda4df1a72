import numpy as np
from gradcheck import numerical_gradient, relative_error
from scipy import stats

from skvae._parts.priors.normal import standard_normal_kl, standard_normal_kl_grads

rng = np.random.default_rng(0)


def test_kl_matches_monte_carlo():
    mu, log_var = np.array([[0.5, -1.0]]), np.array([[-0.5, 0.3]])
    std = np.exp(0.5 * log_var)
    z = mu + std * rng.standard_normal((200_000, 2))
    log_q = stats.norm(mu, std).logpdf(z).sum(axis=1)
    log_p = stats.norm().logpdf(z).sum(axis=1)
    assert abs(standard_normal_kl(mu, log_var)[0] - np.mean(log_q - log_p)) < 0.01


def test_kl_is_zero_at_the_prior():
    assert standard_normal_kl(np.zeros((1, 3)), np.zeros((1, 3)))[0] == 0


def test_kl_gradients():
    mu, log_var = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    d_mu, d_log_var = standard_normal_kl_grads(mu, log_var)
    f = lambda: standard_normal_kl(mu, log_var).sum()  # noqa: E731
    assert relative_error(d_mu, numerical_gradient(f, mu)) < 1e-8
    assert relative_error(d_log_var, numerical_gradient(f, log_var)) < 1e-8
