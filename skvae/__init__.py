"""skvae: variational autoencoders as scikit-learn estimators, in NumPy and SciPy."""

from . import datasets, exceptions, plotting
from .classifier import VAEClassifier
from .conditional import ConditionalVAE
from .imputer import VAEImputer
from .outlier import VAEOutlierDetector
from .transformer import VAETransformer
from .vqvae import VQVAETransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "ConditionalVAE",
    "VAEClassifier",
    "VAEImputer",
    "VAEOutlierDetector",
    "VAETransformer",
    "VQVAETransformer",
    "datasets",
    "exceptions",
    "plotting",
    "__version__",
]
