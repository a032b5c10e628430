r"""The neural half's peers: our MLP as a JAX or PyTorch user writes it, batched.

The network is ours (:mod:`models._network`): ``h = sigmoid(X W_1)`` with no bias on the
layer that reads ``X`` (its intercept column is that bias), ``logit = h w_2 + b_2``, the
mean binary cross-entropy on the logits, full-batch adam at our step size
(``models.mlp.DEFAULT_LEARNING_RATE``), exactly ``steps`` updates. Every peer starts from
our initial weights (``models.mlp.init_params`` with the data set's key), so at equal
steps its final loss and ours differ only by float rounding, which the benchmark records:

* ``equinox``: an ``eqx.Module`` of two ``eqx.nn.Linear``, ``eqx.filter_value_and_grad``
  and a ``lax.scan`` over steps, ``eqx.filter_vmap`` over data sets;
* ``flax``: a ``flax.linen`` module of two ``nn.Dense``, ``jax.value_and_grad`` of
  ``apply`` and a ``lax.scan``, ``jax.vmap`` over data sets;
* ``torch``: PyTorch with every data set's weights stacked (``[B, p, h]``), one
  ``torch.bmm`` per layer and one ``torch.optim.Adam`` over the stacks; the summed loss
  gives each data set its own mean-loss gradient, and adam is elementwise, so this is ``B``
  independent fits. It runs on CUDA where JAX does, else on the CPU.

Each fit returns the loss of its parameters after ``steps - 1`` updates, as our
``history[steps - 1]``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from models import mlp

__all__ = ["equinox_fit", "flax_fit", "torch_fit"]


def _initial(key, n_inputs: int, hidden: tuple[int, ...]):
    """Our initial ``(W_1 [p, h], w_2 [h], b_2 [])`` for one data set."""
    first, output = mlp.init_params(key, n_inputs, hidden, jnp.float32)
    return first.weight, output.weight, output.bias


def _check_one_layer(hidden: tuple[int, ...]) -> int:
    if len(hidden) != 1:
        raise ValueError(f"the MLP peers write the one-hidden-layer network; got hidden="
                         f"{hidden!r}.")
    return hidden[0]


def equinox_fit(hidden: tuple[int, ...], steps: int, learning_rate: float) -> Callable:
    """``(keys [B], X [B, n, p], y [B, n]) -> final loss [B]`` with equinox (jit it)."""
    import equinox as eqx

    width = _check_one_layer(hidden)

    class Network(eqx.Module):
        hidden: eqx.nn.Linear
        output: eqx.nn.Linear

        def __call__(self, x):
            return self.output(jax.nn.sigmoid(self.hidden(x)))

    optimizer = optax.adam(learning_rate)

    def one(key, X, y):
        p = X.shape[1]
        W1, w2, b2 = _initial(key, p, hidden)
        network = Network(eqx.nn.Linear(p, width, use_bias=False, key=key),
                          eqx.nn.Linear(width, "scalar", key=key))
        network = eqx.tree_at(lambda m: (m.hidden.weight, m.output.weight, m.output.bias),
                              network, (W1.T, w2[None, :], b2[None]))

        def loss(network):
            logits = jax.vmap(network)(X)
            return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, y))

        def step(carry, _):
            network, state = carry
            value, grads = eqx.filter_value_and_grad(loss)(network)
            updates, state = optimizer.update(grads, state, eqx.filter(network, eqx.is_array))
            return (eqx.apply_updates(network, updates), state), value

        state = optimizer.init(eqx.filter(network, eqx.is_array))
        _, losses = jax.lax.scan(step, (network, state), None, length=steps)
        return losses[-1]

    batched = eqx.filter_vmap(one)
    # A plain function for jax.jit, which hashes what it compiles (an equinox wrapper is not
    # hashable); every argument is an array, so filter_jit would give the same program.
    return lambda keys, X, y: batched(keys, X, y)


def flax_fit(hidden: tuple[int, ...], steps: int, learning_rate: float) -> Callable:
    """``(keys [B], X [B, n, p], y [B, n]) -> final loss [B]`` with flax.linen (jit it)."""
    import flax.linen as nn

    width = _check_one_layer(hidden)

    class Network(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = nn.sigmoid(nn.Dense(width, use_bias=False)(x))
            return nn.Dense(1)(h)[..., 0]

    network, optimizer = Network(), optax.adam(learning_rate)

    def one(key, X, y):
        W1, w2, b2 = _initial(key, X.shape[1], hidden)
        variables = {"params": {"Dense_0": {"kernel": W1},
                                "Dense_1": {"kernel": w2[:, None], "bias": b2[None]}}}

        def loss(variables):
            logits = network.apply(variables, X)
            return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, y))

        def step(carry, _):
            variables, state = carry
            value, grads = jax.value_and_grad(loss)(variables)
            updates, state = optimizer.update(grads, state, variables)
            return (optax.apply_updates(variables, updates), state), value

        _, losses = jax.lax.scan(step, (variables, optimizer.init(variables)), None,
                                 length=steps)
        return losses[-1]

    return jax.vmap(one)


def torch_fit(hidden: tuple[int, ...], steps: int, learning_rate: float, keys, X,
              y) -> Callable[[], np.ndarray]:
    """A call that trains PyTorch's stacked networks on ``X [B, n, p]``, ``y [B, n]``.

    The data and our initial weights are moved to the device here, untimed (ours are on
    the device before the timed call too); the call returns the final losses ``[B]``.
    """
    import torch

    _check_one_layer(hidden)
    device = "cuda" if jax.default_backend() == "gpu" and torch.cuda.is_available() else "cpu"
    W1, w2, b2 = (np.asarray(a, np.float32) for a in jax.vmap(
        lambda key: _initial(key, X.shape[2], hidden))(keys))
    data = torch.tensor(np.asarray(X, np.float32), device=device)
    labels = torch.tensor(np.asarray(y, np.float32), device=device)
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits

    def run() -> np.ndarray:
        first = torch.tensor(W1, device=device, requires_grad=True)            # [B, p, h]
        output = torch.tensor(w2[:, :, None], device=device, requires_grad=True)  # [B, h, 1]
        bias = torch.tensor(b2[:, None, None], device=device, requires_grad=True)  # [B, 1, 1]
        optimizer = torch.optim.Adam([first, output, bias], lr=learning_rate)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            logits = (torch.bmm(torch.sigmoid(torch.bmm(data, first)), output) + bias)[..., 0]
            losses = loss_fn(logits, labels, reduction="none").mean(dim=1)
            losses.sum().backward()
            optimizer.step()
        return losses.detach().cpu().numpy()

    return run
