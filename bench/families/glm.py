"""The GLM family: IRLS, its work, its reference libraries and its sentences.

The fit is :func:`models.glm.fit`; the references are statsmodels' ``GLM`` and
scikit-learn's ``LogisticRegression``. The README's sentences about it read its separation
status against the linear program's verdict (on synthetic and on resampled real data),
Firth's penalty, its convergence on overlap data and what its verdict costs.

Importing this module imports no JAX; :func:`adapter` does, when it is called.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from bench import regimes
from bench.families.base import Library, Model, ModelFamily, Pairing
from bench.formats import DASH, missing, positive
from bench.quotes import (
    COUNT,
    FIXED2,
    PCT,
    RATE,
    Sentence,
    derived,
    fixed,
    join,
    matched_ours,
    pct,
    quote,
)
from bench.record import CaseRecord

__all__ = ["FAMILY", "MODELS", "LIBRARIES", "PAIRINGS", "SENTENCES", "GLM_MAX_ITER",
           "adapter", "work", "fit_bytes", "statsmodels_family", "statsmodels_glm",
           "sklearn_logistic"]

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
          figures=("boundaries", "coef_norm"), separation_reference=True),
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
    Pairing("statsmodels_glm", "glm", _SEPARATED, headline="overlap"),
    Pairing("sklearn_logistic", "glm", _SEPARATED),
    Pairing("statsmodels_glm", "glm_poisson", ("poisson",)),
    Pairing("statsmodels_glm", "glm_gamma", ("gamma",)),
)


# ----------------------------------------------------------------------- sentences


def _lp_verdicts(case: CaseRecord) -> Sentence:
    """``"the linear program found X% completely and Y% quasi-completely separated"``."""
    verdicts = Sentence("the linear program found {} completely and {} quasi-completely "
                        "separated", pct(case, "lp_complete_frac"), pct(case, "lp_quasi_frac"))
    if case.lp_undecided_frac:
        verdicts += Sentence(" ({} undecided)", pct(case, "lp_undecided_frac"))
    return verdicts


def _lp_clause(case: CaseRecord) -> Sentence:
    """``", where the linear program found X% completely and Y% quasi-completely ..."``."""
    if missing(case.lp_complete_frac):
        return Sentence()
    return ", where " + _lp_verdicts(case)


def _statuses(case: CaseRecord) -> Sentence:
    """The non-zero status counts, ``"max_iter 3, separated 1"`` (as the tables write them)."""
    counts = [name for name, count in (case.status_counts or {}).items() if count]
    return join(", ", (Sentence(f"{name} {{}}", quote(case, f"status_counts.{name}", COUNT))
                       for name in counts)) if counts else Sentence(DASH)


def _separation(cases: list[CaseRecord]) -> list[Sentence]:
    """The binomial GLM's status on the separated regimes, read against the LP's verdict."""
    sentences = []
    for regime, what in (("separable", "separable data"),
                         ("quasi", "quasi-separated data (a rare exposure whose exposed rows "
                                   "all had the outcome)")):
        glm = matched_ours(cases, "glm", regime)
        if glm is None:
            continue
        sentence = (f"On {what}" + _lp_clause(glm) + Sentence(
            f", our IRLS GLM ({glm.dtype}) reported separation on {{}} of data sets and "
            "convergence on {}", pct(glm, "separated_frac"), pct(glm)))
        agrees = glm.separated_agrees_frac
        if not missing(agrees) and agrees >= 0.9995:
            sentence += ": its status matched the linear program's verdict on every one"
        elif not missing(agrees):
            sentence += (Sentence(": its status matched the linear program's verdict on {} "
                                  "(statuses: ", pct(glm, "separated_agrees_frac"))
                         + _statuses(glm) + ")")
        if regime == "quasi":
            others = [(m, matched_ours(cases, m, regime)) for m in ("perceptron", "glm_firth")]
            parts = [Sentence(f"{m} converged on {{}}", pct(c))
                     for m, c in others if c is not None]
            if parts:
                sentence += ("; " + join(" and ", parts) + " (no line splits the classes, so "
                             "the perceptron cannot stop; Firth's estimate is finite)")
        sentences.append(sentence + ".")
    return sentences


def _firth(cases: list[CaseRecord]) -> Sentence | None:
    """Firth's estimate on separable data, where plain IRLS reports separation."""
    firth = matched_ours(cases, "glm_firth", "separable")
    glm = matched_ours(cases, "glm", "separable")
    if firth is None:
        return None
    sentence = Sentence("Firth's penalised likelihood converged on {} of separable data sets",
                        pct(firth))
    if glm is not None:
        sentence += Sentence(", where plain IRLS reported separation on {}",
                             pct(glm, "separated_frac"))
        if (firth.converged_frac or 0) > (glm.converged_frac or 0):
            sentence += ": the penalty gives the estimate a finite value there"
        else:
            sentence += ": the penalty did not help it converge more often"
    return sentence + "."


def _overlap(cases: list[CaseRecord]) -> Sentence | None:
    """The GLM on overlap data, beside the same model by gradient steps and the perceptron."""
    glm = matched_ours(cases, "glm", "overlap")
    if glm is None:
        return None
    sentence = Sentence(
        "On overlap data (labels drawn from the logistic model) the GLM converged on {} of "
        "data sets in a median of {} IRLS iterations (p90 {}, max {})", pct(glm),
        *(quote(glm, field, COUNT) for field in ("n_iter_median", "n_iter_p90", "n_iter_max")))
    mlp0 = matched_ours(cases, "mlp0", "overlap")
    if mlp0 is not None:
        sentence += Sentence(
            "; the same model trained by gradient steps (mlp0) converged on {} within its "
            "{}-step budget (median {} steps)", pct(mlp0), quote(mlp0, "max_iter", COUNT),
            quote(mlp0, "n_iter_median", COUNT))
    perceptron = matched_ours(cases, "perceptron", "overlap")
    if perceptron is not None:
        sentence += Sentence(", and the perceptron on {} within {} epochs", pct(perceptron),
                             quote(perceptron, "max_iter", COUNT))
    return sentence + "."


def _resampled(cases: list[CaseRecord]) -> list[Sentence]:
    """Per resampled real data set: how often a resample was separated, and who converged."""
    sentences = []
    for entry in regimes.REGIMES:  # (not REGIMES here: the catalog would read them as ours)
        regime = entry.name
        glm = matched_ours(cases, "glm", regime) if entry.data is not None else None
        if glm is None:
            continue
        name = entry.data.description.split(",")[0]
        sentence = Sentence(f"In the {regime} regime ({{}}), of {{}} bootstrap ", fixed(name),
                            quote(glm, "n_datasets", COUNT))
        if missing(glm.lp_complete_frac):
            sentence += "resamples"
        else:
            sentence += "resamples " + _lp_verdicts(glm) + ";"
        sentence += Sentence(" the GLM reported separation on {} and converged on {}",
                             quote(glm, "separated_frac", PCT), quote(glm, "converged_frac", PCT))
        others = [(m, matched_ours(cases, m, regime)) for m in ("glm_firth", "perceptron")]
        parts = [Sentence(f"{m} on {{}}", quote(c, "converged_frac", PCT))
                 for m, c in others if c is not None]
        if parts:
            sentence += "; " + join(", ", parts)
        perceptron = matched_ours(cases, "perceptron", regime)
        if perceptron is not None and not missing(perceptron.converged_on_complete_frac):
            sentence += Sentence(
                " (the perceptron converged on {} of the completely separated resamples within "
                "its {} epochs, and can converge on no other)",
                quote(perceptron, "converged_on_complete_frac", PCT),
                quote(perceptron, "max_iter", COUNT))
        sentences.append(sentence + ".")
    return sentences


def _verdict_cost(cases: list[CaseRecord]) -> Sentence | None:
    """The separation verdict's cost: the GLM's overlap row against the same fit without it.

    The two rows are timed a minute or so apart, so the ratio of their fastest rounds is
    given beside that of their medians: a slow spell on a shared machine moves a median.
    """
    with_lp = matched_ours(cases, "glm", "overlap")
    without = matched_ours(cases, "glm_no_verdict", "overlap")
    if (with_lp is None or without is None or with_lp.dtype != without.dtype
            or not positive(with_lp.fits_per_s) or not positive(without.fits_per_s)):
        return None
    sentence = Sentence(
        "With its separation verdict the GLM fitted overlap data at {} fits/s "
        f"({with_lp.dtype}) against {{}} for the same fit with separation=False "
        "(glm_no_verdict), {} of its speed by the medians",
        quote(with_lp, "fits_per_s", RATE), quote(without, "fits_per_s", RATE),
        derived("ratio", FIXED2, (with_lp, "fits_per_s"), (without, "fits_per_s")))
    if positive(with_lp.seconds_min) and positive(without.seconds_min):
        sentence += Sentence(" and {} by the fastest rounds", derived(
            "ratio", FIXED2, (without, "seconds_min"), (with_lp, "seconds_min")))
    return sentence + ("; its ratio to any reference library timed on the same data moves "
                       "by the same factor.")


#: The README's sentences about the GLMs, by topic (:mod:`bench.families.base`).
SENTENCES = {"separation": (_separation,), "convergence": (_firth, _overlap, _resampled),
             "speed": (_verdict_cost,)}
