"""Loss functions: mse, l1, huber, binary cross-entropy (on probabilities and on logits),
cross-entropy (class indices or probabilities, fused with a stable log-softmax), nll,
multi-class margin (hinge) and binary hinge.

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'`` (one loss per element /
sample), as PyTorch.  Input and target must have the same shape where PyTorch would
broadcast them with a warning: broadcasting a (N, 1) prediction against a (N,)
target silently computes an (N, N) loss, so here it is an error.

Backward of a reduced loss: d(mean)/dℓᵢ = 1/N, d(sum)/dℓᵢ = 1; then the local
derivative of each element's loss, e.g. d(x - y)²/dx = 2 (x - y).
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import _args
from chainrule.ops.activation import Softplus, log_softmax, softmax
from chainrule.ops.elementwise import Sigmoid, relu, stable_sigmoid
from chainrule.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _const(array) -> Tensor:
    return Tensor._make(array)


def _reduction(op: str, reduction: str, size_average=None, reduce=None) -> str:
    """The reduction mode, also from PyTorch's deprecated ``size_average``/``reduce`` flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if (size_average and reduce) else "sum" if reduce else "none"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce_array(loss, reduction: str):
    xp = xp_of(loss)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.asarray(loss.sum(), dtype=loss.dtype)
    if loss.size == 0:
        return xp.asarray(float("nan"), dtype=loss.dtype)
    # sum · (1/n) rather than .mean(): NumPy's mean has ~8 µs of Python overhead per call
    return xp.asarray(loss.sum() * (1.0 / loss.size), dtype=loss.dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """Reduce an element-wise loss Tensor (Tensor ops, for the composed losses)."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _spread(grad, shape: tuple, reduction: str, n: int):
    """dL/dℓ for each element ℓ of an element-wise loss of ``shape``, from the upstream ``grad``
    (an array on the engine's fast path, else a Tensor)."""
    if reduction == "none":
        return grad
    if reduction == "mean":
        grad = grad / n if n else grad * float("nan")
    return grad.expand(shape) if isinstance(grad, Tensor) else xp_of(grad).broadcast_to(grad, shape)


def _numel(t) -> int:
    """Number of elements of an array or Tensor (``Tensor.size`` is a method, ``ndarray.size`` a number)."""
    return math.prod(t.shape)


def _fast(grad) -> bool:
    """True on the engine's fast path (``array_backward``): bare arrays, nothing recorded."""
    return not isinstance(grad, Tensor)


def _pair(op: str, input, target) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Check input/target of an element-wise loss: Tensors of the same shape; target cast to input's dtype."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(
            f"{op}: expected Tensors for input and target, got {type(input).__name__} and "
            f"{type(target).__name__}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ; they "
            "must be equal (broadcasting them would compute a wrong loss, e.g. reshape the target with "
            f"target.reshape{tuple(input.shape)} if that is what you mean)"
        )
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return input, target


def _weight_like(op: str, weight, input: Tensor, name: str = "weight") -> Tensor | None:  # noqa: A002
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        weight = Tensor(weight, dtype=input.dtype)
    try:
        ok = np.broadcast_shapes(weight.shape, input.shape) == tuple(input.shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: {name} of shape {tuple(weight.shape)} cannot be broadcast to the input shape "
            f"{tuple(input.shape)}"
        )
    return weight if weight.dtype == input.dtype else weight.to(input.dtype)


# ----------------------------------------------------------------------------- regression losses


class MseLoss(Function):
    """ℓᵢ = (xᵢ - yᵢ)²;  dx = 2 (x - y) · dL/dℓ,  dy = -dx."""

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, reduction):  # noqa: A002
        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        d = input._data - target._data
        return _reduce_array(d * d, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        g = _spread(grad, input.shape, ctx.reduction, _numel(input)) * ((input - target) * 2.0)
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None), None


class L1Loss(Function):
    """ℓᵢ = |xᵢ - yᵢ|;  dx = sign(x - y) · dL/dℓ,  dy = -dx."""

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, reduction):  # noqa: A002
        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        return _reduce_array(xp_of(input._data).abs(input._data - target._data), reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        if _fast(grad):
            sign = xp_of(input).sign(input - target)
        else:
            sign = _const(xp_of(input._data).sign(input._data - target._data))
        g = _spread(grad, input.shape, ctx.reduction, _numel(input)) * sign
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None), None


class HuberLoss(Function):
    """ℓᵢ = ½ dᵢ² if |dᵢ| < δ else δ (|dᵢ| - ½ δ), d = x - y;  dx = clamp(d, -δ, δ) · dL/dℓ."""

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, reduction, delta):  # noqa: A002
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.delta = reduction, delta
        d = input._data - target._data
        xp = xp_of(d)
        ad = xp.abs(d)
        loss = xp.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta)).astype(d.dtype, copy=False)
        return _reduce_array(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        g = _spread(grad, input.shape, ctx.reduction, _numel(input))
        if _fast(grad):
            g = g * xp_of(input).clip(input - target, -ctx.delta, ctx.delta)
        else:
            g = g * (input - target).clamp(-ctx.delta, ctx.delta)
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None), None, None


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",  # noqa: A002
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error: mean of (x - y)² (``reduction`` 'mean' | 'sum' | 'none'), as PyTorch.

    With ``weight`` (the input's shape): Σ w (x - y)² / Σ w for 'mean'.
    Shapes: input and target (*), the same.
    Example: ``mse_loss(cr.tensor([1., 2.]), cr.tensor([1., 4.]))`` -> 2.
    """
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    input, target = _pair("mse_loss", input, target)
    if weight is not None:
        d = input - target
        return _weighted("mse_loss", d * d, weight, input, reduction, by_weight=True)
    return MseLoss.apply(input, target, reduction)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",  # noqa: A002
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error: mean of |x - y|, as PyTorch.

    Example: ``l1_loss(cr.tensor([1., 2.]), cr.tensor([1., 4.]))`` -> 1.
    """
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    input, target = _pair("l1_loss", input, target)
    if weight is not None:
        return _weighted("l1_loss", (input - target).abs(), weight, input, reduction, by_weight=True)
    return L1Loss.apply(input, target, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,  # noqa: A002
    weight: Tensor | None = None,
) -> Tensor:
    """Huber loss: ½ d² for |d| < δ, δ (|d| - ½ δ) beyond (quadratic near 0, linear for outliers).

    Example: ``huber_loss(cr.tensor([0., 0.]), cr.tensor([0.5, 3.]))`` -> (0.125 + 2.5) / 2.
    """
    reduction = _reduction("huber_loss", reduction)
    input, target = _pair("huber_loss", input, target)
    if _args.number("huber_loss", "delta", delta) <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    if weight is not None:
        loss = HuberLoss.apply(input, target, "none", delta)
        return _weighted("huber_loss", loss, weight, input, reduction, by_weight=False)
    return HuberLoss.apply(input, target, reduction, delta)


def _weighted(op, loss: Tensor, weight, input: Tensor, reduction: str, by_weight: bool) -> Tensor:  # noqa: A002
    w = _weight_like(op, weight, input)
    assert w is not None  # callers pass a weight
    if tuple(w.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: weight shape {tuple(w.shape)} must equal the input shape {tuple(input.shape)}"
        )
    loss = loss * w
    if reduction == "mean" and by_weight:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- binary cross-entropy


class BinaryCrossEntropy(Function):
    """ℓᵢ = -wᵢ (yᵢ log pᵢ + (1 - yᵢ) log(1 - pᵢ)), each log clamped at -100 (as PyTorch);
    dp = w (p - y) / max(p (1 - p), 1e-12) · dL/dℓ,  dy = w (log(1 - p) - log p) · dL/dℓ."""

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, weight, reduction):  # noqa: A002
        ctx.save_for_backward(input, target, weight)
        ctx.reduction = reduction
        p, y = input._data, target._data
        xp = xp_of(p)
        with np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_1mp = xp.maximum(xp.log1p(-p), -100)
        loss = (y - 1) * log_1mp - y * log_p
        if weight is not None:
            loss = loss * weight._data
        return _reduce_array(loss.astype(p.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight = ctx.saved_tensors
        g = _spread(grad, input.shape, ctx.reduction, _numel(input))
        if weight is not None:
            g = g * weight
        gx = gy = None
        if _fast(grad):
            xp = xp_of(input)
            if ctx.needs_input_grad[0]:
                gx = g * (input - target) / xp.maximum((1.0 - input) * input, 1e-12)
            if ctx.needs_input_grad[1]:
                with np.errstate(divide="ignore"):
                    gy = g * (xp.maximum(xp.log1p(-input), -100) - xp.maximum(xp.log(input), -100))
            return gx, gy, None, None
        if ctx.needs_input_grad[0]:
            gx = g * (input - target) / ((1.0 - input) * input).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            gy = g * ((1.0 - input).log().clamp(min=-100.0) - input.log().clamp(min=-100.0))
        return gx, gy, None, None


class BinaryCrossEntropyWithLogits(Function):
    """ℓᵢ = wᵢ [(1 - yᵢ) xᵢ + (1 + (pw - 1) yᵢ) softplus(-xᵢ)]  (= -w [pw·y log σ(x) + (1-y) log(1-σ(x))]),
    computed with softplus(-x) = max(-x, 0) + log1p(e^{-|x|}), so ±1000 never overflows;
    dx = w ((1 + (pw - 1) y) σ(x) - pw·y) · dL/dℓ,  dy = w (-x + (pw - 1) softplus(-x)) · dL/dℓ."""

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):  # noqa: A002
        ctx.save_for_backward(input, target, weight, pos_weight)
        ctx.reduction = reduction
        x, y = input._data, target._data
        xp = xp_of(x)
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # -log σ(x)
        if pos_weight is not None:
            loss = (1 - y) * x + (1 + (pos_weight._data - 1) * y) * sp
        else:
            loss = (1 - y) * x + sp
        if weight is not None:
            loss = loss * weight._data
        return _reduce_array(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight, pos_weight = ctx.saved_tensors
        g = _spread(grad, input.shape, ctx.reduction, _numel(input))
        if weight is not None:
            g = g * weight
        gx = gy = None
        fast = _fast(grad)
        if ctx.needs_input_grad[0]:
            s = stable_sigmoid(input) if fast else Sigmoid.apply(input)
            if pos_weight is None:
                gx = g * (s - target)
            else:
                pt = pos_weight * target
                gx = g * ((pt + 1.0 - target) * s - pt)
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                gy = g * -input
            else:
                if fast:
                    xp = xp_of(input)
                    sp = xp.maximum(-input, 0) + xp.log1p(xp.exp(-xp.abs(input)))
                else:
                    sp = Softplus.apply(-input, 1.0, float("inf"))
                gy = g * ((pos_weight - 1.0) * sp - input)
        return gx, gy, None, None, None


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,  # noqa: A002
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1] (logs clamped at -100), as PyTorch.

    Prefer ``binary_cross_entropy_with_logits`` on raw scores: it is exact where σ saturates.
    (The gradient with respect to a target that requires grad uses the same clamped logs, so it
    stays finite at p = 0 or 1, where PyTorch's is ±inf.)
    Example: ``binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0]))`` -> 0.6931.
    """
    reduction = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    input, target = _pair("binary_cross_entropy", input, target)
    p = input._data
    if p.size and not bool(((p >= 0) & (p <= 1)).all()):
        bad = p[~((p >= 0) & (p <= 1))].ravel()[0]
        raise ValueError(
            f"binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities), found "
            f"{float(bad)} (input shape {tuple(input.shape)}); apply sigmoid first or use "
            "binary_cross_entropy_with_logits"
        )
    y = target._data
    if y.size and not bool(((y >= 0) & (y <= 1)).all()):
        raise ValueError(
            f"binary_cross_entropy: all elements of target should be between 0 and 1, found "
            f"{float(y[~((y >= 0) & (y <= 1))].ravel()[0])} (target shape {tuple(target.shape)})"
        )
    w = _weight_like("binary_cross_entropy", weight, input)
    return BinaryCrossEntropy.apply(input, target, w, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,  # noqa: A002
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, on raw scores (logits) x, as PyTorch.

    ``pos_weight`` (broadcast along the last dim, e.g. one per class) multiplies the positive term:
    ℓ = -[pw · y log σ(x) + (1 - y) log(1 - σ(x))].
    Example: ``binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0]))`` -> 0.6931.
    """
    reduction = _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    input, target = _pair("binary_cross_entropy_with_logits", input, target)
    w = _weight_like("binary_cross_entropy_with_logits", weight, input)
    pw = _weight_like("binary_cross_entropy_with_logits", pos_weight, input, "pos_weight")
    return BinaryCrossEntropyWithLogits.apply(input, target, w, pw, reduction)


# ----------------------------------------------------------------------------- classification losses


def _class_weight(op: str, weight, n_classes: int, input: Tensor):  # noqa: A002
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        weight = Tensor(weight, dtype=input.dtype)
    if weight.ndim != 1 or weight.shape[0] != n_classes:
        raise ValueError(
            f"{op}: weight must be a 1-D tensor with one value per class ({n_classes}), got shape "
            f"{tuple(weight.shape)}"
        )
    return weight._data.astype(input.dtype, copy=False)


def _flatten_classes(op: str, input: Tensor, target: Tensor):  # noqa: A002
    """(input, target) -> ((M, C) scores, (M,) class indices, shape of the per-sample loss)."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension (C,) or (N, C, ...), got a 0-d tensor")
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index targets must be integers, got dtype {target.dtype} (target shape "
            f"{tuple(target.shape)}, input shape {tuple(input.shape)}); use target.long()"
            + (", or give class probabilities with the input's shape" if op == "cross_entropy" else "")
        )
    if input.ndim == 1:
        expected = ()
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{op}: expected a target of shape {expected} (the input shape {tuple(input.shape)} without the "
            f"class dim 1), got target shape {tuple(target.shape)}"
        )
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if input.ndim == 1:
        x2 = input.reshape(1, c)
    elif input.ndim == 2:
        x2 = input
    else:
        x2 = input.permute((0,) + tuple(range(2, input.ndim)) + (1,)).reshape(-1, c)
    return x2, target._data.reshape(-1), expected


def _check_targets(op: str, t, n_classes: int, ignore_index: int, input: Tensor, target: Tensor) -> None:  # noqa: A002
    bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
    if bool(bad.any()):
        value = int(t[bad][0])
        raise IndexError(
            f"{op}: target {value} is out of bounds for {n_classes} classes (expected 0..{n_classes - 1} or "
            f"ignore_index={ignore_index}; input shape {tuple(input.shape)}, target shape "
            f"{tuple(target.shape)})"
        )


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood on (M, C) scores x and class indices y.

    Per sample (as PyTorch), with p = softmax(x) row-wise and label smoothing ε:
        ℓᵢ = (1 - ε) w_yᵢ (-log p_i,yᵢ) + (ε / C) Σ_c w_c (-log p_ic),   p = softmax(x) row-wise,
    0 for ignored samples; 'mean' divides Σ ℓᵢ by Σ_i w_yᵢ over the kept samples.
    Backward in one pass (gᵢ = dL/dℓᵢ):
        dx_ij = gᵢ [((1 - ε) w_yᵢ + (ε/C) Σ_c w_c) p_ij - (1 - ε) w_yᵢ [j = yᵢ] - (ε/C) w_j],
    which without weights or smoothing is the familiar gᵢ (softmax - one-hot).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, smoothing):  # noqa: A002
        x = input._data
        xp = xp_of(x)
        m, c = x.shape
        valid = target != ignore_index
        ts = xp.where(valid, target, 0)
        # log p_ij = x_ij - lse_i with lse_i = log Σ_j e^(x_ij): one exp pass, which also gives the
        # softmax p = e / Σ e for backward (rows that would overflow are shifted, see _exp_rows)
        e, total = xp.empty_like(x), xp.empty((m, 1), x.dtype)
        # one thread: measured in the LSTM language-model step (1120x1000 logits, right after the head's
        # matrix product) threads made the cross-entropy 0.5 ms slower, not faster
        _exp_rows(x, e, total)
        shift = _shift_bad_rows(x, e, total)
        with np.errstate(divide="ignore"):
            lse = xp.log(total)[:, 0]
        if shift is not None:
            lse += shift
        picked = x[xp.arange(m), ts]
        wy = weight[ts] * valid if weight is not None else valid.astype(x.dtype)
        loss = -(picked - lse) * wy
        if smoothing > 0:  # Σ_c w_c (-log p_ic), log p_ic = x_ic - lse_i (one pass more, precise as PyTorch)
            smooth = (lse[:, None] - x) @ (weight if weight is not None else xp.ones(c, x.dtype))
            loss = (1 - smoothing) * loss + (smoothing / c) * (smooth * valid)
        denom = wy.sum()
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                out = xp.asarray(loss.sum() / denom, dtype=x.dtype)
        else:
            out = _reduce_array(loss.astype(x.dtype, copy=False), reduction)
        if ctx.recorded:  # recorded (not under no_grad): keep what backward needs
            # softmax p = e / total (e shifted in the redone rows, total too); the division is folded
            # into backward's one pass over e
            ctx.e, ctx.total = e, total[:, 0]
            ctx.ts, ctx.valid, ctx.wy, ctx.weight = ts, valid, wy, weight
            ctx.denom, ctx.reduction, ctx.smoothing = denom, reduction, smoothing
        return out

    @staticmethod
    def backward(ctx, grad):
        e, ts, wy, eps = ctx.e, ctx.ts, ctx.wy, ctx.smoothing
        xp = xp_of(e)
        m, c = e.shape
        rows = xp.arange(m)
        w_sum = ctx.weight.sum() if ctx.weight is not None else c
        a = (1 - eps) * wy + (eps / c) * w_sum * ctx.valid  # coefficient of p_ij in row i
        scale = _inverse(ctx.denom) if ctx.reduction == "mean" else 1.0
        if not isinstance(grad, Tensor):  # fast path: one pass over arrays
            g = grad * scale
            coef = (g * xp.ones(m, e.dtype)) if g.ndim == 0 else g
            # dx = p_ij · a_i g_i - ... with p = e / total: one pass over e (float32 throughout:
            # a float64 row here would double the cost)
            row = (a * coef / ctx.total).astype(e.dtype, copy=False)
            out = e * row[:, None]
            out[rows, ts] -= (1 - eps) * wy * coef
            if eps > 0:
                w_row = ctx.weight if ctx.weight is not None else xp.ones(c, e.dtype)
                out -= (eps / c) * (coef * ctx.valid)[:, None] * w_row[None, :]
            return out, None, None, None, None, None
        # create_graph: the same formula in Tensor ops (p recomputed differentiably)
        x = ctx.inputs[0]
        const = xp.zeros((m, c), e.dtype)
        const[rows, ts] = (1 - eps) * wy
        if eps > 0:
            w_row = ctx.weight if ctx.weight is not None else xp.ones(c, e.dtype)
            const += (eps / c) * ctx.valid[:, None] * w_row[None, :]
        coef = (grad * scale).expand((m,)) if grad.ndim == 0 else grad
        gx = (softmax(x, 1) * _const(a.astype(e.dtype)[:, None]) - _const(const)) * coef.reshape(m, 1)
        return gx, None, None, None, None, None


# A row whose Σ_j e^(x_ij) lies outside [_SUM_MIN, inf) is redone with the textbook shift by its max:
# above, a logit over ~88 overflowed float32; below (every logit under ~-20.7) the smallest terms
# would be subnormal and lose precision.  Typical logits never get there, and skipping the max
# and the subtraction saves two of the four passes over the (M, C) scores.
_SUM_MIN = 1e-9


def _exp_rows(x, e, total) -> None:
    """e = exp(x) and total = Σ_j e row-wise (may overflow or be tiny: see _shift_bad_rows)."""
    xp = xp_of(x)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # _shift_bad_rows redoes those rows
        xp.exp(x, out=e)
        xp.matmul(e, xp.ones(e.shape[1], e.dtype), out=total[:, 0])  # row sums: BLAS ~4x faster than .sum(1)


def _shift_bad_rows(x, e, total):
    """Redo the rows of ``e = exp(x)`` whose sum overflowed or is tiny as e = exp(x - m_i),
    m_i = max_j x_ij (and their ``total``); returns the shifts m (0 for the other rows), or None
    when every row was fine.  NaN rows stay NaN, as in PyTorch."""
    xp = xp_of(x)
    t = total[:, 0]
    bad = ~((t >= _SUM_MIN) & (t < xp.inf))  # also catches NaN
    if not bad.any():
        return None
    idx = xp.nonzero(bad)[0]
    xb = x[idx]
    mx = xb.max(axis=1, keepdims=True)
    mx = xp.where(xp.isfinite(mx), mx, 0)  # an all -inf row: e = 0, lse = -inf
    with np.errstate(under="ignore", invalid="ignore"):
        eb = xp.exp(xb - mx)
    e[idx] = eb
    total[idx, 0] = eb.sum(axis=1)
    shift = xp.zeros(len(x), x.dtype)
    shift[idx] = mx[:, 0]
    return shift


class NllLoss(Function):
    """ℓᵢ = -w_yᵢ · x_i,yᵢ on (M, C) log-probabilities x (0 for ignored samples);
    'mean' divides by Σ w_yᵢ over kept samples;  dx_ij = -w_yᵢ [j = yᵢ] · dL/dℓᵢ."""

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):  # noqa: A002
        x = input._data
        xp = xp_of(x)
        m = x.shape[0]
        valid = target != ignore_index
        ts = xp.where(valid, target, 0)
        wy = (weight[ts] * valid if weight is not None else valid).astype(x.dtype)
        loss = -x[xp.arange(m), ts] * wy
        denom = wy.sum()
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                out = xp.asarray(loss.sum() / denom, dtype=x.dtype)
        else:
            out = _reduce_array(loss, reduction)
        if ctx.recorded:
            ctx.ts, ctx.wy, ctx.denom, ctx.reduction = ts, wy, denom, reduction
        return out

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        xp = xp_of(ctx.wy)
        m, c = x.shape
        onehot = xp.zeros((m, c), x.dtype)
        onehot[xp.arange(m), ctx.ts] = -ctx.wy
        if ctx.reduction == "mean":
            grad = grad * _inverse(ctx.denom)
        coef = grad.reshape(m, 1) if grad.ndim else grad
        return (onehot if _fast(grad) else _const(onehot)) * coef, None, None, None, None


def _inverse(denom) -> float:
    """1 / denom as a Python float (nan when every sample was ignored, as PyTorch's 0/0)."""
    denom = float(denom)
    return 1.0 / denom if denom else float("nan")


def _legacy_unflatten(loss: Tensor, reduction: str, shape: tuple) -> Tensor:
    return loss.reshape(shape) if reduction == "none" else loss


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,  # noqa: A002
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between softmax(input) along dim 1 and the target, as PyTorch.

    Shapes: input (C,), (N, C) or (N, C, d1, ...) raw scores (logits); target either class
    indices (integers, shape (), (N,) or (N, d1, ...), ``ignore_index`` skipped) or class
    probabilities (floats, the input's shape).  ``weight`` (C,) rescales each class;
    ``label_smoothing`` ε mixes the target with the uniform distribution.
    Class-index targets run through one fused, stable op (log-softmax and its backward
    softmax - one-hot in a single pass).

    Example::

        logits = cr.randn(32, 10, requires_grad=True)
        loss = F.cross_entropy(logits, cr.randint(0, 10, (32,)))
    """
    op = "cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(input).__name__} and {type(target).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating point scores (logits), got dtype {input.dtype}")
    if not 0.0 <= _args.number(op, "label_smoothing", label_smoothing) <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    _args.integer(op, "ignore_index", ignore_index)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension (C,) or (N, C, ...), got a 0-d tensor")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    w = _class_weight(op, weight, c, input)
    if target.dtype.kind == "f" and target.shape == input.shape:
        return _cross_entropy_probs(input, target, w, ignore_index, reduction, label_smoothing)
    x2, t, shape = _flatten_classes(op, input, target)
    _check_targets(op, t, c, ignore_index, input, target)
    loss = CrossEntropy.apply(x2, t, w, ignore_index, reduction, float(label_smoothing))
    return _legacy_unflatten(loss, reduction, shape)


def _cross_entropy_probs(input, target, w, ignore_index, reduction, eps) -> Tensor:  # noqa: A002
    if ignore_index >= 0:
        raise ValueError("cross_entropy: ignore_index is not supported for class-probability targets")
    dim = 0 if input.ndim == 1 else 1
    c = input.shape[dim]
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    if eps > 0:
        target = target * (1 - eps) + eps / c
    prod = log_softmax(input, dim) * target
    if w is not None:
        prod = prod * _const(w.reshape((c,) + (1,) * (input.ndim - dim - 1)))
    if reduction == "none":
        return -prod.sum(dim)
    if reduction == "sum":
        return -prod.sum()
    n = input.numel() // c if c else 0
    return -prod.sum() / n if n else -prod.sum() * float("nan")


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,  # noqa: A002
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood: -input[i, target[i]] for log-probabilities ``input``, as PyTorch.

    Shapes as ``cross_entropy`` with class indices (use after ``log_softmax``).
    Example: ``nll_loss(cr.tensor([[-0.1, -2.3]]), cr.tensor([0]))`` -> 0.1.
    """
    op = "nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _args.integer(op, "ignore_index", ignore_index)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(input).__name__} and {type(target).__name__}")
    x2, t, shape = _flatten_classes(op, input, target)
    c = x2.shape[1]
    w = _class_weight(op, weight, c, input)
    _check_targets(op, t, c, ignore_index, input, target)
    loss = NllLoss.apply(x2, t, w, ignore_index, reduction)
    return _legacy_unflatten(loss, reduction, shape)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,  # noqa: A002
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss, as PyTorch: ℓᵢ = Σ_{j≠yᵢ} w_yᵢ max(0, margin - x_i,yᵢ + x_ij)ᵖ / C.

    Shapes: input (N, C) or (C,), target (N,) or () class indices; p is 1 or 2.
    Example: ``multi_margin_loss(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([3]))`` -> 0.325.
    """
    op = "multi_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _args.number(op, "margin", margin)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p}")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(input).__name__} and {type(target).__name__}")
    if input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got {tuple(input.shape)}")
    x2, t, shape = _flatten_classes(op, input, target)
    m, c = x2.shape
    w = _class_weight(op, weight, c, input)
    _check_targets(op, t, c, -(10**18), input, target)
    xp = xp_of(x2._data)
    rows = xp.arange(m)
    x_y = x2[rows, t].reshape(m, 1)
    hinge = relu(margin - x_y + x2)
    if p == 2:
        hinge = hinge * hinge
    others = xp.ones((m, c), x2.dtype)
    others[rows, t] = 0
    if w is not None:
        others *= w[t][:, None]
    loss = (hinge * _const(others)).sum(1) / c
    return _legacy_unflatten(_reduce(loss, reduction), reduction, shape)


def hinge_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Binary hinge loss (SVM): mean of max(0, margin - y · f(x)) for targets y in {-1, +1}.

    (Ours: PyTorch has no binary hinge loss.)  Shapes: input and target (*), the same.
    Example: ``hinge_loss(cr.tensor([0.5, -2.0]), cr.tensor([1.0, -1.0]))`` -> (0.5 + 0) / 2 = 0.25.
    """
    op = "hinge_loss"
    reduction = _reduction(op, reduction)
    input, target = _pair(op, input, target)
    y = target._data
    ok = (y == 1) | (y == -1)
    if y.size and not bool(ok.all()):
        raise ValueError(
            f"{op}: targets must be -1 or +1, found {y[~ok].ravel()[0].item()} (target shape "
            f"{tuple(target.shape)}); map 0/1 labels with 2 * y - 1"
        )
    _args.number(op, "margin", margin)
    return _reduce(relu(margin - target * input), reduction)
