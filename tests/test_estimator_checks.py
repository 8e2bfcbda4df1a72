"""scikit-learn's own estimator checks, for each solver."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import ConditionalVAE, VAEClassifier, VAEOutlierDetector, VAETransformer


def expected_failed_checks(estimator):
    if isinstance(estimator, VAEClassifier):
        return {
            # Its last part fits on the labels {-1, 1}; -1 marks an unlabeled
            # row in semi-supervised learning, so only class 1 remains.
            # scikit-learn exempts its own semi-supervised classifiers
            # (LabelSpreading, SelfTrainingClassifier, ...) by name. The
            # parts with string and object labels pass.
            "check_classifiers_classes": "-1 marks unlabeled rows",
        }
    return {}


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
        ConditionalVAE(solver="lbfgs"),
        ConditionalVAE(solver="adam", decoder="autoregressive"),
        VAEClassifier(),
        VAEClassifier(solver="lbfgs"),
        VAEOutlierDetector(),
        VAEOutlierDetector(score_type="log_likelihood", solver="lbfgs"),
        VAEOutlierDetector(score_type="elbo", prior="flow"),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
