"""The GLM's small dense linear algebra (models._linalg) against numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from models import _linalg


@pytest.mark.parametrize("p", [_linalg.INVERSE_UNROLL_MAX, _linalg.INVERSE_UNROLL_MAX + 5])
def test_inverse_diagonal_is_numpys_on_both_sides_of_the_unrolled_width(p):
    # Unrolled forward substitution up to INVERSE_UNROLL_MAX columns, a library solve above.
    rng = np.random.default_rng(p)
    A = rng.standard_normal((3, 4 * p, p))
    gram = np.einsum("bni,bnj->bij", A, A)
    factor = np.linalg.cholesky(gram)
    ours = jax.jit(jax.vmap(_linalg.inverse_diagonal))(jnp.asarray(factor))
    expected = np.diagonal(np.linalg.inv(gram), axis1=1, axis2=2)
    np.testing.assert_allclose(np.asarray(ours), expected, rtol=1e-10)
