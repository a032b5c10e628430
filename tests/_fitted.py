"""Helpers shared by the test modules (not a test module itself)."""

from __future__ import annotations

import jax
import numpy as np


def fitted_parameters(model: str, result) -> np.ndarray:
    """Every fitted weight of a batched result as one flat array per data set, ``[B, k]``.

    ``model`` is ``"mlp"``, ``"perceptron"`` or anything else for a GLM.
    """
    if model == "mlp":
        leaves = jax.tree.leaves(result.params)
    elif model == "perceptron":
        leaves = [result.coef, result.pocket_coef, result.last_coef]
    else:
        leaves = [result.coef]
    return np.concatenate([np.reshape(leaf, (np.shape(leaf)[0], -1)) for leaf in leaves], axis=1)
