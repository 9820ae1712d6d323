"""The ONNX translation of each op, function and layer that ``cr.onnx.export`` records.

A translation gets the tracer, the op's positional and keyword arguments and its outputs (a Tensor
or a tuple), appends ONNX nodes, and returns the ONNX name of each output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from onnx import TensorProto, helper

from chainrule.onnx import UnsupportedOperatorError
from chainrule.onnx._graph import INT64_MAX, INT64_MIN, SymInt, Tracer, host, onnx_dtype, sym_pieces
from chainrule.tensor import Tensor

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
def _elu(tr, args, kwargs, out):  # elu, selu and celu: s·x if x > 0 else s·α (e^{βx} - 1)
    x, alpha, scale, input_scale = tr.value(args[0]), float(args[1]), float(args[2]), float(args[3])
    dt = out.dtype
    if scale == 1.0 and input_scale == 1.0:
        return tr.node("Elu", [x], alpha=alpha)
    if input_scale == 1.0:
        return tr.node("Mul", [tr.node("Elu", [x], alpha=alpha), tr.const(np.asarray(scale, dt))])
    neg = tr.node("Min", [x, tr.const(np.asarray(0, dt))])  # no overflow in the unused branch
    neg = tr.node("Exp", [tr.node("Mul", [neg, tr.const(np.asarray(input_scale, dt))])])
    neg = tr.node(
        "Mul", [tr.node("Sub", [neg, tr.const(np.asarray(1, dt))]), tr.const(np.asarray(alpha * scale, dt))]
    )
    pos = tr.node("Mul", [x, tr.const(np.asarray(scale, dt))]) if scale != 1.0 else x
    return tr.node("Where", [tr.node("Greater", [x, tr.const(np.asarray(0, dt))]), pos, neg])


def _c(tr, v, dt) -> str:
    return tr.const(np.asarray(v, dt))


@_fn("Hardtanh")
def _hardtanh(tr, args, kwargs, out):
    x, lo, hi = tr.value(args[0]), args[1], args[2]
    return tr.node("Clip", [x, _c(tr, lo, out.dtype), _c(tr, hi, out.dtype)])


@_fn("Hardsigmoid")
def _hardsigmoid(tr, args, kwargs, out):  # min(max(x + 3, 0), 6) / 6, in chainrule's order
    dt = out.dtype
    y = tr.node("Clip", [tr.node("Add", [tr.value(args[0]), _c(tr, 3, dt)]), _c(tr, 0, dt), _c(tr, 6, dt)])
    return tr.node("Div", [y, _c(tr, 6, dt)])


@_fn("Hardswish")
def _hardswish(tr, args, kwargs, out):  # x · min(max(x + 3, 0), 6) / 6
    dt = out.dtype
    x = tr.value(args[0])
    y = tr.node("Clip", [tr.node("Add", [x, _c(tr, 3, dt)]), _c(tr, 0, dt), _c(tr, 6, dt)])
    return tr.node("Div", [tr.node("Mul", [x, y]), _c(tr, 6, dt)])


@_fn("Mish")
def _mish(tr, args, kwargs, out):  # x · tanh(softplus(x))
    x = tr.value(args[0])
    return tr.node("Mul", [x, tr.node("Tanh", [tr.node("Softplus", [x])])])


@_fn("LogSigmoid")
def _logsigmoid(tr, args, kwargs, out):  # min(x, 0) - log(1 + e^{-|x|}): never overflows
    dt = out.dtype
    x = tr.value(args[0])
    rest = tr.node("Exp", [tr.node("Neg", [tr.node("Abs", [x])])])
    log1p = tr.node("Log", [tr.node("Add", [rest, _c(tr, 1, dt)])])
    return tr.node("Sub", [tr.node("Min", [x, _c(tr, 0, dt)]), log1p])


@_fn("Threshold")
def _threshold(tr, args, kwargs, out):
    x, threshold, value = tr.value(args[0]), args[1], args[2]
    dt = out.dtype
    return tr.node("Where", [tr.node("Greater", [x, _c(tr, threshold, dt)]), x, _c(tr, value, dt)])


@_fn("Shrink")
def _shrink(tr, args, kwargs, out):  # ONNX's Shrink: x - bias if x > λ, x + bias if x < -λ, else 0
    x, lambd, soft = tr.value(args[0]), float(args[1]), bool(args[2])
    return tr.node("Shrink", [x], lambd=lambd, bias=lambd if soft else 0.0)


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
    return tr.node("Cast", [x], to=onnx_dtype(out.dtype))


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
    n = tr.node("Cast", [n], to=onnx_dtype(out.dtype))
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
def _reshape_target(tr: Tracer, name: str, in_shape: tuple, out_shape: tuple, minus_one: int | None):
    """The 1-D shape input of a Reshape from ``in_shape`` to ``out_shape``.

    Each output dim is read from the input's run-time dims it is made of (matching groups of dims
    whose sizes multiply to the same number), so dynamic axes carry through.
    """
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


def reshape_value(tr, name: str, in_shape, out_shape, minus_one=None) -> str:
    """Reshape the ONNX value ``name`` from ``in_shape`` to ``out_shape`` (dynamic axes carried)."""
    return tr.node("Reshape", [name, _reshape_target(tr, name, tuple(in_shape), tuple(out_shape), minus_one)])


@_fn("Reshape")
def _reshape_fn(tr, args, kwargs, out):
    x, shape = args
    minus = [k for k, s in enumerate(shape) if s == -1]
    return reshape_value(tr, tr.value(x), x.shape, out.shape, minus[0] if minus else None)


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
                stop = p.stop if p.stop is not None else (INT64_MAX if step > 0 else INT64_MIN)
                starts.append(start)  # an int, or a SymInt: a bound read from a shape at run time
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
    advanced = len(arrays) > 1 or (arrays and ints)  # numpy's rules: ints join the arrays
    if advanced and nones:
        raise UnsupportedOperatorError(
            "onnx.export: indexing with several integer arrays and None (new axes) is not supported"
        )
    if axes:
        bounds = [tr.concat_shape(sym_pieces(b)) for b in (starts, ends)]
        name = tr.node("Slice", [name, *bounds, tr.ints(axes), tr.ints(steps)])

    def index_value(arr) -> str:
        src = next((t for t in kwargs.get("index_tensors", ()) if t._data is arr), None)
        idx = tr.value(src) if src is not None else tr.const(np.asarray(host(arr), np.int64))
        if src is not None and src.dtype != np.int64:
            idx = tr.node("Cast", [idx], to=TensorProto.INT64)
        return idx

    if advanced:
        return _advanced_index(tr, name, x.ndim, sorted(arrays + ints, key=lambda p: p[0]), index_value)
    for ax, i in sorted(ints, reverse=True):  # from the last axis, so earlier axis numbers stay valid
        name = tr.node("Gather", [name, tr.const(np.asarray(i, np.int64))], axis=ax)
    for ax, arr in arrays:
        name = tr.node("Gather", [name, index_value(arr)], axis=ax)
    if nones:
        name = tr.unsqueeze(name, nones)
    if name == tr.names.get(id(x)):
        name = tr.node("Identity", [name])
    return name


def _advanced_index(tr, name: str, ndim: int, parts: list, index_value) -> str:
    """``x[..., a, ..., b, ...]`` with several integer arrays (and ints), as numpy.

    The indexed axes move to the front for a GatherND of the broadcast indices, then the broadcast
    dims go where numpy puts them (in place of adjacent indexed axes, else first).
    """
    axes = [ax for ax, _ in parts]
    rest = [a for a in range(ndim) if a not in axes]
    if axes != list(range(len(axes))):
        name = tr.node("Transpose", [name], perm=axes + rest)
    idx = [index_value(p) if not isinstance(p, int) else tr.const(np.asarray(p, np.int64)) for _, p in parts]
    template = idx[0]
    for i in idx[1:]:
        template = tr.node("Add", [template, i])  # the broadcast shape of the indices
    shape = tr.node("Shape", [template])
    stacked = tr.node("Concat", [tr.unsqueeze(tr.node("Expand", [i, shape]), [-1]) for i in idx], axis=-1)
    out = tr.node("GatherND", [name, stacked])
    nb = len(np.broadcast_shapes(*[np.shape(p) for _, p in parts]))
    first = axes[0]
    if axes == list(range(first, first + len(axes))) and first > 0:  # adjacent: the broadcast dims stay there
        perm = [nb + i for i in range(first)] + list(range(nb)) + [nb + i for i in range(first, len(rest))]
        out = tr.node("Transpose", [out], perm=perm)
    return out


# -- layers ---------------------------------------------------------------------------------------
def _conv_pads(geom) -> list:
    """Pads (all begins, then all ends) that give the op's output size.

    The end pad is what the last window needs.
    """
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
    attrs = dict(kernel_shape=list(geom.kernel), strides=list(geom.stride), pads=_conv_pads(geom))
    if any(d != 1 for d in geom.dilation):
        attrs["dilations"] = list(geom.dilation)
    name = tr.value(x)
    if not return_indices:
        return tr.node("MaxPool", [name], **attrs)
    y, idx = tr.node("MaxPool", [name], n_out=2, **attrs)
    # ONNX's indices run over the whole (N, C, *S) tensor, PyTorch's over one map (*S)
    if tr.dynamic:
        sizes = tr.node("Gather", [tr.node("Shape", [name]), tr.ints(list(range(2, x.ndim)))], axis=0)
        per_map = tr.reduce("ReduceProd", sizes, [0], True)
    else:
        per_map = tr.ints([math.prod(x.shape[2:])])
    return [y, tr.node("Mod", [idx, per_map])]


@_fn("PNorm")
def _pnorm(tr, args, kwargs, out):  # (Σ |x|ᵖ)^{1/p} along one axis; p = 0 counts the nonzero entries
    x, p, axis, keepdim = args
    dt = out.dtype
    name = tr.value(x)
    if p == 0:
        nonzero = tr.node(
            "Cast", [tr.node("Not", [tr.node("Equal", [name, _c(tr, 0, dt)])])], to=onnx_dtype(dt)
        )
        return tr.reduce("ReduceSum", nonzero, [axis], keepdim)
    powered = tr.node("Pow", [tr.node("Abs", [name]), _c(tr, p, dt)])
    return tr.node("Pow", [tr.reduce("ReduceSum", powered, [axis], keepdim), _c(tr, 1.0 / p, dt)])


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
    d = np.moveaxis(np.asarray(host(div), np.float64), -1, 1)  # (1, *O, 1) -> (1, 1, *O)
    return tr.node("Mul", [y, tr.const((k / d).astype(out.dtype))])


@_fn("LinearResize")
def _linear_resize(tr, args, kwargs, out):  # y = w0·x[i0] + w1·x[i1] along one axis (interpolate)
    x, axis, (i0, i1, w0, w1) = args[0], int(args[1]), args[2]
    name = tr.value(x)
    shape = (len(w0),) + (1,) * (x.ndim - axis - 1)
    a, b = (
        tr.node(
            "Mul",
            [
                tr.node("Gather", [name, tr.const(np.asarray(i, np.int64))], axis=axis),
                tr.const(np.asarray(host(w), out.dtype).reshape(shape)),
            ],
        )
        for i, w in ((i0, w0), (i1, w1))
    )
    return tr.node("Add", [a, b])


def _block_kernel(geom, c: int, dtype) -> np.ndarray:
    """(C·K, 1, kH, kW): one-hot kernels that copy each block offset k of each channel to c·K + k."""
    k = math.prod(geom.kernel)
    eye = np.eye(k, dtype=dtype).reshape(k, 1, *geom.kernel)
    return np.ascontiguousarray(np.tile(eye, (c, 1, 1, 1)))


@_fn("Unfold")
def _unfold(tr, args, kwargs, out):  # im2col as a grouped convolution with one-hot kernels
    x, geom = args
    c = x.shape[1]
    cols = tr.node(
        "Conv",
        [tr.value(x), tr.const(_block_kernel(geom, c, out.dtype))],
        kernel_shape=list(geom.kernel),
        strides=list(geom.stride),
        dilations=list(geom.dilation),
        pads=_conv_pads(geom),
        group=int(c),
    )
    return tr.node("Reshape", [cols, tr.ints([0, c * math.prod(geom.kernel), -1])])


@_fn("Fold")
def _fold(tr, args, kwargs, out):  # col2im as the transposed convolution of those kernels
    cols, geom, c = args
    blocks = tr.node("Reshape", [tr.value(cols), tr.ints([0, c * math.prod(geom.kernel), *geom.out_size])])
    lo, hi, out_pad = [], [], []
    for n_in, n_out, k, s, d, p in zip(
        geom.out_size, geom.in_size, geom.kernel, geom.stride, geom.dilation, geom.pad_lo
    ):
        rest = s * (n_in - 1) + d * (k - 1) + 1 - p - n_out
        lo.append(int(p))
        hi.append(max(rest, 0))
        out_pad.append(max(-rest, 0))
    return tr.node(
        "ConvTranspose",
        [blocks, tr.const(_block_kernel(geom, c, out.dtype))],
        kernel_shape=list(geom.kernel),
        strides=list(geom.stride),
        dilations=list(geom.dilation),
        pads=lo + hi,
        output_padding=out_pad,
        group=int(c),
    )


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
    a = host(t._data)
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
        return tr.node("Cast", [m], to=onnx_dtype(dtype)) if mask.dtype != dtype else m
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


def sdpa_fn(tr, args, kwargs, out):
    """``scaled_dot_product_attention`` (the causal mask built at run time)."""
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


def adaptive_avg_pool2d_fn(tr, args, kwargs, out):
    """``adaptive_avg_pool2d``: a global average, or PyTorch's windows as two averaging matrices."""
    x = args[0]
    name = tr.value(x)
    oh, ow = out.shape[-2:]
    h, w = x.shape[-2:]
    if oh == ow == 1 and x.ndim == 4:  # any input size: the global average
        return tr.node("GlobalAveragePool", [name])
    from chainrule.ops.pooling import _adaptive_matrix

    dt = out.dtype
    a_h = host(_adaptive_matrix(h, oh, dt, np)._data)
    a_w = host(_adaptive_matrix(w, ow, dt, np)._data)
    # PyTorch's windows as two averaging matrices: A_h · x · A_wᵀ
    return tr.node(
        "MatMul", [tr.const(a_h), tr.node("MatMul", [name, tr.const(np.ascontiguousarray(a_w.T))])]
    )


def _adaptive_reduce(tr, name: str, in_size: tuple, out_size: tuple, reduce_op: str) -> str:
    """Reduce PyTorch's adaptive windows [floor(i·n/o), ceil((i+1)·n/o)) of the last dims.

    One dim at a time: a maximum or an average over a box is one of maxima or averages along each dim.
    """
    nd = len(in_size)
    for d, (n, o) in enumerate(zip(in_size, out_size)):
        axis = d - nd
        if n == o:
            continue
        if o == 1:
            name = tr.reduce(reduce_op, name, [axis], True)
            continue
        pieces = []
        for i in range(o):
            start, end = (i * n) // o, -((-(i + 1) * n) // o)
            window = tr.node("Slice", [name, tr.ints([start]), tr.ints([end]), tr.ints([axis])])
            pieces.append(tr.reduce(reduce_op, window, [axis], True))
        name = tr.node("Concat", pieces, axis=axis)
    return name


def adaptive_max_pool_fn(tr, args, kwargs, out):
    """``adaptive_max_pool1d/2d/3d`` (their shared body ``_adaptive_max_pool``)."""
    names = ["op", "nd", "input", "output_size", "return_indices"]
    a = dict(zip(names, args))
    a.update(kwargs)
    x, nd = a["input"], int(a["nd"])
    name, in_size = tr.value(x), tuple(x.shape[-nd:])
    if not a.get("return_indices"):
        return _adaptive_reduce(tr, name, in_size, tuple(out.shape[-nd:]), "ReduceMax")
    from chainrule.ops.pooling import _adaptive_windows

    out_size = tuple(out[0].shape[-nd:])
    windows = _adaptive_windows(in_size, out_size)  # (*O, K) flat positions
    lead = x.ndim - nd
    flat = tr.node("Reshape", [name, tr.ints([0] * lead + [-1])])
    vals = tr.node("Gather", [flat, tr.const(windows)], axis=lead)  # (lead, *O, K)
    pos = tr.node("ArgMax", [vals], axis=-1, keepdims=1)  # the first maximum, as PyTorch
    value = tr.squeeze(tr.node("GatherElements", [vals, pos], axis=-1), [-1])
    grid = tr.node("Expand", [tr.const(windows), tr.node("Shape", [vals])])
    return [value, tr.squeeze(tr.node("GatherElements", [grid, pos], axis=-1), [-1])]


def adaptive_avg_pool3d_fn(tr, args, kwargs, out):
    """``adaptive_avg_pool3d``: averages along each dim in turn."""
    x = args[0] if args else kwargs["input"]
    return _adaptive_reduce(tr, tr.value(x), tuple(x.shape[-3:]), tuple(out.shape[-3:]), "ReduceMean")


def max_unpool_fn(tr, args, kwargs, out):
    """``max_unpool1d/2d/3d``: the values scattered to their indices in zeros of the output's size."""
    names = ["op", "nd", "input", "indices"]
    a = dict(zip(names, args))
    a.update(kwargs)
    x, idx, nd = a["input"], a["indices"], int(a["nd"])
    lead = x.ndim - nd
    flat_shape = tr.ints([0] * lead + [-1])
    flat_x = tr.node("Reshape", [tr.value(x), flat_shape])
    flat_i = tr.node("Reshape", [tr.value(idx, a["op"]), flat_shape])
    size = math.prod(out.shape[lead:])
    zeros_shape = tr.node(
        "Concat", [tr.node("Slice", [tr.node("Shape", [flat_x]), tr.ints([0]), tr.ints([lead])]),
                   tr.ints([size])], axis=0
    )  # fmt: skip
    value = helper.make_tensor("value", onnx_dtype(out.dtype), [1], [0])
    zeros = tr.node("ConstantOfShape", [zeros_shape], value=value)
    scattered = tr.node("ScatterElements", [zeros, flat_i, flat_x], axis=lead)
    return tr.node("Reshape", [scattered, tr.ints([0] * lead + list(out.shape[lead:]))])


def embedding_bag_fn(tr, args, kwargs, out):
    """``embedding_bag`` of a 2-D input (bags of one length): a lookup reduced along the bag."""
    names = ["input", "weight", "offsets", "max_norm", "norm_type", "scale_grad_by_freq", "mode", "sparse",
             "per_sample_weights", "include_last_offset", "padding_idx"]  # fmt: skip
    a = {"mode": "mean"}
    a.update(zip(names, args))
    a.update(kwargs)
    idx, weight, mode = a["input"], a["weight"], a["mode"]
    if idx.ndim != 2 or a.get("offsets") is not None:
        raise UnsupportedOperatorError(
            "onnx.export: embedding_bag with offsets (bags of different lengths) is not supported; "
            "pass a 2-D input of equal-length bags"
        )
    if a.get("max_norm") is not None:
        raise UnsupportedOperatorError(
            "onnx.export: embedding_bag with max_norm (renormalised rows) is not supported"
        )
    if tr.is_traced(weight):
        raise UnsupportedOperatorError("onnx.export: embedding_bag with a weight computed from the input")
    dt = out.dtype
    i = tr.value(idx, "embedding_bag")
    if idx.dtype != np.int64:
        i = tr.node("Cast", [i], to=TensorProto.INT64)
    rows = tr.node("Gather", [tr.value(weight), i], axis=0)  # (B, L, D)
    psw = a.get("per_sample_weights")
    if psw is not None:
        rows = tr.node("Mul", [rows, tr.unsqueeze(tr.operand(psw, dt, "embedding_bag"), [2])])
    pad = a.get("padding_idx")
    keep = None
    if pad is not None:
        pad = int(pad) % weight.shape[0]
        keep = tr.unsqueeze(tr.node("Not", [tr.node("Equal", [i, tr.ints([pad])])]), [2])  # (B, L, 1)
    zero = tr.const(np.asarray(0, dt))
    if mode == "max":
        if keep is not None:
            rows = tr.node("Where", [keep, rows, tr.const(np.asarray(-np.inf, dt))])
        top = tr.reduce("ReduceMax", rows, [1], False)
        if keep is None:
            return top
        any_kept = tr.node(
            "Greater",
            [tr.reduce("ReduceSum", tr.node("Cast", [keep], to=TensorProto.INT64), [1], False), tr.ints([0])],
        )
        return tr.node("Where", [any_kept, top, zero])  # an empty bag gives zeros
    if keep is not None:
        rows = tr.node("Where", [keep, rows, zero])
    total = tr.reduce("ReduceSum", rows, [1], False)
    if mode == "sum":
        return total
    if keep is None:
        count = tr.node("Cast", [tr.dim(i, 1) if tr.dynamic else tr.ints([idx.shape[1]])], to=onnx_dtype(dt))
    else:
        count = tr.node(
            "Cast",
            [tr.reduce("ReduceSum", tr.node("Cast", [keep], to=TensorProto.INT64), [1], False)],
            to=onnx_dtype(dt),
        )
        count = tr.node("Max", [count, tr.const(np.asarray(1, dt))])  # an empty bag: 0 / 1
    return tr.node("Div", [total, count])


def zeros_state_fn(tr, args, kwargs, out):
    """The zero initial state of a recurrent layer, (rows, cols) with rows read at run time."""
    _, rows, cols = args
    value = helper.make_tensor("value", onnx_dtype(out.dtype), [1], [0])
    return tr.node("ConstantOfShape", [tr.concat_shape(sym_pieces([rows, cols]))], value=value)


_COMPARE_OPS = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual",
                "and": "And", "or": "Or", "xor": "Xor"}  # fmt: skip


def compare_fn(tr, args, kwargs, out):
    """The element-wise comparisons and logical and/or/xor of bool tensors."""
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


def causal_mask_fn(tr, args, kwargs, out):
    """``Transformer.generate_square_subsequent_mask``: -inf above the diagonal, size read at run time."""
    sz = args[0] if args else kwargs["sz"]
    n = sz.onnx() if isinstance(sz, SymInt) else tr.ints([int(sz)])
    value = helper.make_tensor("value", onnx_dtype(out.dtype), [1], [-np.inf])
    full = tr.node("ConstantOfShape", [tr.node("Concat", [n, n], axis=0)], value=value)
    return tr.node("Trilu", [full, tr.const(np.asarray(1, np.int64))], upper=1)  # -inf above the diagonal


def masked_fn(tr, args, kwargs, out):
    """``masked_fill``: ``value`` where the mask is True."""
    x, mask, value = args[0], args[1], args[2]
    return tr.node("Where", [tr.value(mask, "masked_fill"), tr.operand(value, out.dtype), tr.value(x)])


def arg_fn(tr, args, kwargs, out):
    """``argmax`` / ``argmin`` (of the flattened tensor when ``dim`` is None)."""
    x, dim, keepdim, op = args
    name = tr.value(x)
    onnx_op = "ArgMax" if op == "argmax" else "ArgMin"
    if dim is None:  # of the flattened tensor
        flat = tr.node(onnx_op, [tr.node("Reshape", [name, tr.ints([-1])])], axis=0, keepdims=0)
        return tr.node("Reshape", [flat, tr.ints([1] * x.ndim if keepdim else [])])
    axis = dim if isinstance(dim, (int, np.integer)) else dim[0]
    return tr.node(onnx_op, [name], axis=int(axis) % max(x.ndim, 1), keepdims=int(bool(keepdim)))


def gather_fn(tr, args, kwargs, out):
    """``gather``: ONNX's GatherElements."""
    x, dim, index = args[0], args[1], args[2]
    idx = tr.value(index, "gather")
    if index.dtype != np.int64:
        idx = tr.node("Cast", [idx], to=TensorProto.INT64)
    return tr.node("GatherElements", [tr.value(x), idx], axis=int(dim) % max(x.ndim, 1))


def topk_fn(tr, args, kwargs, out):
    """``topk``: ONNX's TopK, values and indices."""
    a = dict(zip(["input", "k", "dim", "largest", "sorted"], args))
    a.update(kwargs)
    x = a["input"]
    if x.ndim == 0:
        raise UnsupportedOperatorError("onnx.export: topk of a 0-d tensor is not supported")
    dim = int(a.get("dim", -1)) % x.ndim
    return tr.node(
        "TopK",
        [tr.value(x), tr.ints([int(a["k"])])],
        n_out=2,
        axis=dim,
        largest=int(bool(a.get("largest", True))),
        sorted=int(bool(a.get("sorted", True))),
    )


def finite_fn(kind: str):
    """``isnan`` / ``isinf`` / ``isfinite``."""

    def emit(tr, args, kwargs, out):
        x = tr.value(args[0])
        if kind == "isnan":
            return tr.node("IsNaN", [x])
        if kind == "isinf":
            return tr.node("IsInf", [x])
        return tr.node("Not", [tr.node("Or", [tr.node("IsNaN", [x]), tr.node("IsInf", [x])])])

    return emit


def sign_fn(tr, args, kwargs, out):
    """``sign``."""
    return tr.node("Sign", [tr.value(args[0])])


def logical_not_fn(tr, args, kwargs, out):
    """``~`` of a bool tensor."""
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
        w = host(m.in_proj_weight._data)
        ws = np.split(w, 3, axis=0)
    else:
        ws = [host(p._data) for p in (m.q_proj_weight, m.k_proj_weight, m.v_proj_weight)]
    bs = np.split(host(m.in_proj_bias._data), 3) if m.in_proj_bias is not None else [None] * 3

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


def batch_norm_fn(tr, args, kwargs, out):
    """``batch_norm`` in evaluation: the running statistics as constants."""
    names = ["input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"]
    a = {"weight": None, "bias": None, "eps": 1e-5}
    a.update(zip(names, args))
    a.update(kwargs)
    x, dt = a["input"], a["input"].dtype
    for name in ("running_mean", "running_var"):
        if tr.is_traced(a[name]):
            raise UnsupportedOperatorError(f"onnx.export: batch_norm with {name} computed from the input")
    rv = host(a["running_var"]._data)
    shape = (-1,) + (1,) * (x.ndim - 2)
    # chainrule's order, (x - μ) · invstd · γ + β, with invstd rounded to the input's dtype
    invstd = (1.0 / np.sqrt(rv + a["eps"])).astype(dt).reshape(shape)
    mean = host(a["running_mean"]._data).astype(dt).reshape(shape)
    y = tr.node("Mul", [tr.node("Sub", [tr.value(x), tr.const(mean)]), tr.const(invstd)])
    if a["weight"] is not None:
        y = tr.node("Mul", [y, tr.node("Reshape", [tr.value(a["weight"]), tr.ints(shape)])])
    if a["bias"] is not None:
        y = tr.node("Add", [y, tr.node("Reshape", [tr.value(a["bias"]), tr.ints(shape)])])
    return y


MODULE_OK = {"MultiheadAttention": _mha_ok, "Conv1d": _conv_ok, "Conv2d": _conv_ok, "Conv3d": _conv_ok}
MODULE_OK.update({f"{kind}Pool{n}d": _pool_ok for kind in ("Max", "Avg") for n in (1, 2, 3)})


def module_translation(m):
    """The translation of module ``m``, or None.

    A module is translated whole when its class is one of ``MODULES`` and its forward is that
    class's own, with no hooks.
    """
    if m._forward_hooks or m._forward_pre_hooks:
        return None
    for cls in type(m).__mro__:
        if cls.__module__.startswith("chainrule.nn") and cls.__name__ in MODULES:
            return cls.__name__ if type(m).forward is cls.forward else None  # an overridden forward: op by op
    return None
