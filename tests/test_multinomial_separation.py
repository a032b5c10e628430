"""The K-class separation verdict (models.multinomial.separation) against HiGHS on Kesler's rows.

As tests/test_separation.py does for two classes: the reference is scipy's HiGHS on the
exact linear program, here on Kesler's rows ``x_i ⊗ (e_{k_i} - e_j)`` built in numpy
(tests/_multiclass_sets.py), and each certificate is checked by numpy code of its own with
its own tolerances. Every data set of one ``K`` is padded to one shape (rows of weight 0,
columns of 0) and decided in one ``jit(vmap(...))`` batch, with the fit's verdict from one
more; the batch also holds the invalid and zero-weight data sets of the contract tests.
"""

import collections
import functools

import _multiclass_sets as sets_
import _separation_sets as binary_sets
import jax
import numpy as np
import pytest

from models import Status, glm, multinomial
from models.glm import Separation

#: Generated data sets by K (at least 500 in all).
N_SETS = {3: 270, 4: 270}

# The independent checks' tolerances, relative to |a_ij| |theta| (margins) or to
# sum_ij lambda_ij |a_ij| (residuals; within sqrt(2) of sum lambda max_i |x_i|). The
# project's own (models._certificates, tau about 1e-14) are far tighter; these need only
# tell the three verdicts apart.

#: A tied pair's margin: the direction is projected onto their hyperplane, to rounding.
ON_PLANE = 1e-9
#: Some pair pushed out: the verdict resolves margins down to 1e-6 (MARGIN[8], scaled).
PUSHED_OUT = 1e-7
#: The multipliers' residual: models._separation._balance corrects it to rounding.
BALANCED = 1e-9
#: max |B| = 1 up to the rounding of one division (XLA may multiply by the inverse).
EPS = np.finfo(np.float64).eps

NAMES = {Separation.OVERLAP: "overlap", Separation.QUASI: "quasi",
         Separation.COMPLETE: "complete", Separation.UNDECIDED: "undecided",
         Separation.INVALID_INPUT: "invalid"}


def _zero_weight_pair(K):
    """``(overlap, separated)``: arg-max labels, plus a copy of every row in each other class.

    The copies make every pair's row appear with its negation: overlap. With weight 0 on
    the copies, only the arg-max rows are left: complete separation.
    """
    rng = np.random.default_rng(100 + K)
    X0 = np.c_[np.ones(12), rng.normal(size=(12, 2))]
    y0 = sets_.scores(X0, rng.normal(size=(3, K - 1)) * 3).argmax(axis=1)
    X = np.concatenate([X0] * K)
    y = np.concatenate([(y0 + m) % K for m in range(K)])
    base = (np.arange(len(y)) < 12).astype(float)
    return ("copies_kept", X, y, np.ones(len(y))), ("copies_dropped", X, y, base)


def _specials(drawn, K):
    """The contract's data sets: a NaN in ``X``, a label ``K``, and the zero-weight pair."""
    _, X, y, w = drawn[0]
    X = X.copy()
    X[3, 1] = np.nan
    nan = ("nan", X, y, w)
    _, X, y, w = drawn[1]
    y = y.copy()
    y[2] = K
    return [nan, ("label", X, y, w), *_zero_weight_pair(K)]


def _pad(members, rows, columns):
    X = np.zeros((len(members), rows, columns))
    y = np.zeros((len(members), rows), np.int32)
    w = np.zeros((len(members), rows))
    for j, (_, Xj, yj, wj) in enumerate(members):
        n, p = Xj.shape
        X[j, :n, :p], y[j, :n] = Xj, yj
        w[j, :n] = 1.0 if wj is None else wj
    return X, y, w


def _split(batch):
    """A batched result as one result per data set, in numpy."""
    batch = jax.tree.map(np.asarray, batch)
    count = len(jax.tree.leaves(batch)[0])
    return [jax.tree.map(lambda a, j=j: a[j], batch) for j in range(count)]


@functools.cache
def _run(K):
    """``(sets, truth, results, fits)``: the generated sets, then the specials (no truth)."""
    drawn = sets_.draw(N_SETS[K], K, seed=K)
    truth = [sets_.highs_verdict(X, y, K, w) for _, X, y, w in drawn]
    members = drawn + _specials(drawn, K)
    X, y, w = _pad(members, sets_.ROWS, sets_.COLUMNS[K])
    separate = jax.jit(jax.vmap(lambda X, y, w: multinomial.separation(X, y, K, weights=w)))
    fitted = jax.jit(jax.vmap(lambda X, y, w: multinomial.fit(X, y, K, weights=w)))
    return members, truth, _split(separate(X, y, w)), _split(fitted(X, y, w))


def _margins(A, theta):
    """Each row's margin ``a^T theta`` relative to ``|a| |theta|``."""
    scale = np.linalg.norm(A, axis=1) * np.linalg.norm(theta)
    return (A @ theta) / np.where(scale > 0, scale, 1.0)


def _residual(A, lam):
    """``|sum lambda_ij a_ij|`` relative to ``sum lambda_ij |a_ij|``."""
    return np.linalg.norm(lam @ A) / np.sum(lam * np.linalg.norm(A, axis=1))


def _check_certificate(X, y, w, K, result):
    """The verdict's certificate, checked with numpy alone: ``(verdict, margin, residual)``.

    ``margin`` is the least relative margin of a complete separation, the greatest of a
    quasi-complete one; ``residual`` the multipliers' (0 for complete separation).
    """
    n, p = X.shape
    A, obs, other = sets_.kesler_rows(X, y, K, w)
    B = np.asarray(result.direction, np.float64)
    theta = B[:p].T.ravel()  # class-major: entry (k - 1) p + a is B[a, k - 1]
    pairs = np.asarray(result.multipliers, np.float64)
    lam = pairs[obs, other]
    present = np.zeros(pairs.shape, bool)
    present[obs, other] = True
    # Multipliers only on the pairs: none at the own class, a weight-0 row or padding.
    assert np.all(pairs[~present] == 0)
    verdict = Separation(int(result.verdict))
    if verdict in (Separation.COMPLETE, Separation.QUASI):
        assert bool(result.separated) and abs(np.max(np.abs(B)) - 1) <= 4 * EPS
        assert np.all(B[p:] == 0)  # padded columns
        margins = _margins(A, theta)
        if verdict == Separation.COMPLETE:
            assert np.all(margins > 0), margins.min()
            assert not np.any(result.boundary) and not np.any(pairs)
            return "complete", margins.min(), 0.0
        assert np.all(margins >= -ON_PLANE), margins.min()
        assert margins.max() > PUSHED_OUT, margins.max()
        # Gordan: lambda >= 0, positive only on tied pairs of boundary rows, balancing.
        assert np.all(lam >= 0) and lam.sum() > 0
        assert np.all(lam[margins > ON_PLANE] == 0), margins[lam > 0].max()
        np.testing.assert_array_equal(result.boundary, np.any(pairs > 0, axis=1))
        residual = _residual(A, lam)
        assert residual < BALANCED, residual
        return "quasi", margins.max(), residual
    assert verdict == Separation.OVERLAP, verdict
    assert not bool(result.separated) and np.all(B == 0)
    # Stiemke: lambda_ij > 0 on every pair, balancing.
    assert np.all(lam > 0), lam.min()
    residual = _residual(A, lam)
    assert residual < BALANCED, residual
    return "overlap", lam.min() / lam.sum(), residual


@pytest.mark.parametrize("K", [3, 4])
def test_verdict_agrees_with_highs_on_every_set(K):
    sets, truth, results, _ = _run(K)
    ours = [NAMES[Separation(int(r.verdict))] for r in results[:len(truth)]]
    wrong = [(i, sets[i][0], sets[i][1].shape, t, o)
             for i, (t, o) in enumerate(zip(truth, ours)) if t != o]
    assert not wrong, wrong[:10]
    counts = collections.Counter(truth)
    assert min(counts[v] for v in ("overlap", "quasi", "complete")) >= 40, counts
    # Decided in few interior-point steps (LP_MAX_ITER is 60; at most 10 seen).
    assert max(int(r.n_iter) for r in results) < 20


@pytest.mark.parametrize("K", [3, 4])
def test_every_certificate_checks_independently(K):
    sets, truth, results, _ = _run(K)
    for (kind, X, y, w), expected, result in zip(sets, truth, results):
        assert _check_certificate(X, y, w, K, result)[0] == expected, kind


@pytest.mark.parametrize("K", [3, 4])
def test_fit_gives_the_same_verdict_on_every_set(K):
    sets, _, results, fits = _run(K)
    for (kind, X, _, _), result, fit in zip(sets, results, fits):
        verdict = int(result.verdict)
        assert int(fit.separation) == verdict, (kind, X.shape, verdict)
        separated = verdict in (Separation.QUASI, Separation.COMPLETE)
        assert bool(fit.separated) == separated, kind
        if separated:
            assert int(fit.status) == Status.SEPARATED and not bool(fit.converged), kind
        elif verdict == Separation.INVALID_INPUT:
            assert int(fit.status) == Status.INVALID_INPUT, kind
        else:  # overlap: the MLE exists (rank deficient where padded with columns of 0)
            assert bool(fit.converged), (kind, Status(int(fit.status)).name)


@pytest.mark.parametrize("K", [3, 4])
def test_invalid_input_is_a_verdict_of_that_data_set_only(K):
    sets, truth, results, _ = _run(K)
    verdicts = {kind: int(r.verdict) for (kind, *_), r in zip(sets[len(truth):],
                                                              results[len(truth):])}
    assert verdicts["nan"] == verdicts["label"] == Separation.INVALID_INPUT
    assert sum(int(r.verdict) == Separation.INVALID_INPUT for r in results) == 2
    # The data sets they were copied from, in the same batch, keep their verdicts.
    assert [NAMES[Separation(int(r.verdict))] for r in results[:2]] == truth[:2]
    for result in results[-4:-2]:  # the two invalid ones (_specials)
        assert not bool(result.separated) and int(result.n_iter) == 0
        assert np.all(result.direction == 0) and np.all(result.multipliers == 0)


@pytest.mark.parametrize("K", [3, 4])
def test_zero_weights_leave_rows_out(K):
    sets, _, results, _ = _run(K)
    (_, X, y, w_all), (_, _, _, w_base) = sets[-2:]
    assert sets_.highs_verdict(X, y, K, w_all) == "overlap"
    assert sets_.highs_verdict(X, y, K, w_base) == "complete"
    overlap, separated = results[-2:]
    assert int(overlap.verdict) == Separation.OVERLAP
    assert int(separated.verdict) == Separation.COMPLETE
    assert not np.any(separated.multipliers[:len(w_base)][w_base == 0])
    assert _check_certificate(X, y, w_base, K, separated)[0] == "complete"


@functools.cache
def _two_classes():
    """Binary sets of tests/_separation_sets.py with 0/1 labels that fit the K = 2 shape."""
    drawn = [s for s in binary_sets.draw(900, seed=11)
             if s[0] != "proportions" and s[1].shape[0] <= sets_.ROWS
             and s[1].shape[1] <= sets_.COLUMNS[2]]
    X, y, w = _pad(drawn, sets_.ROWS, sets_.COLUMNS[2])
    ours = jax.jit(jax.vmap(lambda X, y, w: multinomial.separation(X, y, 2, weights=w)))
    binary = jax.jit(jax.vmap(lambda X, y, w: glm.separation(X, y, weights=w)))
    return drawn, _split(ours(X, y, w)), _split(binary(X, y.astype(float), w))


def test_two_classes_agree_with_the_binary_verdict():
    drawn, ours, binary = _two_classes()
    assert len(drawn) >= 100
    verdicts = [(int(a.verdict), int(b.verdict)) for a, b in zip(ours, binary)]
    assert all(a == b for a, b in verdicts), [
        (s[0], s[1].shape, a, b) for s, (a, b) in zip(drawn, verdicts) if a != b]
    assert {a for a, _ in verdicts} == {Separation.OVERLAP, Separation.QUASI,
                                        Separation.COMPLETE}
    for (_, X, y, w), mine, theirs in zip(drawn, ours, binary):
        assert _check_certificate(X, y, w, 2, mine)[0] == NAMES[Separation(int(mine.verdict))]
        # The rows held on every separating direction are the data's, not the method's.
        np.testing.assert_array_equal(mine.boundary, theirs.boundary)


def test_the_library_path_gives_the_same_verdicts():
    """One more column of 0 takes Kesler's ``p (K-1)`` columns past the native kernels' 16:
    the same data sets then run on XLA's operations, as on a GPU."""
    K = 4
    sets, truth, _, _ = _run(K)
    X, y, w = _pad(sets[:90], sets_.ROWS, sets_.COLUMNS[K] + 1)
    wide = jax.jit(jax.vmap(lambda X, y, w: multinomial.separation(X, y, K, weights=w)))
    results = _split(wide(X, y, w))
    assert [NAMES[Separation(int(r.verdict))] for r in results] == truth[:90]
    for (_, X, y, w), expected, result in zip(sets, truth, results):
        assert _check_certificate(X, y, w, K, result)[0] == expected
