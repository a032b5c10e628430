"""A small multilayer perceptron for 0/1 labels, trained full batch with optax.

Public names only; the implementation lives in :mod:`models._mlp`.
"""

from ._mlp import ACTIVATIONS as ACTIVATIONS
from ._mlp import CONVERGENCE_WINDOW as CONVERGENCE_WINDOW
from ._mlp import DEFAULT_LEARNING_RATE as DEFAULT_LEARNING_RATE
from ._mlp import Dense as Dense
from ._mlp import MLPResult as MLPResult
from ._mlp import default_optimizer as default_optimizer
from ._mlp import fit as fit
from ._mlp import forward as forward
from ._mlp import init_params as init_params
from ._mlp import predict as predict

__all__ = [
    "ACTIVATIONS",
    "CONVERGENCE_WINDOW",
    "DEFAULT_LEARNING_RATE",
    "Dense",
    "MLPResult",
    "default_optimizer",
    "fit",
    "forward",
    "init_params",
    "predict",
]
