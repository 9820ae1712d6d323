"""``cr.summary(model, input_shape)``: a Keras-style table of a model's layers.

It runs one forward pass on a dummy batch with a forward hook on every sub-module and
records each layer's output shape, parameter count and multiply-adds, then totals the
parameters (total, trainable (``requires_grad``) and non-trainable (frozen)), the mult-adds and
the memory estimates torchinfo shows (input, forward/backward activations, parameters).
``Summary.nested(depth)`` shows the tree of sub-modules instead of the flat list of layers.

Example:
    >>> model = cr.nn.Sequential(cr.nn.Conv2d(1, 8, 3), cr.nn.ReLU(), cr.nn.Flatten(), cr.nn.Linear(288, 10))
    >>> print(cr.summary(model, (1, 8, 8)))
    Layer (type)   Output shape      Mult-adds   Param #   Trainable
    ================================================================
    0 (Conv2d)     (None, 8, 6, 6)      2.59 K        80         yes
    1 (ReLU)       (None, 8, 6, 6)           -         0           -
    2 (Flatten)    (None, 288)               -         0           -
    3 (Linear)     (None, 10)           2.88 K     2,890         yes
    ================================================================
    Total params: 2,970
    Trainable params: 2,970
    Non-trainable params: 0
    Mult-adds per sample: 5.47 K
    Input size per sample: 0.00 MB
    Forward/backward pass size per sample: 0.01 MB
    Params size: 0.01 MB
    Estimated total size (one sample): 0.02 MB
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
    """One line of the summary table.

    One line of the table: dotted name, class name, output shape(s) (batch dim as None),
    parameters, multiply-adds per sample, bytes of its output per sample, depth in the tree
    (the model is 0).
    """

    name: str
    type: str
    output_shape: Any
    params: int
    trainable: int
    mult_adds: int = 0
    output_bytes: int = 0
    depth: int = 1


def _mb(n: float) -> str:
    return f"{n / 1e6:,.2f} MB"


def _count(n: float) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{int(n):,}"


@dataclass
class Summary:
    """The result of ``cr.summary``.

    ``rows`` (``LayerRow``) and the parameter totals; ``str()`` is the table.
    """

    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0
    input_shape: tuple = ()
    tree: list = field(default_factory=list)
    total_mult_adds: int = 0
    input_bytes: int = 0
    activation_bytes: int = 0
    param_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        """The estimate for one sample: its input, activations (and their gradients), parameters."""
        return self.input_bytes + self.activation_bytes + self.param_bytes

    def _footer(self) -> list[str]:
        return [
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Mult-adds per sample: {_count(self.total_mult_adds)}",
            f"Input size per sample: {_mb(self.input_bytes)}",
            f"Forward/backward pass size per sample: {_mb(self.activation_bytes)}",
            f"Params size: {_mb(self.param_bytes)}",
            f"Estimated total size (one sample): {_mb(self.total_bytes)}",
        ]

    def nested(self, depth: int | None = 3) -> str:
        """The tree of sub-modules down to ``depth``.

        The tree of sub-modules down to ``depth`` (None: all), as torchinfo: containers show
        their output shape and the parameters and mult-adds of everything inside them.
        """
        if depth is not None and depth < 0:
            raise ValueError(f"Summary.nested: depth must be >= 0 or None, got {depth}")
        rows = [r for r in self.tree if depth is None or r.depth <= depth]
        body = [
            (
                ("  " * r.depth + ("└─" if r.depth else ""))
                + f"{r.name.rsplit('.', 1)[-1] or r.type} ({r.type})",
                _format_shape(r.output_shape),
                _count(r.mult_adds) if r.mult_adds else "-",
                f"{r.params:,}",
            )
            for r in rows
        ]
        headers = ("Module (type)", "Output shape", "Mult-adds", "Param #")
        widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(headers)]
        width = sum(widths) + 3 * (len(widths) - 1)

        def line(cells):
            return (
                f"{cells[0]:<{widths[0]}}   {cells[1]:<{widths[1]}}   {cells[2]:>{widths[2]}}   "
                f"{cells[3]:>{widths[3]}}"
            )

        out = [line(headers), "=" * width] + [line(row) for row in body] + ["=" * width]
        return "\n".join(out + self._footer())

    def __str__(self) -> str:
        headers = ("Layer (type)", "Output shape", "Mult-adds", "Param #", "Trainable")
        body = [
            (
                f"{r.name} ({r.type})",
                _format_shape(r.output_shape),
                _count(r.mult_adds) if r.mult_adds else "-",
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
                f"{cells[3]:>{widths[3]}}   {cells[4]:>{widths[4]}}"
            )

        out = [line(headers), "=" * width]
        out += [line(row) for row in body]
        out += ["=" * width] + self._footer()
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


def _nbytes(out: Any) -> int:
    if isinstance(out, Tensor):
        return int(out.numel()) * out._data.dtype.itemsize
    if isinstance(out, (tuple, list)):
        return sum(_nbytes(o) for o in out)
    return 0


def _first_tensor(out: Any) -> Tensor | None:
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)):
        return next((t for t in map(_first_tensor, out) if t is not None), None)
    return None


_RECURRENT = {"RNN", "LSTM", "GRU"}
_CELLS = {"RNNCell", "LSTMCell", "GRUCell"}


def mult_adds(module: Module, args: tuple, out: Any) -> int:
    """Multiply-adds of one call of ``module``.

    Multiply-adds of one call of ``module`` (whole batch), counted as torchinfo and PyTorch's
    FLOP counter do (a FLOP count is twice this): the products of linear layers, convolutions and
    recurrent layers; other layers (activations, norms, pooling, embeddings) count 0.

    - ``Linear``: output elements x in_features; ``Conv*``: output elements x in_channels/groups x
      kernel volume; ``ConvTranspose*``: input elements x out_channels/groups x kernel volume;
    - ``RNN``/``LSTM``/``GRU`` (and cells): the sizes of all their weight matrices x batch x steps.
    """
    kind = type(module).__name__
    y = _first_tensor(out)
    x = args[0] if args and isinstance(args[0], Tensor) else None
    if kind in ("Linear", "LazyLinear") and y is not None:
        return int(y.numel()) * int(module.in_features)
    if kind.startswith("ConvTranspose") and x is not None:
        k = int(np.prod(module.kernel_size))
        return int(x.numel()) * (int(module.out_channels) // int(module.groups)) * k
    if kind.startswith("Conv") and y is not None:
        k = int(np.prod(module.kernel_size))
        return int(y.numel()) * (int(module.in_channels) // int(module.groups)) * k
    if (kind in _RECURRENT or kind in _CELLS) and x is not None:
        weights = sum(int(p.numel()) for name, p in module.named_parameters() if name.startswith("weight"))
        if kind in _CELLS:
            steps_times_batch = x.shape[0] if x.ndim == 2 else 1
        else:
            steps_times_batch = int(np.prod(x.shape[:-1]))  # (T, N), (N, T) or unbatched (T,)
        return weights * steps_times_batch
    return 0


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


def _is_size(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0


def _input_shapes(input_shape) -> list:
    """A list of shape tuples from ``64``, ``(1, 28, 28)`` or ``[(10,), (4, 3)]``; TypeError otherwise."""
    if _is_size(input_shape):
        return [(int(input_shape),)]
    if isinstance(input_shape, (tuple, list)) and input_shape and isinstance(input_shape[0], (tuple, list)):
        shapes = list(input_shape)
    else:
        shapes = [input_shape]
    if not all(isinstance(sh, (tuple, list)) and all(_is_size(v) for v in sh) for sh in shapes):
        raise TypeError(
            "summary: input_shape must be an int, a tuple of non-negative ints (without the batch dim) or a "
            f"list of such tuples, got {input_shape!r}"
        )
    return [tuple(int(v) for v in sh) for sh in shapes]


def summary(model: Module, input_shape, dtype=None, device=None, batch_size: int = 2) -> Summary:
    """Summarise a model's layers: output shapes, parameters, multiply-adds.

    Run ``model`` once on a batch of ``batch_size`` dummy inputs of ``input_shape`` (without the
    batch dim: ``(1, 28, 28)``, or an int ``n`` for ``(n,)``; a list of shapes for several inputs)
    and return the per-layer ``Summary``.

    Rows: every leaf module (and any module that owns parameters directly) in call order, with its
    output shape and own parameter count.  Totals count each parameter of the model once.
    The model runs in eval mode under ``no_grad`` and its mode is restored afterwards.
    Integer inputs (``dtype=cr.int64``, chosen automatically when the first layer is an
    ``Embedding``) are zeros; float inputs are standard normal.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    shapes = _input_shapes(input_shape)
    dev = device
    if dev is None:
        p = next(model.parameters(), None)
        dev = p.device if p is not None else "cpu"
    inputs = [_dummy_input(model, sh, dtype, dev, batch_size) for sh in shapes]

    names = {id(m): name for name, m in model.named_modules()}
    records: list = []
    handles = []
    counted: set = set()  # a layer called several times (shared) counts its parameters once

    seen: dict = {}  # id(module) -> (output shape, output bytes), first call, for the nested view
    macs: dict = {}  # id(module) -> its own mult-adds over all its calls

    def hook(module, args, out):
        seen.setdefault(id(module), (_output_shape(out, batch_size), _nbytes(out)))
        macs[id(module)] = macs.get(id(module), 0) + mult_adds(module, args, out)
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
                mult_adds(module, args, out) // batch_size,
                _nbytes(out) // batch_size,
                len(names.get(id(module), "").split(".")) if names.get(id(module)) else 0,
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
    out = Summary(records, total, trainable, total - trainable, shapes[0] if len(shapes) == 1 else shapes)
    out.tree = _tree(model, seen, macs, batch_size)
    out.total_mult_adds = sum(macs.values()) // batch_size
    out.input_bytes = sum(_nbytes(i) for i in inputs) // batch_size
    out.activation_bytes = 2 * sum(r.output_bytes for r in records)  # outputs and their gradients
    out.param_bytes = sum(int(p.numel()) * p._data.dtype.itemsize for p in params)
    return out


def _tree(model: Module, seen: dict, macs: dict, batch: int) -> list:
    """The rows of every module called in the forward pass.

    Rows of every module called in the forward pass, parents before children, containers with
    the totals of their subtree (each shared parameter once).
    """
    rows = []
    for name, module in model.named_modules():
        if id(module) not in seen:
            continue
        sub = list(module.modules())
        shape, nbytes = seen[id(module)]
        params = list({id(p): p for p in module.parameters()}.values())
        rows.append(
            LayerRow(
                name or type(module).__name__,
                type(module).__name__,
                shape,
                sum(p.numel() for p in params),
                sum(p.numel() for p in params if p.requires_grad),
                sum(macs.get(id(m), 0) for m in {id(m): m for m in sub}.values()) // batch,
                nbytes // batch,
                len(name.split(".")) if name else 0,
            )
        )
    return rows
