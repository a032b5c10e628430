"""The reference libraries, fitting one data set at a time, as our users do today.

Each function takes numpy ``X [n, p]`` (intercept column included) and ``y [n]`` and fits
the same model as the matching case of ours, with the same iteration budget:

* :func:`statsmodels_glm`: ``statsmodels.api.GLM(y, X, family).fit()`` (IRLS, its defaults);
* :func:`sklearn_logistic`: ``LogisticRegression(C=inf, solver="newton-cholesky")``;
* :func:`sklearn_perceptron`: ``Perceptron(fit_intercept=False, shuffle=False, eta0=1,
  tol=None, max_iter=epochs)``: the same rule as :func:`models.perceptron.fit`;
* :func:`sklearn_mlp`: ``MLPClassifier`` with the same hidden size, activation, optimizer
  (adam, full batch) and number of steps (its early stop off, so both sides do equal
  work); its converged flag is its own default rule replayed on its loss curve.

They need the ``compare`` extra (statsmodels, scikit-learn, scipy). :data:`LIBRARIES` says,
once, how each is fitted with a catalog entry's settings and budget; which library is timed
against which model and regime is the entry's ``baselines`` (:func:`pairs`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bench import catalog
from models.mlp import DEFAULT_LEARNING_RATE, sklearn_stop

__all__ = ["statsmodels_glm", "sklearn_logistic", "sklearn_perceptron", "sklearn_mlp",
           "Library", "LIBRARIES", "BaselineCase", "pairs"]


def statsmodels_glm(X, y, family: str = "binomial"):
    """Fit ``statsmodels.api.GLM(y, X, family).fit()``; its result has ``.converged``."""
    import statsmodels.api as sm

    fam = {"binomial": sm.families.Binomial, "poisson": sm.families.Poisson,
           "gamma": sm.families.Gamma, "gaussian": sm.families.Gaussian}[family]()
    with warnings.catch_warnings():
        # statsmodels warns on separated data ("Perfect separation") and still reports
        # converged=True; the benchmark records what it reports.
        warnings.simplefilter("ignore")
        return sm.GLM(y, X, family=fam).fit()


def sklearn_logistic(X, y, max_iter: int = catalog.GLM_MAX_ITER):
    """Unpenalised logistic regression by scikit-learn's Newton-Cholesky solver."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(C=np.inf, solver="newton-cholesky", fit_intercept=False,
                                  max_iter=max_iter).fit(X, y)


def sklearn_perceptron(X, y, epochs: int):
    """scikit-learn's Perceptron running exactly ``epochs`` epochs of the same rule."""
    from sklearn.linear_model import Perceptron

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Perceptron(fit_intercept=False, shuffle=False, eta0=1.0, tol=None,
                          max_iter=epochs).fit(X, y)


def sklearn_mlp(X, y, hidden: tuple[int, ...], steps: int, learning_rate: float):
    """scikit-learn's MLPClassifier: adam, full batch, ``steps`` steps, no early stop."""
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(
            hidden_layer_sizes=hidden, activation="logistic", solver="adam",
            learning_rate_init=learning_rate, batch_size=X.shape[0], max_iter=steps,
            tol=0.0, n_iter_no_change=steps + 1, shuffle=False, alpha=0.0, random_state=0,
        ).fit(X, y)


class Library(NamedTuple):
    """How one reference library fits a catalog model, one data set at a time.

    Attributes:
        label: its name in tables (``"statsmodels GLM"``).
        module: the module it needs (a missing one skips its benchmark).
        fit: ``(X, y, settings, budget) -> fitted``: one data set, with a catalog entry's
            settings and iteration budget.
        converged: ``(fitted, budget) -> bool``, what it reports, or None when it reports
            nothing comparable.
        subset_divisor: it fits ``preset.baseline_datasets // subset_divisor`` data sets
            (at least 2): slow libraries fit fewer.
    """

    label: str
    module: str
    fit: Callable
    converged: Callable | None = None
    subset_divisor: int = 1


LIBRARIES: dict[str, Library] = {
    "statsmodels_glm": Library(
        "statsmodels GLM", "statsmodels",
        lambda X, y, settings, budget: statsmodels_glm(X, y, settings["family"]),
        lambda fitted, budget: fitted.converged),
    "sklearn_logistic": Library(
        "scikit-learn LogisticRegression newton-cholesky", "sklearn",
        lambda X, y, settings, budget: sklearn_logistic(X, y, budget),
        lambda fitted, budget: fitted.n_iter_[0] < budget),
    "sklearn_perceptron": Library(
        "scikit-learn Perceptron", "sklearn",
        lambda X, y, settings, budget: sklearn_perceptron(X, y, budget)),
    "sklearn_mlp": Library(
        "scikit-learn MLPClassifier", "sklearn",
        lambda X, y, settings, budget: sklearn_mlp(X, y, tuple(settings["hidden"]), budget,
                                                   DEFAULT_LEARNING_RATE),
        # Timed at equal work (its early stop is off), judged by its own default rule
        # (tol=1e-4, n_iter_no_change=10) replayed on its own loss curve: converged when
        # that rule would give n_iter_ < max_iter. The rule changes no step before it fires,
        # so this is what the same fit with the rule on reports.
        lambda fitted, budget: int(sklearn_stop(np.asarray(fitted.loss_curve_))[1]) < budget,
        subset_divisor=4),
}


class BaselineCase(NamedTuple):
    """One reference-library row: a library, the catalog model it is compared with, a regime.

    Attributes:
        library: a key of :data:`LIBRARIES`.
        model: the catalog model whose settings and budget it fits with.
        regime: the regime of the data sets.
    """

    library: str
    model: str
    regime: str

    @property
    def id(self) -> str:
        """A short readable id for pytest."""
        return f"{self.library}-{self.model}-{self.regime}"

    def __str__(self) -> str:
        """The id (what ``--benchmark-group-by=param:case`` shows)."""
        return self.id


def pairs() -> list[BaselineCase]:
    """Every (library, model, regime) the catalog's ``baselines`` ask for, in table order."""
    return [BaselineCase(pairing.library, entry.name, regime)
            for entry in catalog.models() for pairing in entry.baselines
            for regime in pairing.regimes]
