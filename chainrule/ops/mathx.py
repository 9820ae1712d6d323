"""Math of PyTorch's wider vocabulary.

Math of PyTorch's wider vocabulary: more element-wise functions (trigonometry, rounding, fmod,
atan2, lerp, logaddexp, ...), the matrix-product family (bmm, dot, outer, addmm, baddbmm, einsum,
tensordot, kron, cross, cdist, trace, diag, diagonal), scans and products (cumsum, cumprod, prod),
comparisons and logic as functions (eq, isclose, allclose, equal, isinf, nan_to_num,
logical_and/or/xor/not, count_nonzero).

Each new derivative is written once in the ``Unary``/``Binary`` tables (operators and ``bm``) or in
``CumSum``/``Einsum``; everything else is built from differentiable ops.
"""

from __future__ import annotations

import builtins
import math
import string
from collections.abc import Sequence

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import bmath as bm
from chainrule.ops import elementwise as _ew
from chainrule.ops import linalg as _linalg
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape
from chainrule.ops.shape import norm_dim
from chainrule.tensor import Tensor

# ----------------------------------------------------------------------------- element-wise

_LN2, _LN10 = math.log(2.0), math.log(10.0)

# name -> (forward on an array, d out / d x from (x, out)); the derivative is written with operators
# and bm only, so it serves first-order (arrays) and create_graph (Tensors) alike
_UNARY = {
    "acos": (lambda xp, a: xp.arccos(a), lambda x, y: -1.0 / bm.sqrt(1.0 - x * x)),
    "asin": (lambda xp, a: xp.arcsin(a), lambda x, y: 1.0 / bm.sqrt(1.0 - x * x)),
    "atan": (lambda xp, a: xp.arctan(a), lambda x, y: 1.0 / (1.0 + x * x)),
    "sinh": (lambda xp, a: xp.sinh(a), lambda x, y: (bm.exp(x) + bm.exp(-x)) * 0.5),
    "cosh": (lambda xp, a: xp.cosh(a), lambda x, y: (bm.exp(x) - bm.exp(-x)) * 0.5),
    "tan": (lambda xp, a: xp.tan(a), lambda x, y: 1.0 + y * y),
    "expm1": (lambda xp, a: xp.expm1(a), lambda x, y: y + 1.0),
    "log2": (lambda xp, a: xp.log2(a), lambda x, y: 1.0 / (x * _LN2)),
    "log10": (lambda xp, a: xp.log10(a), lambda x, y: 1.0 / (x * _LN10)),
    "frac": (lambda xp, a: a - xp.trunc(a), None),  # d/dx = 1
    "ceil": (lambda xp, a: xp.ceil(a), 0),  # piecewise constant: zero gradient, as PyTorch
    "floor": (lambda xp, a: xp.floor(a), 0),
    "trunc": (lambda xp, a: xp.trunc(a), 0),
    "round": (lambda xp, a: xp.round(a), 0),
}


class Unary(Function):
    """out = f(x) for a function of ``_UNARY``;  dx = grad · f'(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, name, decimals=0):
        ctx.op = name
        fwd, deriv = _UNARY[name]
        if deriv not in (None, 0):
            ctx.save_for_backward(x)
            ctx.save_output()
        a = x._data
        if name == "round" and decimals:
            return xp_of(a).round(a, decimals)
        return fwd(xp_of(a), a)

    @staticmethod
    def backward(ctx, grad):
        deriv = _UNARY[ctx.op][1]
        if deriv is None:
            return grad, None, None
        if deriv == 0:
            return bm.zeros_like(grad), None, None
        (x,) = ctx.saved_tensors
        (y,) = ctx.outputs
        return grad * deriv(x, y), None, None


# one subclass per entry, so graph nodes are named after the op (AcosBackward, Log2Backward, ...)
_UNARY_OPS = {n: type(n.capitalize(), (Unary,), {}) for n in _UNARY}


def _unary(name: str, x: Tensor, decimals: int = 0) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if _UNARY[name][1] == 0 and x._data.dtype.kind in "biu":
        return x.clone()  # rounding an integer changes nothing (and keeps the dtype, as PyTorch)
    return _UNARY_OPS[name].apply(_ew._floating(x, name), name, decimals)  # type: ignore[attr-defined]


def acos(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's argument names
    """arccos x element-wise (NaN outside [-1, 1]); d/dx = -1/√(1-x²)."""
    return _unary("acos", input)


def asin(input: Tensor) -> Tensor:  # noqa: A002
    """arcsin x element-wise; d/dx = 1/√(1-x²)."""
    return _unary("asin", input)


def atan(input: Tensor) -> Tensor:  # noqa: A002
    """arctan x element-wise; d/dx = 1/(1+x²)."""
    return _unary("atan", input)


def sinh(input: Tensor) -> Tensor:  # noqa: A002
    """sinh x element-wise; d/dx = cosh x."""
    return _unary("sinh", input)


def cosh(input: Tensor) -> Tensor:  # noqa: A002
    """cosh x element-wise; d/dx = sinh x."""
    return _unary("cosh", input)


def tan(input: Tensor) -> Tensor:  # noqa: A002
    """tan x element-wise; d/dx = 1 + tan² x."""
    return _unary("tan", input)


def expm1(input: Tensor) -> Tensor:  # noqa: A002
    """eˣ - 1, accurate near 0."""
    return _unary("expm1", input)


def log2(input: Tensor) -> Tensor:  # noqa: A002
    """log₂ x element-wise."""
    return _unary("log2", input)


def log10(input: Tensor) -> Tensor:  # noqa: A002
    """log₁₀ x element-wise."""
    return _unary("log10", input)


def frac(input: Tensor) -> Tensor:  # noqa: A002
    """x - trunc(x): the fractional part, with x's sign; gradient 1."""
    if input._data.dtype.kind not in "f":
        raise TypeError(f"frac: expected a floating point tensor, got {input.dtype}")
    return _unary("frac", input)


def ceil(input: Tensor) -> Tensor:  # noqa: A002
    """Smallest integer ≥ x (same dtype); gradient 0."""
    return _unary("ceil", input)


def floor(input: Tensor) -> Tensor:  # noqa: A002
    """Largest integer ≤ x (same dtype); gradient 0."""
    return _unary("floor", input)


def trunc(input: Tensor) -> Tensor:  # noqa: A002
    """x rounded towards 0; gradient 0."""
    return _unary("trunc", input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001,A002
    """x rounded to ``decimals`` places, halves to even (as PyTorch); gradient 0."""
    return _unary("round", input, decimals)


def reciprocal(input: Tensor) -> Tensor:  # noqa: A002
    """1 / x (integers give float32)."""
    return _ew.div(1.0, _ew._floating(input, "reciprocal"))


def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    """1 / √x."""
    return _ew.div(1.0, _ew.sqrt(input))


def square(input: Tensor) -> Tensor:  # noqa: A002
    """x²."""
    return _ew.mul(input, input)


def erf(input: Tensor) -> Tensor:  # noqa: A002
    """The Gauss error function (2/√π) ∫₀ˣ e^{-t²} dt."""
    from chainrule.ops.activation import erf as _erf

    return _erf(_ew._floating(input, "erf"))


# name -> (forward on arrays, (d/da, d/db) from (a, b, out)), written with operators and bm
_BINARY = {
    "atan2": (
        lambda xp, a, b: xp.arctan2(a, b),
        (lambda a, b, y: b / (a * a + b * b), lambda a, b, y: -a / (a * a + b * b)),
    ),
    "fmod": (
        lambda xp, a, b: xp.fmod(a, b),
        (lambda a, b, y: 1.0, lambda a, b, y: -(a - y) / b),  # a = trunc(a/b)·b + out
    ),
    "remainder": (
        lambda xp, a, b: a - xp.floor_divide(a, b) * b,
        (lambda a, b, y: 1.0, lambda a, b, y: -(a - y) / b),  # a = floor(a/b)·b + out
    ),
    "logaddexp": (
        lambda xp, a, b: xp.logaddexp(a, b),
        (lambda a, b, y: bm.exp(a - y), lambda a, b, y: bm.exp(b - y)),
    ),
}


class Binary(Function):
    """out = f(a, b) for a function of ``_BINARY`` (broadcast);  da = grad · ∂f/∂a, db = grad · ∂f/∂b."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b, name):
        ctx.op = name
        ctx.save_for_backward(a, b)
        ctx.save_output()
        ad, bd = _ew._data(a), _ew._data(b)
        return _ew.promote(name, _BINARY[name][0](xp_of(a._data), ad, bd), ad, bd)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        (y,) = ctx.outputs
        da, db = _BINARY[ctx.op][1]
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = grad * da(a, b, y) if need_a else None
        gb = grad * db(a, b, y) if need_b else None
        a_in, b_in = ctx.inputs[:2]
        return (
            bm.unbroadcast(ga, a_in.shape) if ga is not None else None,
            bm.unbroadcast(gb, b_in.shape) if gb is not None else None,
            None,
        )


_BINARY_OPS = {n: type(n.capitalize(), (Binary,), {}) for n in _BINARY}  # nodes named after the op


def _binary(name: str, a, b) -> Tensor:
    a = _ew._tensor_operand(name, a) if not isinstance(a, Tensor) else a
    b = _ew._tensor_operand(name, b) if not isinstance(b, Tensor) else b
    _ew._check_broadcast(name, a, b)
    if not isinstance(a, Tensor):
        a = Tensor._make(np.asarray(a, _ew.result_type(a, b)))
    if not isinstance(b, Tensor):
        b = Tensor._make(xp_of(a._data).asarray(b, _ew.result_type(a, b)))
    return _BINARY_OPS[name].apply(a, b, name)  # type: ignore[attr-defined]


def atan2(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The angle of the point (other, input): arctan(input / other) in the right quadrant."""
    return _binary("atan2", _ew._floating(input, "atan2"), other)


def arctan2(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Alias of ``atan2``."""
    return atan2(input, other)


def fmod(input: Tensor, other) -> Tensor:  # noqa: A002
    """The C remainder a - trunc(a/b)·b, with the sign of the dividend."""
    return _binary("fmod", input, other)


def remainder(input, other) -> Tensor:  # noqa: A002
    """The Python remainder a - floor(a/b)·b, with the sign of the divisor (differentiable)."""
    return _binary("remainder", input, other)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """log(eᵃ + eᵇ) without overflow."""
    return _binary("logaddexp", input, other)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:  # noqa: A002
    """input + weight · (end - input) (``weight`` a number or a tensor)."""
    return _ew.add(input, _ew.mul(weight, _ew.sub(end, input)))


# ----------------------------------------------------------------------------- products


def _need_dims(op: str, t: Tensor, n: int, name: str = "input") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t.ndim != n:
        raise RuntimeError(f"{op}: {name} must be a {n}-D tensor, got shape {tuple(t.shape)}")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched matrix product of (b, n, m) and (b, m, p) tensors -> (b, n, p) (no broadcasting)."""
    _need_dims("bmm", input, 3)
    _need_dims("bmm", mat2, 3, "mat2")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"bmm: shapes {tuple(input.shape)} and {tuple(mat2.shape)} don't fit (b,n,m)@(b,m,p)"
        )
    return _linalg.matmul(input, mat2)


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """Σ aᵢbᵢ of two 1-D tensors of equal length (0-d result)."""
    _need_dims("dot", input, 1)
    _need_dims("dot", tensor, 1, "tensor")
    if input.shape != tensor.shape:
        raise RuntimeError(f"dot: expected 1-D tensors of equal size, got {input.shape} and {tensor.shape}")
    return _linalg.matmul(input, tensor)


def vdot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``dot`` (real tensors)."""
    return dot(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """(n,) ⊗ (m,) -> (n, m): out[i, j] = a[i] · b[j]."""
    _need_dims("outer", input, 1)
    _need_dims("outer", vec2, 1, "vec2")
    return _ew.mul(input.reshape(-1, 1), vec2.reshape(1, -1))


def ger(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """Alias of ``outer``."""
    return outer(input, vec2)


def _scaled(t, factor):
    return t if factor == 1 else _ew.mul(t, factor)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta · input + alpha · (mat1 @ mat2) for 2-D mat1, mat2 (input broadcast)."""
    _need_dims("addmm", mat1, 2, "mat1")
    _need_dims("addmm", mat2, 2, "mat2")
    prod = _scaled(_linalg.matmul(mat1, mat2), alpha)
    return prod if beta == 0 else _ew.add(_scaled(input, beta), prod)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta · input + alpha · bmm(batch1, batch2)."""
    prod = _scaled(bmm(batch1, batch2), alpha)
    return prod if beta == 0 else _ew.add(_scaled(input, beta), prod)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta · input + alpha · (mat @ vec)."""
    _need_dims("addmv", mat, 2, "mat")
    _need_dims("addmv", vec, 1, "vec")
    prod = _scaled(_linalg.matmul(mat, vec), alpha)
    return prod if beta == 0 else _ew.add(_scaled(input, beta), prod)


def _parse_einsum(equation: str, shapes: Sequence[tuple]) -> tuple:
    """Explicit subscripts (ellipses spelled out with spare letters) and the output subscripts."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: the equation has {len(ins)} operands but {len(shapes)} tensors were given")
    spare = [c for c in string.ascii_letters if c not in eq]
    n_ell = max((len(s) - (len(sub) - 3) for sub, s in zip(ins, shapes) if "..." in sub), default=0)
    ell = "".join(spare[:n_ell])
    out_ins = []
    for sub, s in zip(ins, shapes):
        if "..." in sub:
            k = len(s) - (len(sub) - 3)
            sub = sub.replace("...", ell[n_ell - k :] if k else "")
        if len(sub) != len(s):
            raise ValueError(f"einsum: subscripts '{sub}' don't match an operand of shape {tuple(s)}")
        out_ins.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
    else:  # implicit mode: the ellipsis dims, then the letters used once, in alphabetical order
        letters = "".join(out_ins)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return out_ins, out


def bm_einsum(subs: Sequence[str], out: str, *operands):
    """einsum of arrays or Tensors (the form backwards use): ``subs`` per operand, ``out`` the result."""
    if bm.is_tensor(*operands):
        ops = [o if isinstance(o, Tensor) else Tensor._make(o) for o in operands]
        return Einsum.apply(tuple(subs), out, *ops)
    return xp_of(operands[0]).einsum(",".join(subs) + "->" + out, *operands, optimize=True)


class Einsum(Function):
    """Einstein summation.

    out = einsum(subs -> out, operands);  d operand k = einsum of grad with the other operands,
    spread over the letters only operand k has and put on the diagonal where k repeats a letter.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, subs, out, *operands):
        ctx.subs, ctx.out = subs, out
        ctx.save_for_backward(*operands)
        arrs = [o._data for o in operands]
        return xp_of(arrs[0]).einsum(",".join(subs) + "->" + out, *arrs, optimize=True)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        grads = [None, None]
        for k, (sub, x) in enumerate(zip(ctx.subs, operands)):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            uniq = "".join(dict.fromkeys(sub))
            sizes = dict(zip(sub, x.shape))
            others = [(s, o) for j, (s, o) in enumerate(zip(ctx.subs, operands)) if j != k]
            have = set(ctx.out).union(*(set(s) for s, _ in others))
            lone = "".join(c for c in uniq if c not in have)  # summed away in forward: gradient spreads
            subs = [ctx.out] + [s for s, _ in others]
            vals = [grad] + [o for _, o in others]
            if lone:
                subs.append(lone)
                vals.append(bm.const(bm._xp(x).ones([sizes[c] for c in lone], x.dtype), grad))
            g = bm_einsum(subs, uniq, *vals)
            if len(uniq) != len(sub):  # a repeated letter (a diagonal): zero off the diagonal
                spare = [c for c in string.ascii_letters if c not in sub and c not in uniq]
                full, subs2, vals2 = "", [uniq], [g]
                seen = set()
                for c in sub:
                    if c in seen:
                        d = spare.pop()
                        subs2.append(c + d)
                        vals2.append(bm.const(bm._xp(x).eye(sizes[c], dtype=x.dtype), grad))
                        full += d
                    else:
                        seen.add(c)
                        full += c
                g = bm_einsum(subs2, full, *vals2)
            grads.append(g)
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """Sums of products over the indices an Einstein-notation ``equation`` names.

    ``'ij,jk->ik'`` is a matrix product, ``'bij->bji'`` a transpose, ``'ii->i'`` a diagonal, ``'...ij'``
    batched; without ``->`` the output holds the letters used once, alphabetically.

    >>> cr.einsum("i,i->", cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]))
    tensor(11.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for o in operands:
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum: operands must be Tensors, got {type(o).__name__}")
    subs, out = _parse_einsum(equation, [o.shape for o in operands])
    for sub, o in zip(subs, operands):
        for c, n in zip(sub, o.shape):
            for sub2, o2 in zip(subs, operands):
                for c2, n2 in zip(sub2, o2.shape):
                    if c == c2 and n != n2 and 1 not in (n, n2):
                        raise RuntimeError(
                            f"einsum: subscript '{c}' has size {n} for one operand and {n2} for another"
                        )
    dtype = operands[0].dtype
    if builtins.any(o.dtype != dtype for o in operands):
        raise RuntimeError(f"einsum: expected operands of one dtype, got {[str(o.dtype) for o in operands]}")
    return Einsum.apply(tuple(subs), out, *operands)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Σ over the last ``dims`` dims of a and the first of b (or the dim lists ``dims=([..], [..])``)."""
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims ({dims}) must be between 0 and {min(a.ndim, b.ndim)}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        da = [norm_dim(d, a.ndim, "tensordot") for d in da]
        db = [norm_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db) or builtins.any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise RuntimeError(f"tensordot: contracted dims {da} of {a.shape} and {db} of {b.shape} don't match")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = "".join(c for i, c in enumerate(sa) if i not in da) + "".join(
        c for j, c in enumerate(sb) if j not in db
    )
    return Einsum.apply(("".join(sa), "".join(sb)), out, a, b)


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The Kronecker product: out[i·m + k, ...] = a[i, ...] · b[k, ...] for every dim."""
    n = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + input.shape)
    b = other.reshape((1,) * (n - other.ndim) + other.shape)
    a2 = a.reshape(tuple(v for s in a.shape for v in (s, 1)))
    b2 = b.reshape(tuple(v for s in b.shape for v in (1, s)))
    return _ew.mul(a2, b2).reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """The 3-D cross product along ``dim`` (the first dim of size 3 when None; ``linalg.cross``: -1)."""
    if dim is None:
        dims = [d for d, s in enumerate(np.broadcast_shapes(input.shape, other.shape)) if s == 3]
        if not dims:
            raise RuntimeError(f"cross: no dimension of size 3 in {tuple(input.shape)}")
        dim = dims[0]
    shape = np.broadcast_shapes(input.shape, other.shape)
    axis = norm_dim(dim, len(shape), "cross")
    if shape[axis] != 3:
        raise RuntimeError(f"cross: dimension {dim} must have size 3, got {shape[axis]}")
    a, b = _shape.expand(input, shape), _shape.expand(other, shape)

    def c(t, i):
        return t[(slice(None),) * axis + (slice(i, i + 1),)]

    parts = [
        _ew.sub(_ew.mul(c(a, 1), c(b, 2)), _ew.mul(c(a, 2), c(b, 1))),
        _ew.sub(_ew.mul(c(a, 2), c(b, 0)), _ew.mul(c(a, 0), c(b, 2))),
        _ew.sub(_ew.mul(c(a, 0), c(b, 1)), _ew.mul(c(a, 1), c(b, 0))),
    ]
    return _shape.cat(parts, axis)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """Pairwise p-norm distances between the rows of x1 (…, n, d) and x2 (…, m, d) -> (…, n, m)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"cdist: expected x1 (..., n, d) and x2 (..., m, d) with the same d, "
            f"got {tuple(x1.shape)} and {tuple(x2.shape)}"
        )
    if p < 0:
        raise RuntimeError(f"cdist: p must be non-negative, got {p}")
    from chainrule.linalg import vector_norm

    diff = _ew.sub(_shape.unsqueeze(x1, -2), _shape.unsqueeze(x2, -3))
    return vector_norm(diff, p, -1)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal of the planes (dim1, dim2), as a last dimension; ``offset`` > 0 above the main one."""
    a, b = norm_dim(dim1, input.ndim, "diagonal"), norm_dim(dim2, input.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal: dim1 and dim2 can't be the same ({dim1})")
    n, m = input.shape[a], input.shape[b]
    length = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    i = np.arange(length) + (0 if offset >= 0 else -offset)
    j = np.arange(length) + (offset if offset >= 0 else 0)
    rest = [d for d in range(input.ndim) if d not in (a, b)]
    x = _shape.permute(input, tuple(rest) + (a, b))
    return x[(Ellipsis, backend.to_device(i, x.device), backend.to_device(j, x.device))]


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """From a 1-D tensor, the square matrix with it on the ``diagonal``; from a 2-D one, that diagonal."""
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    if input.ndim != 1:
        raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
    n = input.shape[0] + abs(diagonal)
    i = np.arange(input.shape[0]) + (0 if diagonal >= 0 else -diagonal)
    j = np.arange(input.shape[0]) + (diagonal if diagonal >= 0 else 0)
    return bm.index_add(
        input, (n, n), (backend.to_device(i, input.device), backend.to_device(j, input.device))
    )


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Each last-dim vector of ``input`` put on the diagonal of a matrix (last two dims)."""
    if (dim1, dim2) != (-2, -1) or offset:
        raise NotImplementedError("diag_embed: only offset=0, dim1=-2, dim2=-1 are supported")
    n = input.shape[-1]
    eye = Tensor._make(xp_of(input._data).eye(n, dtype=input.dtype))
    return _ew.mul(_shape.unsqueeze(input, -1), eye)


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """Σ of the main diagonal of a 2-D tensor."""
    _need_dims("trace", input, 2)
    return diagonal(input).sum()


# ----------------------------------------------------------------------------- scans and products


class CumSum(Function):
    """out_i = Σ_{j≤i} x_j along ``axis``;  dx_i = Σ_{j≥i} grad_j (a reversed cumulative sum)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return xp_of(x._data).cumsum(x._data, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        # Σ_{j≥i} g_j = total - Σ_{j<i} g_j = total - cumsum(g)_i + g_i
        return bm.sum(grad, ctx.axis, keepdim=True) - bm.cumsum(grad, ctx.axis) + grad, None


def _scan_input(op: str, x: Tensor, dtype):
    if dtype is not None:
        x = x.to(np.dtype(dtype))
    elif x._data.dtype.kind in "bui" and x._data.dtype != np.int64:
        x = x.to(np.int64)  # integer scans and products accumulate in int64, as PyTorch
    return x


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Running sums along ``dim``: out_i = x_0 + … + x_i.

    >>> cr.cumsum(cr.tensor([1, 2, 3]), 0)
    tensor([1, 3, 6])
    """
    x = _scan_input("cumsum", input, dtype)
    if x.ndim == 0:
        return x.clone()
    return CumSum.apply(x, norm_dim(dim, x.ndim, "cumsum"))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Running products along ``dim``: out_i = x_0 · … · x_i (exact gradients also at zeros).

    >>> cr.cumprod(cr.tensor([1, 2, 3]), 0)
    tensor([1, 2, 6])
    """
    x = _scan_input("cumprod", input, dtype)
    if x.ndim == 0:
        return x.clone()
    axis = norm_dim(dim, x.ndim, "cumprod")
    n = x.shape[axis]
    if not x.requires_grad:
        return Tensor._make(xp_of(x._data).cumprod(x._data, axis=axis))
    if n <= 1:
        return x.clone()
    # each running product is the previous one times the next factor: a chain of differentiable
    # multiplications, so the gradient is exact even where a factor is 0 (no division by x)
    lead = (slice(None),) * axis
    parts = [x[lead + (slice(0, 1),)]]
    for i in range(1, n):
        parts.append(_ew.mul(parts[-1], x[lead + (slice(i, i + 1),)]))
    return _shape.cat(parts, axis)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """The product of all entries, or along ``dim`` (exact gradient also with zeros).

    >>> cr.prod(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    tensor([ 2., 12.])
    """
    x = _scan_input("prod", input, dtype)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            return Tensor._make(xp_of(x._data).ones((), x.dtype))
        return cumprod(flat, 0)[-1]
    if x.ndim == 0:
        return x.clone()
    axis = norm_dim(dim, x.ndim, "prod")
    if x.shape[axis] == 0 or not x.requires_grad:
        return Tensor._make(xp_of(x._data).prod(x._data, axis=axis, keepdims=keepdim))
    last = cumprod(x, axis)[(slice(None),) * axis + (slice(-1, None),)]
    return last if keepdim else last.squeeze(axis)


# ----------------------------------------------------------------------------- comparison and logic


def _cmp(op: str, name: str, a, b) -> Tensor:
    if not isinstance(a, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(a).__name__}")
    return _ew.compare(op, a, b)


def eq(input: Tensor, other) -> Tensor:  # noqa: A002
    """input == other element-wise (a bool tensor, no gradient)."""
    return _cmp("eq", "eq", input, other)


def ne(input: Tensor, other) -> Tensor:  # noqa: A002
    """input != other element-wise."""
    return _cmp("ne", "ne", input, other)


def gt(input: Tensor, other) -> Tensor:  # noqa: A002
    """input > other element-wise."""
    return _cmp("gt", "gt", input, other)


def ge(input: Tensor, other) -> Tensor:  # noqa: A002
    """input >= other element-wise."""
    return _cmp("ge", "ge", input, other)


def lt(input: Tensor, other) -> Tensor:  # noqa: A002
    """input < other element-wise."""
    return _cmp("lt", "lt", input, other)


def le(input: Tensor, other) -> Tensor:  # noqa: A002
    """input <= other element-wise."""
    return _cmp("le", "le", input, other)


def _bool(x) -> object:
    a = _ew._data(x)
    return a.astype(bool) if hasattr(a, "astype") else bool(a)


def logical_and(input: Tensor, other) -> Tensor:  # noqa: A002
    """Element-wise AND of the truth values (nonzero is True)."""
    return Tensor._make(xp_of(input._data).logical_and(_bool(input), _bool(other)))


def logical_or(input: Tensor, other) -> Tensor:  # noqa: A002
    """Element-wise OR of the truth values."""
    return Tensor._make(xp_of(input._data).logical_or(_bool(input), _bool(other)))


def logical_xor(input: Tensor, other) -> Tensor:  # noqa: A002
    """Element-wise XOR of the truth values."""
    return Tensor._make(xp_of(input._data).logical_xor(_bool(input), _bool(other)))


def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    """Element-wise NOT of the truth values (a bool tensor)."""
    return Tensor._make(xp_of(input._data).logical_not(input._data))


def isnan(input: Tensor) -> Tensor:  # noqa: A002
    """True where input is NaN."""
    return Tensor._make(xp_of(input._data).isnan(input._data))


def isinf(input: Tensor) -> Tensor:  # noqa: A002
    """True where input is ±inf."""
    return Tensor._make(xp_of(input._data).isinf(input._data))


def isposinf(input: Tensor) -> Tensor:  # noqa: A002
    """True where input is +inf."""
    return Tensor._make(xp_of(input._data).isposinf(input._data))


def isneginf(input: Tensor) -> Tensor:  # noqa: A002
    """True where input is -inf."""
    return Tensor._make(xp_of(input._data).isneginf(input._data))


def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    """True where input is neither NaN nor ±inf."""
    return Tensor._make(xp_of(input._data).isfinite(input._data))


def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:  # noqa: A002
    """|input - other| <= atol + rtol · |other| element-wise (a bool tensor)."""
    a, b = _ew._data(input), _ew._data(other)
    return Tensor._make(xp_of(a).asarray(xp_of(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:  # noqa: A002
    """Whether ``isclose`` holds everywhere (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both have the same shape and the same values (a Python bool)."""
    return tuple(input.shape) == tuple(other.shape) and bool((input._data == other._data).all())


def nan_to_num(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:  # noqa: A002
    """Replace NaN and infinities by finite numbers.

    NaN, +inf and -inf replaced (by 0, the dtype's largest and its smallest value by default);
    the gradient flows where the input was finite.
    """
    a = input._data
    if a.dtype.kind != "f":
        return input.clone()
    info = np.finfo(a.dtype)
    xp = xp_of(a)
    fill = xp.where(
        xp.isnan(a),
        nan,
        xp.where(a > 0, info.max if posinf is None else posinf, info.min if neginf is None else neginf),
    )
    return _ew.where(Tensor._make(xp.isfinite(a)), input, Tensor._make(fill.astype(a.dtype)))


def count_nonzero(input: Tensor, dim=None) -> Tensor:  # noqa: A002
    """How many entries are nonzero, over all or along ``dim`` (int64)."""
    axes = _shape.norm_dims(dim, input.ndim, "count_nonzero") if dim is not None else None
    xp = xp_of(input._data)
    return Tensor._make(xp.asarray(xp.count_nonzero(input._data, axis=axes), dtype=np.int64))


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """Whether every entry (along ``dim``) is nonzero (a bool tensor)."""
    return _reduce.any_all("all", input, dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """Whether some entry (along ``dim``) is nonzero (a bool tensor)."""
    return _reduce.any_all("any", input, dim, keepdim)
