"""The reference libraries, fitting one data set at a time, as our users do today.

Each function takes numpy ``X [n, p]`` (intercept column included) and ``y [n]`` and fits
the same model as the matching case of ours, with the same iteration budget:

* :func:`statsmodels_glm`: ``statsmodels.api.GLM(y, X, family).fit()`` (IRLS, its defaults);
* :func:`sklearn_logistic`: ``LogisticRegression(C=inf, solver="newton-cholesky")``;
* :func:`sklearn_perceptron`: ``Perceptron(fit_intercept=False, shuffle=False, eta0=1,
  tol=None, max_iter=epochs)``: the same rule as :func:`models.perceptron.fit`;
* :func:`sklearn_mlp`: ``MLPClassifier`` with the same hidden size, activation, optimizer
  (adam, full batch) and number of steps.

They need the ``compare`` extra (statsmodels, scikit-learn, scipy).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["statsmodels_glm", "sklearn_logistic", "sklearn_perceptron", "sklearn_mlp"]


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


def sklearn_logistic(X, y):
    """Unpenalised logistic regression by scikit-learn's Newton-Cholesky solver."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(C=np.inf, solver="newton-cholesky", fit_intercept=False,
                                  max_iter=25).fit(X, y)


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
