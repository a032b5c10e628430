"""The multinomial logistic GLM (K classes) by Newton's method: the public API.

``fit`` fits one data set (``jax.vmap`` fits a batch), ``predict`` returns class
probabilities, :class:`MultinomialResult` is what ``fit`` returns; ``separation`` decides
whether K-class data are completely, quasi-completely or not separated, with certificates
(the binary linear program on Kesler's rows). The model and algorithm are documented in
:mod:`models._multinomial`, the separation check in :mod:`models._kesler`.
"""

from ._kesler import MultinomialSeparation as MultinomialSeparation
from ._kesler import separation as separation
from ._multinomial import MultinomialResult as MultinomialResult
from ._multinomial import fit as fit
from ._multinomial import predict as predict

__all__ = ["fit", "predict", "separation", "MultinomialResult", "MultinomialSeparation"]
