"""models.glm: families and links as values, and the negative binomial against statsmodels.

* The negative binomial (NB2, fixed ``alpha``) at the default settings against statsmodels'
  ``GLM(y, X, family=NegativeBinomial(alpha=...))``, on overdispersed counts drawn from a
  gamma-poisson mixture and on the RAND Health Insurance Experiment's doctor visits
  (statsmodels' bundled ``randhie``, the textbook negative binomial data set).
* Family and link values and their string aliases give the same fit and share compiled
  programs; a family of your own works; Fisher scoring or Newton steps follow the family's
  canonical link, not its default one; static mistakes raise ``ValueError``.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _r_glm import R_TOL

from models import glm
from models._families import newton_steps
from models._glm import _fit_jit
from models._status import Status

PARITY_RTOL = 1e-6  # coef, bse, deviance against statsmodels iterated to convergence
STATSMODELS_TOL = 1e-13  # statsmodels' (absolute) deviance tolerance for that reference
VMAP_RTOL = 1e-12  # vmapped fit against single fits
UNIT_RTOL = 1e-12  # variance and deviance residuals against statsmodels' family

sm = pytest.importorskip("statsmodels.api")


# --- data -------------------------------------------------------------------------------------

def _overdispersed(n, k, alpha, seed):
    """Counts from a gamma-poisson mixture (NB2 with ``alpha``), intercept + ``k``
    standardised covariates, log-linear mean."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k))
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    X = np.column_stack([np.ones(n), Z])
    coef = np.array([0.7, 0.4, -0.3, 0.25, -0.15, 0.1])[: k + 1]
    mu = np.exp(X @ coef)
    y = rng.poisson(rng.gamma(1 / alpha, alpha * mu)).astype(float)
    return X, y


def _randhie():
    """RAND HIE: outpatient doctor visits (``mdvis``, 0-77) of 20,190 person-years on 9
    covariates (Cameron & Trivedi's negative binomial example), with an intercept."""
    data = sm.datasets.randhie.load_pandas()
    return sm.add_constant(data.exog.to_numpy(float)), data.endog.to_numpy(float)


# (data set, alpha) of the parity tests: alpha fixed, as statsmodels' GLM family has it.
CASES = {
    "mixture-n400-k4": (lambda: _overdispersed(400, 4, 1.5, seed=0), 1.5),
    "mixture-n250-k3": (lambda: _overdispersed(250, 3, 0.7, seed=1), 0.7),
    "mixture-n500-k5": (lambda: _overdispersed(500, 5, 2.0, seed=2), 2.0),
    "randhie": (_randhie, 1.1),
}


def _statsmodels_model(X, y, alpha, link="log", **model_kwargs):
    links = {"log": sm.families.links.Log, "identity": sm.families.links.Identity}
    family = sm.families.NegativeBinomial(links[link](), alpha=alpha)
    return sm.GLM(y, X, family=family, **model_kwargs)


def _statsmodels(X, y, alpha, link="log", **fit_kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DomainWarning for a non-canonical link
        return _statsmodels_model(X, y, alpha, link).fit(**fit_kwargs)


def _r_fisher_iterations(X, y, alpha, epsilon=R_TOL, maxit=25):
    """The ``iter`` of R's ``glm.fit`` with ``MASS::negative.binomial(1 / alpha)``: Fisher
    scoring from ``mustart = y + (y == 0)/6``, R's relative deviance rule."""
    fam = sm.families.NegativeBinomial(alpha=alpha)
    mu = y + (y == 0) / 6
    eta = np.log(mu)
    devold = fam.deviance(y, mu)
    for iteration in range(1, maxit + 1):
        z = eta + (y - mu) / mu
        w = np.sqrt(mu**2 / fam.variance(mu))
        coef = np.linalg.lstsq(X * w[:, None], z * w, rcond=None)[0]
        eta = X @ coef
        mu = np.exp(eta)
        dev = fam.deviance(y, mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            return iteration
        devold = dev
    return maxit


@pytest.fixture(scope="module", params=sorted(CASES))
def nb_case(request):
    make, alpha = CASES[request.param]
    X, y = make()
    res = glm.fit(X, y, family=glm.negative_binomial(alpha), link=glm.log)  # defaults
    return X, y, alpha, res


# --- (a) the negative binomial against statsmodels ---------------------------------------------

def test_negative_binomial_matches_statsmodels_at_default_settings(nb_case):
    X, y, alpha, res = nb_case
    converged = _statsmodels(X, y, alpha, tol=STATSMODELS_TOL, maxiter=500)
    assert int(res.status) == Status.CONVERGED and bool(res.converged)
    np.testing.assert_allclose(res.coef, converged.params, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.bse, converged.bse, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.deviance, converged.deviance, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.null_deviance, converged.null_deviance, rtol=PARITY_RTOL)
    assert float(res.scale) == 1.0  # fixed, as statsmodels fixes it for NegativeBinomial


def test_negative_binomial_against_statsmodels_default_fit(nb_case):
    # statsmodels' default fit is Fisher scoring (IRLS) to an absolute deviance change of
    # 1e-8. log is not NB's canonical link, so Fisher scoring converges only linearly and
    # that rule stops it short of the MLE (by a few 1e-6 relative on these data), while our
    # fit takes Newton steps near the MLE. So the coefficients are compared through the
    # MLE: ours are no further from it than statsmodels' own default fit (up to the
    # reference's rounding). The deviance, flat at the MLE, and the standard errors, which
    # move with the coefficients by far less than PARITY_RTOL here, agree directly.
    X, y, alpha, res = nb_case
    default = _statsmodels(X, y, alpha)
    mle = _statsmodels(X, y, alpha, tol=STATSMODELS_TOL, maxiter=500).params
    ours_off = np.max(np.abs(np.asarray(res.coef) - mle) / np.abs(mle))
    theirs_off = np.max(np.abs(default.params - mle) / np.abs(mle))
    assert ours_off <= theirs_off + 1e-8
    np.testing.assert_allclose(res.bse, default.bse, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.deviance, default.deviance, rtol=PARITY_RTOL)
    # Iterations: both start from a start of their own (ours R's MASS start y + (y==0)/6,
    # statsmodels' (y + mean y)/2) and stop by rules of their own (ours R's relative
    # |dD| / (|D| + 0.1) < 1e-8, looser than statsmodels' absolute |dD| < 1e-8 for any
    # deviance above 1). With Newton steps near the MLE converging quadratically where
    # statsmodels' Fisher steps converge linearly, ours takes fewer (4-5 against 6-9 here).
    assert int(res.n_iter) <= default.fit_history["iteration"]


def test_negative_binomial_takes_newton_steps_not_fisher_scoring(nb_case):
    # The same family declared with log as its canonical link runs Fisher scoring: exactly
    # R's glm.fit, so its n_iter is R's count. The real family (canonical link nbinom) runs
    # Newton steps from the second iteration on, so takes no more iterations than that and
    # ends within rounding of the MLE, closer than Fisher scoring does at the same tol.
    X, y, alpha, res = nb_case
    family = glm.negative_binomial(alpha)
    assert newton_steps(family, glm.log, firth=False)
    fisher_family = family._replace(name="nb-as-if-log-were-canonical", canonical_link="log")
    assert not newton_steps(fisher_family, glm.log, firth=False)
    fisher = glm.fit(X, y, fisher_family)
    r_count = _r_fisher_iterations(X, y, alpha)
    assert int(fisher.n_iter) == r_count
    assert int(res.n_iter) <= r_count
    mle = _statsmodels(X, y, alpha, tol=STATSMODELS_TOL, maxiter=500).params
    newton_off = np.max(np.abs(np.asarray(res.coef) - mle) / np.abs(mle))
    fisher_off = np.max(np.abs(np.asarray(fisher.coef) - mle) / np.abs(mle))
    assert newton_off <= fisher_off


def test_standard_errors_are_from_the_expected_information(nb_case):
    # As statsmodels' IRLS (and R's summary.glm) reports them, for a non-canonical link too,
    # where the observed information differs.
    X, y, alpha, res = nb_case
    ref = _statsmodels(X, y, alpha, tol=STATSMODELS_TOL, maxiter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha))
        observed = np.linalg.inv(-model.hessian(ref.params, observed=True))
        expected = np.linalg.inv(-model.hessian(ref.params, observed=False))
    np.testing.assert_allclose(res.bse, np.sqrt(np.diag(expected)), rtol=PARITY_RTOL)
    bse_observed = np.sqrt(np.diag(observed))
    assert np.max(np.abs(np.asarray(res.bse) - bse_observed) / bse_observed) > 10 * PARITY_RTOL


def test_negative_binomial_with_weights_and_exposure_matches_statsmodels():
    # Prior weights are statsmodels' var_weights; the null deviance with an offset is a
    # fitted intercept-only model.
    rng = np.random.default_rng(3)
    X, _ = _overdispersed(300, 3, 1.2, seed=3)
    exposure = rng.uniform(0.5, 3.0, size=300)
    weights = rng.uniform(0.5, 2.0, size=300)
    mu = exposure * np.exp(X @ [0.3, 0.4, -0.3, 0.2])
    y = rng.poisson(rng.gamma(1 / 1.2, 1.2 * mu)).astype(float)
    res = glm.fit(X, y, glm.negative_binomial(1.2), weights=weights, offset=np.log(exposure))
    ref = _statsmodels_model(X, y, 1.2, offset=np.log(exposure), var_weights=weights).fit(
        tol=STATSMODELS_TOL, maxiter=500)
    assert int(res.status) == Status.CONVERGED
    for name, value in (("coef", ref.params), ("bse", ref.bse), ("deviance", ref.deviance),
                        ("null_deviance", ref.null_deviance)):
        np.testing.assert_allclose(getattr(res, name), value, rtol=PARITY_RTOL, err_msg=name)


def test_negative_binomial_identity_link_matches_statsmodels():
    # R's start can leave the identity link's mean space on the first step (R: "no valid
    # set of coefficients has been found"); these data, with few zero counts, do not.
    rng = np.random.default_rng(2)
    n = 300
    Z = rng.normal(size=(n, 3))
    X = np.column_stack([np.ones(n), (Z - Z.mean(axis=0)) / Z.std(axis=0)])
    mu = X @ [20.0, 3.0, -2.0, 1.5]
    y = rng.poisson(rng.gamma(1 / 0.3, 0.3 * mu)).astype(float)
    res = glm.fit(X, y, glm.negative_binomial(0.3), "identity")
    ref = _statsmodels(X, y, 0.3, link="identity", tol=STATSMODELS_TOL, maxiter=500)
    assert int(res.status) == Status.CONVERGED
    np.testing.assert_allclose(res.coef, ref.params, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=PARITY_RTOL)


@pytest.mark.parametrize("alpha", [1e-4, 0.5, 1.0, 3.0])
def test_negative_binomial_pieces_match_statsmodels(alpha):
    fam = glm.negative_binomial(alpha)
    ref = sm.families.NegativeBinomial(alpha=alpha)
    y = np.array([0.0, 0.0, 1.0, 3.0, 7.0, 40.0, 2.5])
    mu = np.array([0.2, 5.0, 1.0, 2.0, 9.5, 31.0, 2.5])
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 1.0])
    np.testing.assert_allclose(fam.variance(jnp.asarray(mu)), ref.variance(mu), rtol=UNIT_RTOL)
    np.testing.assert_allclose(fam.deviance_residuals(jnp.asarray(y), jnp.asarray(mu),
                                                      jnp.asarray(w)),
                               w * ref.resid_dev(y, mu) ** 2, rtol=1e-10, atol=1e-13)
    # The saturated model has deviance 0 (0 log 0 = 0) and every other mean more.
    np.testing.assert_allclose(fam.deviance_residuals(jnp.asarray(y), jnp.asarray(y),
                                                      jnp.asarray(w)), 0.0, atol=1e-12)
    assert np.all(np.asarray(fam.deviance_residuals(jnp.asarray(y), jnp.asarray(y + 0.7),
                                                    jnp.asarray(w))) > 0)
    # MASS::negative.binomial's start: mustart <- y + (y == 0)/6.
    np.testing.assert_array_equal(fam.start_mu(jnp.asarray(y), jnp.asarray(w)),
                                  y + (y == 0) / 6)


def test_negative_binomial_family_value():
    fam = glm.negative_binomial(1.5)
    assert (fam.default_link, fam.canonical_link) == ("log", "nbinom")
    assert fam.default_link in fam.links and fam.canonical_link not in fam.links
    assert set(fam.links) <= set(glm.LINKS) and not fam.estimates_scale
    assert not fam.can_separate
    assert [name for name, f in glm.ALIASES.items() if f.can_separate] == ["binomial"]


# --- (b) strings and values --------------------------------------------------------------------

@pytest.fixture(scope="module")
def counts():
    return _overdispersed(120, 2, 1.0, seed=7)


def _assert_identical(a, b):
    assert (a.family, a.link) == (b.family, b.link)
    for leaf_a, leaf_b in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(leaf_a, leaf_b)


@pytest.mark.parametrize("name,value,link,link_value", [
    ("poisson", glm.poisson, "log", glm.log),
    ("negative_binomial", glm.negative_binomial(1.0), "log", glm.log),
    ("negative_binomial", glm.negative_binomial(), None, glm.log),
])
def test_strings_and_values_give_identical_fits(counts, name, value, link, link_value):
    X, y = counts
    _assert_identical(glm.fit(X, y, name, link), glm.fit(X, y, family=value, link=link_value))


def test_string_aliases_stand_for_the_built_in_values():
    assert glm.ALIASES["negative_binomial"] is glm.negative_binomial(1.0)
    for name, family in glm.FAMILIES.items():
        assert glm.ALIASES[name] is family and family.name == name
    assert "negative_binomial" not in glm.FAMILIES  # FAMILIES: the families without a parameter


# --- (c) a family and a link of your own ------------------------------------------------------

def test_a_family_of_your_own(counts):
    X, y = counts
    mine = glm.poisson._replace(name="my_poisson")
    res, ref = glm.fit(X, y, mine), glm.fit(X, y, "poisson")
    assert res.family == "my_poisson" and res.link == "log"
    for name in ("coef", "bse", "deviance", "null_deviance", "n_iter", "status"):
        np.testing.assert_array_equal(getattr(res, name), getattr(ref, name), err_msg=name)
    np.testing.assert_array_equal(glm.predict(res, X), glm.predict(ref, X))


def test_a_link_of_your_own_is_fitted_and_predicted(counts):
    X, y = counts
    my_log = glm.log._replace(name="my_log")
    family = glm.poisson._replace(name="poisson_my_log", links=("log", "my_log"))
    res = glm.fit(X, y, family, my_log)
    ref = glm.fit(X, y, "poisson")
    assert res.link == "my_log" and int(res.status) == Status.CONVERGED
    # my_log is not poisson's canonical link by name: Newton steps, the same MLE.
    np.testing.assert_allclose(res.coef, ref.coef, rtol=1e-8)
    np.testing.assert_allclose(glm.predict(res, X), glm.predict(ref, X), rtol=1e-8)
    batch = jax.vmap(lambda X, y: glm.fit(X, y, family, my_log))(X[None], y[None])
    assert batch.link == "my_log"
    np.testing.assert_allclose(jax.vmap(glm.predict)(batch, X[None])[0], glm.predict(res, X),
                               rtol=VMAP_RTOL)


def test_can_separate_decides_the_separation_verdict():
    X = np.column_stack([np.ones(8), np.linspace(-1, 1, 8)])
    y = (X[:, 1] > 0).astype(float)  # completely separated
    binomial = glm.fit(X, y)
    plain = glm.fit(X, y, glm.binomial._replace(name="no_verdict", can_separate=False))
    assert int(binomial.status) == Status.SEPARATED and bool(binomial.separated)
    assert int(plain.separation) == glm.Separation.NOT_CHECKED and not bool(plain.separated)


# --- (d) Fisher scoring or Newton: from the (family, link) pair ----------------------------------

@pytest.mark.parametrize("family,link,firth,newton", [
    (glm.binomial, glm.logit, False, False),
    (glm.binomial, glm.probit, False, True),
    (glm.binomial, glm.logit, True, False),
    (glm.poisson, glm.log, False, False),
    (glm.gamma, glm.log, False, True),
    (glm.negative_binomial(1.5), glm.log, False, True),
    (glm.negative_binomial(1.5), glm.identity, False, True),
    (glm.poisson._replace(canonical_link=None), glm.log, False, True),
])
def test_newton_steps_follow_the_canonical_link_not_the_default(family, link, firth, newton):
    assert newton_steps(family, link, firth=firth) is newton


# --- (e) static mistakes ----------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0, -1.0, float("nan"), float("inf"), "1.5", None, True,
                                   np.ones(2)])
def test_bad_alpha_raises(alpha):
    with pytest.raises(ValueError, match="alpha"):
        glm.negative_binomial(alpha)


def test_alpha_inside_a_trace_raises():
    with pytest.raises(ValueError, match="alpha must be a concrete number"):
        jax.jit(glm.negative_binomial)(1.5)


def test_link_not_allowed_names_the_allowed_ones(counts):
    X, y = counts
    with pytest.raises(ValueError, match="choose one of log, identity"):
        glm.fit(X, y, glm.negative_binomial(1.5), "logit")
    with pytest.raises(ValueError, match="not allowed for family 'negative_binomial"):
        glm.fit(X, y, "negative_binomial", glm.probit)


@pytest.mark.parametrize("family,match", [
    ("negbin", "binomial, poisson, gaussian, gamma, negative_binomial"),
    (None, "unknown family"),
    (glm.log, "unknown family"),
])
def test_unknown_family_raises_with_the_choices(counts, family, match):
    X, y = counts
    with pytest.raises(ValueError, match=match):
        glm.fit(X, y, family)


def test_malformed_family_and_clashing_link_raise(counts):
    X, y = counts
    with pytest.raises(ValueError, match="default_link"):
        glm.fit(X, y, glm.poisson._replace(default_link="logit"))
    with pytest.raises(ValueError, match="unknown link"):
        glm.fit(X, y, "poisson", "sqrt")
    impostor = glm.log._replace(inverse=jnp.exp)  # another link under a built-in's name
    with pytest.raises(ValueError, match="built-in link"):
        glm.fit(X, y, "poisson", impostor)
    with pytest.raises(ValueError, match="firth=True"):
        glm.fit(X, (y > 1).astype(float), glm.binomial._replace(name="b2"), firth=True)


# --- (f) jit and vmap ------------------------------------------------------------------------

def test_jit_vmap_with_a_family_value_matches_single_fits():
    # The shape and family of the `counts` fits: the single fits share their program.
    data = [_overdispersed(120, 2, 1.0, seed=s) for s in range(7, 11)]
    X = np.stack([d[0] for d in data])
    y = np.stack([d[1] for d in data])
    batch = jax.jit(jax.vmap(lambda X, y: glm.fit(X, y, family=glm.negative_binomial(1.0))))(
        X, y)
    assert batch.family == "negative_binomial(alpha=1.0)" and batch.link == "log"
    means = jax.vmap(glm.predict)(batch, X)
    for i in range(len(data)):
        single = glm.fit(X[i], y[i], glm.negative_binomial(1.0))
        assert int(batch.status[i]) == int(single.status) == Status.CONVERGED
        assert int(batch.n_iter[i]) == int(single.n_iter)
        for name in ("coef", "bse", "deviance", "null_deviance"):
            np.testing.assert_allclose(getattr(batch, name)[i], getattr(single, name),
                                       rtol=VMAP_RTOL, err_msg=name)
        np.testing.assert_allclose(means[i], glm.predict(single, X[i]), rtol=VMAP_RTOL)


# --- (g) one value per alpha, one program per value -----------------------------------------

def test_equal_alphas_give_the_identical_family():
    assert glm.negative_binomial(1.5) is glm.negative_binomial(1.5)
    assert glm.negative_binomial(1.5) is glm.negative_binomial(np.float64(1.5))
    assert glm.negative_binomial(2) is glm.negative_binomial(2.0)
    assert glm.negative_binomial(1.5) != glm.negative_binomial(2.0)
    assert hash(glm.negative_binomial(1.5)) == hash(glm.negative_binomial(1.5))


def test_an_equal_family_does_not_recompile(counts):
    if not hasattr(_fit_jit, "_cache_size"):
        pytest.skip("jax.jit has no _cache_size here")
    X, y = counts
    glm.fit(X, y, family=glm.negative_binomial(1.0))
    size = _fit_jit._cache_size()
    glm.fit(X, y, family=glm.negative_binomial(1.0))
    glm.fit(X, y * 2, family=glm.negative_binomial(1), link=glm.log)
    glm.fit(X, y, family="negative_binomial", link="log")
    assert _fit_jit._cache_size() == size
    glm.fit(X, y, family=glm.negative_binomial(0.5))  # another alpha: another program
    assert _fit_jit._cache_size() == size + 1
