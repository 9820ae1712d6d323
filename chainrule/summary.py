"""``cr.summary(model, input_shape)``: a Keras-style table of a model's layers.

It runs one forward pass on a dummy batch with a forward hook on every sub-module and
records each layer's output shape and parameter count, then totals the parameters:
total, trainable (``requires_grad``) and non-trainable (frozen).

Example::

    >>> model = cr.nn.Sequential(cr.nn.Conv2d(1, 8, 3), cr.nn.ReLU(), cr.nn.Flatten(), cr.nn.Linear(288, 10))
    >>> print(cr.summary(model, (1, 8, 8)))
    Layer (type)   Output shape      Param #   Trainable
    ====================================================
    0 (Conv2d)     (None, 8, 6, 6)        80         yes
    1 (ReLU)       (None, 8, 6, 6)         0           -
    2 (Flatten)    (None, 288)             0           -
    3 (Linear)     (None, 10)          2,890         yes
    ====================================================
    Total params: 2,970
    Trainable params: 2,970
    Non-trainable params: 0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import np
from chainrule.nn.module import Module
from chainrule.tensor import Tensor


@dataclass
class LayerRow:
    """One line of the table: dotted name, class name, output shape(s) (batch dim as None), parameters."""

    name: str
    type: str
    output_shape: Any
    params: int
    trainable: int


@dataclass
class Summary:
    """The result of ``cr.summary``: ``rows`` (``LayerRow``) and the parameter totals; ``str()`` is
    the table."""

    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0
    input_shape: tuple = ()

    def __str__(self) -> str:
        headers = ("Layer (type)", "Output shape", "Param #", "Trainable")
        body = [
            (
                f"{r.name} ({r.type})",
                _format_shape(r.output_shape),
                f"{r.params:,}",
                "-"
                if r.params == 0
                else "yes"
                if r.trainable == r.params
                else "no"
                if r.trainable == 0
                else f"{r.trainable:,}",
            )
            for r in self.rows
        ]
        widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(headers)]
        width = sum(widths) + 3 * (len(widths) - 1)

        def line(cells):
            return (
                f"{cells[0]:<{widths[0]}}   {cells[1]:<{widths[1]}}   {cells[2]:>{widths[2]}}   "
                f"{cells[3]:>{widths[3]}}"
            )

        out = [line(headers), "=" * width]
        out += [line(row) for row in body]
        out += [
            "=" * width,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
        ]
        return "\n".join(out)

    __repr__ = __str__


def _format_shape(shape: Any) -> str:
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    if isinstance(shape, tuple):
        return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"
    return str(shape)


def _output_shape(out: Any, batch: int) -> Any:
    """Shape of a layer output with a leading batch dim shown as None; lists for tuples of outputs.

    (A tensor whose first dim is not the batch, like an RNN's (layers, N, H) state, keeps its shape.)
    """
    if isinstance(out, Tensor):
        shape = tuple(out.shape)
        return (None,) + shape[1:] if shape and shape[0] == batch else shape
    if isinstance(out, (tuple, list)):
        return [_output_shape(o, batch) for o in out]
    return type(out).__name__


def _dummy_input(model: Module, shape: tuple, dtype, device, batch: int) -> Tensor:
    if dtype is None:
        from chainrule.nn.embedding import Embedding

        first = next((m for m in model.modules() if not list(m.children())), None)
        dtype = np.int64 if isinstance(first, Embedding) else np.float32
    dtype = np.dtype(dtype)
    full = (batch,) + tuple(shape)
    arr = np.zeros(full, dtype) if dtype.kind in "iub" else np.random.default_rng(0).standard_normal(full)
    t = Tensor._make(arr.astype(dtype, copy=False))
    return t.to(device) if device is not None and device != "cpu" else t


def summary(model: Module, input_shape, dtype=None, device=None, batch_size: int = 2) -> Summary:
    """Run ``model`` once on a batch of ``batch_size`` dummy inputs of ``input_shape`` (without the
    batch dim; a list of shapes for several inputs) and return the per-layer ``Summary``.

    Rows: every leaf module (and any module that owns parameters directly) in call order, with its
    output shape and own parameter count.  Totals count each parameter of the model once.
    The model runs in eval mode under ``no_grad`` and its mode is restored afterwards.
    Integer inputs (``dtype=cr.int64``, chosen automatically when the first layer is an
    ``Embedding``) are zeros; float inputs are standard normal.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    shapes = input_shape if input_shape and isinstance(input_shape[0], (tuple, list)) else [input_shape]
    try:
        shapes = [tuple(int(s) for s in sh) for sh in shapes]
    except (TypeError, ValueError):
        raise TypeError(
            f"summary: input_shape must be a tuple of ints (without the batch dim) or a list of "
            f"them, got {input_shape!r}"
        ) from None
    dev = device
    if dev is None:
        p = next(model.parameters(), None)
        dev = p.device if p is not None else "cpu"
    inputs = [_dummy_input(model, sh, dtype, dev, batch_size) for sh in shapes]

    names = {id(m): name for name, m in model.named_modules()}
    records: list = []
    handles = []
    counted: set = set()  # a layer called several times (shared) counts its parameters once

    def hook(module, args, out):
        own = list(module.parameters(recurse=False))
        has_children = any(True for _ in module.children())
        if has_children and not own:  # containers: their children have the rows
            return
        fresh = [p for p in own if id(p) not in counted]
        counted.update(id(p) for p in own)
        n = sum(p.numel() for p in fresh)
        trainable = sum(p.numel() for p in fresh if p.requires_grad)
        records.append(
            LayerRow(
                names.get(id(module), "") or type(module).__name__,
                type(module).__name__,
                _output_shape(out, batch_size),
                n,
                trainable,
            )
        )

    for m in model.modules():
        handles.append(m.register_forward_hook(hook))
    modes = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    except Exception as e:
        shapes_in = [tuple(i.shape) for i in inputs]
        msg = f"summary: the forward pass on a dummy batch of shape {shapes_in} failed: {e}"
        try:
            err = type(e)(msg)
        except Exception:
            err = RuntimeError(msg)
        raise err from e
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])

    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return Summary(records, total, trainable, total - trainable, shapes[0] if len(shapes) == 1 else shapes)
