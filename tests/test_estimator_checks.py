"""scikit-learn's own estimator checks, for each solver."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer


@parametrize_with_checks(
    [
        VAETransformer(solver="lbfgs"),
        VAETransformer(solver="adam"),
        VAETransformer(solver="lbfgs", kl_warmup=30, free_bits=0.2),
        VAETransformer(solver="adam", kl_warmup=30, free_bits=0.2),
        VAETransformer(solver="lbfgs", n_importance_samples=3),
        VAETransformer(solver="adam", n_importance_samples=3),
        VAETransformer(solver="lbfgs", prior="flow"),
        VAETransformer(solver="adam", prior="flow", free_bits=0.2),
        VAETransformer(solver="adam", prior="flow", n_importance_samples=3),
        VAETransformer(solver="lbfgs", decoder="autoregressive"),
        # The Variational Lossy Autoencoder's recipe.
        VAETransformer(solver="adam", decoder="autoregressive", window=2,
                       prior="flow", free_bits=0.2),
        VAETransformer(solver="lbfgs", prior="hierarchical"),
        VAETransformer(solver="adam", prior="hierarchical", free_bits=0.2,
                       kl_warmup=30),
        VAETransformer(solver="adam", prior="hierarchical", n_importance_samples=3),
        ConditionalVAE(solver="lbfgs"),
        ConditionalVAE(solver="adam", decoder="autoregressive"),
        ConditionalVAE(solver="adam", prior="hierarchical"),
        VAEOutlierDetector(),
        VAEOutlierDetector(score_type="log_likelihood", solver="lbfgs"),
        VAEOutlierDetector(score_type="elbo", prior="flow"),
        VAEOutlierDetector(score_type="log_likelihood", prior="hierarchical"),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
