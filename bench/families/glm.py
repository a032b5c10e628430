"""The GLM family: IRLS, its work, and its reference libraries.

The fit is :func:`models.glm.fit`; the references are statsmodels' ``GLM`` and
scikit-learn's ``LogisticRegression``.

Importing this module imports no JAX; :func:`adapter` does, when it is called.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from bench.families.base import Library, Model, ModelFamily, Pairing

__all__ = ["FAMILY", "MODELS", "LIBRARIES", "PAIRINGS", "GLM_MAX_ITER", "adapter", "work",
           "fit_bytes", "statsmodels_family", "statsmodels_glm", "sklearn_logistic"]

#: IRLS iterations of every GLM entry, R's ``glm.control(maxit = 25)``.
GLM_MAX_ITER = 25


def work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """IRLS's FLOPs and bytes of one iteration.

    ``np(p + 1) + 8np + p^3/3`` FLOPs (symmetric Gram, gradient, linear predictor,
    Cholesky), one read of X, y and the weights; Firth's exact Hessian adds
    ``2np(p + 1) + 2np^2 + 2np^3 + p^3/3`` and two more reads of X.
    """
    flops = n * p * (p + 1) + 8 * n * p + p**3 / 3
    moved = n * (p + 2) * itemsize
    if settings.get("firth"):
        # Newton on the exact Hessian: L^-1 X^T (np^2), the curvature Gram (np(p + 1)), the
        # p^2 products of whitened rows (np^2) and their product with X (2np^3), and the
        # Gram and Cholesky of the line search's candidate (np(p + 1) + p^3/3).
        flops += 2 * n * p * (p + 1) + 2 * n * p * p + 2 * n * p**3 + p**3 / 3
        moved += 2 * n * p * itemsize
    return flops, moved


def _family_name(settings: Mapping) -> str:
    family = settings.get("family", "binomial")
    return getattr(family, "name", family)


def adapter(settings: Mapping, max_iter: int):
    """The GLM's fit of one data set, and its evaluation.

    Every setting (``family``, ``link``, ``firth``, ``separation``, ...) is passed on to
    :func:`models.glm.fit`.
    """
    import jax.numpy as jnp

    from bench.families import fitting
    from models import glm

    options = dict(settings)
    binary = _family_name(settings) == "binomial"

    def fit(key, X, y):
        del key
        return glm.fit(X, y, max_iter=max_iter, **options)

    def predict(result, X):
        return glm.predict(result, X)

    def evaluate(result, data):
        n = data.y_train.shape[0]
        if binary:
            accuracies = fitting.accuracies(lambda X: predict(result, X), data)
        else:
            accuracies = fitting.no_accuracies(data)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=result.separated, **accuracies,
            final_loss=result.deviance / n, n_updates=jnp.zeros((), jnp.int32),
            finite=fitting.finite((result.coef, result.bse, result.deviance)),
            history=result.history / n,
        )

    return fitting.make_adapter(fit, evaluate, max_iter, predict)


def fit_bytes(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[int, int]:
    """About the bytes a fit holds beside the data: ``(per data set, per program)``.

    Per data set, a few ``p x p`` matrices (Gram, its factor, the covariance); per program,
    those of the data set XLA keeps at a time and, for Firth's exact Hessian, a
    ``[p^2, n]`` array and two of ``p^3`` values (1 GB at 400 features, 433 GB at 3,000).
    """
    matrices = 4 * p * p * itemsize
    firth = (p * p * n + 2 * p**3) * itemsize if settings.get("firth") else 0
    return matrices, matrices + firth


def _status_is_verdict(settings: Mapping) -> bool:
    """A plain (not Firth) binomial fit says ``separated`` where the data are separated."""
    return _family_name(settings) == "binomial" and not settings.get("firth", False)


FAMILY = ModelFamily("glm", "iterations", "deviance / n", adapter, separation_flag=True,
                     verdict_status=_status_is_verdict, fit_bytes=fit_bytes)


# ----------------------------------------------------------------------- references


def statsmodels_family(family: str = "binomial", link: str | None = None):
    """The statsmodels family of the same name and link (``None``: its default link).

    The one map from this project's family and link names to statsmodels' classes.
    """
    import statsmodels.api as sm

    families = {"binomial": sm.families.Binomial, "poisson": sm.families.Poisson,
                "gamma": sm.families.Gamma, "gaussian": sm.families.Gaussian,
                "negative_binomial": sm.families.NegativeBinomial}
    links = {"logit": sm.families.links.Logit, "probit": sm.families.links.Probit,
             "cloglog": sm.families.links.CLogLog, "log": sm.families.links.Log,
             "identity": sm.families.links.Identity,
             "inverse": sm.families.links.InversePower}
    if family not in families or (link is not None and link not in links):
        raise ValueError(f"statsmodels has no family {family!r} with link {link!r} here; "
                         f"families: {', '.join(families)}; links: {', '.join(links)}.")
    return families[family]() if link is None else families[family](links[link]())


def statsmodels_glm(X, y, family: str = "binomial", link: str | None = None):
    """Fit ``statsmodels.api.GLM(y, X, family).fit()``; its result has ``.converged``."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        # statsmodels warns on separated data ("Perfect separation") and still reports
        # converged=True; the benchmark records what it reports.
        warnings.simplefilter("ignore")
        return sm.GLM(y, X, family=statsmodels_family(family, link)).fit()


def sklearn_logistic(X, y, max_iter: int = GLM_MAX_ITER):
    """Unpenalised logistic regression by scikit-learn's Newton-Cholesky solver."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(C=np.inf, solver="newton-cholesky", fit_intercept=False,
                                  max_iter=max_iter).fit(X, y)


def _plain(settings: Mapping, library: str) -> None:
    if settings.get("firth"):
        raise ValueError(f"{library} has no Firth penalty; pair it only with plain fits.")


def _statsmodels_fit(X, y, settings: Mapping, budget: int):
    del budget  # statsmodels' own defaults, as its users run it
    _plain(settings, "statsmodels")
    return statsmodels_glm(X, y, _family_name(settings), settings.get("link"))


def _sklearn_fit(X, y, settings: Mapping, budget: int):
    _plain(settings, "scikit-learn's LogisticRegression")
    if _family_name(settings) != "binomial" or settings.get("link", "logit") != "logit":
        raise ValueError("scikit-learn's LogisticRegression fits the binomial logit only.")
    return sklearn_logistic(X, y, budget)


LIBRARIES = {
    "statsmodels_glm": Library("statsmodels GLM", "statsmodels", _statsmodels_fit,
                               lambda fitted, budget: fitted.converged),
    "sklearn_logistic": Library("scikit-learn LogisticRegression newton-cholesky", "sklearn",
                                _sklearn_fit,
                                lambda fitted, budget: fitted.n_iter_[0] < budget,
                                package="scikit-learn"),
}

_BINOMIAL = {"family": "binomial", "firth": False}

MODELS = (
    Model("glm", "binomial GLM (logit), IRLS", "glm", "binomial", ("float32", "float64"),
          _BINOMIAL, GLM_MAX_ITER, work, "tab:orange", scaling=("overlap", "float64"),
          figures=("boundaries", "coef_norm")),
    # The same fit without its separation verdict (``separation=False``), timed in the same
    # run: what the verdict costs the headline row.
    Model("glm_no_verdict", "binomial GLM (logit), IRLS, separation=False", "glm",
          ("overlap",), ("float64",), {**_BINOMIAL, "separation": False}, GLM_MAX_ITER, work,
          "sienna"),
    Model("glm_firth", "Firth logistic regression, exact Newton", "glm", "binomial",
          ("float32", "float64"), {"family": "binomial", "firth": True}, GLM_MAX_ITER, work,
          "tab:olive", figures=("coef_norm",)),
    Model("glm_poisson", "Poisson GLM (log), IRLS", "glm", ("poisson",),
          ("float32", "float64"), {"family": "poisson", "firth": False}, GLM_MAX_ITER, work,
          "tab:purple"),
    Model("glm_gamma", "gamma GLM (inverse), IRLS", "glm", ("gamma",),
          ("float32", "float64"), {"family": "gamma", "firth": False}, GLM_MAX_ITER, work,
          "tab:brown"),
)

_SEPARATED = ("overlap", "separable", "quasi")

PAIRINGS = (
    Pairing("statsmodels_glm", "glm", _SEPARATED),
    Pairing("sklearn_logistic", "glm", _SEPARATED),
    Pairing("statsmodels_glm", "glm_poisson", ("poisson",)),
    Pairing("statsmodels_glm", "glm_gamma", ("gamma",)),
)
