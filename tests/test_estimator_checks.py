"""scikit-learn's own estimator checks, for each solver."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import (
    ConditionalVAE,
    VAEClassifier,
    VAEImputer,
    VAEOutlierDetector,
    VAETransformer,
)


def expected_failed_checks(estimator):
    """scikit-learn's own reason for its stochastic estimators (KMeans,
    IsolationForest, SGDRegressor, ...): a weighted row draws one noise vector
    (and lands in minibatches differently) where its repetitions draw several,
    so the fits differ by more than the check's tolerance.
    tests/test_sample_weight.py checks the equivalence where it holds: zero
    weights equal dropped rows given the same noise, integer weights equal
    repetitions in the objective, and close to them after training."""
    failed = {
        "check_sample_weight_equivalence_on_dense_data": (
            "sample_weight is not equivalent to removing/repeating samples."
        ),
    }
    if isinstance(estimator, VAEClassifier):
        # Its last part fits on the labels {-1, 1}; -1 marks an unlabeled
        # row in semi-supervised learning, so only class 1 remains.
        # scikit-learn exempts its own semi-supervised classifiers
        # (LabelSpreading, SelfTrainingClassifier, ...) by name. The parts
        # with string and object labels pass.
        failed["check_classifiers_classes"] = "-1 marks unlabeled rows"
    return failed


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
        VAEClassifier(),
        VAEClassifier(solver="lbfgs"),
        VAEClassifier(n_auxiliary_components=4),
        VAEOutlierDetector(),
        VAEOutlierDetector(score_type="log_likelihood", solver="lbfgs"),
        VAEOutlierDetector(score_type="elbo", prior="flow"),
        VAEOutlierDetector(score_type="log_likelihood", prior="hierarchical"),
        VAEImputer(),
        VAEImputer(add_indicator=True, keep_empty_features=True),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
