"""The perceptron: binary (Rosenblatt, pocket, averaging) and multiclass (Kesler, Collins).

Rosenblatt's rule with Gallant's pocket and Freund & Schapire's averaging; the multiclass
perceptron by Kesler's construction, with Collins's mistake bound. Public names only; the
implementation lives in :mod:`models._perceptron` (binary) and
:mod:`models._multiclass_perceptron` (multiclass).
"""

from ._multiclass_perceptron import MulticlassPerceptronResult as MulticlassPerceptronResult
from ._multiclass_perceptron import fit_multiclass as fit_multiclass
from ._multiclass_perceptron import mistake_bound as mistake_bound
from ._multiclass_perceptron import predict_multiclass as predict_multiclass
from ._perceptron import DEFAULT_MAX_EPOCHS as DEFAULT_MAX_EPOCHS
from ._perceptron import WEIGHTS as WEIGHTS
from ._perceptron import PerceptronResult as PerceptronResult
from ._perceptron import fit as fit
from ._perceptron import predict as predict

__all__ = ["PerceptronResult", "fit", "predict", "DEFAULT_MAX_EPOCHS", "WEIGHTS",
           "MulticlassPerceptronResult", "fit_multiclass", "predict_multiclass",
           "mistake_bound"]
