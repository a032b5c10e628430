"""The three model families of glmnn-bench: pure JAX, one data set per call.

Every ``fit`` works on one data set and unchanged under ``jax.jit`` and ``jax.vmap``; a
batch of data sets is ``jax.vmap(fit)`` over a leading axis. Importing ``models`` does not
turn on JAX's x64 mode: whoever needs float64 sets it.

* :mod:`models.glm`: generalised linear models by IRLS (binomial, Poisson, gaussian, gamma),
  Firth's logistic regression, separation reported as data.
* :mod:`models.multinomial`: the multinomial logistic GLM (K classes) by Newton's method,
  separation of K classes decided by the same linear program.
* :mod:`models.perceptron`: Rosenblatt's perceptron, with Gallant's pocket and the averaged
  perceptron; the multiclass perceptron (Kesler's construction).
* :mod:`models.mlp`: a multi-layer perceptron trained full batch on binary cross-entropy,
  and its softmax version for K classes.

The per-data-set outcome codes are shared by all three: :class:`Status`. Under
``jax.vmap`` each fit's batching rule runs its data sets in groups (cache-sized on CPU,
the whole batch elsewhere); :func:`cpu_group_size` says how many a group holds on CPU, and
every ``fit`` takes ``group_size=`` to set it. ``GLMNN_TRACE_PLATFORM=cpu``
(:data:`TRACE_PLATFORM_VARIABLE`) traces only the CPU branches, for a process that runs
only on CPU.
"""

from . import glm as glm
from . import mlp as mlp
from . import multinomial as multinomial
from . import perceptron as perceptron
from ._batching import TRACE_PLATFORM_VARIABLE as TRACE_PLATFORM_VARIABLE
from ._batching import cpu_group_size as cpu_group_size
from ._status import STATUS_NAMES as STATUS_NAMES
from ._status import Status as Status
from ._status import status_counts as status_counts
from ._status import status_name as status_name

__all__ = ["glm", "mlp", "multinomial", "perceptron", "cpu_group_size",
           "TRACE_PLATFORM_VARIABLE", "Status", "STATUS_NAMES", "status_counts", "status_name"]
