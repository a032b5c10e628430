"""The benchmark suite has float64 cases (the GLM), so it turns on JAX's x64 mode itself.

float32 cases stay float32: every array they use is created with an explicit dtype.
"""

import jax

jax.config.update("jax_enable_x64", True)
