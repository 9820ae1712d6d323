"""Names PyTorch code reaches for.

Names PyTorch code reaches for: ``mm``, ``narrow``, ``tril``/``triu``, ``log1p``, ``randn_like``,
``smooth_l1_loss`` and ``group_norm``.

Each is a small ``Function`` or a composition of differentiable ops, so gradients (and second
derivatives) follow from the pieces' backwards.
"""

from __future__ import annotations

from typing import Any

from chainrule import random as _random
from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import bmath as bm
from chainrule.ops.creation import _float_dtype, _make
from chainrule.ops.linalg import matmul
from chainrule.ops.shape import norm_dim
from chainrule.tensor import Tensor


def _check(op: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


# ----------------------------------------------------------------------------- mm, narrow


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Matrix product of two 2-D tensors, (n, m) @ (m, p) -> (n, p), as ``torch.mm`` (no broadcasting).

    Example: ``cr.mm(cr.ones(2, 3), cr.ones(3, 4))`` -> a (2, 4) tensor of 3s.
    """
    _check("mm", input)
    _check("mm", mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(
            f"mm: both arguments must be 2-D matrices, "
            f"got shapes {tuple(input.shape)} and {tuple(mat2.shape)}"
        )
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})"
        )
    if input.dtype != mat2.dtype:
        raise RuntimeError(
            f"mm: expected both matrices to have the same dtype, got {input.dtype} and {mat2.dtype}"
        )
    return matmul(input, mat2)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """The slice ``start : start + length`` of dimension ``dim`` (a view, as ``torch.narrow``).

    Example: ``cr.arange(6).narrow(0, 1, 3)`` -> ``tensor([1, 2, 3])``.
    """
    _check("narrow", input)
    if input.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-dim tensor")
    d = norm_dim(dim, input.ndim, "narrow")
    size = input.shape[d]
    if isinstance(start, Tensor):
        start = int(start.item())
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dimension {dim} of size {size}")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})")
    index = (slice(None),) * d + (slice(start, start + length),)
    return input[index]


# ----------------------------------------------------------------------------- tril, triu


class _Triangle(Function):
    """out = x ⊙ M with M the 0/1 lower (or upper) triangle mask of the last two dims;  dx = grad ⊙ M."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        a = x._data
        xp = xp_of(a)
        rows, cols = a.shape[-2:]
        keep = xp.ones((rows, cols), dtype=bool)
        keep = xp.triu(keep, diagonal) if upper else xp.tril(keep, diagonal)
        ctx.keep = keep
        return xp.where(keep, a, xp.zeros((), a.dtype))

    @staticmethod
    def backward(ctx, grad):
        return bm.where(bm.const(ctx.keep, grad), grad, bm.zeros_like(grad)), None, None


def _triangle(op: str, input: Tensor, diagonal: int, upper: bool) -> Tensor:  # noqa: A002
    _check(op, input)
    if input.ndim < 2:
        raise RuntimeError(
            f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    if not isinstance(diagonal, (int, np.integer)) or isinstance(diagonal, bool):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    return _Triangle.apply(input, int(diagonal), upper)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dims (entries with column - row <= ``diagonal``), the rest 0.

    Example: ``cr.tril(cr.ones(3, 3))`` -> ones on and below the diagonal.
    """
    return _triangle("tril", input, diagonal, upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dims (entries with column - row >= ``diagonal``), the rest 0.

    Example: ``cr.triu(cr.ones(3, 3), diagonal=1)`` -> ones strictly above the diagonal.
    """
    return _triangle("triu", input, diagonal, upper=True)


# ----------------------------------------------------------------------------- log1p


class Log1p(Function):
    """out = ln(1 + x), accurate for tiny x;  dx = grad / (1 + x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp_of(x._data).log1p(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1.0)


def log1p(input: Tensor) -> Tensor:  # noqa: A002
    """ln(1 + x) element-wise, exact for |x| much smaller than 1 (where ``log(1 + x)`` rounds to 0).

    Example: ``cr.log1p(cr.tensor([1e-10]))`` -> ``tensor([1.0000e-10])``.
    """
    _check("log1p", input)
    if input.dtype.kind != "f":
        input = input.float()
    return Log1p.apply(input)


# ----------------------------------------------------------------------------- *_like, new_*


def randn_like(input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:  # noqa: A002
    """N(0, 1) draws with the shape (and dtype, device) of ``input``.

    Example: ``cr.randn_like(cr.zeros(2, 3)).shape`` -> ``(2, 3)``.
    """
    _check("randn_like", input)
    dtype = dtype or input.dtype
    _float_dtype(dtype, "randn_like")
    return _make(_random.normal(tuple(input.shape), dtype), requires_grad, device or input.device)


def new_like(
    op: str, base: Tensor, size: tuple, fill: Any, dtype: Any, device: Any, requires_grad: bool
) -> Tensor:
    """A fresh tensor with another tensor's dtype and device.

    A fresh tensor of ``size`` filled with ``fill`` (None: uninitialised, here zeros) keeping ``base``'s
    dtype and device unless given: the ``Tensor.new_zeros``/``new_ones``/``new_full``/``new_empty`` family.
    """
    from chainrule.ops.creation import _size

    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = _size(size)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{op}: size must be non-negative ints, got {size!r}") from e
    dtype = np.dtype(dtype) if dtype is not None else base.dtype
    arr = np.zeros(shape, dtype) if fill is None else np.full(shape, fill, dtype)
    return _make(arr, requires_grad, device or base.device)


# ----------------------------------------------------------------------------- smooth L1


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    r"""Smooth L1 loss, Huber's loss divided by β, as ``torch.nn.functional.smooth_l1_loss``.

    $$
    \ell_i = \begin{cases} \frac{1}{2} d_i^2 / \beta & \lvert d_i \rvert < \beta \\
    \lvert d_i \rvert - \frac{1}{2}\beta & \text{otherwise} \end{cases}, \qquad d_i = x_i - y_i
    $$

    β = 0 gives the L1 loss.

    Args:
        input: the predictions x.
        target: the targets y, the shape of the input.
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        beta: the threshold β ≥ 0 (default 1).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.smooth_l1_loss(cr.tensor([0.0, 0.0]), cr.tensor([0.5, 3.0]))
        tensor(1.3125)
    """
    from chainrule.ops import loss as L

    if not isinstance(beta, (int, float)) or isinstance(beta, bool) or beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be a non-negative number, got {beta!r}")
    reduction = L._reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta == 0:
        return L.l1_loss(input, target, reduction=reduction)
    return L.huber_loss(input, target, reduction=reduction, delta=float(beta)) / float(beta)


# ----------------------------------------------------------------------------- group norm


def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalisation.

    Group normalisation: channels split into ``num_groups`` groups, each (sample, group)
    standardised over its channels and positions, then ``weight``/``bias`` per channel.

    y = (x - mean_g) / √(var_g + eps) · γ_c + β_c (biased variance), as ``torch.nn.functional``.
    Shapes: (N, C, *) -> same; C divisible by ``num_groups``; weight and bias (C,).
    Example: ``F.group_norm(cr.randn(2, 4, 3), 2).shape`` -> ``(2, 4, 3)``.
    """
    _check("group_norm", input)
    if input.ndim < 2:
        raise RuntimeError(
            f"group_norm: expected input of at least 2 dims (N, C, *), got {tuple(input.shape)}"
        )
    n, c = input.shape[:2]
    if not isinstance(num_groups, int) or num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"group_norm: expected the number of channels ({c}) to be divisible by "
            f"num_groups ({num_groups!r})"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"group_norm: expected {name} of shape ({c},), got {tuple(p.shape)}")
    g = input.reshape(n, num_groups, -1)
    mean = g.mean(dim=2, keepdim=True)
    centred = g - mean
    var = (centred * centred).mean(dim=2, keepdim=True)
    out = (centred / (var + eps).sqrt()).reshape(tuple(input.shape))
    affine_shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(affine_shape)
    if bias is not None:
        out = out + bias.reshape(affine_shape)
    return out
