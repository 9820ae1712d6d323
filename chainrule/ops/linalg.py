"""Matrix products: ``matmul`` (the ``@`` operator) and ``linear`` (x Wᵀ + b, the dense layer).

For C = A B the chain rule gives dA = grad Bᵀ and dB = Aᵀ grad; batch
dimensions broadcast as in NumPy and their gradients are summed back.
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops.elementwise import unbroadcast
from chainrule.tensor import Tensor


class MatMul(Function):
    """out = a @ b;  da = grad @ bᵀ, db = aᵀ @ grad (1-D operands act as a row / column vector)."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._data @ b._data

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a  # a vector is a 1-row matrix
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b  # ... or a 1-column matrix
        g = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:]) if a.ndim == 1 else grad
        g = g.reshape(g.shape + (1,)) if b.ndim == 1 else g
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """out = x Wᵀ + b for x of shape (*, in), W (out, in), b (out,);
    dx = grad W, dW = gradᵀ x (summed over the batch), db = Σ grad over the batch."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        a = x._data
        # one 2-D product, not one per leading index: NumPy's stacked matmul runs a small GEMM per row
        out = (a.reshape(-1, a.shape[-1]) if a.ndim > 2 else a) @ weight._data.T
        if bias is not None:
            out += bias._data
        return out.reshape(a.shape[:-1] + out.shape[-1:]) if a.ndim > 2 else out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        gx = None
        if need_x:
            gx = g2 @ weight
            gx = gx.reshape(x.shape) if grad.ndim != 2 else gx
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        gw = g2.T @ x2 if need_w else None
        gb = _column_sums(g2) if need_b else None
        return gx, gw, gb


def _column_sums(g):
    """Σ over the rows of a matrix; as a matrix-vector product on tall arrays (BLAS is ~3x faster)."""
    if isinstance(g, Tensor) or g.shape[0] < 64:
        return g.sum(0)
    return xp_of(g).ones(g.shape[0], g.dtype) @ g


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules (batched, 1-D vectors promoted)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a = a if isinstance(a, Tensor) else Tensor(a)
        b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({k_a} columns in the first vs {k_b} rows in the second)"
        )
    if a.ndim > 2 and b.ndim > 2 and a.shape[:-2] != b.shape[:-2]:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: batch dimensions {tuple(a.shape[:-2])} and {tuple(b.shape[:-2])} of shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together"
            ) from None
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
    return MatMul.apply(a, b)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x Wᵀ + b, as ``torch.nn.functional.linear``; x (*, in), W (out, in), b (out,) -> y (*, out)."""
    if input.ndim == 0 or weight.ndim != 2:
        raise ValueError(
            f"linear: expected input with at least 1 dim and a 2-D weight, got input shape "
            f"{tuple(input.shape)} and weight shape {tuple(weight.shape)}"
        )
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {input.shape[-1]} features but weight expects {weight.shape[1]} "
            f"(input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"linear: bias has shape {tuple(bias.shape)} but weight has {weight.shape[0]} outputs "
            f"(weight shape {tuple(weight.shape)})"
        )
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {input.dtype} does not match weight dtype {weight.dtype}")
    if input.ndim == 1:
        return Linear.apply(input.unsqueeze(0), weight, bias).squeeze(0)
    return Linear.apply(input, weight, bias)
