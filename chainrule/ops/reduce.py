"""Reductions: sum, mean, var, std, max/min (values, indices), amax/amin, argmax/argmin, logsumexp.

``dim`` may be an int, a tuple of ints (negative counts from the end) or
``None`` (every dimension); ``keepdim=True`` keeps reduced dimensions as size 1.

Backward of a reduction spreads the upstream gradient back over the elements
that were reduced: equally for ``sum`` (and divided by N for ``mean``), to the
winning element for ``max``/``min``.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import bmath as bm
from chainrule.ops.shape import norm_dims
from chainrule.tensor import Tensor

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    """``shape`` with the reduced ``axes`` set to 1 (the keepdim shape)."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(grad, shape: tuple, axes: tuple):
    """Broadcast a reduction's gradient back to the input shape.

    Broadcast the gradient of a reduction over ``axes`` back to the input ``shape``
    (a Tensor, or on the engine's fast path a bare array).
    """
    return bm.broadcast_to(grad.reshape(_kept_shape(shape, axes)), shape)


class Sum(Function):
    """out = Σ x over ``axes``;  dx = grad broadcast back to x's shape."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.axes = axes
        a = x._data
        xp = xp_of(a)
        if axes == (0,) and a.ndim == 2 and a.shape[0] >= 64 and a.dtype.kind == "f" and dtype is None:
            # a matrix-vector product is ~3x faster than a.sum(0) on a tall array (BLAS is threaded)
            out = xp.ones(a.shape[0], a.dtype) @ a
            return out[None] if keepdim else out
        return xp.sum(a, axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        return _spread(grad, x.shape, ctx.axes), None, None, None


class Mean(Function):
    """out = (1/N) Σ x over ``axes``;  dx = grad / N broadcast back."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.axes = axes
        a = x._data
        ctx.n = _count(a.shape, axes)
        return xp_of(a).mean(a, axis=axes, keepdims=keepdim, dtype=dtype).astype(dtype or a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        return _spread(grad / ctx.n, x.shape, ctx.axes), None, None, None


class Var(Function):
    """out = Σ (x - x̄)² / (N - correction);  dx = grad · 2 (x - x̄) / (N - correction)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.axes, ctx.correction = axes, correction
        a = x._data
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp_of(a).var(a, axis=axes, ddof=correction, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _var_backward(grad, x, ctx.axes, ctx.correction), None, None, None


def _var_backward(grad, x, axes: tuple, correction: int):
    """dx = grad · 2 (x - x̄) / (N - correction)  (inf / NaN when N ≤ correction, as PyTorch)."""
    dof = builtins.max(_count(x.shape, axes) - correction, 0)
    centered = x - bm.mean(x, axes, keepdim=True)
    with np.errstate(invalid="ignore"):  # 0 · inf when N <= correction: NaN, as PyTorch
        return _spread(grad, x.shape, axes) * centered * (2.0 / dof if dof else float("inf"))


class Std(Function):
    """Standard deviation.

    out = √var(x);  dx = grad / (2 out) · 2 (x - x̄) / (N - correction), and 0 where out = 0
    (a constant input: PyTorch's choice, the one-sided derivative there is infinite).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.save_output()
        ctx.axes, ctx.correction = axes, correction
        a = x._data
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp_of(a).std(a, axis=axes, ddof=correction, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        (out,) = ctx.outputs
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_var = bm.where(out == 0, 0.0, grad / (out * 2.0))
        return _var_backward(grad_var, x, ctx.axes, ctx.correction), None, None, None


class Norm2(Function):
    """out = √(Σ x²) over ``axes``;  dx = grad · x / out, and 0 where out = 0 (as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.save_output()
        ctx.axes = axes
        a = x._data
        return xp_of(a).sqrt(xp_of(a).sum(a * a, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        (out,) = ctx.outputs
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = bm.where(out == 0, 0.0, grad / out)
        return scale.reshape(_kept_shape(x.shape, ctx.axes)) * x, None, None


class MaxMinDim(Function):
    """(values, indices) of the max/min along one dim;  dx = grad at the arg-max (first on ties)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axis, keepdim, is_max):
        a = x._data
        xp = xp_of(a)
        idx = xp.argmax(a, axis=axis) if is_max else xp.argmin(a, axis=axis)
        idx = xp.expand_dims(idx, axis)
        values = xp.take_along_axis(a, idx, axis=axis)
        ctx.axis, ctx.idx = axis, idx
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        x = ctx.inputs[0]
        xp = xp_of(x._data)
        positions = xp.arange(x.shape[ctx.axis]).reshape((-1,) + (1,) * (x.ndim - ctx.axis - 1))
        winner = positions == ctx.idx
        return grad.reshape(ctx.idx.shape) * winner, None, None, None


class AmaxAmin(Function):
    """max/min values over ``axes``;  the gradient is shared equally by tied winners (as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max, nan_wins=False):
        a = x._data
        xp = xp_of(a)
        ctx.axes, ctx.nan_wins = axes, nan_wins
        ctx.save_for_backward(x)
        ctx.save_output()
        return xp.amax(a, axis=axes, keepdims=keepdim) if is_max else xp.amin(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        (out,) = ctx.outputs
        x, out = _array(x), _array(out)
        out = out.reshape(_kept_shape(x.shape, ctx.axes))
        winners = x == out
        if ctx.nan_wins and xp_of(out).isnan(out).any():  # max()/min() of all: NaNs share, as PyTorch
            winners |= xp_of(x).isnan(x) & xp_of(out).isnan(out)
        share = (winners / winners.sum(axis=ctx.axes, keepdims=True)).astype(x.dtype)
        return _spread(grad, x.shape, ctx.axes) * share, None, None, None, None


class LogSumExp(Function):
    """Log-sum-exp.

    out = log Σ exp(x) over ``axes``, computed as m + log Σ exp(x - m) with m = max x;
    dx = grad · exp(x - out) (the softmax).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        xp = xp_of(a)
        ctx.axes = axes
        ctx.save_for_backward(x)
        ctx.save_output()
        # an empty reduction has no max: shift by 0 (the sum of no terms is 0, its log -inf)
        m = xp.amax(a, axis=axes, keepdims=True) if a.size else xp.zeros(_kept_shape(a.shape, axes), a.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            out = xp.log(xp.sum(xp.exp(a - m), axis=axes, keepdims=True)) + m
        return out if keepdim else out.reshape([s for i, s in enumerate(out.shape) if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        (out,) = ctx.outputs
        kept = _kept_shape(x.shape, ctx.axes)
        return _spread(grad, x.shape, ctx.axes) * bm.exp(x - out.reshape(kept)), None, None


def _array(t):
    return t._data if isinstance(t, Tensor) else t


def _need_float(x: Tensor, op: str) -> None:
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype} (shape {tuple(x.shape)})")


def _dims(dim, ndim: int, op: str) -> tuple:
    """The reduced axes; ``dim=()`` (like ``None``) means every dimension, as PyTorch's reductions."""
    if isinstance(dim, (tuple, list)) and not dim:
        dim = None
    return norm_dims(dim, ndim, op)


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


# ----------------------------------------------------------------------------- functional API


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Σ x over ``dim`` (all dimensions when None)."""
    return Sum.apply(x, _dims(dim, x.ndim, "sum"), keepdim, dtype)


def mean(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim``."""
    if x.dtype.kind not in "fc" and dtype is None:
        raise RuntimeError(f"mean: input dtype should be floating point, got {x.dtype}")
    return Mean.apply(x, _dims(dim, x.ndim, "mean"), keepdim, dtype)


def _correction(unbiased, correction) -> int:
    if correction is not None:
        return int(correction)
    return 0 if unbiased is False else 1


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim``: Σ (x - x̄)² / (N - correction); correction=1 (Bessel) by default."""
    _need_float(x, "var")
    return Var.apply(x, _dims(dim, x.ndim, "var"), _correction(unbiased, correction), keepdim)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: √var over ``dim`` (correction=1 by default)."""
    _need_float(x, "std")
    return Std.apply(x, _dims(dim, x.ndim, "std"), _correction(unbiased, correction), keepdim)


def _max_min(x: Tensor, dim, keepdim: bool, is_max: bool, op: str):
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError(f"{op}: expected a non-empty tensor when no dim is given, got shape {x.shape}")
        return AmaxAmin.apply(x, tuple(range(x.ndim)), False, is_max, True)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be a single int (use amax/amin for several dims), got {dim}")
    axis = norm_dims(dim, x.ndim, op)[0] if x.ndim else None
    if axis is None:
        return ValuesIndices(x.clone(), Tensor._make(xp_of(x._data).zeros((), np.int64)))
    if x.shape[axis] == 0:
        raise IndexError(f"{op}: cannot reduce over dimension {dim} of size 0 (shape {x.shape})")
    values, indices = MaxMinDim.apply(x, axis, keepdim, is_max)
    return ValuesIndices(values, indices)


def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The largest value, or with ``dim``: the named tuple (values, indices) along ``dim``."""
    if isinstance(dim, Tensor):
        from chainrule.ops.elementwise import maximum

        return maximum(x, dim)
    return _max_min(x, dim, keepdim, True, "max")


def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The smallest value, or with ``dim``: the named tuple (values, indices) along ``dim``."""
    if isinstance(dim, Tensor):
        from chainrule.ops.elementwise import minimum

        return minimum(x, dim)
    return _max_min(x, dim, keepdim, False, "min")


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (ties share the gradient)."""
    return AmaxAmin.apply(x, _nonempty_dims(x, dim, "amax"), keepdim, True)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (ties share the gradient)."""
    return AmaxAmin.apply(x, _nonempty_dims(x, dim, "amin"), keepdim, False)


def _nonempty_dims(x: Tensor, dim, op: str) -> tuple:
    """The reduced axes of a max/min; reducing over a size-0 dim has no answer (IndexError, as PyTorch)."""
    axes = _dims(dim, x.ndim, op)
    empty = [a for a in axes if x.shape[a] == 0] if axes is not None else ([0] if x.numel() == 0 else [])
    if empty and not (axes is None and x.ndim == 0):
        raise IndexError(
            f"{op}: can't reduce over dimension {empty[0]} of size 0 (input shape {tuple(x.shape)}): "
            "an empty set has no maximum or minimum"
        )
    return axes


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (of the flattened tensor when ``dim`` is None); first on ties."""
    return _arg(x, dim, keepdim, "argmax")


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (of the flattened tensor when ``dim`` is None); first on ties."""
    return _arg(x, dim, keepdim, "argmin")


def _arg(x: Tensor, dim, keepdim: bool, op: str) -> Tensor:
    xp = xp_of(x._data)
    fn = xp.argmax if op == "argmax" else xp.argmin
    if x._data.size == 0:
        raise RuntimeError(f"{op}: expected a non-empty tensor, got shape {x.shape}")
    if dim is None:
        out = xp.asarray(fn(x._data))
        if keepdim:
            out = out.reshape((1,) * x.ndim)
    else:
        axis = norm_dims(dim, x.ndim, op)[0] if x.ndim else None
        out = fn(x._data, axis=axis, keepdims=keepdim) if axis is not None else xp.asarray(0)
    return Tensor._make(out.astype(np.int64))


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log Σ exp(x) over ``dim``, without overflow (integer inputs are computed in float32, as PyTorch)."""
    if x._data.dtype.kind in "biu":
        x = Tensor._make(x._data.astype(np.float32))
    return LogSumExp.apply(x, norm_dims(dim, x.ndim, "logsumexp"), keepdim)


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm (Σ |x|ᵖ)^(1/p) over ``dim`` (all elements by default)."""
    _need_float(x, "norm")
    if p == 2:
        return Norm2.apply(x, _dims(dim, x.ndim, "norm"), keepdim)
    if p == 1:
        return x.abs().sum(dim, keepdim)
    if p == float("inf"):
        return x.abs().amax(dim, keepdim)
    return (x.abs() ** p).sum(dim, keepdim) ** (1.0 / p)


def any_all(op: str, x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Logical any/all over ``dim``; a bool tensor."""
    xp = xp_of(x._data)
    axes = norm_dims(dim, x.ndim, op)
    return Tensor._make(xp.asarray(getattr(xp, op)(x._data, axis=axes, keepdims=keepdim)))
