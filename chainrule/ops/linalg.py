"""Matrix products: ``matmul`` (the ``@`` operator) and ``linear`` (x Wᵀ + b, the dense layer).

For C = A B the chain rule gives dA = grad Bᵀ and dB = Aᵀ grad; batch
dimensions broadcast as in NumPy and their gradients are summed back.
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import _args
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
    """The linear map of a ``Linear`` layer.

    out = x Wᵀ + b for x of shape (*, in), W (out, in), b (out,);
    dx = grad W, dW = gradᵀ x (summed over the batch), db = Σ grad over the batch.
    """

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
    _args.tensor("linear", "input", input)
    _args.tensor("linear", "weight", weight)
    if bias is not None:
        _args.tensor("linear", "bias", bias)
    x, w = input._data, weight._data
    if x.ndim == 0 or w.ndim != 2:
        raise ValueError(
            f"linear: expected input with at least 1 dim and a 2-D weight, got input shape "
            f"{tuple(x.shape)} and weight shape {tuple(w.shape)}"
        )
    if x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features but weight expects {w.shape[1]} "
            f"(input shape {tuple(x.shape)}, weight shape {tuple(w.shape)})"
        )
    if bias is not None and bias._data.shape != (w.shape[0],):
        raise ValueError(
            f"linear: bias has shape {tuple(bias.shape)} but weight has {w.shape[0]} outputs "
            f"(weight shape {tuple(w.shape)})"
        )
    if x.dtype != w.dtype:
        raise TypeError(f"linear: input dtype {x.dtype} does not match weight dtype {w.dtype}")
    if x.ndim == 1:
        return Linear.apply(input.unsqueeze(0), weight, bias).squeeze(0)
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""y = x₁ᵀ A x₂ + b for every output feature, as ``torch.nn.functional.bilinear``.

    $$
    y_o = \sum_{i,j} x_{1,i}\, A_{o i j}\, x_{2,j} + b_o
    $$

    Computed as one matrix product, (x₁ · A reshaped to (in1, out·in2)), then the dot products with
    x₂; the gradients follow from those two ops.

    Args:
        input1: (*, in1_features).
        input2: (*, in2_features), the same leading dims.
        weight: A, (out_features, in1_features, in2_features).
        bias: b, (out_features,) or None.

    Returns:
        (*, out_features).

    Raises:
        RuntimeError: mismatched leading dims or feature sizes.

    Example:
        >>> F = cr.nn.functional
        >>> F.bilinear(cr.ones(2, 3), cr.ones(2, 4), cr.ones(5, 3, 4)).shape
        (2, 5)
    """
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear: weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}")
    if input1.ndim < 1 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} must have the same "
            "leading (batch) dims"
        )
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} do not match weight "
            f"{tuple(weight.shape)} (expected {in1} and {in2} features)"
        )
    if bias is not None and tuple(bias.shape) != (out,):
        raise RuntimeError(
            f"bilinear: bias of shape {tuple(bias.shape)} does not match weight: expected ({out},)"
        )
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, 1, in2)
    t = matmul(x1, weight.permute(1, 0, 2).reshape(in1, out * in2)).reshape(-1, out, in2)
    y = (t * x2).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out)
