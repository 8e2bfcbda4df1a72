"""The public methods of the VAE estimators that encode and decode."""

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import metadata_routing
from sklearn.utils.validation import check_is_fitted

from .utils import finite_mean


class LatentTransformerMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """The public methods of the VAE estimators that encode and decode."""

    # return_std is an option of transform, not metadata to route.
    __metadata_request__transform = {"return_std": metadata_routing.UNUSED}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def transform(self, X, return_std=False):
        """Encode X: the mean of the posterior q(z|x) of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        return_std : bool, default=False
            Also return the posterior standard deviations, the uncertainty of
            each code.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Posterior means, in X's dtype.

        Z_std : ndarray of shape (n_samples, n_components)
            Posterior standard deviations; only when ``return_std`` is True.
        """
        check_is_fitted(self)
        return self._transform(self._validate_X(X, reset=False), return_std)

    def score(self, X, y=None):
        """Mean ELBO of X, in nats per sample (higher is better).

        Lets :class:`~sklearn.model_selection.GridSearchCV` select models
        without labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return finite_mean(self.score_samples(X))
