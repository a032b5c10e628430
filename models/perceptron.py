"""The perceptron: Rosenblatt's rule, Gallant's pocket, Freund & Schapire's averaging.

Public names only; the implementation lives in :mod:`models._perceptron`.
"""

from ._perceptron import DEFAULT_MAX_EPOCHS as DEFAULT_MAX_EPOCHS
from ._perceptron import WEIGHTS as WEIGHTS
from ._perceptron import PerceptronResult as PerceptronResult
from ._perceptron import fit as fit
from ._perceptron import predict as predict

__all__ = ["PerceptronResult", "fit", "predict", "DEFAULT_MAX_EPOCHS", "WEIGHTS"]
