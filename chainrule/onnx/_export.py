"""The tracer and the op translations behind ``cr.onnx.export`` (design: ``chainrule/onnx/__init__.py``).

Imported only by ``export``: it imports the ``onnx`` package.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from chainrule.autograd.function import Function
from chainrule.nn.module import Module
from chainrule.onnx import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, UnsupportedOperatorError
from chainrule.tensor import Tensor

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def _onnx_dtype(dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _host(a):
    """A NumPy copy of an array (CuPy arrays come back from the GPU)."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


class _SymInt(int):
    """A size read from a traced tensor's ``.shape`` in a dynamic export: an int with the ONNX value
    (a 1-D int64 tensor) that computes it at run time; + - * // with ints keep that link."""

    def __new__(cls, value: int, tr: _Tracer, make):
        obj = super().__new__(cls, value)
        obj._tr, obj._make, obj._name = tr, make, None
        return obj

    def onnx(self) -> str:
        if self._name is None:
            self._name = self._make()
        return self._name

    def _op(self, other, op: str, fn, reverse: bool = False):
        if isinstance(other, bool) or not isinstance(other, (int, np.integer)):
            return fn(other, int(self)) if reverse else fn(int(self), other)
        value = fn(int(other), int(self)) if reverse else fn(int(self), int(other))
        tr = self._tr

        def make():
            b = other.onnx() if isinstance(other, _SymInt) else tr.ints([int(other)])
            return tr.node(op, [b, self.onnx()] if reverse else [self.onnx(), b])

        return _SymInt(value, tr, make)

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


def _sym_pieces(values) -> list:
    return [v.onnx() if isinstance(v, _SymInt) else int(v) for v in values]


def _has_sym(values) -> bool:
    return any(isinstance(v, _SymInt) for v in values)


class _Tracer:
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
        self._count += 1
        return f"/{base}_{self._count}"  # '/' keeps them apart from parameter and user names

    def node(self, op: str, inputs: list, n_out: int = 1, **attrs) -> Any:
        outs = [self.fresh(op) for _ in range(n_out)]
        self.nodes.append(
            helper.make_node(op, [i or "" for i in inputs], outs, name=self.fresh("n" + op), **attrs)
        )
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=None, base: str = "const") -> str:
        arr = np.asarray(_host(value), dtype=dtype)
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), np.int64))

    # -- tensors ---------------------------------------------------------------------------------
    def register(self, t: Tensor, name: str) -> None:
        self.names[id(t)] = name
        self.arrays[id(t._data)] = name
        self.keep.append(t)

    def is_traced(self, t) -> bool:
        return isinstance(t, Tensor) and id(t) in self.names

    def check_flagged(self, t, op: str) -> None:
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
            self.inits.append(numpy_helper.from_array(np.ascontiguousarray(_host(t._data)), name))
            self.consts[id(t)] = (name, t._version)
            self.keep.append(t)
        return name

    def operand(self, x, dtype, op: str = "an op") -> str:
        """A Tensor or a Python number as an ONNX value of ``dtype`` (cast when needed)."""
        if isinstance(x, _SymInt):  # a run-time size used as a number
            return self.node(
                "Cast", [self.node("Squeeze", [x.onnx(), self.ints([0])])], to=_onnx_dtype(dtype)
            )
        if not isinstance(x, Tensor):
            return self.const(np.asarray(x, dtype))
        name = self.value(x, op)
        if np.dtype(x.dtype) != np.dtype(dtype):
            name = self.node("Cast", [name], to=_onnx_dtype(dtype))
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
        return self.node("Unsqueeze", [x, self.ints(axes)])

    def squeeze(self, x: str, axes) -> str:
        return self.node("Squeeze", [x, self.ints(axes)])

    def numel(self, name: str, shape: tuple, axes) -> str:
        """The number of elements over ``axes`` as a float32 scalar-like (1-D) value."""
        if not self.dynamic:
            return self.const(np.asarray([math.prod(shape[a] for a in axes)], np.float32))
        sizes = self.node("Gather", [self.node("Shape", [name]), self.ints(list(axes))], axis=0)
        return self.node("Cast", [self.reduce("ReduceProd", sizes, [0], True)], to=TensorProto.FLOAT)


_ACTIVE: _Tracer | None = None


def _out_names(tr: _Tracer, names, outs) -> None:
    outs = outs if isinstance(outs, tuple) else (outs,)
    names = names if isinstance(names, (list, tuple)) else [names]
    for t, n in zip(outs, names):
        if n is not None and isinstance(t, Tensor):
            tr.register(t, n)


# ============================================================================== op translations
# Each translation gets the tracer, the op's positional arguments, its keyword arguments and its
# outputs (a Tensor or a tuple), and returns the ONNX name of each output.

FUNCTIONS: dict[str, Any] = {}


def _fn(*names):
    def deco(f):
        for n in names:
            FUNCTIONS[n] = f
        return f

    return deco


def _binary_emit(onnx_op):
    def emit(tr, args, kwargs, out):
        a, b = args
        dt = out.dtype
        return tr.node(onnx_op, [tr.operand(a, dt), tr.operand(b, dt)])

    return emit


for _name, _op in (("Add", "Add"), ("Sub", "Sub"), ("Mul", "Mul"), ("Div", "Div"), ("Pow", "Pow"),
                   ("Maximum", "Max"), ("Minimum", "Min")):  # fmt: skip
    FUNCTIONS[_name] = _binary_emit(_op)


def _unary_emit(onnx_op):
    def emit(tr, args, kwargs, out):
        return tr.node(onnx_op, [tr.value(args[0])])

    return emit


for _name, _op in (("Neg", "Neg"), ("Abs", "Abs"), ("Exp", "Exp"), ("Log", "Log"), ("Sqrt", "Sqrt"),
                   ("Sin", "Sin"), ("Cos", "Cos"), ("Tanh", "Tanh"), ("Sigmoid", "Sigmoid"), ("ReLU", "Relu"),
                   ("Erf", "Erf"), ("Clone", "Identity"), ("GradientReversal", "Identity"), ("Acos", "Acos"),
                   ("Asin", "Asin"), ("Atan", "Atan"), ("Sinh", "Sinh"), ("Cosh", "Cosh"), ("Tan", "Tan"),
                   ("Ceil", "Ceil"), ("Floor", "Floor")):  # fmt: skip
    FUNCTIONS[_name] = _unary_emit(_op)


@_fn("Round")
def _round(tr, args, kwargs, out):
    x = tr.value(args[0])
    decimals = args[2] if len(args) > 2 else kwargs.get("decimals", 0)
    if not decimals:
        return tr.node("Round", [x])
    scale = tr.const(np.asarray(10.0**decimals, out.dtype))
    return tr.node("Div", [tr.node("Round", [tr.node("Mul", [x, scale])]), scale])


@_fn("Trunc")
def _trunc(tr, args, kwargs, out):
    x = tr.value(args[0])
    return tr.node("Mul", [tr.node("Sign", [x]), tr.node("Floor", [tr.node("Abs", [x])])])


@_fn("Frac")
def _frac(tr, args, kwargs, out):
    x = tr.value(args[0])
    return tr.node("Sub", [x, _trunc(tr, args, kwargs, out)])


@_fn("Expm1")
def _expm1(tr, args, kwargs, out):
    return tr.node("Sub", [tr.node("Exp", [tr.value(args[0])]), tr.const(np.asarray(1, out.dtype))])


@_fn("Log1p")
def _log1p(tr, args, kwargs, out):
    return tr.node("Log", [tr.node("Add", [tr.value(args[0]), tr.const(np.asarray(1, out.dtype))])])


@_fn("Log2", "Log10")
def _log_base(tr, args, kwargs, out):
    base = 2.0 if args[1] == "log2" else 10.0
    return tr.node(
        "Div", [tr.node("Log", [tr.value(args[0])]), tr.const(np.asarray(math.log(base), out.dtype))]
    )


@_fn("Logaddexp")
def _logaddexp(tr, args, kwargs, out):  # max(a, b) + log(1 + exp(-|a - b|))
    a, b = tr.operand(args[0], out.dtype), tr.operand(args[1], out.dtype)
    rest = tr.node("Exp", [tr.node("Neg", [tr.node("Abs", [tr.node("Sub", [a, b])])])])
    one = tr.const(np.asarray(1, out.dtype))
    return tr.node("Add", [tr.node("Max", [a, b]), tr.node("Log", [tr.node("Add", [rest, one])])])


@_fn("Fmod")
def _fmod(tr, args, kwargs, out):
    a, b = args[0], args[1]
    return tr.node("Mod", [tr.operand(a, out.dtype), tr.operand(b, out.dtype)], fmod=1)


@_fn("Remainder")
def _remainder(tr, args, kwargs, out):
    a, b = tr.operand(args[0], out.dtype), tr.operand(args[1], out.dtype)
    if np.dtype(out.dtype).kind in "iu":
        return tr.node("Mod", [a, b], fmod=0)
    return tr.node("Sub", [a, tr.node("Mul", [tr.node("Floor", [tr.node("Div", [a, b])]), b])])


@_fn("LeakyReLU")
def _leaky_relu(tr, args, kwargs, out):
    return tr.node("LeakyRelu", [tr.value(args[0])], alpha=float(args[1]))


@_fn("ELU")
def _elu(tr, args, kwargs, out):
    return tr.node("Elu", [tr.value(args[0])], alpha=float(args[1]))


@_fn("PReLU")
def _prelu(tr, args, kwargs, out):
    x, w = args
    wn = tr.value(w)
    if w.ndim == 1 and w.shape[0] > 1 and x.ndim > 2:  # (C,) slopes broadcast along dim 1
        wn = tr.node("Reshape", [wn, tr.ints([w.shape[0]] + [1] * (x.ndim - 2))])
    return tr.node("PRelu", [tr.value(x), wn])


@_fn("SiLU")
def _silu(tr, args, kwargs, out):
    x = tr.value(args[0])
    return tr.node("Mul", [x, tr.node("Sigmoid", [x])])


@_fn("Softplus")
def _softplus(tr, args, kwargs, out):
    x, beta, threshold = tr.value(args[0]), float(args[1]), float(args[2])
    dt = out.dtype
    bx = tr.node("Mul", [x, tr.const(np.asarray(beta, dt))]) if beta != 1.0 else x
    soft = tr.node("Softplus", [bx])
    if beta != 1.0:
        soft = tr.node("Div", [soft, tr.const(np.asarray(beta, dt))])
    big = tr.node("Greater", [bx, tr.const(np.asarray(threshold, dt))])
    return tr.node("Where", [big, x, soft])


@_fn("GELU")
def _gelu(tr, args, kwargs, out):
    x, approximate = tr.value(args[0]), args[1]
    dt = out.dtype

    def c(v):
        return tr.const(np.asarray(v, dt))

    if approximate == "tanh":  # 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
        x3 = tr.node("Mul", [tr.node("Mul", [x, x]), x])
        inner = tr.node(
            "Mul", [tr.node("Add", [x, tr.node("Mul", [x3, c(0.044715)])]), c(math.sqrt(2 / math.pi))]
        )
        return tr.node(
            "Mul", [tr.node("Mul", [x, c(0.5)]), tr.node("Add", [tr.node("Tanh", [inner]), c(1.0)])]
        )
    erf = tr.node("Erf", [tr.node("Mul", [x, c(1 / math.sqrt(2))])])
    return tr.node("Mul", [tr.node("Mul", [x, c(0.5)]), tr.node("Add", [erf, c(1.0)])])


@_fn("Softmax")
def _softmax(tr, args, kwargs, out):
    return tr.node("Softmax", [tr.value(args[0])], axis=int(args[1]))


@_fn("LogSoftmax")
def _log_softmax(tr, args, kwargs, out):
    return tr.node("LogSoftmax", [tr.value(args[0])], axis=int(args[1]))


@_fn("Clamp")
def _clamp(tr, args, kwargs, out):
    x, lo, hi = args
    y = tr.operand(x, out.dtype)
    if lo is not None:
        y = tr.node("Max", [y, tr.operand(lo, out.dtype)])
    if hi is not None:
        y = tr.node("Min", [y, tr.operand(hi, out.dtype)])
    return y


@_fn("Where")
def _where(tr, args, kwargs, out):
    cond, a, b = args
    c = tr.value(cond) if isinstance(cond, Tensor) else tr.const(np.asarray(cond, bool))
    if isinstance(cond, Tensor) and cond.dtype != np.bool_:
        c = tr.node("Cast", [c], to=TensorProto.BOOL)
    return tr.node("Where", [c, tr.operand(a, out.dtype), tr.operand(b, out.dtype)])


@_fn("To")
def _to(tr, args, kwargs, out):
    x = tr.value(args[0])
    if np.dtype(args[0].dtype) == np.dtype(out.dtype):
        return tr.node("Identity", [x])
    return tr.node("Cast", [x], to=_onnx_dtype(out.dtype))


@_fn("MatMul")
def _matmul(tr, args, kwargs, out):
    return tr.node("MatMul", [tr.operand(args[0], out.dtype), tr.operand(args[1], out.dtype)])


def _linear(tr, x: str, w, b) -> str:
    y = tr.node("MatMul", [x, tr.node("Transpose", [tr.value(w)], perm=[1, 0])])
    return tr.node("Add", [y, tr.value(b)]) if b is not None else y


@_fn("Linear")
def _linear_fn(tr, args, kwargs, out):
    x, w, b = args
    return _linear(tr, tr.value(x), w, b)


@_fn("Embedding")
def _embedding(tr, args, kwargs, out):
    weight, idx = args[0], args[1]
    i = tr.value(idx)
    if idx.dtype != np.int64:
        i = tr.node("Cast", [i], to=TensorProto.INT64)
    return tr.node("Gather", [tr.value(weight), i], axis=0)


@_fn("_Triangle", "Tril", "Triu")
def _triangle(tr, args, kwargs, out):
    x, diagonal, upper = args
    k = tr.const(np.asarray(int(diagonal), np.int64))
    return tr.node("Trilu", [tr.value(x), k], upper=int(bool(upper)))


@_fn("CumSum")
def _cumsum(tr, args, kwargs, out):
    x = tr.operand(args[0], out.dtype)
    return tr.node("CumSum", [x, tr.const(np.asarray(int(args[1]), np.int64))])


# -- reductions -----------------------------------------------------------------------------------
def _axes_arg(axes):
    if axes is None:
        return None
    return [axes] if isinstance(axes, (int, np.integer)) else list(axes)


@_fn("Sum")
def _sum(tr, args, kwargs, out):
    x, axes, keepdim = args[0], args[1], args[2]
    return tr.reduce("ReduceSum", tr.operand(x, out.dtype), _axes_arg(axes), keepdim)


@_fn("Mean")
def _mean(tr, args, kwargs, out):
    x, axes, keepdim = args[0], args[1], args[2]
    return tr.reduce("ReduceMean", tr.operand(x, out.dtype), _axes_arg(axes), keepdim)


def _all_axes(axes, ndim):
    return list(range(ndim)) if axes is None else [a % ndim for a in _axes_arg(axes)]


@_fn("Var", "Std")
def _var(tr, args, kwargs, out):
    x, axes, correction, keepdim = args[0], args[1], args[2], args[3]
    axes = _all_axes(axes, x.ndim)
    xn = tr.value(x)
    d = tr.node("Sub", [xn, tr.reduce("ReduceMean", xn, axes, True)])
    ss = tr.reduce("ReduceSum", tr.node("Mul", [d, d]), axes, keepdim)
    n = tr.numel(xn, x.shape, axes)
    if correction:
        n = tr.node("Sub", [n, tr.const(np.asarray([correction], np.float32))])
    n = tr.node("Cast", [n], to=_onnx_dtype(out.dtype))
    if not keepdim and len(axes) == x.ndim:
        n = tr.squeeze(n, [0])
    var = tr.node("Div", [ss, n])
    return tr.node("Sqrt", [var]) if tr.op == "Std" else var


@_fn("Norm2")
def _norm2(tr, args, kwargs, out):
    x, axes, keepdim = args
    return tr.node("Sqrt", [tr.reduce("ReduceSumSquare", tr.value(x), _axes_arg(axes), keepdim)])


@_fn("MaxMinDim")
def _max_min_dim(tr, args, kwargs, out):
    x, axis, keepdim, is_max = args[:4]
    xn = tr.value(x)
    values = tr.reduce("ReduceMax" if is_max else "ReduceMin", xn, [axis], keepdim)
    idx = tr.node("ArgMax" if is_max else "ArgMin", [xn], axis=int(axis), keepdims=int(keepdim))
    return [values, idx]


@_fn("AmaxAmin")
def _amax_amin(tr, args, kwargs, out):
    x, axes, keepdim, is_max = args[:4]
    return tr.reduce("ReduceMax" if is_max else "ReduceMin", tr.value(x), _axes_arg(axes), keepdim)


@_fn("LogSumExp")
def _logsumexp(tr, args, kwargs, out):
    x, axes, keepdim = args
    return tr.reduce("ReduceLogSumExp", tr.value(x), _axes_arg(axes), keepdim)


# -- shape ----------------------------------------------------------------------------------------
def _reshape_target(tr: _Tracer, name: str, in_shape: tuple, out_shape: tuple, minus_one: int | None):
    """The 1-D shape input of a Reshape from ``in_shape`` to ``out_shape``: each output dim is read
    from the input's run-time dims it is made of (matching groups of dims whose sizes multiply to
    the same number), so dynamic axes carry through."""
    if not tr.dynamic:
        return tr.ints(out_shape)
    pieces: list = [None] * len(out_shape)
    i = j = 0
    n, m = len(in_shape), len(out_shape)
    while i < n or j < m:
        if j < m and out_shape[j] == 1 and (i >= n or in_shape[i] != 1):
            pieces[j] = 1
            j += 1
            continue
        if i < n and in_shape[i] == 1 and (j >= m or out_shape[j] != 1):
            i += 1
            continue
        if i >= n or j >= m:  # sizes of 0: give up on matching, use the example's sizes
            return tr.ints(out_shape)
        gi, gj = [i], [j]
        pi, pj = in_shape[i], out_shape[j]
        i, j = i + 1, j + 1
        while pi != pj:
            if pi < pj and i < n:
                pi *= in_shape[i]
                gi.append(i)
                i += 1
            elif j < m:
                pj *= out_shape[j]
                gj.append(j)
                j += 1
            else:
                return tr.ints(out_shape)
        if minus_one in gj:  # the -1 absorbs whatever the group's run-time size is
            for k in gj:
                pieces[k] = -1 if k == minus_one else int(out_shape[k])
            continue
        total = tr.dim(name, gi[0])
        for k in gi[1:]:
            total = tr.node("Mul", [total, tr.dim(name, k)])
        rest = math.prod(out_shape[k] for k in gj[1:])
        pieces[gj[0]] = total if rest == 1 else tr.node("Div", [total, tr.ints([rest])])
        for k in gj[1:]:
            pieces[k] = int(out_shape[k])
    return tr.concat_shape(pieces)


def _reshape(tr, name: str, in_shape, out_shape, minus_one=None) -> str:
    return tr.node("Reshape", [name, _reshape_target(tr, name, tuple(in_shape), tuple(out_shape), minus_one)])


@_fn("Reshape")
def _reshape_fn(tr, args, kwargs, out):
    x, shape = args
    minus = [k for k, s in enumerate(shape) if s == -1]
    return _reshape(tr, tr.value(x), x.shape, out.shape, minus[0] if minus else None)


@_fn("Permute")
def _permute(tr, args, kwargs, out):
    return tr.node("Transpose", [tr.value(args[0])], perm=[int(d) for d in args[1]])


@_fn("Expand")
def _expand(tr, args, kwargs, out):
    x, target = args
    extra = len(target) - x.ndim
    # 1 where the tensor keeps its own size: the run-time size then carries through
    shape = [int(t) if k < extra or x.shape[k - extra] != t else 1 for k, t in enumerate(target)]
    return tr.node("Expand", [tr.value(x), tr.ints(shape)])


@_fn("Repeat")
def _repeat(tr, args, kwargs, out):
    x, reps = args
    xn = tr.value(x)
    if len(reps) > x.ndim:
        xn = tr.unsqueeze(xn, list(range(len(reps) - x.ndim)))
    return tr.node("Tile", [xn, tr.ints(reps)])


@_fn("Cat")
def _cat(tr, args, kwargs, out):
    return tr.node("Concat", [tr.operand(t, out.dtype, "cat") for t in args], axis=int(kwargs["axis"]))


@_fn("ConstantPad")
def _constant_pad(tr, args, kwargs, out):
    x, widths, value = args
    pads = [int(lo) for lo, _ in widths] + [int(hi) for _, hi in widths]
    return tr.node(
        "Pad", [tr.value(x), tr.ints(pads), tr.const(np.asarray(value, out.dtype))], mode="constant"
    )


@_fn("Index")
def _index(tr, args, kwargs, out):
    x, index = args[0], args[1]
    parts = list(index) if isinstance(index, tuple) else [index]
    consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if sum(1 for p in parts if p is Ellipsis) > 1:
        raise UnsupportedOperatorError("onnx.export: an index with several Ellipsis is not supported")
    full: list = []
    for p in parts:
        if p is Ellipsis:
            full.extend([slice(None)] * (x.ndim - consumed))
        else:
            full.append(p)
    full.extend([slice(None)] * (x.ndim - sum(1 for p in full if p is not None)))
    name = tr.value(x)
    starts, ends, steps, axes = [], [], [], []
    ints: list[tuple[int, int]] = []
    arrays: list[tuple[int, Any]] = []
    nones: list[int] = []  # output positions of the new axes
    axis = out_pos = 0
    for p in full:
        if p is None:
            nones.append(out_pos)
            out_pos += 1
            continue
        if isinstance(p, slice):
            if p != slice(None):
                step = 1 if p.step is None else int(p.step)
                if step == 0:
                    raise ValueError("onnx.export: slice step cannot be 0")
                start = p.start if p.start is not None else (0 if step > 0 else -1)
                stop = p.stop if p.stop is not None else (_INT64_MAX if step > 0 else _INT64_MIN)
                starts.append(start)  # an int, or a _SymInt: a bound read from a shape at run time
                ends.append(stop)
                steps.append(step)
                axes.append(axis)
            out_pos += 1
        elif isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            ints.append((axis, int(p)))
        elif hasattr(p, "dtype") and np.dtype(p.dtype).kind in "iu":
            arrays.append((axis, p))
            out_pos += p.ndim
        else:
            raise UnsupportedOperatorError(
                f"onnx.export: indexing with {type(p).__name__} (dtype {getattr(p, 'dtype', '-')}) is not "
                "supported; boolean masks give data-dependent shapes"
            )
        axis += 1
    if len(arrays) > 1 or (arrays and ints):
        raise UnsupportedOperatorError(
            "onnx.export: indexing with more than one integer array is not supported"
        )
    if axes:
        bounds = [tr.concat_shape(_sym_pieces(b)) for b in (starts, ends)]
        name = tr.node("Slice", [name, *bounds, tr.ints(axes), tr.ints(steps)])
    for ax, i in sorted(ints, reverse=True):  # from the last axis, so earlier axis numbers stay valid
        name = tr.node("Gather", [name, tr.const(np.asarray(i, np.int64))], axis=ax)
    for ax, arr in arrays:
        tensors = kwargs.get("index_tensors", ())
        src = next((t for t in tensors if t._data is arr), None)
        idx = tr.value(src) if src is not None else tr.const(np.asarray(_host(arr), np.int64))
        if src is not None and src.dtype != np.int64:
            idx = tr.node("Cast", [idx], to=TensorProto.INT64)
        name = tr.node("Gather", [name, idx], axis=ax)
    if nones:
        name = tr.unsqueeze(name, nones)
    if name == tr.names.get(id(x)):
        name = tr.node("Identity", [name])
    return name


# -- layers ---------------------------------------------------------------------------------------
def _conv_pads(geom) -> list:
    """Pads (all begins, then all ends) that give the op's output size; the end pad is what the
    last window needs."""
    hi = [
        max(0, (o - 1) * s + d * (k - 1) + 1 - lo - n)
        for n, o, k, s, d, lo in zip(
            geom.in_size, geom.out_size, geom.kernel, geom.stride, geom.dilation, geom.pad_lo
        )
    ]
    return [int(p) for p in geom.pad_lo] + hi


@_fn("ConvNd")
def _conv(tr, args, kwargs, out):
    x, w, b, geom = args
    inputs = [tr.value(x), tr.value(w)] + ([tr.value(b)] if b is not None else [])
    return tr.node(
        "Conv",
        inputs,
        kernel_shape=list(geom.kernel),
        strides=list(geom.stride),
        dilations=list(geom.dilation),
        pads=_conv_pads(geom),
        group=int(geom.groups),
    )


@_fn("ConvTransposeNd")
def _conv_transpose(tr, args, kwargs, out):
    g, w, b, geom = args  # geom: the forward conv whose adjoint this is (its in_size is our output)
    lo, hi, out_pad = [], [], []
    for n_in, n_out, k, s, d, p in zip(
        geom.out_size, geom.in_size, geom.kernel, geom.stride, geom.dilation, geom.pad_lo
    ):
        rest = s * (n_in - 1) + d * (k - 1) + 1 - p - n_out
        lo.append(int(p))
        hi.append(max(rest, 0))
        out_pad.append(max(-rest, 0))
    inputs = [tr.value(g), tr.value(w)] + ([tr.value(b)] if b is not None else [])
    return tr.node(
        "ConvTranspose",
        inputs,
        kernel_shape=list(geom.kernel),
        strides=list(geom.stride),
        dilations=list(geom.dilation),
        pads=lo + hi,
        output_padding=out_pad,
        group=int(geom.groups),
    )


@_fn("MaxPoolNd")
def _max_pool(tr, args, kwargs, out):
    x, geom, return_indices = args
    if return_indices:
        raise UnsupportedOperatorError("onnx.export: max pooling with return_indices=True is not supported")
    attrs = dict(kernel_shape=list(geom.kernel), strides=list(geom.stride), pads=_conv_pads(geom))
    if any(d != 1 for d in geom.dilation):
        attrs["dilations"] = list(geom.dilation)
    return tr.node("MaxPool", [tr.value(x)], **attrs)


@_fn("AvgPoolNd")
def _avg_pool(tr, args, kwargs, out):
    x, geom, div = args
    k = math.prod(geom.kernel)
    y = tr.node(
        "AveragePool",
        [tr.value(x)],
        kernel_shape=list(geom.kernel),
        strides=list(geom.stride),
        pads=_conv_pads(geom),
        count_include_pad=1,
    )  # = window sum / k; rescaled to PyTorch's divisor below
    if isinstance(div, (int, float, np.number)):
        if float(div) == k:
            return y
        return tr.node("Mul", [y, tr.const(np.asarray(k / float(div), out.dtype))])
    d = np.moveaxis(np.asarray(_host(div), np.float64), -1, 1)  # (1, *O, 1) -> (1, 1, *O)
    return tr.node("Mul", [y, tr.const((k / d).astype(out.dtype))])


@_fn("Normalize")
def _normalize(tr, args, kwargs, out):
    x, w, b, axes, param_axes, eps, stats = args
    xn = tr.value(x)
    d = tr.node("Sub", [xn, tr.reduce("ReduceMean", xn, axes, True)])
    var = tr.reduce("ReduceMean", tr.node("Mul", [d, d]), axes, True)
    std = tr.node("Sqrt", [tr.node("Add", [var, tr.const(np.asarray(eps, out.dtype))])])
    y = tr.node("Div", [d, std])
    if w is not None:
        y = tr.node("Mul", [y, tr.value(w)])
    if b is not None:
        y = tr.node("Add", [y, tr.value(b)])
    return y


# -- recurrent layers: one (layer, direction) of RNN / LSTM / GRU ----------------------------------
_GATE_ORDER = {  # PyTorch's gate blocks, in the order ONNX wants them
    "LSTMSequence": [0, 3, 1, 2],  # PyTorch i, f, g, o -> ONNX i, o, f, c
    "GRUSequence": [1, 0, 2],  # PyTorch r, z, n -> ONNX z, r, h
    "RNNTanhSequence": [0],
    "RNNReluSequence": [0],
}


def _gates(tr, t: Tensor, order: list, op: str):
    if tr.is_traced(t):
        raise UnsupportedOperatorError(
            f"onnx.export: {op} with weights computed from the input is not supported"
        )
    tr.check_flagged(t, op)
    a = _host(t._data)
    blocks = np.split(a, len(order), axis=0)
    return np.concatenate([blocks[k] for k in order], axis=0)


@_fn("LSTMSequence", "GRUSequence", "RNNTanhSequence", "RNNReluSequence")
def _recurrent(tr, args, kwargs, out):
    op = tr.op
    if len(args) > 8 or set(kwargs) - {"reverse"}:
        raise UnsupportedOperatorError(
            f"onnx.export: {op} with arguments beyond (x, h0, c0, weights, reverse)"
        )
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = args[:7]
    reverse = bool(args[7]) if len(args) > 7 else bool(kwargs.get("reverse", False))
    order = _GATE_ORDER[op]
    hidden = w_hh.shape[1]
    if w_hh.shape[0] != len(order) * hidden:  # e.g. an LSTM's proj_size: not ONNX's LSTM
        raise UnsupportedOperatorError(
            f"onnx.export: {op} with hidden-to-hidden weights of shape {tuple(w_hh.shape)} (proj_size)"
        )
    W = tr.const(_gates(tr, w_ih, order, op)[None])
    R = tr.const(_gates(tr, w_hh, order, op)[None])
    B = ""
    if b_ih is not None:
        bias = np.concatenate([_gates(tr, b_ih, order, op), _gates(tr, b_hh, order, op)])
        B = tr.const(bias[None])
    inputs = [tr.value(x), W, R, B, ""]
    inputs.append(tr.unsqueeze(tr.value(h0), [0]) if h0 is not None else "")
    attrs: dict = dict(hidden_size=int(hidden), direction="reverse" if reverse else "forward")
    if op == "LSTMSequence":
        inputs.append(tr.unsqueeze(tr.value(c0), [0]) if c0 is not None else "")
        y, yh, yc = tr.node("LSTM", inputs, n_out=3, **attrs)
        return [tr.squeeze(y, [1]), tr.squeeze(yh, [0]), tr.squeeze(yc, [0])]
    if op == "GRUSequence":
        attrs["linear_before_reset"] = 1
        y, yh = tr.node("GRU", inputs, n_out=2, **attrs)
    else:
        attrs["activations"] = ["Relu" if op == "RNNReluSequence" else "Tanh"]
        y, yh = tr.node("RNN", inputs, n_out=2, **attrs)
    return [tr.squeeze(y, [1]), tr.squeeze(yh, [0])]


# -- functions translated as a whole ---------------------------------------------------------------
def _mask_bias(tr, mask, dtype, allowed_if_true: bool) -> str:
    """An additive mask: 0 where attention is allowed, -inf where masked (a float mask as it is)."""
    m = tr.value(mask, "attention mask")
    if mask.dtype != np.bool_:
        return tr.node("Cast", [m], to=_onnx_dtype(dtype)) if mask.dtype != dtype else m
    zero, ninf = tr.const(np.asarray(0, dtype)), tr.const(np.asarray(-np.inf, dtype))
    return tr.node("Where", [m, zero, ninf] if allowed_if_true else [m, ninf, zero])


def _sdpa(tr, q, k, v, q_shape, k_shape, scale: float, bias: str | None, causal: bool, dtype):
    """softmax(Q Kᵀ · scale + bias) V on ONNX values; returns (output, weights)."""
    nd = len(k_shape)
    perm = list(range(nd - 2)) + [nd - 1, nd - 2]
    scores = tr.node("MatMul", [q, tr.node("Transpose", [k], perm=perm)])
    scores = tr.node("Mul", [scores, tr.const(np.asarray(scale, dtype))])
    if causal:
        L = tr.size(q, len(q_shape) - 2, q_shape[-2])
        S = tr.size(k, nd - 2, k_shape[-2])
        ones = tr.node(
            "ConstantOfShape",
            [tr.node("Concat", [L, S], axis=0)],
            value=helper.make_tensor("one", TensorProto.INT64, [1], [1]),
        )
        allowed = tr.node("Cast", [tr.node("Trilu", [ones], upper=0)], to=TensorProto.BOOL)
        zero, ninf = tr.const(np.asarray(0, dtype)), tr.const(np.asarray(-np.inf, dtype))
        scores = tr.node("Add", [scores, tr.node("Where", [allowed, zero, ninf])])
    if bias is not None:
        scores = tr.node("Add", [scores, bias])
    weights = tr.node("Softmax", [scores], axis=-1)
    return tr.node("MatMul", [weights, v]), weights


def _sdpa_fn(tr, args, kwargs, out):
    names = ["query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa"]
    a = dict(zip(names, args))
    a.update(kwargs)
    q, k, v = a["query"], a["key"], a["value"]
    if a.get("dropout_p", 0.0):
        raise UnsupportedOperatorError(
            "onnx.export: scaled_dot_product_attention with dropout_p > 0 is not supported"
        )
    scale = a.get("scale")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    mask = a.get("attn_mask")
    bias = _mask_bias(tr, mask, q.dtype, True) if mask is not None else None
    res, _ = _sdpa(
        tr,
        tr.value(q),
        tr.value(k),
        tr.value(v),
        q.shape,
        k.shape,
        scale,
        bias,
        bool(a.get("is_causal")),
        q.dtype,
    )
    return res


def _adaptive_avg_pool2d_fn(tr, args, kwargs, out):
    x = args[0]
    name = tr.value(x)
    oh, ow = out.shape[-2:]
    h, w = x.shape[-2:]
    if oh == ow == 1 and x.ndim == 4:  # any input size: the global average
        return tr.node("GlobalAveragePool", [name])
    from chainrule.ops.pooling import _adaptive_matrix

    dt = out.dtype
    a_h = _host(_adaptive_matrix(h, oh, dt, np)._data)
    a_w = _host(_adaptive_matrix(w, ow, dt, np)._data)
    # PyTorch's windows as two averaging matrices: A_h · x · A_wᵀ
    return tr.node(
        "MatMul", [tr.const(a_h), tr.node("MatMul", [name, tr.const(np.ascontiguousarray(a_w.T))])]
    )


_COMPARE_OPS = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual",
                "and": "And", "or": "Or", "xor": "Xor"}  # fmt: skip


def _compare_fn(tr, args, kwargs, out):
    op, a, b = args
    if op in ("and", "or", "xor"):
        if out.dtype != np.bool_:
            raise UnsupportedOperatorError(f"onnx.export: bitwise {op} on integers is not supported")
        dt = np.dtype(np.bool_)
    else:
        dt = np.result_type(*(t.dtype if isinstance(t, Tensor) else np.asarray(t).dtype for t in (a, b)))
        if isinstance(a, Tensor) and not isinstance(b, Tensor):
            dt = np.dtype(a.dtype)
    x, y = tr.operand(a, dt, op), tr.operand(b, dt, op)
    if op == "ne":
        return tr.node("Not", [tr.node("Equal", [x, y])])
    return tr.node(_COMPARE_OPS[op], [x, y])


def _causal_mask_fn(tr, args, kwargs, out):
    sz = args[0] if args else kwargs["sz"]
    n = sz.onnx() if isinstance(sz, _SymInt) else tr.ints([int(sz)])
    value = helper.make_tensor("value", _onnx_dtype(out.dtype), [1], [-np.inf])
    full = tr.node("ConstantOfShape", [tr.node("Concat", [n, n], axis=0)], value=value)
    return tr.node("Trilu", [full, tr.const(np.asarray(1, np.int64))], upper=1)  # -inf above the diagonal


def _masked_fn(tr, args, kwargs, out):
    x, mask, value = args[0], args[1], args[2]
    return tr.node("Where", [tr.value(mask, "masked_fill"), tr.operand(value, out.dtype), tr.value(x)])


def _arg_fn(tr, args, kwargs, out):
    x, dim, keepdim, op = args
    name = tr.value(x)
    onnx_op = "ArgMax" if op == "argmax" else "ArgMin"
    if dim is None:  # of the flattened tensor
        flat = tr.node(onnx_op, [tr.node("Reshape", [name, tr.ints([-1])])], axis=0, keepdims=0)
        return tr.node("Reshape", [flat, tr.ints([1] * x.ndim if keepdim else [])])
    axis = dim if isinstance(dim, (int, np.integer)) else dim[0]
    return tr.node(onnx_op, [name], axis=int(axis) % max(x.ndim, 1), keepdims=int(bool(keepdim)))


def _sign_fn(tr, args, kwargs, out):
    return tr.node("Sign", [tr.value(args[0])])


def _logical_not_fn(tr, args, kwargs, out):
    (x,) = args
    if x.dtype != np.bool_:
        raise UnsupportedOperatorError("onnx.export: ~ on integer tensors is not supported")
    return tr.node("Not", [tr.value(x)])


# ============================================================================== module translations
MODULES: dict = {}


def _module(cls_path: str):
    def deco(f):
        MODULES[cls_path] = f
        return f

    return deco


@_module("MultiheadAttention")
def _mha(tr, m, args, kwargs, out):
    names = [
        "query",
        "key",
        "value",
        "key_padding_mask",
        "need_weights",
        "attn_mask",
        "average_attn_weights",
        "is_causal",
    ]
    a = {"need_weights": True, "average_attn_weights": True}
    a.update(zip(names, args))
    a.update(kwargs)
    query, key, value = a["query"], a["key"], a["value"]
    E, H = m.embed_dim, m.num_heads
    hd = E // H
    dt = query.dtype
    unbatched = query.ndim == 2

    def prep(t):
        n = tr.value(t)
        if unbatched:
            return tr.unsqueeze(n, [0])
        return n if m.batch_first else tr.node("Transpose", [n], perm=[1, 0, 2])  # -> (N, len, E)

    q, k, v = prep(query), prep(key), prep(value)
    if m.in_proj_weight is not None:
        w = _host(m.in_proj_weight._data)
        ws = np.split(w, 3, axis=0)
    else:
        ws = [_host(p._data) for p in (m.q_proj_weight, m.k_proj_weight, m.v_proj_weight)]
    bs = np.split(_host(m.in_proj_bias._data), 3) if m.in_proj_bias is not None else [None] * 3

    def project(x, w, b):
        y = tr.node("MatMul", [x, tr.const(np.ascontiguousarray(w.T))])
        y = tr.node("Add", [y, tr.const(b)]) if b is not None else y
        y = tr.node("Reshape", [y, tr.ints([0, 0, H, hd])])
        return tr.node("Transpose", [y], perm=[0, 2, 1, 3])  # (N, H, len, hd)

    qh, kh, vh = project(q, ws[0], bs[0]), project(k, ws[1], bs[1]), project(v, ws[2], bs[2])
    bias = None
    mask = a.get("attn_mask")
    if mask is not None:
        bias = _mask_bias(tr, mask, dt, False)
        if mask.ndim == 3:  # (N·H, L, S) -> (N, H, L, S)
            bias = tr.node("Reshape", [bias, tr.ints([-1, H, 0, 0])])
    kpm = a.get("key_padding_mask")
    if kpm is not None:
        pad = _mask_bias(tr, kpm, dt, False)
        pad = tr.unsqueeze(pad, [0, 1, 2] if unbatched else [1, 2])  # (N, 1, 1, S)
        bias = pad if bias is None else tr.node("Add", [bias, pad])
    attended, weights = _sdpa(
        tr, qh, kh, vh, (1, H, 2, hd), (1, H, 2, hd), 1.0 / math.sqrt(hd), bias, False, dt
    )
    o = tr.node("Reshape", [tr.node("Transpose", [attended], perm=[0, 2, 1, 3]), tr.ints([0, 0, E])])
    o = _linear(tr, o, m.out_proj.weight, m.out_proj.bias)
    if unbatched:
        o = tr.squeeze(o, [0])
    elif not m.batch_first:
        o = tr.node("Transpose", [o], perm=[1, 0, 2])
    w_out = None
    if a["need_weights"]:
        w_out = tr.reduce("ReduceMean", weights, [1], False) if a["average_attn_weights"] else weights
        if unbatched:
            w_out = tr.squeeze(w_out, [0])
    return [o, w_out]


def _mha_ok(m, args, kwargs) -> bool:
    return getattr(m, "bias_k", None) is None and not getattr(m, "add_zero_attn", False)


@_module("Conv1d")
@_module("Conv2d")
@_module("Conv3d")
def _conv_module(tr, m, args, kwargs, out):
    nd = m._nd
    x = args[0] if args else kwargs["input"]
    pad = list(m.padding) if isinstance(m.padding, (tuple, list)) else [m.padding] * nd
    inputs = [tr.value(x), tr.value(m.weight)] + ([tr.value(m.bias)] if m.bias is not None else [])

    def tup(v):
        return [int(s) for s in v] if isinstance(v, (tuple, list)) else [int(v)] * nd

    return tr.node(
        "Conv",
        inputs,
        kernel_shape=list(m.weight.shape[2:]),
        strides=tup(m.stride),
        dilations=tup(m.dilation),
        pads=[int(p) for p in pad] * 2,
        group=int(m.groups),
    )


def _conv_ok(m, args, kwargs) -> bool:
    x = args[0] if args else kwargs.get("input")
    return (
        m.padding_mode == "zeros"
        and not isinstance(m.padding, str)
        and isinstance(x, Tensor)
        and x.ndim == m._nd + 2
    )


def _window(v, nd: int) -> list:
    return [int(s) for s in v] if isinstance(v, (tuple, list)) else [int(v)] * nd


@_module("MaxPool1d")
@_module("MaxPool2d")
@_module("MaxPool3d")
@_module("AvgPool1d")
@_module("AvgPool2d")
@_module("AvgPool3d")
def _pool_module(tr, m, args, kwargs, out):
    nd = m._nd
    x = args[0] if args else kwargs["input"]
    attrs = dict(
        kernel_shape=_window(m.kernel_size, nd),
        strides=_window(m.stride, nd),
        pads=_window(m.padding, nd) * 2,  # PyTorch's padding on both sides: any input size
    )
    if type(m).__name__.startswith("Max"):
        dilation = _window(m.dilation, nd)
        if any(d != 1 for d in dilation):
            attrs["dilations"] = dilation
        return tr.node("MaxPool", [tr.value(x)], **attrs)
    return tr.node("AveragePool", [tr.value(x)], count_include_pad=int(bool(m.count_include_pad)), **attrs)


def _pool_ok(m, args, kwargs) -> bool:
    x = args[0] if args else kwargs.get("input")
    return (
        not m.ceil_mode
        and not getattr(m, "return_indices", False)
        and getattr(m, "divisor_override", None) is None
        and isinstance(x, Tensor)
        and x.ndim == m._nd + 2
    )


def _batch_norm_fn(tr, args, kwargs, out):
    names = ["input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"]
    a = {"weight": None, "bias": None, "eps": 1e-5}
    a.update(zip(names, args))
    a.update(kwargs)
    x, dt = a["input"], a["input"].dtype
    for name in ("running_mean", "running_var"):
        if tr.is_traced(a[name]):
            raise UnsupportedOperatorError(f"onnx.export: batch_norm with {name} computed from the input")
    rv = _host(a["running_var"]._data)
    shape = (-1,) + (1,) * (x.ndim - 2)
    # chainrule's order, (x - μ) · invstd · γ + β, with invstd rounded to the input's dtype
    invstd = (1.0 / np.sqrt(rv + a["eps"])).astype(dt).reshape(shape)
    mean = _host(a["running_mean"]._data).astype(dt).reshape(shape)
    y = tr.node("Mul", [tr.node("Sub", [tr.value(x), tr.const(mean)]), tr.const(invstd)])
    if a["weight"] is not None:
        y = tr.node("Mul", [y, tr.node("Reshape", [tr.value(a["weight"]), tr.ints(shape)])])
    if a["bias"] is not None:
        y = tr.node("Add", [y, tr.node("Reshape", [tr.value(a["bias"]), tr.ints(shape)])])
    return y


_MODULE_OK = {"MultiheadAttention": _mha_ok, "Conv1d": _conv_ok, "Conv2d": _conv_ok, "Conv3d": _conv_ok}
_MODULE_OK.update({f"{kind}Pool{n}d": _pool_ok for kind in ("Max", "Avg") for n in (1, 2, 3)})


def _module_translation(m):
    """The translation of module ``m`` when its class is one that is translated whole (and its
    forward is that class's own, with no hooks), else None."""
    if m._forward_hooks or m._forward_pre_hooks:
        return None
    for cls in type(m).__mro__:
        if cls.__module__.startswith("chainrule.nn") and cls.__name__ in MODULES:
            return cls.__name__ if type(m).forward is cls.forward else None  # an overridden forward: op by op
    return None


# ============================================================================== the tracer's hooks
def _any_traced(tr: _Tracer, values) -> bool:
    for v in values:
        if isinstance(v, _SymInt):
            return True
        if isinstance(v, slice):
            v = (v.start, v.stop, v.step)
        if isinstance(v, Tensor):
            if id(v) in tr.names:
                return True
            tr.check_flagged(v, "an op")
        elif isinstance(v, (tuple, list)):
            if _any_traced(tr, v):
                return True
    return False


def _run_inside(tr: _Tracer, fn, *args, **kwargs):
    tr.depth += 1
    try:
        return fn(*args, **kwargs)
    finally:
        tr.depth -= 1


def _install(tr: _Tracer) -> list:
    """Switch the hooks on; returns what ``_uninstall`` needs to restore."""
    global _ACTIVE
    import chainrule
    import chainrule.nn.functional as F
    from chainrule.nn import normalization as norm_modules
    from chainrule.nn.transformer import Transformer
    from chainrule.ops import attention as att_ops
    from chainrule.ops import elementwise as ew
    from chainrule.ops import indexing as ix_ops
    from chainrule.ops import normalization as norm_ops
    from chainrule.ops import pooling as pool_ops
    from chainrule.ops import reduce as reduce_ops

    saved: list = []

    def patch(owner, name, new):
        saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, new)

    orig_apply = Function.__dict__["apply"].__func__

    def apply(cls, *args, **kwargs):
        if tr.depth:
            return orig_apply(cls, *args, **kwargs)
        traced = _any_traced(tr, args) or _any_traced(tr, kwargs.values())
        out = _run_inside(tr, orig_apply, cls, *args, **kwargs)
        if not traced:
            return out  # only constants in: a constant out
        # only chainrule's own op classes: a user's Function (or subclass) is not what its name says
        emit = FUNCTIONS.get(cls.__name__) if cls.__module__.startswith("chainrule.ops.") else None
        if emit is None:
            raise UnsupportedOperatorError(
                f"onnx.export: the op {cls.name()} (chainrule.{cls.__module__.split('chainrule.')[-1]}) "
                "has no ONNX translation"
            )
        tr.op = cls.__name__
        _out_names(tr, _run_inside(tr, emit, tr, args, kwargs, out), out)
        return out

    patch(Function, "apply", classmethod(apply))

    orig_call = Module.__dict__["__call__"]

    def call(self, *args, **kwargs):
        if tr.depth:
            return orig_call(self, *args, **kwargs)
        kind = _module_translation(self)
        if kind is None or not (_any_traced(tr, args) or _any_traced(tr, kwargs.values())):
            return orig_call(self, *args, **kwargs)
        ok = _MODULE_OK.get(kind)
        if ok is not None and not ok(self, args, kwargs):
            return orig_call(self, *args, **kwargs)
        out = _run_inside(tr, orig_call, self, *args, **kwargs)
        _out_names(tr, _run_inside(tr, MODULES[kind], tr, self, args, kwargs, out), out)
        return out

    patch(Module, "__call__", call)

    orig_make = Tensor.__dict__["_make"].__func__

    def make(cls, data, *args, **kwargs):
        t = orig_make(cls, data, *args, **kwargs)
        if not tr.depth:
            _note_new(tr, t, data, sys._getframe(1))
        return t

    patch(Tensor, "_make", classmethod(make))

    orig_init = Tensor.__dict__["__init__"]

    def init(self, data, *args, **kwargs):
        orig_init(self, data, *args, **kwargs)
        if not tr.depth:
            _note_new(tr, self, data, sys._getframe(1))

    patch(Tensor, "__init__", init)

    for attr in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__"):
        patch(Tensor, attr, _guard(tr, attr, Tensor.__dict__[attr]))
    patch(Tensor, "_check_inplace", _guard_write(tr, "", Tensor.__dict__["_check_inplace"]))
    data = Tensor.__dict__["data"]
    patch(Tensor, "data", property(data.fget, _guard_write(tr, "data", data.fset)))

    def function_hook(fn, emit):
        def hooked(*args, **kwargs):
            if tr.depth or not (_any_traced(tr, args) or _any_traced(tr, kwargs.values())):
                return fn(*args, **kwargs)
            out = _run_inside(tr, fn, *args, **kwargs)
            if out is NotImplemented:
                return out
            _out_names(tr, _run_inside(tr, emit, tr, args, kwargs, out), out)
            return out

        return hooked

    sdpa = function_hook(att_ops.scaled_dot_product_attention, _sdpa_fn)
    patch(att_ops, "scaled_dot_product_attention", sdpa)
    patch(F, "scaled_dot_product_attention", sdpa)
    patch(ew, "compare", function_hook(ew.compare, _compare_fn))
    aap = function_hook(pool_ops.adaptive_avg_pool2d, _adaptive_avg_pool2d_fn)
    patch(pool_ops, "adaptive_avg_pool2d", aap)
    patch(F, "adaptive_avg_pool2d", aap)
    bn = norm_ops.batch_norm

    def batch_norm(*args, **kwargs):
        training = args[5] if len(args) > 5 else kwargs.get("training", False)
        return (bn if training else bn_hook)(*args, **kwargs)

    bn_hook = function_hook(bn, _batch_norm_fn)
    for owner in (norm_ops, F, norm_modules):
        patch(owner, "batch_norm", batch_norm)
    patch(ew, "logical_not", function_hook(ew.logical_not, _logical_not_fn))
    patch(ix_ops, "_masked", function_hook(ix_ops._masked, _masked_fn))
    mask_fn = Transformer.__dict__["generate_square_subsequent_mask"].__func__
    patch(
        Transformer, "generate_square_subsequent_mask", staticmethod(function_hook(mask_fn, _causal_mask_fn))
    )
    patch(reduce_ops, "_arg", function_hook(reduce_ops._arg, _arg_fn))
    sign = function_hook(ew.sign, _sign_fn)
    patch(ew, "sign", sign)
    patch(chainrule, "sign", sign)
    _install_sizes(tr, patch)
    _ACTIVE = tr
    return saved


def _install_sizes(tr: _Tracer, patch) -> None:
    """``zeros_like``/``ones_like``/``full_like`` of a traced tensor take its run-time shape; in a
    dynamic export, ``.shape`` of a traced tensor gives ``_SymInt`` sizes, and the functions that
    take sizes (reshape, view, expand, zeros, ones, full, arange) turn them into run-time shapes."""
    import chainrule
    from chainrule.ops import creation
    from chainrule.ops import shape as shape_ops

    def shape(self):
        s = self._data.shape
        name = None if tr.depth else tr.names.get(id(self))
        if name is None:
            return s
        return tuple(_SymInt(v, tr, lambda k=k: tr.dim(name, k)) for k, v in enumerate(s))

    def size(self, dim=None):
        s = self.shape
        return s if dim is None else s[shape_ops.norm_dim(dim, len(s), "size")]

    if tr.dynamic:
        patch(Tensor, "shape", property(shape))
        patch(Tensor, "size", size)

    def sized(fn, emit, sizes_of):
        def hooked(*args, **kwargs):
            if tr.depth:
                return fn(*args, **kwargs)
            sizes = sizes_of(args, kwargs)
            if not _has_sym(sizes) and not _any_traced(tr, args):
                return fn(*args, **kwargs)
            out = _run_inside(tr, fn, *args, **kwargs)
            if not (args and out is args[0]):
                _out_names(tr, _run_inside(tr, emit, tr, args, kwargs, out, sizes), out)
            return out

        return hooked

    def reshape_emit(tr, args, kwargs, out, sizes):
        x = args[0]
        if not _has_sym(sizes):
            minus = [k for k, v in enumerate(sizes) if v == -1]
            return _reshape(tr, tr.value(x), x._data.shape, out._data.shape, minus[0] if minus else None)
        return tr.node("Reshape", [tr.value(x), tr.concat_shape(_sym_pieces(sizes))])

    def expand_emit(tr, args, kwargs, out, sizes):
        x = args[0]
        extra = len(sizes) - x.ndim
        pieces = []
        for k, v in enumerate(sizes):
            own = x._data.shape[k - extra] if k >= extra else None
            keep = v == -1 or (own is not None and own == v and not isinstance(v, _SymInt))
            pieces.append(1 if keep else v.onnx() if isinstance(v, _SymInt) else int(v))
        return tr.node("Expand", [tr.value(x), tr.concat_shape(pieces)])

    def filled(value_of):
        def emit(tr, args, kwargs, out, sizes):
            value = helper.make_tensor(
                "value", _onnx_dtype(out.dtype), [1], [np.asarray(value_of(args, kwargs)).item()]
            )
            return tr.node("ConstantOfShape", [tr.concat_shape(_sym_pieces(sizes))], value=value)

        return emit

    def like(value_of):
        def emit(tr, args, kwargs, out, sizes):
            value = helper.make_tensor(
                "value", _onnx_dtype(out.dtype), [1], [np.asarray(value_of(args, kwargs)).item()]
            )
            return tr.node("ConstantOfShape", [tr.node("Shape", [tr.value(args[0])])], value=value)

        return emit

    def size_args(args, kwargs):
        return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)

    def arange_emit(tr, args, kwargs, out, sizes):
        start, end, step = (0, args[0], 1) if len(args) == 1 else (tuple(args) + (1,))[:3]
        dt = out.dtype
        return tr.node("Range", [tr.operand(v, dt) for v in (start, end, step)])

    shape_of = {
        "reshape": lambda a, k: tuple(a[1]) if len(a) > 1 and isinstance(a[1], (tuple, list)) else (),
        "expand": lambda a, k: tuple(a[1]) if len(a) > 1 and isinstance(a[1], (tuple, list)) else (),
    }
    reshape_hook = sized(shape_ops.reshape, reshape_emit, shape_of["reshape"])
    expand_hook = sized(shape_ops.expand, expand_emit, shape_of["expand"])
    for owner in (shape_ops, chainrule):
        patch(owner, "reshape", reshape_hook)
        patch(owner, "expand", expand_hook)
    hooks = {
        "zeros": sized(creation.zeros, filled(lambda a, k: 0), size_args),
        "ones": sized(creation.ones, filled(lambda a, k: 1), size_args),
        "full": sized(
            creation.full,
            filled(lambda a, k: a[1] if len(a) > 1 else k["fill_value"]),
            lambda a, k: tuple(a[0]),
        ),
        "arange": sized(creation.arange, arange_emit, lambda a, k: tuple(a)),
        "zeros_like": sized(creation.zeros_like, like(lambda a, k: 0), lambda a, k: ()),
        "ones_like": sized(creation.ones_like, like(lambda a, k: 1), lambda a, k: ()),
        "full_like": sized(
            creation.full_like, like(lambda a, k: a[1] if len(a) > 1 else k["fill_value"]), lambda a, k: ()
        ),
    }
    for name, hook in hooks.items():
        for owner in (creation, chainrule):
            patch(owner, name, hook)


def _uninstall(saved: list) -> None:
    global _ACTIVE
    for owner, name, value in reversed(saved):
        setattr(owner, name, value)
    _ACTIVE = None


def _note_new(tr: _Tracer, t: Tensor, data, frame) -> None:
    """A tensor made outside the recorded ops: an alias of a traced one (``detach``), a constant, or
    (when the code that made it had a traced tensor or a run-time size at hand) something the graph
    cannot reproduce."""
    if isinstance(data, Tensor):
        data = data._data
    name = tr.arrays.get(id(data))
    if name is not None:
        tr.register(t, name)
        return
    first = True
    while frame is not None and (first or _in_op_layer(frame.f_code.co_filename)):
        # the function that made it, and the chainrule op functions it was called from
        for v in frame.f_locals.values():
            if _depends_on_input(tr, v):
                code = frame.f_code
                tr.flagged[id(t)] = f"{code.co_name}, {os.path.basename(code.co_filename)}:{frame.f_lineno}"
                tr.keep.append(t)
                return
        frame, first = frame.f_back, False


def _depends_on_input(tr: _Tracer, v) -> bool:
    if isinstance(v, _SymInt) or (isinstance(v, (tuple, list)) and any(isinstance(s, _SymInt) for s in v)):
        return True
    return (isinstance(v, Tensor) and id(v) in tr.names) or (hasattr(v, "shape") and id(v) in tr.arrays)


_OP_LAYER = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), p) for p in ("ops", "tensor.py")
)


def _in_op_layer(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_OP_LAYER)


def _guard(tr: _Tracer, attr: str, orig):
    def guarded(self, *args, **kwargs):
        if not tr.depth and (id(self) in tr.names or id(self) in tr.flagged):
            raise RuntimeError(
                f"onnx.export: the model reads the value of a traced tensor (Tensor.{attr}, shape "
                f"{tuple(self.shape)}) in Python; the graph would hold the example's value. Use tensor ops "
                "instead of Python control flow on tensor values."
            )
        return orig(self, *args, **kwargs)

    return guarded


def _guard_write(tr: _Tracer, attr: str, orig):
    def guarded(self, *args, **kwargs):
        if not tr.depth and (id(self) in tr.names or id(self) in tr.flagged):
            raise RuntimeError(
                f"onnx.export: the model changes a traced tensor (shape {tuple(self.shape)}) in place "
                f"({attr or args[0]}); the graph records values, not memory: use the "
                "out-of-place op (x = x + 1 rather than x += 1, x.add(y) rather than x.add_(y))"
            )
        return orig(self, *args, **kwargs)

    return guarded


# ============================================================================== export
def _flatten(out, acc: list) -> list:
    if isinstance(out, Tensor):
        acc.append(out)
    elif isinstance(out, (tuple, list)):
        for o in out:
            _flatten(o, acc)
    elif isinstance(out, dict):
        for o in out.values():
            _flatten(o, acc)
    elif out is not None and not isinstance(out, (bool, int, float, str)):
        raise TypeError(
            f"onnx.export: the model returned a {type(out).__name__}; expected Tensors (or tuples of them)"
        )
    return acc


def _flatten_inputs(values, acc: list) -> list:
    for v in values:
        if isinstance(v, Tensor):
            acc.append(v)
        elif isinstance(v, (tuple, list)):
            _flatten_inputs(v, acc)
    return acc


def _axes_of(spec, name: str, ndim: int) -> dict:
    if isinstance(spec, dict):
        items = spec.items()
    elif isinstance(spec, (list, tuple)):
        items = [(a, f"{name}_dim{a}") for a in spec]
    else:
        raise ValueError(
            f"onnx.export: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of axes, "
            f"got {spec!r}"
        )
    axes = {}
    for a, label in items:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(
                f"onnx.export: dynamic_axes[{name!r}] names axis {a!r}, but {name!r} has {ndim} dims"
            )
        axes[int(a) % ndim] = str(label)
    return axes


def _value_info(name: str, t: Tensor, dyn: dict | None, dynamic: bool, is_output: bool):
    dims: list = []
    for k, s in enumerate(t.shape):
        if dyn and k in dyn:
            dims.append(dyn[k])
        elif is_output and dynamic:
            dims.append(None)  # may depend on the dynamic input axes
        else:
            dims.append(int(s))
    return helper.make_tensor_value_info(name, _onnx_dtype(t.dtype), dims)


def _param_names(model) -> dict:
    names: dict = {}
    if isinstance(model, Module):
        for n, p in model.named_parameters():
            names.setdefault(id(p), n)
        for n, b in model.named_buffers():
            if b is not None:
                names.setdefault(id(b), n)
    return names


def export(
    model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=None
) -> None:
    """The body of ``cr.onnx.export`` (documented there)."""
    if _ACTIVE is not None:
        raise RuntimeError("onnx.export: called from inside a model that is being exported")
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not MIN_OPSET <= opset <= MAX_OPSET
    ):
        raise ValueError(
            f"onnx.export: opset_version must be an int from {MIN_OPSET} to {MAX_OPSET}, "
            f"got {opset_version!r}"
        )
    if not callable(model):
        raise TypeError(f"onnx.export: model must be a Module or a callable, got {type(model).__name__}")
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(
            f"onnx.export: args must be a Tensor or a tuple of arguments, got {type(args).__name__}"
        )
    kwargs: dict = {}
    if args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], dict(args[-1])
    inputs = _flatten_inputs(list(args) + list(kwargs.values()), [])
    if not inputs:
        raise ValueError("onnx.export: args holds no Tensor to use as the graph's input")
    in_names = (
        list(input_names)
        if input_names is not None
        else (["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))])
    )
    if len(in_names) != len(inputs) or len(set(in_names)) != len(in_names):
        raise ValueError(
            f"onnx.export: input_names {in_names} must be {len(inputs)} distinct names, "
            "one per Tensor in args"
        )
    dynamic_axes = dict(dynamic_axes or {})
    dynamic = bool(dynamic_axes)

    tr = _Tracer(int(opset), dynamic, _param_names(model))
    tr.reserved = set(in_names) | set(output_names or ())
    for t, n in zip(inputs, in_names):
        if id(t) in tr.names:
            raise ValueError("onnx.export: the same Tensor appears twice in args; pass distinct tensors")
        tr.register(t, n)

    was_training = [(m, m.training) for m in model.modules()] if isinstance(model, Module) else []
    if isinstance(model, Module):
        model.eval()
    from chainrule.autograd.grad_mode import no_grad

    saved = _install(tr)
    try:
        with no_grad():
            out = model(*args, **kwargs)
    finally:
        _uninstall(saved)
        for m, mode in was_training:
            m.training = mode

    outs = _flatten(out, [])
    if not outs:
        raise ValueError("onnx.export: the model returned no Tensor")
    out_names = (
        list(output_names)
        if output_names is not None
        else (["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))])
    )
    if len(out_names) != len(outs) or len(set(out_names)) != len(out_names):
        raise ValueError(
            f"onnx.export: output_names {out_names} must be {len(outs)} distinct names, one per output"
        )
    clash = set(out_names) & set(in_names)
    if clash:
        raise ValueError(f"onnx.export: names {sorted(clash)} are used for both an input and an output")
    unknown = set(dynamic_axes) - set(in_names) - set(out_names)
    if unknown:
        raise ValueError(
            f"onnx.export: dynamic_axes names {sorted(unknown)}, which are not inputs {in_names} "
            f"or outputs {out_names}"
        )
    for t, n in zip(outs, out_names):
        src = tr.names.get(id(t))
        if src is None:
            tr.check_flagged(t, f"output {n!r}")
            src = tr.value(t)  # a constant output
        tr.nodes.append(helper.make_node("Identity", [src], [n], name=tr.fresh("nOutput")))

    graph_inputs = [
        _value_info(n, t, _axes_of(dynamic_axes[n], n, t.ndim) if n in dynamic_axes else None, dynamic, False)
        for t, n in zip(inputs, in_names)
    ]
    graph_outputs = [
        _value_info(n, t, _axes_of(dynamic_axes[n], n, t.ndim) if n in dynamic_axes else None, dynamic, True)
        for t, n in zip(outs, out_names)
    ]
    name = type(model).__name__
    graph = helper.make_graph(tr.nodes, name, graph_inputs, graph_outputs, initializer=tr.inits)
    opset_id = helper.make_opsetid("", int(opset))
    proto = helper.make_model(
        graph,
        opset_imports=[opset_id],
        producer_name="chainrule",
        ir_version=helper.find_min_ir_version_for([opset_id]),
    )
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"onnx.export: f must be a file path or a binary file object, got {type(f).__name__}")
