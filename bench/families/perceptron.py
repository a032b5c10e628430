"""The perceptron family: Rosenblatt's rule, its work, its reference library, its sentences.

The fit is :func:`models.perceptron.fit`; the reference is scikit-learn's ``Perceptron``;
the README's sentences about it check Rosenblatt's convergence theorem and Novikoff's bound.
Importing this module imports no JAX; :func:`adapter` does, when it is called.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from bench.families.base import Library, Model, ModelFamily, Pairing
from bench.formats import missing
from bench.quotes import COUNT, PCT, SIG3, Sentence, derived, fixed, join, matched_ours, pct, quote
from bench.record import CaseRecord

__all__ = ["FAMILY", "MODELS", "LIBRARIES", "PAIRINGS", "SENTENCES", "adapter", "work",
           "sklearn_perceptron"]


def work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """``4np`` FLOPs per epoch (score, update), one read of X and y."""
    del settings
    return 4 * n * p, n * (p + 1) * itemsize


def adapter(settings: Mapping, max_epochs: int):
    """The perceptron's fit of one data set, and its evaluation.

    Every setting (``lr``, ``averaged``, ...) is passed on to :func:`models.perceptron.fit`.
    """
    from bench.families import fitting
    from models import perceptron

    options = dict(settings)

    def fit(key, X, y):
        del key
        return perceptron.fit(X, y, max_epochs=max_epochs, **options)

    def predict(result, X):
        return perceptron.predict(result, X)

    def evaluate(result, data):
        return fitting.epoch_fields(result, data.y_train.shape[0],
                                    fitting.accuracies(lambda X: predict(result, X), data),
                                    (result.coef, result.pocket_coef))

    return fitting.make_adapter(fit, evaluate, max_epochs, predict)


FAMILY = ModelFamily("perceptron", "epochs", "mistakes / n per epoch", adapter,
                     mistake_bound=True)


def sklearn_perceptron(X, y, epochs: int, lr: float = 1.0):
    """scikit-learn's Perceptron running exactly ``epochs`` epochs of the same rule."""
    from sklearn.linear_model import Perceptron

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Perceptron(fit_intercept=False, shuffle=False, eta0=lr, tol=None,
                          max_iter=epochs).fit(X, y)


def _sklearn_fit(X, y, settings: Mapping, budget: int):
    unmatched = set(settings) - {"lr"}
    if unmatched:
        raise ValueError(f"scikit-learn's Perceptron has no equivalent of the settings "
                         f"{sorted(unmatched)}; pair it only with the plain rule.")
    return sklearn_perceptron(X, y, budget, settings.get("lr", 1.0))


LIBRARIES = {
    "sklearn_perceptron": Library("scikit-learn Perceptron", "sklearn", _sklearn_fit,
                                  package="scikit-learn"),
}

MODELS = (
    Model("perceptron", "Rosenblatt perceptron", "perceptron", "binomial", ("float32",), {},
          "perceptron_epochs", work, "tab:blue", scaling=("separable", "float32"),
          figures=("boundaries",)),
)

PAIRINGS = (Pairing("sklearn_perceptron", "perceptron", ("separable", "overlap"),
                    headline="separable"),)


# ----------------------------------------------------------------------- sentences


def _convergence(cases: list[CaseRecord]) -> Sentence | None:
    """Where the perceptron converged: on separable data only, as Rosenblatt's theorem says."""
    separable = matched_ours(cases, "perceptron", "separable")
    others = [(regime, matched_ours(cases, "perceptron", regime))
              for regime in ("overlap", "quasi", "xor", "circles")]
    others = [(regime, case) for regime, case in others if case is not None]
    if separable is None or not others:
        return None
    sentence = (Sentence("The perceptron converged on {} of separable data sets and on ",
                         pct(separable))
                + join(", ", (Sentence(f"{{}} of {regime}", pct(case))
                              for regime, case in others)) + " data sets")
    best_other = max(case.converged_frac for _, case in others)
    if separable.converged_frac > best_other:
        sentence += (": it stops only when a separating line exists, as Rosenblatt's "
                     "convergence theorem says")
    else:
        sentence += (": it converged no more often on separable data than elsewhere, which "
                     "is not what the convergence theorem predicts")
    if not missing(separable.converged_on_complete_frac) and (
            separable.lp_complete_frac or 0) < 0.9995:
        sentence += Sentence(
            " (the linear program found {} of them completely separated, and the perceptron "
            "converged on {} of those)", pct(separable, "lp_complete_frac"),
            pct(separable, "converged_on_complete_frac"))
    if 1 - separable.converged_frac > 0:
        sentence += Sentence("; {} of separable data sets ran out of the {}-epoch budget",
                             derived("one_minus", PCT, (separable, "converged_frac")),
                             quote(separable, "max_iter", COUNT))
    return sentence + "."


def _novikoff(cases: list[CaseRecord]) -> Sentence | None:
    """The perceptron's updates on separable data against Novikoff's bound (R/γ)²."""
    separable = matched_ours(cases, "perceptron", "separable")
    ratio = None if separable is None else separable.novikoff_max_ratio
    if missing(ratio):
        return None
    shown = quote(separable, "novikoff_max_ratio", SIG3)
    if ratio <= 1:
        sentence = Sentence("No separable data set needed more perceptron updates than "
                            "Novikoff's bound (R/γ)²: the largest ratio n_updates / (R/γ)² "
                            "was {}", shown)
        if 0 < ratio < 0.5:
            sentence += Sentence(", so the worst case used {} of the bound",
                                 pct(separable, "novikoff_max_ratio"))
        return sentence + "."
    return Sentence("At least one separable data set needed more perceptron updates than "
                    "Novikoff's bound (R/γ)² allows (largest ratio {} > {}): either the "
                    "perceptron or the margin used for the bound is wrong.", shown, fixed(1))


#: The README's sentences about the perceptron, by topic (:mod:`bench.families.base`).
SENTENCES = {"separation": (_convergence, _novikoff)}
