"""The graph under construction for ``cr.onnx.export``.

ONNX value names of traced tensors, nodes, constants, and sizes read at run time (``SymInt``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from chainrule.tensor import Tensor

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def onnx_dtype(dtype) -> int:
    """The ONNX element type of a NumPy dtype."""
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def host(a):
    """A NumPy copy of an array (CuPy arrays come back from the GPU)."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


class SymInt(int):
    """A size read from a traced tensor's ``.shape`` in a dynamic export.

    An int with the ONNX value (a 1-D int64 tensor) that computes it at run time; + - * // with ints
    keep that link.
    """

    def __new__(cls, value: int, tr: Tracer, make):
        obj = super().__new__(cls, value)
        obj._tr, obj._make, obj._name = tr, make, None
        return obj

    def onnx(self) -> str:
        """The 1-D int64 ONNX value holding this size (its nodes are added on first use)."""
        if self._name is None:
            self._name = self._make()
        return self._name

    def _op(self, other, op: str, fn, reverse: bool = False):
        if isinstance(other, bool) or not isinstance(other, (int, np.integer)):
            return fn(other, int(self)) if reverse else fn(int(self), other)
        value = fn(int(other), int(self)) if reverse else fn(int(self), int(other))
        tr = self._tr

        def make():
            b = other.onnx() if isinstance(other, SymInt) else tr.ints([int(other)])
            return tr.node(op, [b, self.onnx()] if reverse else [self.onnx(), b])

        return SymInt(value, tr, make)

    def __add__(self, o):
        return self._op(o, "Add", lambda a, b: a + b)

    def __radd__(self, o):
        return self._op(o, "Add", lambda a, b: a + b, True)

    def __sub__(self, o):
        return self._op(o, "Sub", lambda a, b: a - b)

    def __rsub__(self, o):
        return self._op(o, "Sub", lambda a, b: a - b, True)

    def __mul__(self, o):
        return self._op(o, "Mul", lambda a, b: a * b)

    def __rmul__(self, o):
        return self._op(o, "Mul", lambda a, b: a * b, True)

    def __floordiv__(self, o):  # sizes are positive: ONNX's truncating Div is floor division
        return self._op(o, "Div", lambda a, b: a // b)

    def __rfloordiv__(self, o):
        return self._op(o, "Div", lambda a, b: a // b, True)


def sym_pieces(values) -> list:
    """Sizes as shape pieces: plain ints, or the ONNX value of each ``SymInt``."""
    return [v.onnx() if isinstance(v, SymInt) else int(v) for v in values]


def has_sym(values) -> bool:
    """Whether any size is a ``SymInt`` (read from a traced tensor's shape)."""
    return any(isinstance(v, SymInt) for v in values)


class Tracer:
    """The graph being built and the map from traced tensors to ONNX value names."""

    def __init__(self, opset: int, dynamic: bool, param_names: dict):
        self.opset, self.dynamic = opset, dynamic
        self.nodes: list = []
        self.inits: list = []
        self.names: dict[int, str] = {}  # id(tensor) -> value name (traced tensors)
        self.arrays: dict[int, str] = {}  # id(tensor._data) -> value name (for aliases: detach)
        self.flagged: dict[int, str] = {}  # id(tensor) -> where it was computed outside the recorded ops
        self.consts: dict[int, tuple] = {}  # id(tensor) -> (initializer name, version) of constants
        self.keep: list = []  # keeps every mapped object alive, so ids stay unique
        self.param_names = param_names
        self.depth = 0
        self.op = ""  # the class name of the op being translated
        self.reserved: set = set()  # input and output names chosen by the user
        self._count = 0
        self._dims: dict = {}

    # -- names and nodes -----------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        """A new value or node name."""
        self._count += 1
        return f"/{base}_{self._count}"  # '/' keeps them apart from parameter and user names

    def node(self, op: str, inputs: list, n_out: int = 1, **attrs) -> Any:
        """Append an ONNX node; returns its output name (a list when ``n_out`` > 1)."""
        outs = [self.fresh(op) for _ in range(n_out)]
        self.nodes.append(
            helper.make_node(op, [i or "" for i in inputs], outs, name=self.fresh("n" + op), **attrs)
        )
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=None, base: str = "const") -> str:
        """A new initializer holding ``value``."""
        arr = np.asarray(host(value), dtype=dtype)
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def ints(self, values) -> str:
        """A 1-D int64 initializer (axes, shapes, pads)."""
        return self.const(np.asarray(list(values), np.int64))

    # -- tensors ---------------------------------------------------------------------------------
    def register(self, t: Tensor, name: str) -> None:
        """Map the traced tensor ``t`` (and its array) to the ONNX value ``name``."""
        self.names[id(t)] = name
        self.arrays[id(t._data)] = name
        self.keep.append(t)

    def is_traced(self, t) -> bool:
        """Whether ``t`` is a tensor of the graph (descends from the inputs)."""
        return isinstance(t, Tensor) and id(t) in self.names

    def check_flagged(self, t, op: str) -> None:
        """Raise when ``t`` was computed from the input outside the recorded ops."""
        where = self.flagged.get(id(t)) if isinstance(t, Tensor) else None
        if where is not None:
            raise RuntimeError(
                f"onnx.export: {op} uses a tensor of shape {tuple(t.shape)} that was computed from the "
                f"model's input outside the ops the exporter records (in {where}); the graph cannot "
                "reproduce it. Use tensor ops (or report the missing translation)."
            )

    def value(self, t, op: str = "an op") -> str:
        """The ONNX name of a Tensor: a traced value, a parameter, or a new constant."""
        if not isinstance(t, Tensor):
            raise TypeError(f"onnx.export: {op} expected a Tensor operand, got {type(t).__name__}")
        name = self.names.get(id(t))
        if name is not None:
            return name
        self.check_flagged(t, op)
        name, version = self.consts.get(id(t), (None, None))
        if name is None or version != t._version:  # new, or changed in place since its last use
            base = self.param_names.get(id(t))
            name = base if base is not None and base not in self.reserved else None
            name = name if name is not None and version is None else self.fresh("const")
            self.inits.append(numpy_helper.from_array(np.ascontiguousarray(host(t._data)), name))
            self.consts[id(t)] = (name, t._version)
            self.keep.append(t)
        return name

    def operand(self, x, dtype, op: str = "an op") -> str:
        """A Tensor or a Python number as an ONNX value of ``dtype`` (cast when needed)."""
        if isinstance(x, SymInt):  # a run-time size used as a number
            return self.node("Cast", [self.node("Squeeze", [x.onnx(), self.ints([0])])], to=onnx_dtype(dtype))
        if not isinstance(x, Tensor):
            return self.const(np.asarray(x, dtype))
        name = self.value(x, op)
        if np.dtype(x.dtype) != np.dtype(dtype):
            name = self.node("Cast", [name], to=onnx_dtype(dtype))
        return name

    # -- shapes ----------------------------------------------------------------------------------
    def dim(self, name: str, axis: int) -> str:
        """A 1-D int64 tensor holding the run-time size of ``axis`` of value ``name``."""
        key = (name, axis)
        if key not in self._dims:
            shape = self.node("Shape", [name])
            self._dims[key] = self.node("Gather", [shape, self.ints([axis])], axis=0)
        return self._dims[key]

    def size(self, name: str, axis: int, static: int) -> str:
        """A 1-D size: read at run time in a dynamic export, else the example's constant."""
        return self.dim(name, axis) if self.dynamic else self.ints([static])

    def concat_shape(self, pieces: list) -> str:
        """One 1-D int64 shape from pieces that are ints (constants) or 1-D value names."""
        if all(isinstance(p, (int, np.integer)) for p in pieces):
            return self.ints(pieces)
        names = [self.ints([p]) if isinstance(p, (int, np.integer)) else p for p in pieces]
        return names[0] if len(names) == 1 else self.node("Concat", names, axis=0)

    def reduce(self, op: str, x: str, axes, keepdims: bool) -> str:
        """ReduceSum/Mean/Max/... over ``axes`` (None: all), attribute or input by opset."""
        if axes is None:
            return self.node(op, [x], keepdims=int(keepdims))
        axes = [int(a) for a in axes]
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.ints(axes)], keepdims=int(keepdims))
        return self.node(op, [x], axes=axes, keepdims=int(keepdims))

    def unsqueeze(self, x: str, axes) -> str:
        """Unsqueeze ``x`` at ``axes``."""
        return self.node("Unsqueeze", [x, self.ints(axes)])

    def squeeze(self, x: str, axes) -> str:
        """Squeeze ``axes`` of ``x``."""
        return self.node("Squeeze", [x, self.ints(axes)])

    def numel(self, name: str, shape: tuple, axes) -> str:
        """The number of elements over ``axes`` as a float32 scalar-like (1-D) value."""
        if not self.dynamic:
            return self.const(np.asarray([math.prod(shape[a] for a in axes)], np.float32))
        sizes = self.node("Gather", [self.node("Shape", [name]), self.ints(list(axes))], axis=0)
        return self.node("Cast", [self.reduce("ReduceProd", sizes, [0], True)], to=TensorProto.FLOAT)


def out_names(tr: Tracer, names, outs) -> None:
    """Record the ONNX name of each Tensor output of a translated op."""
    outs = outs if isinstance(outs, tuple) else (outs,)
    names = names if isinstance(names, (list, tuple)) else [names]
    for t, n in zip(outs, names):
        if n is not None and isinstance(t, Tensor):
            tr.register(t, n)
