"""Test-wide JAX settings: exactness is the point of most tests here, so float64 is on.

As in optimistix and lineax, rank promotion is an error, so a silently broadcast
``[n] + [n, 1]`` fails loudly. Tests that check float32 ask for it explicitly.
"""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
