"""``bmath``: the math a ``backward`` is written with, on arrays and on Tensors alike.

Every derivative in chainrule is written once.  A ``backward`` runs in one of two modes:

- **first order** (``loss.backward()``, the common case): the engine hands it NumPy (CuPy)
  arrays and nothing is recorded, so a training step pays no graph bookkeeping;
- **``create_graph=True``**: it is handed Tensors and every op it uses is recorded, so the
  gradient it returns can be differentiated again (second derivatives).

Operators (``+ - * / ** @``, comparisons), indexing, ``.T``, ``.reshape(shape)``, ``.shape``
and ``.ndim`` mean the same on arrays and Tensors.  For everything else a backward calls this
module, whose functions look at what they are given: arrays go to NumPy/CuPy, Tensors to
chainrule's differentiable ops.  So the derivative of ``elu`` reads, in both modes::

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return bm.where(x > 0, grad, grad * bm.exp(bm.minimum(x, 0.0)) * ctx.alpha), None

A comparison of Tensors gives a bool Tensor that carries no gradient, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import np, xp_of
from chainrule.kernels import views
from chainrule.tensor import Tensor


def is_tensor(*values: Any) -> bool:
    """Whether any of ``values`` is a Tensor (then the backward is being recorded)."""
    return any(isinstance(v, Tensor) for v in values)


def _xp(*values: Any):
    for v in values:
        if isinstance(v, Tensor):
            return xp_of(v._data)
        if hasattr(v, "shape") and hasattr(v, "dtype"):
            return xp_of(v)
    return np


def _ops():
    from chainrule.ops import elementwise  # bmath is imported by elementwise itself

    return elementwise


def const(array, like: Any) -> Any:
    """``array`` as a constant in the mode of ``like``: a Tensor (no grad) next to Tensors, else as is."""
    if isinstance(like, Tensor) and not isinstance(array, Tensor):
        return Tensor._make(array)
    return array


def where(cond, a, b):
    """``a`` where ``cond`` else ``b``; the gradient flows to the branch that was taken."""
    if is_tensor(cond, a, b):
        if not isinstance(cond, Tensor):
            cond = Tensor._make(cond)
        return _ops().where(cond, a, b)
    return _xp(cond, a, b).where(cond, a, b)


def exp(x):
    """eˣ, in either mode."""
    return x.exp() if isinstance(x, Tensor) else xp_of(x).exp(x)


def expm1(x):
    """eˣ - 1 (exact for small x on arrays), in either mode."""
    return x.exp() - 1.0 if isinstance(x, Tensor) else xp_of(x).expm1(x)


def log(x):
    """Natural logarithm, in either mode."""
    return x.log() if isinstance(x, Tensor) else xp_of(x).log(x)


def log1p(x):
    """log(1 + x) (exact for small x on arrays), in either mode."""
    return (x + 1.0).log() if isinstance(x, Tensor) else xp_of(x).log1p(x)


def sqrt(x):
    """Square root, in either mode."""
    return x.sqrt() if isinstance(x, Tensor) else xp_of(x).sqrt(x)


def tanh(x):
    """Hyperbolic tangent, in either mode."""
    return x.tanh() if isinstance(x, Tensor) else xp_of(x).tanh(x)


def sigmoid(x):
    """σ(x), stable for large |x| in both modes."""
    if isinstance(x, Tensor):
        return x.sigmoid()
    return _ops().stable_sigmoid(x)


def abs(x):  # noqa: A001 - the math's name
    """Absolute value, in either mode."""
    return x.abs() if isinstance(x, Tensor) else xp_of(x).abs(x)


def sign(x):
    """-1, 0 or 1, and 0 for NaN as PyTorch (no gradient in either mode)."""
    if isinstance(x, Tensor):
        return _ops().sign(x)
    out = xp_of(x).sign(x)
    return xp_of(x).where(out != out, 0, out).astype(out.dtype, copy=False) if out.dtype.kind == "f" else out


def maximum(a, b):
    """Element-wise maximum of ``a`` and ``b``, in either mode."""
    if is_tensor(a, b):
        return _ops().clamp(a, min=b) if not isinstance(b, Tensor) else _ops().maximum(a, b)
    return _xp(a, b).maximum(a, b)


def minimum(a, b):
    """Element-wise minimum of ``a`` and ``b``, in either mode."""
    if is_tensor(a, b):
        return _ops().clamp(a, max=b) if not isinstance(b, Tensor) else _ops().minimum(a, b)
    return _xp(a, b).minimum(a, b)


def erf(x):
    """The error function, in either mode."""
    from chainrule.ops import activation

    return activation.erf(x) if isinstance(x, Tensor) else activation.erf_array(x)


def sum(x, axis=None, keepdim: bool = False):  # noqa: A001 - the math's name
    """Σ over ``axis`` (an int, a tuple or None for all)."""
    if isinstance(x, Tensor):
        return x.sum(dim=axis, keepdim=keepdim)
    return x.sum(axis=axis, keepdims=keepdim)


def zeros_like(x):
    """Zeros of ``x``'s shape, dtype and device, a constant in either mode."""
    z = xp_of(x._data if isinstance(x, Tensor) else x).zeros(x.shape, x.dtype)
    return const(z, x)


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    return _ops().unbroadcast(grad, shape)


def add_rows_at(rows, idx, n: int):
    """out = zeros(n, d) with ``out[idx[i]] += rows[i]`` (repeated indices add up); ``idx`` an int array."""
    if isinstance(rows, Tensor):
        from chainrule.ops.shape import IndexAdd

        return IndexAdd.apply(rows, (n, rows.shape[1]), (idx,))
    from chainrule.kernels.embedding import sum_rows_by_index

    return sum_rows_by_index(rows, idx, n)


def index_add(src, shape: tuple, index):
    """zeros(shape) with ``src`` added at ``index`` (basic or advanced; repeated indices add up)."""
    if isinstance(src, Tensor):
        from chainrule.ops.shape import IndexAdd

        return IndexAdd.apply(src, shape, index)
    from chainrule.ops.shape import _index_add

    return _index_add(src, shape, index)


def broadcast_to(x, shape: tuple):
    """``x`` repeated along its size-1 dims to ``shape`` (a view, no copy)."""
    return x.expand(shape) if isinstance(x, Tensor) else views.broadcast(x, shape)


def permute(x, dims: tuple):
    """The axes of ``x`` reordered: axis i of the result is axis ``dims[i]`` of x."""
    return x.permute(dims) if isinstance(x, Tensor) else x.transpose(dims)


def cumsum(x, axis: int):
    """Running sums along ``axis``."""
    if isinstance(x, Tensor):
        from chainrule.ops.mathx import cumsum as _cumsum

        return _cumsum(x, axis)
    return xp_of(x).cumsum(x, axis=axis)


def einsum(subs, out: str, *operands):
    """``einsum`` with one subscript string per operand and the output's (no ellipsis)."""
    from chainrule.ops.mathx import bm_einsum

    return bm_einsum(subs, out, *operands)


def mT(x):  # noqa: N802 - PyTorch's name
    """The last two dims swapped."""
    return x.mT if isinstance(x, Tensor) else xp_of(x).swapaxes(x, -1, -2)


def inv(x):
    """The inverse of (a batch of) square matrices."""
    if isinstance(x, Tensor):
        from chainrule.linalg import inv as _inv

        return _inv(x)
    return xp_of(x).linalg.inv(x)


def solve(a, b):
    """X with a @ X = b."""
    if is_tensor(a, b):
        from chainrule.linalg import solve as _solve

        return _solve(
            const(a, b) if not isinstance(a, Tensor) else a, const(b, a) if not isinstance(b, Tensor) else b
        )
    return xp_of(a).linalg.solve(a, b)


def tril_mask(x, diagonal: int = 0):
    """x with the entries above ``diagonal`` of its last two dims zeroed (a mask product)."""
    n, m = x.shape[-2], x.shape[-1]
    xp = _xp(x)
    mask = xp.tril(xp.ones((n, m), dtype=x.dtype), diagonal)
    return x * const(mask, x)


def diag_embed(v):
    """Each last-dim vector of ``v`` on the diagonal of a matrix."""
    n = v.shape[-1]
    eye = _xp(v).eye(n, dtype=v.dtype)
    return v.reshape(v.shape + (1,)) * const(eye, v)


def diagonal(x):
    """The main diagonals of the last two dims."""
    if isinstance(x, Tensor):
        from chainrule.ops.mathx import diagonal as _diagonal

        return _diagonal(x, 0, -2, -1)
    return xp_of(x).diagonal(x, 0, -2, -1)


def apply(function, *args):
    """Apply an op in the mode of its arguments.

    The op ``function`` on ``args``, in their mode: ``function.apply(*args)`` (recorded) when any
    of them is a Tensor, else its array kernel ``function.kernel(*args)``.

    For a backward whose map is itself an op with a tuned kernel (a convolution's input gradient is
    a transposed convolution, a max pool's is a scatter): the fast path runs the kernel on arrays,
    create_graph=True records the op, whose own backward is written the same way.
    """
    for a in args:  # a plain loop: this runs in every hot backward
        if isinstance(a, Tensor):
            return function.apply(*args)
    return function.kernel(*args)


def softplus(x):
    """log(1 + eˣ), stable for large |x| in both modes (the derivative is σ(x), also at 0)."""
    if isinstance(x, Tensor):
        from chainrule.ops.activation import Softplus

        return Softplus.apply(x, 1.0, float("inf"))
    xp = xp_of(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def add_at_columns(x, cols, values):
    """x + values[i] at (i, cols[i]) for every row i of a (M, C) ``x``: a one-hot added per row.

    On arrays it writes into ``x`` (pass a fresh array); on Tensors it is differentiable in x and values.
    """
    if isinstance(x, Tensor) or isinstance(values, Tensor):
        xp = _xp(x, values)
        onehot = xp.zeros(x.shape, x.dtype)
        onehot[xp.arange(x.shape[0]), cols] = 1
        return x + const(onehot, x) * values.reshape(x.shape[0], 1)
    xp = xp_of(x)
    x[xp.arange(x.shape[0]), cols] += values
    return x


def sin(x):
    """The sine of an array or a Tensor, element-wise."""
    return x.sin() if isinstance(x, Tensor) else xp_of(x).sin(x)


def cos(x):
    """The cosine of an array or a Tensor, element-wise."""
    return x.cos() if isinstance(x, Tensor) else xp_of(x).cos(x)


def mean(x, axis=None, keepdim: bool = False):
    """The mean over ``axis`` (an int, a tuple or None for all)."""
    if isinstance(x, Tensor):
        return x.mean(dim=axis, keepdim=keepdim)
    return x.mean(axis=axis, keepdims=keepdim)
