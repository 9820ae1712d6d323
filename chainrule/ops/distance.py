"""Distances and normalisation, as ``torch.nn.functional``.

``vector_norm`` along one dim, ``normalize``, ``cosine_similarity``, ``pairwise_distance``.

All three public functions are compositions of differentiable ops, written the way PyTorch
writes them, so values, gradients at the kinks (a zero norm, a clamped denominator) and second
derivatives come out as PyTorch's.  The one new op is the p-norm for a general p, whose
backward is PyTorch's case by case (a zero norm gives a zero gradient, not 0 · ∞).
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import _args
from chainrule.ops import bmath as bm
from chainrule.ops.reduce import Norm2
from chainrule.ops.shape import norm_dim
from chainrule.tensor import Tensor


class PNorm(Function):
    """out = (Σ |x|ᵖ)^{1/p} along ``axis`` for a finite p ∉ {1, 2}.

    dx = sgn(x) |x|^{p-1} · grad / out^{p-1} (0 where out = 0), and for p < 1
    sgn(x) |x|^{p-1} · grad · out^{1-p} (0 where x = 0), as PyTorch's vector-norm backward.
    p = 0 counts the nonzero entries; its gradient is 0.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, p, axis, keepdim):
        ctx.save_for_backward(x)
        ctx.save_output()
        ctx.p, ctx.axis, ctx.keepdim = p, axis, keepdim
        a = x._data
        xp = xp_of(a)
        if p == 0:
            return (a != 0).sum(axis=axis, keepdims=keepdim).astype(a.dtype)
        out = (xp.abs(a) ** p).sum(axis=axis, keepdims=keepdim) ** (1.0 / p)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        (out,) = ctx.outputs
        p = ctx.p
        if p == 0:
            return bm.zeros_like(x), None, None, None
        if not ctx.keepdim:
            kept = tuple(1 if i == ctx.axis else s for i, s in enumerate(x.shape))
            grad, out = grad.reshape(kept), out.reshape(kept)
        ax = bm.abs(x)
        if p < 1:
            scaled = bm.sign(x) * bm.where(x == 0, 0.0, bm.where(x == 0, 1.0, ax) ** (p - 1))
            return scaled * grad * out ** (1 - p), None, None, None
        scale = bm.where(out == 0, 0.0, grad / bm.where(out == 0, 1.0, out) ** (p - 1))
        return bm.sign(x) * ax ** (p - 1) * scale, None, None, None


def vector_norm(x: Tensor, p: float, dim: int, keepdim: bool = False, op: str = "norm") -> Tensor:
    """The p-norm of ``x`` along one dim, with PyTorch's gradients at every p (0, 1, 2, ±∞, others)."""
    axis = norm_dim(dim, x.ndim, op) if x.ndim else None
    if x.ndim == 0:
        x, axis = x.reshape(1), 0
        if not keepdim:
            return vector_norm(x, p, 0, False, op)
    if p == 2:
        return Norm2.apply(x, (axis,), keepdim)
    if p == 1:
        return x.abs().sum(axis, keepdim)
    if p == math.inf:
        return x.abs().amax(axis, keepdim)
    if p == -math.inf:
        return x.abs().amin(axis, keepdim)
    return PNorm.apply(x, float(p), axis, keepdim)


def _float_tensor(op: str, name: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor for {name}, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point {name}, got dtype {x.dtype}")


def no_grad_clamp_min(t: Tensor, eps: float) -> Tensor:
    """max(t, eps) whose gradient is 1 everywhere: PyTorch clamps these denominators under no_grad."""
    return bm.where(t < eps, (t - t.detach()) + eps, t)


def _broadcast_pair(op: str, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    try:
        shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    except ValueError:
        raise RuntimeError(
            f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} cannot be broadcast "
            "together"
        ) from None
    if x1.dtype != x2.dtype:
        raise TypeError(f"{op}: x1 and x2 must have the same dtype, got {x1.dtype} and {x2.dtype}")
    x1 = x1 if tuple(x1.shape) == shape else x1.expand(shape)
    x2 = x2 if tuple(x2.shape) == shape else x2.expand(shape)
    return x1, x2


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:  # noqa: A002
    r"""Each vector along ``dim`` divided by its p-norm, as ``torch.nn.functional.normalize``.

    $$
    v = \frac{x}{\max(\lVert x \rVert_p, \epsilon)}
    $$

    Args:
        input: a floating point tensor.
        p: the exponent of the norm.
        dim: the dimension whose vectors are normalised.
        eps: the smallest denominator (the gradient through the clamp is 0 below it, as PyTorch).
        out: not supported (must be None).

    Returns:
        A tensor of the input's shape.

    Example:
        >>> cr.nn.functional.normalize(cr.tensor([[3.0, 4.0]]))
        tensor([[0.6, 0.8]])
    """
    _float_tensor("normalize", "input", input)
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    p = _args.number("normalize", "p", p)
    eps = _args.number("normalize", "eps", eps)
    denom = vector_norm(input, p, dim, keepdim=True, op="normalize").clamp(min=eps)
    return input / denom


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    r"""Cosine of the angle between x1 and x2 along ``dim``, as ``torch.nn.functional.cosine_similarity``.

    $$
    \cos(x_1, x_2) = \sum \frac{x_1}{\max(\lVert x_1 \rVert_2, \epsilon)}
    \cdot \frac{x_2}{\max(\lVert x_2 \rVert_2, \epsilon)}
    $$

    Each input is normalised first (as PyTorch, so the result stays in [-1, 1]); the clamp to
    ``eps`` passes the gradient through unchanged, as PyTorch's clamp under ``no_grad`` does.

    Args:
        x1: a floating point tensor.
        x2: a tensor broadcastable with ``x1``.
        dim: the dimension of the vectors, in the broadcast shape.
        eps: the smallest norm.

    Returns:
        The broadcast shape without ``dim``.

    Example:
        >>> cr.nn.functional.cosine_similarity(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    op = "cosine_similarity"
    _float_tensor(op, "x1", x1)
    _float_tensor(op, "x2", x2)
    eps = _args.number(op, "eps", eps)
    x1, x2 = _broadcast_pair(op, x1, x2)
    axis = norm_dim(dim, x1.ndim, op)
    if x1.ndim == 0:
        x1, x2, axis = x1.reshape(1), x2.reshape(1), 0
    n1 = no_grad_clamp_min(Norm2.apply(x1, (axis,), True), eps)
    n2 = no_grad_clamp_min(Norm2.apply(x2, (axis,), True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    r"""The p-norm of x1 - x2 + eps along the last dim, as ``torch.nn.functional.pairwise_distance``.

    $$
    d(x_1, x_2) = \lVert x_1 - x_2 + \epsilon \rVert_p
    $$

    Args:
        x1: a floating point tensor (N, D) or (D,).
        x2: a tensor broadcastable with ``x1``.
        p: the exponent of the norm (0, ∞ and fractional ones included).
        eps: added to the difference, so equal vectors keep a gradient.
        keepdim: keep the reduced last dim as size 1.

    Returns:
        The broadcast shape without its last dim (with it, of size 1, if ``keepdim``).

    Example:
        >>> cr.nn.functional.pairwise_distance(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0]]), eps=0.0)
        tensor([5.])
    """
    op = "pairwise_distance"
    _float_tensor(op, "x1", x1)
    _float_tensor(op, "x2", x2)
    p = _args.number(op, "p", p)
    eps = _args.number(op, "eps", eps)
    _broadcast_pair(op, x1, x2)
    return vector_norm(x1 - x2 + eps, p, -1, keepdim, op)
