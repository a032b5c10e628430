"""Generated K-class data sets for the multinomial separation verdict, and their Kesler rows.

Each generator draws one data set ``(X, y, weights)`` for ``K`` classes, aiming at one of
the three verdicts: labels by the arg-max of linear class scores (complete separation,
some with margins down to 1e-4), one class split off by a hyperplane while the others
overlap, ties between two classes' scores on a dyadic grid labelled either way, a rare
exposure whose rows all share a class, a class confined to a face of the data's hull
(quasi-complete), and labels drawn from a multinomial logit (overlap). The truth is
whatever HiGHS says of the exact linear program on Kesler's rows, built here in numpy
(:func:`kesler_rows`), independently of :mod:`models._kesler`; the generators only aim.
"""

from __future__ import annotations

import _separation_sets as sets_
import numpy as np

KINDS = ("complete", "quasi_split", "quasi_tie", "exposure", "boundary", "overlap")
#: Most rows of a data set (the batch is padded to it).
ROWS = 120
#: Most columns of ``X`` by ``K``: ``p (K - 1) <= 16``, the native kernels' columns.
COLUMNS = {2: 8, 3: 8, 4: 5}


def _sizes(rng, K: int, n_min: int = 12) -> tuple[int, int]:
    n = int(np.exp(rng.uniform(np.log(n_min), np.log(ROWS))))
    return n, int(rng.integers(2, COLUMNS[K] + 1))


def _features(rng, n: int, p: int) -> np.ndarray:
    """``[n, p]``: an intercept column, then N(0, 1) features."""
    return np.c_[np.ones(n), rng.normal(size=(n, p - 1))]


def scores(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``[n, K]`` class scores ``X B``, class 0 (the reference, ``b_0 = 0``) first."""
    return np.c_[np.zeros(len(X)), X @ B]


def _softmax_labels(rng, X, B):
    eta = scores(X, B)
    prob = np.exp(eta - eta.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    return (rng.random(len(X))[:, None] > np.cumsum(prob, axis=1)).sum(axis=1).clip(
        0, B.shape[1])


def complete(rng, K):
    """Labels by the arg-max of random class scores; half the sets at a relative gap 1e-4..1e-2.

    Rows whose best and second-best scores are closer than the gap are moved (off the
    intercept) along the difference of those classes' coefficients to twice the gap.
    """
    n, p = _sizes(rng, K)
    X = _features(rng, n, p)
    B = rng.normal(size=(p, K - 1)) * 3
    if rng.random() < 0.5:
        gap = 10 ** rng.uniform(-4, -2)
        full = np.c_[np.zeros(p), B]
        for i in range(n):
            eta = X[i] @ full
            a, b = np.argsort(eta)[::-1][:2]
            v = (full[:, a] - full[:, b])[1:]
            short = eta[a] - eta[b] - gap * np.linalg.norm(X[i]) * np.linalg.norm(v)
            if short < 0 and v @ v > 0:
                X[i, 1:] += (2 * gap * np.linalg.norm(X[i]) * np.linalg.norm(v)
                             - (eta[a] - eta[b])) * v / (v @ v)
    return X, scores(X, B).argmax(axis=1), None


def quasi_split(rng, K):
    """Class ``c`` on one side of a hyperplane, the others at random on the other side."""
    n, p = _sizes(rng, K, n_min=20)
    X = _features(rng, n, p)
    c = int(rng.integers(K))
    others = np.array([k for k in range(K) if k != c])
    return X, np.where(X @ rng.normal(size=p) > 0, c, rng.choice(others, n)), None


def quasi_tie(rng, K):
    """Dyadic rows, labels by integer class scores; some rows moved onto the tie of two classes.

    The two classes' coefficients of the last column differ by 1, so the tie holds exactly
    in floating point (small dyadic numbers); the coefficients are drawn again (up to ten
    times) until at least three rows tie at the top. A tied row takes one of its tied
    classes at random (or, in a third of the sets, the lowest one).
    """
    n, p = _sizes(rng, K)
    if rng.random() < 0.5:  # the tie's rows on a line or a point: their labels interleave
        p = int(rng.integers(2, 4))
    X = np.c_[np.ones(n), rng.integers(-16, 17, size=(n, p - 1)) / 8]
    on = rng.random(n) < rng.uniform(0.1, 0.4)
    for _ in range(10):
        full = np.c_[np.zeros(p), rng.integers(-3, 4, size=(p, K - 1))]
        full[-1] = rng.permutation(K)
        a, b = np.argsort(full[-1])[(r := int(rng.integers(K - 1))):r + 2]
        X[on, -1] = -(X[on, :-1] @ (full[:-1, a] - full[:-1, b])) / (full[-1, a] - full[-1, b])
        eta = X @ full
        top = eta == eta.max(axis=1, keepdims=True)
        if np.sum(top.sum(axis=1) > 1) >= 3:
            break
    pick = rng.random() < 2 / 3
    y = np.array([rng.choice(np.flatnonzero(t)) if pick else np.flatnonzero(t)[0]
                  for t in top])
    return X, y, None


def exposure(rng, K):
    """A rare binary exposure (3-15% of rows) whose exposed rows all share class ``c``."""
    n, p = _sizes(rng, K, n_min=30)
    X = _features(rng, n, p)
    exposed = rng.random(n) < rng.uniform(0.03, 0.15)
    exposed[rng.integers(n)] = True
    X[:, -1] = exposed
    B = rng.normal(size=(p, K - 1)) * 0.7
    B[-1] = 0.0
    y = _softmax_labels(rng, X, B)
    y[exposed] = rng.integers(K)
    return X, y, None


def boundary(rng, K):
    """Class ``c`` confined to ``x_last = 0``, a face of the hull: the others at ``x_last > 0``."""
    n, p = _sizes(rng, K, n_min=30)
    X = _features(rng, n, p)
    B = rng.normal(size=(p, K - 1)) * 0.7
    B[-1] = 0.0
    y = _softmax_labels(rng, X, B)
    c = int(rng.integers(K))
    X[:, -1] = np.where(y == c, 0.0, rng.poisson(2.0, n) + 1.0)
    return X, y, None


def overlap(rng, K):
    """Labels from a multinomial logit on few columns for the rows (some intercept only)."""
    n = int(rng.integers(40, ROWS + 1))
    p = int(rng.integers(1, min(COLUMNS[K], max(1, n // (12 * K))) + 1))
    X = _features(rng, n, p)
    B = rng.normal(size=(p, K - 1)) * rng.choice([0.3, 1.0])
    return X, _softmax_labels(rng, X, B), None


GENERATORS = {name: globals()[name] for name in KINDS}


def draw(count: int, K: int, seed: int = 0):
    """``count`` data sets of ``K`` classes, the kinds in turn: ``(kind, X, y, weights)``.

    A fifth get frequency weights 1-3 with a tenth of them 0 (rows left out), and an
    eighth a duplicated column where ``X`` has room for it.
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        X, y, w = GENERATORS[kind](rng, K)
        if rng.random() < 0.2:
            w = rng.integers(1, 4, size=len(y)).astype(float)
            w[rng.random(len(y)) < 0.1] = 0.0
            w[rng.integers(len(y))] = 1.0
        if X.shape[1] < COLUMNS[K] and rng.random() < 0.125:
            X = np.c_[X, X[:, rng.integers(X.shape[1])]]
        out.append((kind, X, np.asarray(y, np.int64), w))
    return out


def kesler_rows(X, y, K: int, weights=None):
    """``(A [m, p (K-1)], obs [m], other [m])``: ``a_ij = x_i ⊗ (e_{k_i} - e_j)``, ``e_0 = 0``.

    One row per observation of positive weight and class ``j != k_i``, class-major
    (entry ``(k - 1) p + a`` multiplies ``B[a, k - 1]``, so ``A @ B.T.ravel()`` are the
    pairs' margins ``x_i^T (b_{k_i} - b_j)``).
    """
    w = np.ones(len(y)) if weights is None else np.asarray(weights)
    y = np.asarray(y).astype(np.int64)
    rivals = np.array([[j for j in range(K) if j != k] for k in range(K)])
    obs = np.repeat(np.flatnonzero(w > 0), K - 1)
    other = rivals[y[w > 0]].ravel()
    unit = np.eye(K)[:, 1:]  # e_k in R^{K-1}; e_0 = 0
    diff = unit[y[obs]] - unit[other]
    A = (diff[:, :, None] * np.asarray(X)[obs][:, None, :]).reshape(len(obs), -1)
    return A, obs, other


def highs_verdict(X, y, K: int, weights=None) -> str:
    """HiGHS on Kesler's rows, all on one side: the binary referee of ``_separation_sets``."""
    A = kesler_rows(X, y, K, weights)[0]
    return sets_.highs_verdict(A, np.ones(len(A)))
