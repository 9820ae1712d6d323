"""Module backward hooks (``register_full_backward_hook`` / ``register_full_backward_pre_hook``).

As PyTorch's ``BackwardHook``: the module's Tensor inputs and outputs pass through identity
nodes. The output node's backward sees dL/d(output): the pre-hooks run there and may replace it.
The input node's backward sees dL/d(input): the full hooks run there with both and may replace
dL/d(input). When no input requires grad, the full hooks run at the output node with
``grad_input`` all None.
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.function import Function
from chainrule.tensor import Tensor


class _Identity(Function):
    """Identity on several tensors whose backward hands the gradients to ``callback``."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tuple(t._data.view() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(grads))


def _replace(op: str, old: tuple, new: Any) -> tuple:
    if not isinstance(new, (tuple, list)) or len(new) != len(old):
        raise RuntimeError(
            f"{op}: a backward hook must return None or a tuple of {len(old)} gradients, got "
            f"{type(new).__name__}{f' of length {len(new)}' if isinstance(new, (tuple, list)) else ''}"
        )
    out = []
    for g, n in zip(old, new):
        if n is not None and g is not None and tuple(n.shape) != tuple(g.shape):
            raise RuntimeError(f"{op}: a backward hook returned a gradient of shape {tuple(n.shape)}, "
                               f"expected {tuple(g.shape)}")  # fmt: skip
        out.append(g if n is None else n)
    return tuple(out)


class BackwardHook:
    """The backward hooks of one call of ``module``."""

    def __init__(self, module: Any):
        self.module = module
        self.n_inputs = 0
        self.input_slots: list = []  # positions among the Tensor inputs that require grad
        self.grad_output: tuple | None = None

    def setup_inputs(self, args: tuple) -> tuple:
        tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(tensors)
        slots = [k for k, i in enumerate(tensors) if args[i].requires_grad]
        if not slots:
            return args
        self.input_slots = slots
        wrapped = _Identity.apply(self._on_inputs, *[args[tensors[k]] for k in slots])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for k, w in zip(slots, wrapped):
            args[tensors[k]] = w
        return tuple(args)

    def setup_outputs(self, out: Any) -> Any:
        single = isinstance(out, Tensor)
        items = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
        if items is None:
            return out
        idx = [i for i, t in enumerate(items) if isinstance(t, Tensor) and t.requires_grad]
        if not idx:
            return out
        wrapped = _Identity.apply(self._on_outputs, *[items[i] for i in idx])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        for i, w in zip(idx, wrapped):
            items[i] = w
        return items[0] if single else type(out)(items)

    def _on_outputs(self, grads: tuple) -> tuple:
        for hook in list(self.module._backward_pre_hooks.values()):
            new = hook(self.module, grads)
            if new is not None:
                grads = _replace("register_full_backward_pre_hook", grads, new)
        self.grad_output = grads
        if not self.input_slots:  # nothing upstream needs a gradient: the full hooks run now
            for hook in list(self.module._backward_hooks.values()):
                new = hook(self.module, (None,) * self.n_inputs, grads)
                if new is not None and not (isinstance(new, tuple) and all(g is None for g in new)):
                    raise RuntimeError(
                        f"register_full_backward_hook: no input of {type(self.module).__name__} requires "
                        "grad, so its backward hook must return None (or only Nones)"
                    )
        return grads

    def _on_inputs(self, grads: tuple) -> tuple:
        grad_input: list = [None] * self.n_inputs
        for k, g in zip(self.input_slots, grads):
            grad_input[k] = g
        full = tuple(grad_input)
        for hook in list(self.module._backward_hooks.values()):
            new = hook(self.module, full, self.grad_output)
            if new is not None:
                full = _replace("register_full_backward_hook", full, new)
        return tuple(full[k] for k in self.input_slots)
