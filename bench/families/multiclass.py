"""The K-class half: the multinomial GLM, the multiclass perceptron and the softmax MLP.

One module for the three K-class families, with everything the benchmark needs of them:
their families (a GLM by Newton's method, a perceptron with Collins's mistake bound, an MLP
with a softmax output), their models, their regimes (synthetic separable, overlap and
ring data with three classes; iris and wine with all three of their classes, resampled),
their reference libraries (statsmodels ``MNLogit``; scikit-learn's multinomial
``LogisticRegression``, its ``Perceptron``, which is one-vs-rest, and ``MLPClassifier``),
their decision-region figure and their sentences. The fits and the generators are
:mod:`bench.families.multiclass_fits` (JAX, imported when called); the figure's row and
drawing are :mod:`bench.families.multiclass_figures`.

Importing this module imports no JAX.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from bench.families.base import Figure, Library, Model, ModelFamily, Pairing
from bench.families.mlp import sklearn_mlp
from bench.formats import missing
from bench.quotes import ACCURACY, COUNT, SIG3, Sentence, matched_ours, pct, quote
from bench.record import CaseRecord
from bench.regimes import RealData, Regime

__all__ = ["FAMILIES", "MODELS", "REGIMES", "LIBRARIES", "PAIRINGS", "FIGURES", "SENTENCES",
           "N_CLASSES", "glm_work", "perceptron_work", "mlp_work"]

#: Classes of every K-class regime (iris and wine have three).
N_CLASSES = 3

_FIGURES = "bench.families.multiclass_figures"


def glm_work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """Newton's FLOPs and bytes per iteration: ``K(K-1)/2`` Gram blocks, one ``p(K-1)`` solve.

    ``np(p + 1) K(K-1)/2`` for the blocks, ``6npK`` for the scores and probabilities and
    ``(p(K-1))^3 / 3`` for the Cholesky; one read of X.
    """
    k = settings.get("n_classes", N_CLASSES)
    flops = n * p * (p + 1) * k * (k - 1) / 2 + 6 * n * p * k + (p * (k - 1)) ** 3 / 3
    return flops, n * (p + 2) * itemsize


def perceptron_work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """``2npK + 4np`` FLOPs per epoch (K scores, two row updates), one read of X and y."""
    k = settings.get("n_classes", N_CLASSES)
    return 2 * n * p * k + 4 * n * p, n * (p + 1) * itemsize


def mlp_work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """``6n`` FLOPs per weight (forward, backward) and ``6nK`` for the softmax loss."""
    k = settings.get("n_classes", N_CLASSES)
    widths = (p, *settings.get("hidden", ()), k)
    weights = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return 6 * n * weights + 6 * n * k, n * (p + 1) * itemsize


def _status_is_verdict(settings: Mapping) -> bool:
    """The multinomial GLM says ``separated`` where the K classes are separated."""
    return bool(settings.get("separation", True))


def _generator(kind: str):
    """The generator of a K-class regime (:mod:`bench.families.multiclass_fits`), K = 3."""
    def generate(keys, n_total, n_features, margin, signal, dtype):
        from bench.families import multiclass_fits

        return getattr(multiclass_fits, kind)(keys, n_total, n_features, margin, signal,
                                              dtype, n_classes=N_CLASSES)

    return generate


def _adapter(kind: str):
    def adapter(settings: Mapping, max_iter: int):
        from bench.families import multiclass_fits

        return multiclass_fits.adapter(kind, settings, max_iter)

    return adapter


FAMILIES = (
    ModelFamily("multinomial", "iterations", "deviance / n", _adapter("glm"),
                separation_flag=True, verdict_status=_status_is_verdict),
    ModelFamily("multiclass_perceptron", "epochs", "mistakes / n per epoch",
                _adapter("perceptron"), mistake_bound=True),
    ModelFamily("softmax_mlp", "gradient steps", "cross-entropy", _adapter("mlp"),
                n_datasets_cap="mlp_n_datasets", boundary="contour"),
)

REGIMES = (
    Regime("separable3", "multinomial", "navy", generator=_generator("separable"),
           n_classes=N_CLASSES),
    Regime("overlap3", "multinomial", "darkorange", generator=_generator("overlap"),
           n_classes=N_CLASSES),
    Regime("rings3", "multinomial", "darkgreen", min_features=2, generator=_generator("rings"),
           n_classes=N_CLASSES),
    # Bootstrap resamples of the whole data sets, all three classes (features standardised
    # over all rows). Both are separated: iris quasi-completely (setosa splits off, the other
    # two overlap), wine completely, so no multinomial MLE exists on them or on a resample.
    Regime("iris3", "multinomial", "darkcyan", RealData(
        "load_iris", (0, 1, 2), None, 150, 4,
        "iris, all three species (setosa 0, versicolor 1, virginica 2), 4 measurements: "
        "quasi-completely separated"), n_classes=N_CLASSES),
    Regime("wine3", "multinomial", "darkgoldenrod", RealData(
        "load_wine", (0, 1, 2), None, 178, 13,
        "wine, all three cultivars (0, 1, 2), 13 chemical measurements: completely "
        "separated"), n_classes=N_CLASSES),
)

_K = {"n_classes": N_CLASSES}

MODELS = (
    Model("glm_k3", "multinomial GLM (K = 3), Newton", "multinomial", "multinomial",
          ("float32", "float64"), _K, 25, glm_work, "tab:orange",
          scaling=("overlap3", "float64"), figures=("regions",)),
    Model("perceptron_k3", "multiclass perceptron (K = 3), Kesler's rule", "multiclass_perceptron",
          "multinomial", ("float32",), _K, "perceptron_epochs", perceptron_work, "tab:blue",
          figures=("regions",)),
    Model("mlp0_k3", "softmax MLP hidden=() (K = 3, the multinomial GLM by adam)", "softmax_mlp",
          ("overlap3",), ("float32",), {**_K, "hidden": ()}, "mlp_steps", mlp_work,
          "tab:cyan", figures=("regions",)),
    Model("mlp8_k3", "softmax MLP hidden=(8,) sigmoid (K = 3)", "softmax_mlp", "multinomial",
          ("float32",), {**_K, "hidden": (8,), "activation": "sigmoid"}, "mlp_steps",
          mlp_work, "tab:green", figures=("regions",)),
)


# ----------------------------------------------------------------------- references


def _quiet(fit):
    with warnings.catch_warnings():
        # statsmodels warns on separated data and still returns; the row records what it
        # reports (converged or not), as the binary GLM's rows do.
        warnings.simplefilter("ignore")
        return fit()


def _mnlogit(X, y, settings: Mapping, budget: int):
    del settings, budget  # statsmodels' own defaults (Newton, 35 iterations), as users run it
    import statsmodels.api as sm

    return _quiet(lambda: sm.MNLogit(y, X).fit(disp=0))


def _sklearn_logistic(X, y, settings: Mapping, budget: int):
    from sklearn.linear_model import LogisticRegression

    del settings
    return _quiet(lambda: LogisticRegression(penalty=None, solver="newton-cholesky",
                                             fit_intercept=False, max_iter=budget).fit(X, y))


def _sklearn_perceptron(X, y, settings: Mapping, budget: int):
    from sklearn.linear_model import Perceptron

    del settings
    return _quiet(lambda: Perceptron(fit_intercept=False, shuffle=False, tol=None,
                                     max_iter=budget).fit(X, y))


def _sklearn_mlp(X, y, settings: Mapping, budget: int):
    from models.mlp import DEFAULT_LEARNING_RATE

    return sklearn_mlp(X, y, tuple(settings.get("hidden", (8,))), budget, DEFAULT_LEARNING_RATE,
                       settings.get("activation", "sigmoid"))


LIBRARIES = {
    "statsmodels_mnlogit": Library("statsmodels MNLogit", "statsmodels", _mnlogit,
                                   lambda fitted, budget: bool(
                                       fitted.mle_retvals.get("converged", False))),
    "sklearn_logistic_multinomial": Library(
        "scikit-learn LogisticRegression multinomial newton-cholesky", "sklearn",
        _sklearn_logistic, lambda fitted, budget: int(fitted.n_iter_[0]) < budget,
        package="scikit-learn"),
    "sklearn_perceptron_ovr": Library("scikit-learn Perceptron (one-vs-rest, K lines)",
                                      "sklearn", _sklearn_perceptron, package="scikit-learn"),
    "sklearn_mlp_softmax": Library("scikit-learn MLPClassifier (softmax output)", "sklearn",
                                   _sklearn_mlp, subset_divisor=4, package="scikit-learn"),
}

PAIRINGS = (
    Pairing("statsmodels_mnlogit", "glm_k3", ("overlap3", "separable3", "iris3", "wine3"),
            headline="overlap3"),
    Pairing("sklearn_logistic_multinomial", "glm_k3", ("overlap3", "separable3")),
    Pairing("sklearn_perceptron_ovr", "perceptron_k3", ("separable3", "overlap3")),
    Pairing("sklearn_mlp_softmax", "mlp8_k3", ("rings3",), headline="rings3"),
)


def _region_rows(preset) -> tuple[str, ...]:
    del preset
    return ("regions",)


FIGURES = (
    Figure("regions", "regions.png", f"{_FIGURES}:plot_regions", _region_rows,
           f"{_FIGURES}:regions_record"),
)


# ----------------------------------------------------------------------- sentences


def _separation(cases: list[CaseRecord]) -> list[Sentence]:
    """The multinomial GLM's status on the three-class data, read against the LP's verdict."""
    sentences = []
    for regime in ("separable3", "iris3", "wine3"):
        glm = matched_ours(cases, "glm_k3", regime)
        if glm is None or missing(glm.lp_complete_frac):
            continue
        sentence = Sentence(
            f"On {regime} the K-class linear program found {{}} of data sets completely and "
            "{} quasi-completely separated, and the multinomial GLM reported separation on "
            "{}", pct(glm, "lp_complete_frac"), pct(glm, "lp_quasi_frac"),
            pct(glm, "separated_frac"))
        if not missing(glm.separated_agrees_frac):
            sentence += Sentence(" (its status matched the verdict on {})",
                                 pct(glm, "separated_agrees_frac"))
        sentences.append(sentence + ".")
    return sentences


def _collins(cases: list[CaseRecord]) -> Sentence | None:
    """The multiclass perceptron on separable data against the Kesler/Collins bound."""
    case = matched_ours(cases, "perceptron_k3", "separable3")
    if case is None or missing(case.novikoff_max_ratio):
        return None
    verdict = ("within" if case.novikoff_max_ratio <= 1 else "beyond")
    return Sentence(
        "The multiclass perceptron converged on {} of separable3 data sets, every one "
        f"{verdict} the mistake bound 2 max‖x‖² / γ² of Kesler's construction (largest ratio "
        "{}, mean {} updates)", pct(case), quote(case, "novikoff_max_ratio", SIG3),
        quote(case, "n_updates_mean", COUNT)) + "."


def _softmax(cases: list[CaseRecord]) -> list[Sentence]:
    """The softmax MLP against the multinomial GLM: the same model on overlap, not on rings."""
    sentences = []
    for mlp_name, regime, what in (("mlp0_k3", "overlap3", "the same linear model"),
                                   ("mlp8_k3", "rings3", "a hidden layer")):
        mlp, glm = matched_ours(cases, mlp_name, regime), matched_ours(cases, "glm_k3", regime)
        if mlp is None or glm is None:
            continue
        sentences.append(Sentence(
            f"On {regime} the softmax MLP {mlp_name} ({what}) reached {{}} mean test "
            "accuracy against {} for the multinomial GLM", quote(mlp, "test_accuracy_mean",
                                                                 ACCURACY),
            quote(glm, "test_accuracy_mean", ACCURACY)) + ".")
    return sentences


#: The README's sentences about the K-class models, by topic (:mod:`bench.families.base`).
SENTENCES = {"separation": (_separation, _collins), "accuracy": (_softmax,)}
