"""Activation functions.

softplus, leaky_relu, prelu, elu, gelu, silu, softmax, log_softmax, and selu, celu, mish, hardtanh, relu6,
hardsigmoid, hardswish, logsigmoid, softsign, softmin, tanhshrink, threshold, glu, hardshrink, softshrink.

(``relu``, ``sigmoid`` and ``tanh`` live in ``elementwise``.)  Each op is a ``Function``
whose backward is the local derivative times the upstream gradient, written with
Tensor ops so it is differentiable again (second derivatives).

Stability: every formula avoids ``exp`` of a large positive number, so inputs of
±1000 give finite values and gradients (e.g. softplus uses
``max(z, 0) + log1p(e^{-|z|})``, softmax subtracts the row maximum first).
"""

from __future__ import annotations

import math
import warnings

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import _args
from chainrule.ops import bmath as bm
from chainrule.ops.elementwise import stable_sigmoid
from chainrule.ops.shape import norm_dim
from chainrule.tensor import Tensor

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ----------------------------------------------------------------------------- erf


def erf_array(a):
    """The error function erf(a) = 2/√π ∫₀ᵃ e^{-t²} dt on an array (NumPy has none).

    float64, to ~1e-15: for |a| < 2.5 the series erf(x) = 2/√π e^{-x²} Σₙ 2ⁿ x^{2n+1} / (2n+1)!!
    (all terms positive, so no cancellation); beyond, erfc from its continued fraction
    erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
    float32/16, to ~2e-7: the Maclaurin series below |a| = 0.5 and above it the Chebyshev-fitted
    erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes' erfcc, relative error < 1.2e-7).
    """
    if a.dtype != np.float64:
        return _erf_single(a)
    xp = xp_of(a)
    x = xp.abs(a)
    out = xp.ones_like(x)  # erf(|x|) = 1 to double precision beyond 6
    small = x < 2.5
    xs = x[small]
    x2 = xs * xs
    term = xs.copy()
    total = xs.copy()
    for n in range(1, 42):
        term *= x2
        term *= 2.0 / (2 * n + 1)
        total += term
    out[small] = _TWO_OVER_SQRT_PI * xp.exp(-x2) * total
    mid = ~small & (x < 6.0)
    xl = x[mid]
    frac = xp.zeros_like(xl)
    for k in range(40, 0, -1):
        frac += xl
        xp.divide(k / 2.0, frac, out=frac)
    out[mid] = 1.0 - xp.exp(-xl * xl) / math.sqrt(math.pi) / (xl + frac)
    out = xp.where(xp.isnan(x), x, out)
    return xp.copysign(out, a)


_ERFC_FIT = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)
_ERF_SERIES = tuple(_TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(7))


def _erf_single(a):
    xp = xp_of(a)
    z = xp.abs(a).astype(np.float32, copy=False)
    t = 1.0 / (1.0 + 0.5 * z)
    p = xp.full_like(z, _ERFC_FIT[-1])
    for c in _ERFC_FIT[-2::-1]:
        p *= t
        p += c
    p -= z * z
    xp.exp(p, out=p)
    p *= t  # erfc(z)
    x2 = z * z
    s = xp.full_like(z, _ERF_SERIES[-1])
    for c in _ERF_SERIES[-2::-1]:
        s *= x2
        s += c
    s *= z
    out = xp.where(z < 0.5, s, 1.0 - p)
    return xp.copysign(out, a).astype(a.dtype, copy=False)


class Erf(Function):
    """out = erf(x);  dx = grad · 2/√π · e^{-x²}."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (bm.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


def erf(x: Tensor) -> Tensor:
    """The Gauss error function element-wise (differentiable)."""
    _args.tensor("erf", "input", x, floating=True)
    return Erf.apply(x)


# ----------------------------------------------------------------------------- ops
#
# Each backward is written once with operators and ``bm`` (``ops/bmath.py``): it runs on bare
# arrays on the fast path and on Tensors, recorded, under ``create_graph=True``.


class Softplus(Function):
    """Softplus.

    out = (1/β) log(1 + e^{βx}), or x where βx > threshold (as PyTorch);
    dx = grad · σ(βx) (grad where βx > threshold).

    Computed as (max(βx, 0) + log1p(e^{-|βx|})) / β, which never overflows.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        a = x._data
        xp = xp_of(a)
        z = a * beta if beta != 1 else a
        soft = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
        if beta != 1:
            soft = soft / beta
        return xp.where(z > threshold, a, soft).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        z = x * ctx.beta if ctx.beta != 1 else x
        return bm.where(z > ctx.threshold, grad, grad * bm.sigmoid(z)), None, None


class LeakyReLU(Function):
    """out = x if x > 0 else slope · x;  dx = grad if x > 0 else slope · grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        a = x._data
        return xp_of(a).where(a > 0, a, a * slope).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return bm.where(x > 0, grad, grad * ctx.slope), None


class PReLU(Function):
    """PReLU.

    out = x if x > 0 else a · x with a learned slope ``a`` per channel (dim 1);
    dx = grad if x > 0 else a · grad;  da = Σ grad · x over x ≤ 0 (summed over all but the channel dim).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        a = x._data
        w = _prelu_weight_view(weight._data, a.ndim)
        return xp_of(a).where(a > 0, a, a * w).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        w = _prelu_weight_view(weight, x.ndim)
        gx = gw = None
        positive = x > 0
        if ctx.needs_input_grad[0]:
            gx = bm.where(positive, grad, grad * w)
        if ctx.needs_input_grad[1]:
            gw = bm.unbroadcast(bm.where(positive, 0.0, grad * x), w.shape).reshape(weight.shape)
        return gx, gw


def _prelu_weight_view(weight, ndim: int):
    """The slope (an array or Tensor) reshaped to broadcast along dim 1: (C,) -> (1, C, 1, ...)."""
    if weight.shape[0] == 1 or ndim < 2:
        return weight.reshape(())
    return weight.reshape((1, weight.shape[0]) + (1,) * (ndim - 2))


class ELU(Function):
    """out = s·x if x > 0 else s·α (e^{βx} - 1);  dx = s·grad if x > 0 else grad · s α β e^{βx}.

    ``apply(x, alpha, scale, input_scale, grad_input_scale)``: ``elu`` is (α, 1, 1, 1), ``selu``
    (α₀, λ₀, 1, 1) and ``celu`` (α, 1, 1/α, 1/float32(α)): PyTorch's celu backward rounds α to
    float32 before taking 1/α, so β of dx is that one.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale, grad_input_scale):
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, grad_input_scale
        a = x._data
        xp = xp_of(a)
        neg = xp.minimum(a, 0)  # min(): no overflow in the unused branch
        if input_scale != 1:
            neg = neg * input_scale
        neg = xp.expm1(neg) * (alpha * scale)
        pos = a * scale if scale != 1 else a
        return xp.where(a > 0, pos, neg).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s, beta = ctx.scale, ctx.input_scale
        neg = bm.exp(bm.minimum(x, 0.0) * beta) * (ctx.alpha * s * beta)
        return bm.where(x > 0, grad * s, grad * neg), None, None, None, None


class GELU(Function):
    """GELU.

    out = x Φ(x) = x · ½ (1 + erf(x/√2))  (Φ: the standard normal CDF);
    dx = grad · (Φ(x) + x φ(x)), φ(x) = e^{-x²/2}/√(2π).

    ``approximate='tanh'``: out = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))), as PyTorch.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        a = x._data
        xp = xp_of(a)
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (a + 0.044715 * a * a * a)
            return (0.5 * a * (1.0 + xp.tanh(inner))).astype(a.dtype, copy=False)
        cdf = 0.5 * (1.0 + erf_array(a * (1.0 / _SQRT_2)))
        if ctx.recorded:
            ctx.cdf = cdf  # erf is the expensive part: keep Φ(x) for backward
        return (a * cdf).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            x_sq = x * x
            t = bm.tanh((x + 0.044715 * x_sq * x) * _SQRT_2_OVER_PI)
            right = x * 0.5 * (1.0 - t * t) * _SQRT_2_OVER_PI * (x_sq * (3 * 0.044715) + 1.0)
            return grad * ((t + 1.0) * 0.5 + right), None
        # Φ(x) was kept from forward; recorded, it is recomputed so it is differentiable too
        cdf = (bm.erf(x * (1.0 / _SQRT_2)) + 1.0) * 0.5 if bm.is_tensor(x) else ctx.cdf
        return grad * (cdf + x * (bm.exp(x * x * -0.5) * _INV_SQRT_2PI)), None


class SiLU(Function):
    """out = x σ(x) (swish);  dx = grad · σ(x) (1 + x (1 - σ(x)))."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        return (a * stable_sigmoid(a)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = bm.sigmoid(x)
        return grad * (s * (x * (1.0 - s) + 1.0))


class Softmax(Function):
    """Softmax.

    out_i = e^{x_i - m} / Σ_j e^{x_j - m} along ``dim`` (m = max, so nothing overflows);
    dx = out · (grad - Σ_j grad_j out_j).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_output()
        return softmax_array(x._data, axis)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.outputs
        return out * (grad - bm.sum(grad * out, ctx.axis, keepdim=True)), None


def softmax_array(a, axis: int):
    """Softmax of an array along ``axis`` (max-shifted)."""
    xp = xp_of(a)
    if a.shape[axis] == 0:
        return a.copy()
    m = a.max(axis=axis, keepdims=True)
    e = a - xp.where(xp.isfinite(m), m, 0)
    xp.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax_array(a, axis: int):
    """log softmax of an array along ``axis``: (x - m) - log Σ e^{x - m}."""
    xp = xp_of(a)
    if a.shape[axis] == 0:
        return a.copy()
    m = a.max(axis=axis, keepdims=True)
    shifted = a - xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        lse = xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    shifted -= lse
    return shifted


class LogSoftmax(Function):
    """out = x - m - log Σ_j e^{x_j - m} along ``dim``;  dx = grad - softmax(x) · Σ_j grad_j."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_output()
        return log_softmax_array(x._data, axis)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.outputs
        return grad - bm.exp(out) * bm.sum(grad, ctx.axis, keepdim=True), None


# ----------------------------------------------------------------------------- functional API


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    r"""Softplus, a smooth ReLU, as ``torch.nn.functional.softplus``.

    $$
    \operatorname{softplus}(x) = \frac{1}{\beta} \log\left(1 + e^{\beta x}\right)
    $$

    reverting to x where βx > ``threshold``.

    Args:
        input: the tensor.
        beta: the sharpness β (default 1).
        threshold: above this value of βx the function is the identity (default 20).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.softplus(cr.tensor([0.0]))
        tensor([0.6931])
    """
    _args.tensor("softplus", "input", input, floating=True)
    _args.number("softplus", "threshold", threshold)
    if _args.number("softplus", "beta", beta) == 0:
        raise ValueError("softplus: beta must be nonzero")
    return Softplus.apply(input, beta, threshold)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Leaky ReLU, element-wise, as ``torch.nn.functional.leaky_relu``.

    $$
    \operatorname{leaky\_relu}(x) = \begin{cases} x & x > 0 \\ a\,x & x \le 0 \end{cases}
    $$

    Args:
        input: the tensor.
        negative_slope: the slope a (default 0.01).
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.leaky_relu(cr.tensor([-2.0, 3.0]), 0.1)
        tensor([-0.2,  3. ])
    """
    _args.tensor("leaky_relu", "input", input, floating=True)
    _args.number("leaky_relu", "negative_slope", negative_slope)
    return LeakyReLU.apply(input, negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    r"""PReLU: leaky ReLU with a learned slope per channel, as ``torch.nn.functional.prelu``.

    $$
    \operatorname{prelu}(x) = \begin{cases} x & x > 0 \\ a_c\,x & x \le 0 \end{cases}
    $$

    Args:
        input: the tensor; dim 1 holds the channels c.
        weight: the slopes a, of shape (1,) or (C,) with C = ``input.shape[1]``.

    Shape:
        - Input: (N, C, *), or any shape with one slope.
        - Output: the shape of the input.

    Example:
        >>> cr.nn.functional.prelu(cr.tensor([[-4.0, 2.0]]), cr.tensor([0.25]))
        tensor([[-1.,  2.]])
    """
    _args.tensor("prelu", "input", input, floating=True)
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise ValueError(
            f"prelu: weight has {n} elements (shape {tuple(weight.shape)}) but the input has {channels} "
            f"channels in dim 1 (input shape {tuple(input.shape)}); expected 1 or {channels}"
        )
    return PReLU.apply(input, weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Exponential linear unit, element-wise, as ``torch.nn.functional.elu``.

    $$
    \operatorname{elu}(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}
    $$

    Args:
        input: the tensor.
        alpha: the scale α of the negative part (default 1).
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.elu(cr.tensor([-1.0]))
        tensor([-0.6321])
    """
    _args.tensor("elu", "input", input, floating=True)
    _args.number("elu", "alpha", alpha)
    return ELU.apply(input, alpha, 1.0, 1.0, 1.0)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    r"""Gaussian error linear unit, as ``torch.nn.functional.gelu``.

    $$
    \operatorname{gelu}(x) = x\,\Phi(x)
    = \frac{x}{2}\left(1 + \operatorname{erf}\left(\frac{x}{\sqrt{2}}\right)\right)
    $$

    with Φ the standard normal CDF, or its tanh approximation with ``approximate='tanh'``.

    Args:
        input: the tensor.
        approximate: ``'none'`` (exact, default) or ``'tanh'``.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.gelu(cr.tensor([1.0]))
        tensor([0.8413])
    """
    _args.tensor("gelu", "input", input, floating=True)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Sigmoid linear unit (swish), element-wise, as ``torch.nn.functional.silu``.

    $$
    \operatorname{silu}(x) = x\,\sigma(x)
    $$

    Args:
        input: the tensor.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.silu(cr.tensor([1.0]))
        tensor([0.7311])
    """
    _args.tensor("silu", "input", input, floating=True)
    return SiLU.apply(input)


def _softmax_axis(op: str, x: Tensor, dim) -> int:
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(
            f"{op}: implicit dimension choice is deprecated; pass dim= explicitly (using dim={dim})",
            stacklevel=3,
        )
    return norm_dim(dim, x.ndim, op)


def _softmax_like(cls, op: str, input: Tensor, dim, dtype) -> Tensor:  # noqa: A002
    if dtype is not None and isinstance(input, Tensor):
        input = input.to(dtype)
    _args.tensor(op, "input", input, floating=True)
    axis = _softmax_axis(op, input, dim)
    if input.ndim == 0:
        return cls.apply(input.reshape(1), 0).reshape(())
    return cls.apply(input, axis)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    r"""Softmax along ``dim``, as ``torch.nn.functional.softmax``.

    $$
    \operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \qquad m = \max_j x_j
    $$

    (the shift by the maximum changes nothing but keeps ±1000 finite).

    Args:
        input: the tensor.
        dim: the dimension that sums to 1 (``None``: PyTorch's implicit choice, with a warning).
        dtype: compute in this dtype.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input; each slice along ``dim`` sums to 1.

    Example:
        >>> cr.softmax(cr.tensor([[1.0, 1.0]]), dim=1)
        tensor([[0.5, 0.5]])
    """
    return _softmax_like(Softmax, "softmax", input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    r"""Logarithm of the softmax along ``dim``, as ``torch.nn.functional.log_softmax``.

    $$
    \operatorname{log\_softmax}(x)_i = x_i - m - \log \sum_j e^{x_j - m}, \qquad m = \max_j x_j
    $$

    (never the log of 0 for finite x).

    Args:
        input: the tensor.
        dim: the dimension of the classes (``None``: PyTorch's implicit choice, with a warning).
        dtype: compute in this dtype.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.log_softmax(cr.tensor([[0.0, 0.0]]), dim=1)
        tensor([[-0.6931, -0.6931]])
    """
    return _softmax_like(LogSoftmax, "log_softmax", input, dim, dtype)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Rectified linear unit, element-wise, as ``torch.nn.functional.relu``.

    $$
    \operatorname{relu}(x) = \max(0, x)
    $$

    Args:
        input: the tensor.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.relu(cr.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    from chainrule.ops.elementwise import relu as _relu

    return _relu(input)


# ----------------------------------------------------------------------------- more activations
#
# Kinks follow PyTorch: at an exact breakpoint the gradient is the one PyTorch's backward gives
# (0 at the ends of hardtanh's, hardsigmoid's and the shrinks' linear pieces, threshold's x = t).

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


class Hardtanh(Function):
    """out = clamp(x, lo, hi);  dx = grad where lo < x < hi, else 0 (0 at both ends, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        a = x._data
        return xp_of(a).clip(a, lo, hi).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return bm.where(x > ctx.lo, bm.where(x < ctx.hi, grad, 0.0), 0.0), None, None


class Hardsigmoid(Function):
    """out = min(max(x + 3, 0), 6) / 6.

    dx = grad / 6 where -3 < x < 3, else 0 (1/6 rounded to float32 as PyTorch's kernel, also for
    float64).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        return (xp_of(a).clip(a + 3.0, 0.0, 6.0) / 6.0).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return bm.where(x > -3.0, bm.where(x < 3.0, grad * _ONE_SIXTH_F32, 0.0), 0.0)


class Hardswish(Function):
    """out = x · min(max(x + 3, 0), 6) / 6.

    dx = 0 for x ≤ -3, grad (x/3 + ½) for -3 < x < 3, grad for x ≥ 3 (PyTorch's values at ±3).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        return (a * xp_of(a).clip(a + 3.0, 0.0, 6.0) / 6.0).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return bm.where(x > -3.0, bm.where(x < 3.0, grad * (x / 3.0 + 0.5), grad), 0.0)


class Mish(Function):
    """out = x tanh(softplus(x));  dx = grad · (t + x σ(x) (1 - t²)), t = tanh(softplus(x))."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        return (a * xp_of(a).tanh(bm.softplus(a))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = bm.tanh(bm.softplus(x))
        return grad * (t + x * bm.sigmoid(x) * (1.0 - t * t))


class LogSigmoid(Function):
    """out = log σ(x) = min(x, 0) - log1p(e^{-|x|}) (never overflows);  dx = grad · σ(-x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        xp = xp_of(a)
        return (xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * bm.sigmoid(-x)


class Threshold(Function):
    """out = x if x > threshold else value;  dx = grad where x > threshold, else 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        a = x._data
        return xp_of(a).where(a > threshold, a, value).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return bm.where(x > ctx.threshold, grad, 0.0), None, None


class Shrink(Function):
    """Hard and soft shrinkage.

    hard: out = x where |x| > λ, else 0;  soft: out = x - λ·sign(x) where |x| > λ, else 0;
    both: dx = grad where x > λ or x < -λ, else 0 (0 at ±λ, as PyTorch).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, lambd, soft):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        a = x._data
        xp = xp_of(a)
        if soft:
            out = xp.where(a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, 0))
        else:
            out = xp.where((a > lambd) | (a < -lambd), a, 0)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lam = ctx.lambd
        return bm.where(x > lam, grad, bm.where(x < -lam, grad, 0.0)), None, None


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Scaled ELU, as ``torch.nn.functional.selu``.

    $$
    \mathrm{selu}(x) = \lambda_0 \begin{cases} x & x > 0 \\ \alpha_0 (e^x - 1) & x \le 0 \end{cases}
    $$

    with $\alpha_0 \approx 1.6733$, $\lambda_0 \approx 1.0507$ (self-normalising constants).

    Args:
        input: a floating point tensor of any shape.
        inplace: accepted for compatibility; the result is always a new tensor.

    Returns:
        A tensor of the input's shape.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.selu(cr.tensor([-1.0, 0.0, 1.0]))
        tensor([-1.1113,  0.    ,  1.0507])
    """
    _args.tensor("selu", "input", input, floating=True)
    return ELU.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Continuously differentiable ELU, as ``torch.nn.functional.celu``.

    $$
    \mathrm{celu}(x) = \max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))
    $$

    Args:
        input: a floating point tensor of any shape.
        alpha: the α of the formula, nonzero.
        inplace: accepted for compatibility; the result is always a new tensor.

    Raises:
        RuntimeError: ``alpha`` is 0.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.celu(cr.tensor([-1.0, 2.0]), alpha=2.0)
        tensor([-0.7869,  2.    ])
    """
    _args.tensor("celu", "input", input, floating=True)
    if _args.number("celu", "alpha", alpha) == 0:
        raise RuntimeError("celu: alpha cannot be 0 (the input is divided by it)")
    return ELU.apply(input, alpha, 1.0, 1.0 / alpha, 1.0 / float(np.float32(alpha)))


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Mish, a smooth self-gated activation, as ``torch.nn.functional.mish``.

    $$
    \mathrm{mish}(x) = x \tanh(\mathrm{softplus}(x))
    $$

    Args:
        input: a floating point tensor of any shape.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.mish(cr.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.3034,  0.    ,  0.8651])
    """
    _args.tensor("mish", "input", input, floating=True)
    return Mish.apply(input)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    r"""``clamp(x, min_val, max_val)`` with PyTorch's gradient (0 at both ends), as ``F.hardtanh``.

    $$
    \mathrm{hardtanh}(x) = \min(\max(x, \text{min\_val}), \text{max\_val})
    $$

    Args:
        input: a floating point tensor of any shape.
        min_val: the lower end.
        max_val: the upper end, at least ``min_val``.
        inplace: accepted for compatibility; the result is always a new tensor.

    Raises:
        ValueError: ``min_val`` is greater than ``max_val``.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.hardtanh(cr.tensor([-3.0, 0.5, 3.0]))
        tensor([-1. ,  0.5,  1. ])
    """
    _args.tensor("hardtanh", "input", input, floating=True)
    _args.number("hardtanh", "min_val", min_val)
    _args.number("hardtanh", "max_val", max_val)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""ReLU capped at 6 (``hardtanh(x, 0, 6)``), as ``torch.nn.functional.relu6``.

    $$
    \mathrm{relu6}(x) = \min(\max(x, 0), 6)
    $$

    Args:
        input: a floating point tensor of any shape.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.relu6(cr.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    _args.tensor("relu6", "input", input, floating=True)
    return Hardtanh.apply(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""The piecewise linear sigmoid, as ``torch.nn.functional.hardsigmoid``.

    $$
    \mathrm{hardsigmoid}(x) = \min(\max(x + 3, 0), 6) / 6
    $$

    Args:
        input: a floating point tensor of any shape.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.hardsigmoid(cr.tensor([-4.0, 0.0, 1.5]))
        tensor([0.  , 0.5 , 0.75])
    """
    _args.tensor("hardsigmoid", "input", input, floating=True)
    return Hardsigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Hard swish (MobileNetV3), as ``torch.nn.functional.hardswish``.

    $$
    \mathrm{hardswish}(x) = x \cdot \min(\max(x + 3, 0), 6) / 6
    $$

    Args:
        input: a floating point tensor of any shape.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.hardswish(cr.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.    ,  0.6667,  4.    ])
    """
    _args.tensor("hardswish", "input", input, floating=True)
    return Hardswish.apply(input)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    r"""Logarithm of the sigmoid, stable for large $|x|$, as ``F.logsigmoid``.

    $$
    \mathrm{logsigmoid}(x) = \log \sigma(x) = -\mathrm{softplus}(-x)
    $$

    Args:
        input: a floating point tensor of any shape.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.logsigmoid(cr.tensor([-1000.0, 0.0, 1000.0]))
        tensor([-1.0000e+03, -6.9315e-01,  0.0000e+00])
    """
    _args.tensor("logsigmoid", "input", input, floating=True)
    return LogSigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    r"""Softsign, as ``torch.nn.functional.softsign`` (composed the same way).

    $$
    \mathrm{softsign}(x) = \frac{x}{1 + |x|}
    $$

    Args:
        input: a floating point tensor of any shape.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.softsign(cr.tensor([-3.0, 1.0]))
        tensor([-0.75,  0.5 ])
    """
    _args.tensor("softsign", "input", input, floating=True)
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    r"""Tanhshrink, as ``torch.nn.functional.tanhshrink``.

    $$
    \mathrm{tanhshrink}(x) = x - \tanh(x)
    $$

    Args:
        input: a floating point tensor of any shape.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.tanhshrink(cr.tensor([0.0, 2.0]))
        tensor([0.   , 1.036])
    """
    _args.tensor("tanhshrink", "input", input, floating=True)
    return input - input.tanh()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    r"""softmax(-x) along ``dim``, as ``torch.nn.functional.softmin``.

    $$
    \mathrm{softmin}(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}}
    $$

    Args:
        input: a floating point tensor.
        dim: the dimension that sums to 1 (PyTorch's implicit choice, with a warning, when None).
        dtype: cast the input to this dtype first.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.softmin(cr.tensor([[0.0, 1.0]]), dim=1)
        tensor([[0.7311, 0.2689]])
    """
    if not isinstance(input, Tensor):
        _args.tensor("softmin", "input", input, floating=True)
    return _softmax_like(Softmax, "softmin", -input, dim, dtype)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""x where x > threshold, else ``value``, as ``torch.nn.functional.threshold``.

    $$
    y = \begin{cases} x & x > \text{threshold} \\ \text{value} & \text{otherwise} \end{cases}
    $$

    Args:
        input: a floating point tensor of any shape.
        threshold: the cut; an input exactly at it becomes ``value`` (gradient 0).
        value: what replaces the inputs at or below ``threshold``.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.threshold(cr.tensor([0.5, 1.0, 2.0]), 1.0, -1.0)
        tensor([-1., -1.,  2.])
    """
    _args.tensor("threshold", "input", input, floating=True)
    _args.number("threshold", "threshold", threshold)
    _args.number("threshold", "value", value)
    return Threshold.apply(input, threshold, value)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    r"""Gated linear unit, as ``torch.nn.functional.glu``: the input split in halves a, b along ``dim``.

    $$
    \mathrm{glu}(a, b) = a \otimes \sigma(b)
    $$

    Args:
        input: a floating point tensor whose size along ``dim`` is even.
        dim: the dimension that is halved.

    Returns:
        A tensor of the input's shape with ``dim`` halved.

    Raises:
        RuntimeError: a 0-d input, or an odd size along ``dim``.

    Shape:
        - Input: (*, 2M, *), the 2M at ``dim``
        - Output: (*, M, *)

    Example:
        >>> cr.nn.functional.glu(cr.tensor([[1.0, 2.0, 0.0, 0.0]])).shape
        (1, 2)
    """
    _args.tensor("glu", "input", input, floating=True)
    if input.ndim == 0:
        raise RuntimeError("glu: does not support scalars (0-d tensors) because halving size must be even")
    axis = norm_dim(dim, input.ndim, "glu")
    n = input.shape[axis]
    if n % 2:
        raise RuntimeError(
            f"glu: halving dimension must be even, but dimension {axis} is size {n} (input shape "
            f"{tuple(input.shape)})"
        )
    a, b = input.chunk(2, axis)
    return a * b.sigmoid()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    r"""Hard shrinkage: x where |x| > λ, else 0, as ``torch.nn.functional.hardshrink``.

    $$
    \mathrm{hardshrink}(x) = \begin{cases} x & |x| > \lambda \\ 0 & \text{otherwise} \end{cases}
    $$

    Args:
        input: a floating point tensor of any shape.
        lambd: λ.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.hardshrink(cr.tensor([-1.0, 0.2, 0.5, 0.7]))
        tensor([-1. ,  0. ,  0. ,  0.7])
    """
    _args.tensor("hardshrink", "input", input, floating=True)
    _args.number("hardshrink", "lambd", lambd)
    return Shrink.apply(input, lambd, False)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    r"""Soft shrinkage towards 0 by λ, as ``torch.nn.functional.softshrink``.

    $$
    \mathrm{softshrink}(x) = \begin{cases}
    x - \lambda & x > \lambda \\
    x + \lambda & x < -\lambda \\
    0 & \text{otherwise}
    \end{cases}
    $$

    Args:
        input: a floating point tensor of any shape.
        lambd: λ ≥ 0.

    Raises:
        RuntimeError: ``lambd`` is negative.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.functional.softshrink(cr.tensor([-1.0, 0.2, 0.7]))
        tensor([-0.5,  0. ,  0.2])
    """
    _args.tensor("softshrink", "input", input, floating=True)
    if _args.number("softshrink", "lambd", lambd) < 0:
        raise RuntimeError(f"softshrink: lambd must be at least 0, but found {lambd}")
    return Shrink.apply(input, lambd, True)
