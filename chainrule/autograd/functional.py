"""``grad``: gradients of outputs with respect to chosen inputs, optionally differentiable."""

from __future__ import annotations

from collections.abc import Sequence

from chainrule.autograd.engine import run_backward
from chainrule.backend import xp_of
from chainrule.tensor import Tensor


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Return (d outputs / d input for each input) as a tuple, without touching ``.grad``.

    With ``create_graph=True`` the returned gradients are themselves part of the
    graph, so they can be differentiated again (second derivatives, Hessian-vector
    products)::

        x = cr.tensor(0.5, requires_grad=True)
        (dy,) = cr.autograd.grad(x.tanh(), x, create_graph=True)   # 1 - tanh²
        (d2y,) = cr.autograd.grad(dy, x)                           # -2 tanh · (1 - tanh²)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(
                f"grad: output {i} (shape {tuple(out.shape)}) does not require grad and has no grad_fn"
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad: grad can be implicitly created only for scalar outputs; output {i} has shape "
                    f"{tuple(out.shape)}, pass grad_outputs"
                )
            g = Tensor._make(xp_of(out._data).ones(out.shape, out.dtype))
        elif g.shape != out.shape:
            raise RuntimeError(
                f"grad: grad_outputs[{i}] has shape {tuple(g.shape)} but output {i} has {tuple(out.shape)}"
            )
        seeds.append(g)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outputs, seeds, retain_graph, create_graph, inputs=inputs)
    assert results is not None  # given inputs, run_backward returns their gradients
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {tuple(inputs[i].shape)}) was not used to compute the outputs; "
                "pass allow_unused=True if this is expected"
            )
    return tuple(results)
