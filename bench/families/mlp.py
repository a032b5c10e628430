"""The MLP family: full-batch adam, its work, its reference library and its sentences.

The fit is :func:`models.mlp.fit`; the reference is scikit-learn's ``MLPClassifier``; the
README's sentences about it compare the hidden layer's accuracy with the GLM's where no line
splits the classes.
Importing this module imports no JAX; :func:`adapter` does, when it is called.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from bench.families.base import Library, Model, ModelFamily, Pairing
from bench.formats import missing
from bench.quotes import ACCURACY, COUNT, Sentence, fixed, matched_ours, quote
from bench.record import CaseRecord

__all__ = ["FAMILY", "MODELS", "LIBRARIES", "PAIRINGS", "SENTENCES", "adapter", "work",
           "sklearn_mlp", "SKLEARN_ACTIVATIONS"]


def work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """The MLP's FLOPs and bytes of one full-batch step.

    ``6n`` FLOPs per weight (forward and backward) plus ``6n`` for the loss, one read of X
    and y: ``6nph + 6nh + 6n`` with one hidden layer of ``h`` units, ``6np + 6n`` with none.
    """
    widths = (p, *settings.get("hidden", ()), 1)
    weights = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return 6 * n * weights + 6 * n, n * (p + 1) * itemsize


def _options(settings: Mapping) -> dict:
    options = dict(settings)
    if "hidden" in options:
        options["hidden"] = tuple(options["hidden"])  # static: hashable
    return options


def adapter(settings: Mapping, max_iter: int):
    """The MLP's fit of one data set, and its evaluation.

    Every setting (``hidden``, ``activation``, ``gain``, ...) is passed on to
    :func:`models.mlp.fit`.
    """
    from bench.families import fitting
    from models import mlp

    options = _options(settings)

    def fit(key, X, y):
        return mlp.fit(key, X, y, max_iter=max_iter, **options)

    def predict(result, X):
        return mlp.predict(result, X)

    def evaluate(result, data):
        return fitting.step_fields(result, fitting.accuracies(lambda X: predict(result, X),
                                                              data))

    return fitting.make_adapter(fit, evaluate, max_iter, predict)


FAMILY = ModelFamily("mlp", "gradient steps", "cross-entropy", adapter,
                     n_datasets_cap="mlp_n_datasets", replayed_rule="scikit-learn's rule",
                     boundary="contour")


# ----------------------------------------------------------------------- reference

#: scikit-learn's name of each of our hidden activations.
SKLEARN_ACTIVATIONS = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}


def sklearn_mlp(X, y, hidden: tuple[int, ...], steps: int, learning_rate: float,
                activation: str = "sigmoid"):
    """scikit-learn's MLPClassifier: adam, full batch, ``steps`` steps, no early stop.

    ``activation`` is ours (``"sigmoid"``, ``"tanh"``, ``"relu"``), given to scikit-learn
    under its own name (:data:`SKLEARN_ACTIVATIONS`).
    """
    from sklearn.neural_network import MLPClassifier

    if activation not in SKLEARN_ACTIVATIONS:
        raise ValueError(f"scikit-learn's MLPClassifier has no activation {activation!r}; "
                         f"choose one of {', '.join(SKLEARN_ACTIVATIONS)}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(
            hidden_layer_sizes=hidden, activation=SKLEARN_ACTIVATIONS[activation],
            solver="adam", learning_rate_init=learning_rate, batch_size=X.shape[0],
            max_iter=steps, tol=0.0, n_iter_no_change=steps + 1, shuffle=False, alpha=0.0,
            random_state=0,
        ).fit(X, y)


#: Our settings that change only our stopping rule or grouping, not the steps taken.
_STOPPING_ONLY = {"tol", "stopping", "n_iter_no_change", "group_size"}


def _sklearn_fit(X, y, settings: Mapping, budget: int):
    from models.mlp import DEFAULT_LEARNING_RATE

    unmatched = set(settings) - {"hidden", "activation"} - _STOPPING_ONLY
    if settings.get("gain", 1.0) == 1.0:
        unmatched.discard("gain")
    if unmatched:
        raise ValueError(f"scikit-learn's MLPClassifier has no equivalent of the settings "
                         f"{sorted(unmatched)}.")
    return sklearn_mlp(X, y, tuple(settings.get("hidden", (8,))), budget,
                       DEFAULT_LEARNING_RATE, settings.get("activation", "sigmoid"))


def _sklearn_converged(fitted, budget: int) -> bool:
    # Timed at equal work (its early stop is off), judged by its own default rule
    # (tol=1e-4, n_iter_no_change=10) replayed on its own loss curve: converged when that
    # rule would give n_iter_ < max_iter. The rule changes no step before it fires, so this
    # is what the same fit with the rule on reports.
    from models.mlp import sklearn_stop

    return int(sklearn_stop(np.asarray(fitted.loss_curve_))[1]) < budget


LIBRARIES = {
    "sklearn_mlp": Library("scikit-learn MLPClassifier", "sklearn", _sklearn_fit,
                           _sklearn_converged, subset_divisor=4, package="scikit-learn"),
}

MODELS = (
    Model("mlp0", "MLP hidden=() (logistic regression by adam)", "mlp", "binomial",
          ("float32",), {"hidden": ()}, "mlp_steps", work, "tab:cyan",
          figures=("boundaries",)),
    Model("mlp8", "MLP hidden=(8,) sigmoid", "mlp", "binomial", ("float32",),
          {"hidden": (8,), "activation": "sigmoid"}, "mlp_steps", work, "tab:green",
          scaling=("xor", "float32"), figures=("boundaries",)),
)

PAIRINGS = (Pairing("sklearn_mlp", "mlp8", ("xor", "circles"), headline="xor"),)


# ----------------------------------------------------------------------- sentences


def _curved_boundaries(cases: list[CaseRecord]) -> list[Sentence]:
    """The MLP with a hidden layer against the GLM's line, where no line splits the classes."""
    sentences = []
    for regime in ("xor", "circles"):
        mlp, glm = matched_ours(cases, "mlp8", regime), matched_ours(cases, "glm", regime)
        if mlp is None or glm is None or missing(mlp.train_accuracy_mean) or missing(
                glm.train_accuracy_mean):
            continue
        gap = mlp.train_accuracy_mean - glm.train_accuracy_mean
        sentence = Sentence(
            f"On {regime} the MLP with a hidden layer reached {{}} mean train accuracy ({{}} "
            "test) vs {} ({}) for the GLM",
            *(quote(case, field, ACCURACY) for case in (mlp, glm)
              for field in ("train_accuracy_mean", "test_accuracy_mean")))
        steps = quote(mlp, "max_iter", COUNT)
        if gap >= 0.05:
            sentence += ": the hidden layer lets it draw a curved boundary that a line cannot"
        elif gap <= -0.05:
            sentence += Sentence(": the GLM did better, which the theory does not predict "
                                 "(the MLP may be under-trained at {} steps)", steps)
        else:
            sentence += Sentence(": no real difference (within {}; the MLP had {} steps and "
                                 "may need more)", fixed("0.05"), steps)
        sentences.append(sentence + ".")
    return sentences


#: The README's sentences about the MLPs, by topic (:mod:`bench.families.base`).
SENTENCES = {"accuracy": (_curved_boundaries,)}
