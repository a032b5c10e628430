"""How the published tables and plots name each model family's iterations and loss.

Kept free of JAX (like :mod:`bench.publish`, :mod:`bench.plots` and :mod:`bench.compare`, which
use it), so that publishing and comparing runs needs no accelerator stack.
"""

from __future__ import annotations

__all__ = ["FAMILY_OF_MODEL", "ITERATION_UNIT", "LOSS_NAME", "family_of"]

#: Which benchmark module (model family) owns each model.
FAMILY_OF_MODEL = {
    "perceptron": "perceptron",
    "glm": "glm",
    "glm_firth": "glm",
    "glm_poisson": "glm",
    "glm_gamma": "glm",
    "mlp0": "mlp",
    "mlp8": "mlp",
}

#: What one iteration of each model family is (plural), for tables and plot axes.
ITERATION_UNIT = {"perceptron": "epochs", "glm": "IRLS iterations", "mlp": "gradient steps"}

#: The loss each model family records in its history (``final_loss`` is its last value).
LOSS_NAME = {"perceptron": "mistakes / n per epoch", "glm": "deviance / n",
             "mlp": "cross-entropy"}


def family_of(model: str) -> str:
    """The family of ``model``; names not in :data:`FAMILY_OF_MODEL` count as GLMs."""
    return FAMILY_OF_MODEL.get(model, "glm")
