"""Slow references shared by the GLM tests: R's glm.fit count, on statsmodels' families.

The families are :func:`bench.families.glm.statsmodels_family`'s, the one map from our
family and link names to statsmodels' classes.
"""

import numpy as np
import pytest

from bench.families.glm import statsmodels_family

R_TOL = 1e-8  # R's glm.control(epsilon = 1e-8), the fit's default tol


def r_iterations(X, y, family, link, epsilon=R_TOL, maxit=25):
    """The ``iter`` of R's ``glm.fit`` (no step-halving needed on these data)."""
    pytest.importorskip("statsmodels.api")
    fam = statsmodels_family(family, link)
    weights = np.ones_like(y)
    mustart = {"binomial": (weights * y + 0.5) / (weights + 1), "poisson": y + 0.1}.get(
        family, y)
    eta = fam.link(mustart)
    mu = fam.link.inverse(eta)
    devold = fam.deviance(y, mu)
    for iteration in range(1, maxit + 1):
        mu_eta = fam.link.inverse_deriv(eta)
        z = eta + (y - mu) / mu_eta
        w = np.sqrt(weights * mu_eta**2 / fam.variance(mu))
        coef = np.linalg.lstsq(X * w[:, None], z * w, rcond=None)[0]
        eta = X @ coef
        mu = fam.link.inverse(eta)
        dev = fam.deviance(y, mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            return iteration
        devold = dev
    return maxit


