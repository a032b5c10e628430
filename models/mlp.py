"""Small multilayer perceptrons trained full batch with optax: 0/1 labels, or K classes.

:func:`fit` trains a sigmoid-output network on the binary cross-entropy (:func:`predict`:
class-1 probabilities); :func:`fit_multiclass` a softmax-output network with ``K`` units on
the softmax cross-entropy (:func:`predict_multiclass`: ``[m, K]`` class probabilities).
Both return an :class:`MLPResult` and share the training loop, stopping rules and statuses.

Public names only; the implementation lives in :mod:`models._mlp` (the binary fit and the
training loop), :mod:`models._softmax_mlp` (the softmax fit), :mod:`models._network` (the
network) and :mod:`models._stopping` (the stopping rules).
"""

from ._mlp import DEFAULT_LEARNING_RATE as DEFAULT_LEARNING_RATE
from ._mlp import MLPResult as MLPResult
from ._mlp import default_optimizer as default_optimizer
from ._mlp import fit as fit
from ._mlp import predict as predict
from ._network import ACTIVATIONS as ACTIVATIONS
from ._network import Dense as Dense
from ._network import forward as forward
from ._network import init_params as init_params
from ._softmax_mlp import fit_multiclass as fit_multiclass
from ._softmax_mlp import predict_multiclass as predict_multiclass
from ._stopping import CONVERGENCE_WINDOW as CONVERGENCE_WINDOW
from ._stopping import DEFAULT_TOL as DEFAULT_TOL
from ._stopping import SKLEARN_N_ITER_NO_CHANGE as SKLEARN_N_ITER_NO_CHANGE
from ._stopping import STOPPING as STOPPING
from ._stopping import sklearn_stop as sklearn_stop

__all__ = [
    "ACTIVATIONS",
    "CONVERGENCE_WINDOW",
    "DEFAULT_LEARNING_RATE",
    "DEFAULT_TOL",
    "Dense",
    "MLPResult",
    "SKLEARN_N_ITER_NO_CHANGE",
    "STOPPING",
    "default_optimizer",
    "fit",
    "fit_multiclass",
    "forward",
    "init_params",
    "predict",
    "predict_multiclass",
    "sklearn_stop",
]
