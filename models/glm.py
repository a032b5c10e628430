"""Generalised linear models by IRLS: the public API.

``fit`` fits one data set (``jax.vmap(fit)`` fits a batch), ``predict`` returns fitted
means, :class:`GLMResult` is what ``fit`` returns. ``separation`` decides by linear
programming whether binomial data are completely, quasi-completely or not separated, with
a certificate either way (:mod:`models._separation`); a binomial fit reports the same
verdict in ``GLMResult.separation``. Families and links are values (:class:`Family`,
:class:`Link`) that ``fit`` takes as ``family=`` and ``link=``: the built-in ones are
re-exported by name, ``negative_binomial(alpha)`` makes the negative binomial family with a
fixed ``alpha``, and a family of your own is a ``Family`` too. Their names are aliases:
``ALIASES`` maps every string ``fit`` accepts as ``family`` to its value (``FAMILIES``: those
without a parameter), ``LINKS`` every link name. The algorithm,
its references and the status codes are documented in :mod:`models._glm` and
:mod:`models._status`. On CPU the fit forms and solves its linear systems with native
kernels (:mod:`models._native`, compiled on first use); :func:`cpu_kernels` says which
are in use, and ``GLMNN_NATIVE=0`` turns them off.
"""

from ._families import ALIASES as ALIASES
from ._families import FAMILIES as FAMILIES
from ._families import Family as Family
from ._families import binomial as binomial
from ._families import gamma as gamma
from ._families import gaussian as gaussian
from ._families import negative_binomial as negative_binomial
from ._families import poisson as poisson
from ._glm import GLMResult as GLMResult
from ._glm import fit as fit
from ._glm import predict as predict
from ._links import LINKS as LINKS
from ._links import Link as Link
from ._links import cloglog as cloglog
from ._links import identity as identity
from ._links import inverse as inverse
from ._links import log as log
from ._links import logit as logit
from ._links import probit as probit
from ._native import NativeUnavailableWarning as NativeUnavailableWarning
from ._native import describe as cpu_kernels
from ._separation import SEPARATION_NAMES as SEPARATION_NAMES
from ._separation import Separation as Separation
from ._separation import SeparationResult as SeparationResult
from ._separation import separation as separation
from ._status import Status as Status

__all__ = [
    "fit",
    "predict",
    "separation",
    "GLMResult",
    "SeparationResult",
    "Separation",
    "SEPARATION_NAMES",
    "Status",
    "FAMILIES",
    "ALIASES",
    "LINKS",
    "Family",
    "Link",
    "binomial",
    "poisson",
    "gaussian",
    "gamma",
    "negative_binomial",
    "logit",
    "probit",
    "cloglog",
    "log",
    "identity",
    "inverse",
    "cpu_kernels",
    "NativeUnavailableWarning",
]
