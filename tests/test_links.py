"""Identities of the links and families: inverse(link(mu)) == mu, deriv == grad(link).

Each check runs as one jitted program: op by op, every operation would compile alone.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from models import glm

IDENTITY_RTOL = 1e-12  # float64 round trips
GRAD_RTOL = 1e-10  # closed-form derivatives against autodiff

# Means inside each link's natural range, away from the clipping at eps.
MU_GRID = {
    "logit": np.linspace(0.01, 0.99, 25),
    "probit": np.linspace(0.01, 0.99, 25),
    "cloglog": np.linspace(0.01, 0.99, 25),
    "log": np.geomspace(0.01, 100.0, 25),
    "identity": np.linspace(-3.0, 3.0, 25),
    "inverse": np.concatenate([np.geomspace(0.05, 20.0, 13), -np.geomspace(0.05, 20.0, 12)]),
}


@pytest.fixture(params=sorted(glm.LINKS))
def link(request):
    return glm.LINKS[request.param]


def test_every_link_has_a_grid():
    assert set(MU_GRID) == set(glm.LINKS)


def test_inverse_of_link_is_identity(link):
    mu = jnp.asarray(MU_GRID[link.name])
    np.testing.assert_allclose(jax.jit(lambda mu: link.inverse(link.link(mu)))(mu), mu,
                               rtol=IDENTITY_RTOL)


def test_deriv_is_grad_of_link(link):
    mu = jnp.asarray(MU_GRID[link.name])
    deriv, grad = jax.jit(lambda mu: (link.deriv(mu), jax.vmap(jax.grad(link.link))(mu)))(mu)
    np.testing.assert_allclose(deriv, grad, rtol=GRAD_RTOL)


def test_inverse_deriv_is_grad_of_inverse(link):
    @jax.jit
    def both(mu):
        eta = link.link(mu)
        return link.inverse_deriv(eta), jax.vmap(jax.grad(link.inverse))(eta)

    np.testing.assert_allclose(*both(jnp.asarray(MU_GRID[link.name])), rtol=GRAD_RTOL)


def test_deriv_times_inverse_deriv_is_one(link):
    mu = jnp.asarray(MU_GRID[link.name])
    product = jax.jit(lambda mu: link.deriv(mu) * link.inverse_deriv(link.link(mu)))(mu)
    np.testing.assert_allclose(product, 1.0, rtol=GRAD_RTOL)


@pytest.mark.parametrize("name", ["logit", "probit", "cloglog"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_bounded_inverses_stay_inside_the_unit_interval(name, dtype):
    lk = glm.LINKS[name]
    eps = jnp.finfo(dtype).eps
    eta = jnp.asarray([-1e4, -50.0, -10.0, 0.0, 10.0, 50.0, 1e4], dtype)
    mu, mu_eta = jax.jit(lambda eta: (lk.inverse(eta), lk.inverse_deriv(eta)))(eta)
    assert mu.dtype == dtype and mu_eta.dtype == dtype
    mu, mu_eta = np.asarray(mu), np.asarray(mu_eta)
    assert np.all(mu >= eps) and np.all(mu <= 1 - eps)
    assert np.all(mu_eta >= eps) and np.all(np.isfinite(mu_eta))


def test_log_inverse_is_floored_at_eps():
    assert glm.log.inverse(jnp.asarray(-1e4)) == jnp.finfo(jnp.float64).eps


@pytest.mark.parametrize("name", sorted(glm.FAMILIES))
def test_family_links_and_canonical(name):
    fam = glm.FAMILIES[name]
    assert fam.canonical_link in fam.links
    assert set(fam.links) <= set(glm.LINKS)


@pytest.mark.parametrize("name,y", [
    ("binomial", [0.0, 0.25, 1.0]),
    ("poisson", [0.0, 1.0, 7.0]),
    ("gaussian", [-2.0, 0.0, 3.5]),
    ("gamma", [0.1, 1.0, 9.0]),
])
def test_saturated_deviance_is_zero_and_positive_elsewhere(name, y):
    fam = glm.FAMILIES[name]
    y = jnp.asarray(y)
    w = jnp.asarray([1.0, 2.0, 0.5])
    mu = jnp.full(y.shape, 0.5)
    saturated, elsewhere = jax.jit(lambda y, mu, w: (fam.deviance_residuals(y, y, w),
                                                     fam.deviance_residuals(y, mu, w)))(y, mu, w)
    np.testing.assert_allclose(saturated, 0.0, atol=1e-12)  # 0 log 0 = 0
    assert np.all(np.asarray(elsewhere) >= 0)


@pytest.mark.parametrize("name", [n for n in sorted(glm.FAMILIES)
                                  if glm.FAMILIES[n].binary_deviance is not None])
def test_binary_deviance_is_the_deviance_of_0_1_responses(name):
    fam = glm.FAMILIES[name]
    eps = float(jnp.finfo(jnp.float64).eps)
    y = jnp.asarray([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    mu = jnp.asarray([eps, eps, 1 - eps, 1 - eps, 0.3, 0.3, 0.0, 1.0])
    w = jnp.asarray([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 1.0, 1.0])
    binary, general = jax.jit(lambda y, mu, w: (fam.binary_deviance(y, mu, w),
                                                fam.deviance_residuals(y, mu, w)))(y, mu, w)
    np.testing.assert_allclose(binary, general, rtol=1e-15, atol=0)
