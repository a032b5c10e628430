"""Generated binomial data sets for the separation verdict, and HiGHS as the referee.

Each generator draws one data set ``(X, y, weights)`` of the kinds where a separation
check goes wrong: rows exactly on a separating hyperplane (dyadic coordinates, so
"exactly" holds in floating point), rare binary exposures, empty cells of a factor,
integer grids with ties, tiny margins either way, near-collinear and duplicated columns,
proportions with trials, zero weights, and the intercept alone. The truth is whatever
scipy's HiGHS says of the exact linear program; the generators only aim at a mix.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

KINDS = ("logistic", "hyperplane", "exposure", "empty_cell", "integer_grid",
         "tiny_margin_separable", "tiny_margin_overlap", "near_collinear", "proportions",
         "intercept_only")


def _sizes(rng, p_max: int = 20) -> tuple[int, int]:
    n = int(np.exp(rng.uniform(np.log(10), np.log(1000))))
    p = int(rng.integers(1, min(p_max, max(1, n // 2)) + 1))
    return n, p


def _features(rng, n: int, p: int) -> np.ndarray:
    """``[n, p]``: an intercept column, then N(0, 1) features."""
    return np.c_[np.ones(n), rng.normal(size=(n, p - 1))]


def _sigmoid(t):
    return 1 / (1 + np.exp(-t))


def logistic(rng):
    n, p = _sizes(rng)
    X = _features(rng, n, p)
    beta = rng.normal(size=p) * rng.choice([0.3, 1.0, 3.0])
    return X, (rng.random(n) < _sigmoid(X @ beta)).astype(float), None


def hyperplane(rng):
    """Dyadic rows, labels by an integer hyperplane, some rows on it with either label."""
    n, p = _sizes(rng)
    p = max(p, 2)
    w = rng.integers(-3, 4, size=p).astype(float)
    w[-1] = 1.0
    X = np.c_[np.ones(n), rng.integers(-16, 17, size=(n, p - 1)) / 8]
    on = rng.random(n) < rng.uniform(0.05, 0.3)
    X[on, -1] = -(X[on, :-1] @ w[:-1])  # exact: small dyadic numbers
    score = X @ w
    y = (score > 0).astype(float)
    y[score == 0] = rng.integers(0, 2, size=int(np.sum(score == 0)))
    if rng.random() < 0.5:  # one class on the plane only: still separated, complete or quasi
        y[score == 0] = float(rng.integers(0, 2))
    return X, y, None


def exposure(rng):
    """A rare binary exposure (3-15% of rows) whose exposed rows all share one outcome."""
    n, p = _sizes(rng)
    n = max(n, 20)
    p = max(p, 2)
    X = _features(rng, n, p)
    exposed = rng.random(n) < rng.uniform(0.03, 0.15)
    exposed[rng.integers(n)] = True
    X[:, -1] = exposed
    beta = rng.normal(size=p) * 0.7
    y = (rng.random(n) < _sigmoid(X[:, :-1] @ beta[:-1])).astype(float)
    y[exposed] = float(rng.integers(0, 2))
    return X, y, None


def empty_cell(rng):
    """A factor of ``k`` levels (dummy coded); one level has no successes (or no failures)."""
    n, p = _sizes(rng)
    n = max(n, 20)
    k = int(rng.integers(2, 6))
    level = rng.integers(0, k, size=n)
    continuous = rng.normal(size=(n, max(0, min(p, 10) - k)))
    X = np.c_[np.ones(n), (level[:, None] == np.arange(1, k)).astype(float), continuous]
    y = (rng.random(n) < _sigmoid(0.3 * continuous.sum(axis=1))).astype(float)
    empty = int(rng.integers(0, k))
    y[level == empty] = float(rng.integers(0, 2))
    return X, y, None


def integer_grid(rng):
    """Integer features in [-3, 3]; labels by an integer rule, ties labelled at random."""
    n, p = _sizes(rng, p_max=8)
    p = max(p, 2)
    X = np.c_[np.ones(n), rng.integers(-3, 4, size=(n, p - 1)).astype(float)]
    w = rng.integers(-2, 3, size=p).astype(float)
    score = X @ w
    y = (score > 0).astype(float)
    ties = score == 0
    y[ties] = rng.integers(0, 2, size=int(ties.sum())) if rng.random() < 0.7 else 1.0
    return X, y, None


def tiny_margin_separable(rng):
    """Completely separated with a margin of about 1e-5 to 1e-2 (relative)."""
    n, p = _sizes(rng)
    p = max(p, 2)
    X = _features(rng, n, p)
    u = rng.normal(size=p)
    u /= np.linalg.norm(u)
    score = X @ u
    y = (score > 0).astype(float)
    gap = 10 ** rng.uniform(-5, -2)
    side = np.where(y > 0, 1.0, -1.0)
    # Move every row to distance at least gap * |x| from the plane u.x = 0.
    short = np.abs(score) < gap * np.linalg.norm(X, axis=1)
    X[short] += (side[short] * 2 * gap * np.linalg.norm(X[short], axis=1)
                 - score[short])[:, None] * u[None, :]
    return X, y, None


def tiny_margin_overlap(rng):
    """A separable set with one row moved just across the plane: overlap by a hair."""
    X, y, _ = tiny_margin_separable(rng)
    i = int(rng.integers(len(y)))
    y[i] = 1 - y[i]  # now on the wrong side of every separator through this data
    return X, y, None


def near_collinear(rng):
    """Logistic or separated data with a duplicated or near-duplicated column."""
    X, y, w = logistic(rng) if rng.random() < 0.5 else tiny_margin_separable(rng)
    if X.shape[1] < 2:
        X = np.c_[X, rng.normal(size=len(y))]
    j = int(rng.integers(1, X.shape[1]))
    noise = rng.choice([0.0, 1e-10, 1e-7]) * rng.normal(size=len(y))
    return np.c_[X, X[:, j] + noise], y, w


def proportions(rng):
    """Successes out of 1-5 trials: y a proportion, weights the trials; some rows zero weight."""
    n, p = _sizes(rng)
    X = _features(rng, n, p)
    trials = rng.integers(1, 6, size=n).astype(float)
    beta = rng.normal(size=p) * rng.choice([0.5, 2.0, 8.0])
    successes = rng.binomial(trials.astype(int), _sigmoid(X @ beta))
    y = successes / trials
    if rng.random() < 0.3:
        trials[rng.random(n) < 0.2] = 0.0
    return X, y, trials


def intercept_only(rng):
    """``p = 1``: the intercept (overlap unless every y agrees), or one feature, no intercept."""
    n = int(rng.integers(10, 200))
    X = np.ones((n, 1)) if rng.random() < 0.5 else rng.normal(size=(n, 1))
    y = (rng.random(n) < rng.choice([0.0, 0.5, 1.0])).astype(float)
    return X, y, None


GENERATORS = {name: globals()[name] for name in KINDS}


def draw(count: int, seed: int = 0):
    """``count`` data sets, the kinds in turn: a list of ``(kind, X, y, weights)``."""
    rng = np.random.default_rng(seed)
    return [(KINDS[i % len(KINDS)], *GENERATORS[KINDS[i % len(KINDS)]](rng))
            for i in range(count)]


def sides(X, y, weights=None) -> np.ndarray:
    """The rows ``+x_i`` (successes) and ``-x_i`` (failures) of the positive-weight rows."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights)
    keep = w > 0
    return np.concatenate([X[keep & (y > 0)], -X[keep & (y < 1)]])


def highs_verdict(X, y, weights=None) -> str:
    """``"overlap"``, ``"quasi"`` or ``"complete"`` by HiGHS on the exact LP.

    ``max sum t  s.t.  A d >= t, 0 <= t <= 1, d free``: its value is the number of rows
    some direction pushes out (Goldman-Tucker), 0 for overlap, all of them for complete
    separation. Rows are scaled to unit length; HiGHS runs at feasibility tolerances of
    1e-9.
    """
    A = sides(X, y, weights)
    norms = np.linalg.norm(A, axis=1)
    A = A / np.where(norms > 0, norms, 1.0)[:, None]
    m, p = A.shape
    res = linprog(np.r_[np.zeros(p), -np.ones(m)], A_ub=np.c_[-A, np.eye(m)],
                  b_ub=np.zeros(m), bounds=[(None, None)] * p + [(0, 1)] * m,
                  method="highs", options={"primal_feasibility_tolerance": 1e-9,
                                           "dual_feasibility_tolerance": 1e-9})
    assert res.status == 0, res.message
    value = -res.fun
    if value < 0.5:
        return "overlap"
    return "complete" if value > m - 0.5 else "quasi"
