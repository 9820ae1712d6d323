"""Loss functions.

Loss functions: mse, l1, huber, binary cross-entropy (on probabilities and on logits),
cross-entropy (class indices or probabilities, fused with a stable log-softmax), nll,
multi-class margin (hinge) and binary hinge; kl_div, poisson and gaussian nll, margin ranking,
hinge and cosine embedding, soft margin, multi-label soft margin and margin, triplet margin
(CTC is in ``ops/ctc.py``).

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'`` (one loss per element /
sample), as PyTorch.  Input and target must have the same shape where PyTorch would
broadcast them with a warning: broadcasting a (N, 1) prediction against a (N,)
target silently computes an (N, N) loss, so here it is an error.

Backward of a reduced loss: d(mean)/dℓᵢ = 1/N, d(sum)/dℓᵢ = 1; then the local
derivative of each element's loss, e.g. d(x - y)²/dx = 2 (x - y).
"""

from __future__ import annotations

import math
import warnings

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.kernels import loss as K
from chainrule.ops import _args
from chainrule.ops import bmath as bm
from chainrule.ops.activation import log_softmax, logsigmoid
from chainrule.ops.distance import no_grad_clamp_min, pairwise_distance
from chainrule.ops.elementwise import relu
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
    # sum · (1/n) rather than .mean(), whose Python-level overhead dominates on small losses
    return xp.asarray(loss.sum() * (1.0 / loss.size), dtype=loss.dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """Reduce an element-wise loss Tensor (Tensor ops, for the composed losses)."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _spread(grad, shape: tuple, reduction: str, n: int):
    """The gradient of each element of an element-wise loss.

    dL/dℓ for each element ℓ of an element-wise loss of ``shape``, from the upstream ``grad``
    (an array on the engine's fast path, else a Tensor).
    """
    if reduction == "none":
        return grad
    if reduction == "mean":
        grad = grad / n if n else grad * float("nan")
    return bm.broadcast_to(grad, shape)


def _numel(t) -> int:
    """Number of elements of an array or Tensor (``Tensor.size`` is a method, ``ndarray.size`` a number)."""
    return math.prod(t.shape)


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


class MSELoss(Function):
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
        g = _spread(grad, input.shape, ctx.reduction, _numel(input)) * bm.sign(input - target)
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
        g = g * bm.minimum(bm.maximum(input - target, -ctx.delta), ctx.delta)
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None), None, None


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",  # noqa: A002
    weight: Tensor | None = None,
) -> Tensor:
    r"""Mean squared error, as ``torch.nn.functional.mse_loss``.

    $$
    \ell_i = (x_i - y_i)^2, \qquad L = \frac{1}{n} \sum_i \ell_i
    $$

    for ``reduction='mean'``; with ``weight`` (the input's shape), L = Σ wᵢ ℓᵢ / Σ wᵢ.

    Args:
        input: the predictions x.
        target: the targets y, the shape of the input.
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        weight: a weight per element (default none).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.mse_loss(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 4.0]))
        tensor(2.)
    """
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    input, target = _pair("mse_loss", input, target)
    if weight is not None:
        d = input - target
        return _weighted("mse_loss", d * d, weight, input, reduction, by_weight=True)
    return MSELoss.apply(input, target, reduction)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",  # noqa: A002
    weight: Tensor | None = None,
) -> Tensor:
    r"""Mean absolute error, as ``torch.nn.functional.l1_loss``.

    $$
    \ell_i = \lvert x_i - y_i \rvert, \qquad L = \frac{1}{n} \sum_i \ell_i
    $$

    for ``reduction='mean'``; with ``weight``, L = Σ wᵢ ℓᵢ / Σ wᵢ.

    Args:
        input: the predictions x.
        target: the targets y, the shape of the input.
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        weight: a weight per element (default none).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.l1_loss(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 4.0]))
        tensor(1.)
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
    r"""Huber loss: quadratic near 0, linear for outliers, as ``torch.nn.functional.huber_loss``.

    $$
    \ell_i = \begin{cases} \frac{1}{2} d_i^2 & \lvert d_i \rvert < \delta \\
    \delta \left(\lvert d_i \rvert - \frac{1}{2}\delta\right) & \text{otherwise} \end{cases},
    \qquad d_i = x_i - y_i
    $$

    Args:
        input: the predictions x.
        target: the targets y, the shape of the input.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        delta: the threshold δ > 0 (default 1).
        weight: a weight per element (default none).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.huber_loss(cr.tensor([0.0, 0.0]), cr.tensor([0.5, 3.0]))
        tensor(1.3125)
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
    """Binary cross-entropy on probabilities.

    ℓᵢ = -wᵢ (yᵢ log pᵢ + (1 - yᵢ) log(1 - pᵢ)), each log clamped at -100 (as PyTorch);
    dp = w (p - y) / max(p (1 - p), 1e-12) · dL/dℓ,  dy = w (log(1 - p) - log p) · dL/dℓ.
    """

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
        if ctx.needs_input_grad[0]:
            gx = g * (input - target) / bm.maximum((1.0 - input) * input, 1e-12)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gy = g * (bm.maximum(bm.log1p(-input), -100.0) - bm.maximum(bm.log(input), -100.0))
        return gx, gy, None, None


class BinaryCrossEntropyWithLogits(Function):
    """Binary cross-entropy on logits.

    ℓᵢ = wᵢ [(1 - yᵢ) xᵢ + (1 + (pw - 1) yᵢ) softplus(-xᵢ)]  (= -w [pw·y log σ(x) + (1-y) log(1-σ(x))]),
    computed with softplus(-x) = max(-x, 0) + log1p(e^{-|x|}), so ±1000 never overflows;
    dx = w ((1 + (pw - 1) y) σ(x) - pw·y) · dL/dℓ,  dy = w (-x + (pw - 1) softplus(-x)) · dL/dℓ.
    """

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
        if ctx.needs_input_grad[0]:
            s = bm.sigmoid(input)
            if pos_weight is None:
                gx = g * (s - target)
            else:
                pt = pos_weight * target
                gx = g * ((pt + 1.0 - target) * s - pt)
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                gy = g * -input
            else:
                gy = g * ((pos_weight - 1.0) * bm.softplus(-input) - input)
        return gx, gy, None, None, None


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,  # noqa: A002
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Binary cross-entropy on probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    $$
    \ell_i = -w_i \left[ y_i \log p_i + (1 - y_i) \log(1 - p_i) \right]
    $$

    with each log clamped at −100, as PyTorch. Prefer ``binary_cross_entropy_with_logits`` on raw
    scores: it is exact where σ saturates. (The gradient with respect to a target that requires
    grad uses the same clamped logs, so it stays finite at p = 0 or 1, where PyTorch's is ±inf.)

    Args:
        input: the probabilities p, in [0, 1].
        target: the targets y in [0, 1], the shape of the input.
        weight: a weight wᵢ per element, broadcast to the input (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0]))
        tensor(0.6931)
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
    r"""Sigmoid and binary cross-entropy in one stable step, on logits, as PyTorch.

    $$
    \ell_i = -w_i \left[ p_w\, y_i \log \sigma(x_i) + (1 - y_i) \log\left(1 - \sigma(x_i)\right) \right]
    $$

    computed through softplus(−x), so logits of ±1000 never overflow.

    Args:
        input: the logits x.
        target: the targets y in [0, 1], the shape of the input.
        weight: a weight wᵢ per element, broadcast to the input (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        pos_weight: p_w, the weight of the positive term, broadcast along the last dim (e.g. one
            per class; default 1).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0]))
        tensor(0.6931)
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
        ℓᵢ = (1 - ε) w_yᵢ (-log p_i,yᵢ) + (ε / C) Σ_c w_c (-log p_ic),
    0 for ignored samples; 'mean' divides Σ ℓᵢ by Σ_i w_yᵢ over the kept samples.
    Backward (gᵢ = dL/dℓᵢ):
        dx_ij = gᵢ [aᵢ p_ij - (1 - ε) w_yᵢ [j = yᵢ] - (ε/C) w_j],   aᵢ = (1 - ε) w_yᵢ + (ε/C) Σ_c w_c,
    which without weights or smoothing is the familiar gᵢ (softmax - one-hot).  The rows of
    log-softmax and of p come from ``kernels.loss`` (one exp pass, kept from forward).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, smoothing):  # noqa: A002
        x = input._data
        xp = xp_of(x)
        m, c = x.shape
        valid = target != ignore_index
        ts = xp.where(valid, target, 0)
        e, total, lse = K.softmax_rows(x)  # log p_ij = x_ij - lse_i; p = e / total
        picked = x[xp.arange(m), ts]
        wy = weight[ts] * valid if weight is not None else valid.astype(x.dtype)
        loss = -(picked - lse) * wy
        if smoothing > 0:  # Σ_c w_c (-log p_ic), log p_ic = x_ic - lse_i (one pass more, precise as PyTorch)
            w_row = weight if weight is not None else xp.ones(c, x.dtype)
            loss = (1 - smoothing) * loss + (smoothing / c) * (((lse[:, None] - x) @ w_row) * valid)
        denom = wy.sum()
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                out = xp.asarray(loss.sum() / denom, dtype=x.dtype)
        else:
            out = _reduce_array(loss.astype(x.dtype, copy=False), reduction)
        if ctx.recorded:
            ctx.save_for_backward(input)
            ctx.e, ctx.total, ctx.ts, ctx.smoothing = e, total, ts, smoothing
            ctx.hit = ((1 - smoothing) * wy).astype(x.dtype, copy=False)  # the one-hot's weight per row
            ctx.a = ctx.hit  # aᵢ, the coefficient of p_ij
            if smoothing > 0:
                ctx.smooth = ((smoothing / c) * valid).astype(x.dtype, copy=False)
                ctx.a = (ctx.hit + w_row.sum() * ctx.smooth).astype(x.dtype, copy=False)
                ctx.w_row = w_row
            ctx.scale = _inverse(denom) if reduction == "mean" else 1.0
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        m = x.shape[0]
        g = grad * ctx.scale  # gᵢ = dL/dℓᵢ, (M,) or one number for all rows
        dx = bm.apply(ScaledSoftmax, x, g * ctx.a, ctx.e, ctx.total)  # gᵢ aᵢ p_ij
        dx = bm.add_at_columns(dx, ctx.ts, -(g * ctx.hit))  # - gᵢ (1 - ε) w_yᵢ at j = yᵢ
        if ctx.smoothing > 0:
            dx = dx - (g * ctx.smooth).reshape(m, 1) * ctx.w_row  # - gᵢ (ε/C) w_j
        return dx, None, None, None, None, None

    def release(self) -> None:
        super().release()
        self.e = self.total = None


class ScaledSoftmax(Function):
    """Row-scaled softmax.

    out_ij = s_i · softmax(x)_ij (s of None: 1), from the e and total of ``kernels.loss.softmax_rows(x)``;
    ds_i = Σ_j grad_ij p_ij,  dx_ij = s_i p_ij (grad_ij - Σ_k grad_ik p_ik).
    """

    array_backward = True
    kernel = staticmethod(lambda x, s, e, total: K.scaled_softmax(e, total, s))

    @staticmethod
    def forward(ctx, x, s, e, total):
        if ctx.recorded:
            ctx.save_for_backward(x, s)
            ctx.e, ctx.total = e, total
        return K.scaled_softmax(e, total, None if s is None else s._data)

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        p = bm.apply(ScaledSoftmax, x, None, ctx.e, ctx.total)
        inner = bm.sum(grad * p, 1, keepdim=True)
        dx = (grad - inner) * p
        if s is None:
            return dx, None, None, None
        return dx * s.reshape(x.shape[0], 1), inner.reshape(x.shape[0]), None, None


class NLLLoss(Function):
    """Negative log-likelihood.

    ℓᵢ = -w_yᵢ · x_i,yᵢ on (M, C) log-probabilities x (0 for ignored samples);
    'mean' divides by Σ w_yᵢ over kept samples;  dx_ij = -w_yᵢ [j = yᵢ] · dL/dℓᵢ.
    """

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
            ctx.ts, ctx.wy, ctx.shape = ts, wy, x.shape
            ctx.scale = _inverse(denom) if reduction == "mean" else 1.0
        return out

    @staticmethod
    def backward(ctx, grad):
        g = grad * ctx.scale  # (M,) or one number for all rows
        zeros = bm.const(xp_of(ctx.wy).zeros(ctx.shape, ctx.wy.dtype), g)
        return bm.add_at_columns(zeros, ctx.ts, -(g * ctx.wy)), None, None, None, None


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
    r"""Cross-entropy between softmax(input) along dim 1 and the target, as PyTorch.

    $$
    \ell_n = -w_{y_n} \log \frac{\exp(x_{n, y_n})}{\sum_{c} \exp(x_{n, c})}, \qquad
    L = \frac{\sum_n \ell_n}{\sum_n w_{y_n}}
    $$

    for class-index targets (``ignore_index`` skipped); for class-probability targets
    $\ell_n = -\sum_c w_c\, y_{n,c} \log \operatorname{softmax}(x_n)_c$, averaged over N.
    ``label_smoothing`` ε mixes the target with the uniform distribution. Class-index targets run
    through one fused, stable op (log-softmax and its backward softmax − one-hot in one pass).

    Args:
        input: raw scores (logits).
        target: class indices (integers) or class probabilities (floats, the input's shape).
        weight: a weight per class, shape (C,) (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        ignore_index: a class index that contributes neither loss nor gradient (default −100).
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        label_smoothing: ε in [0, 1] (default 0).

    Shape:
        - Input: (C,), (N, C) or (N, C, d₁, ..., d_K).
        - Target: (), (N) or (N, d₁, ..., d_K) class indices, or probabilities of the input's shape.
        - Output: a scalar, or the target's shape (without C) with ``reduction='none'``.

    Example:
        >>> logits = cr.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
        >>> loss = cr.nn.functional.cross_entropy(logits, cr.tensor([0, 2]))
        >>> round(loss.item(), 4)
        0.1755
        >>> loss.backward()
        >>> logits.grad.shape
        (2, 3)
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
    r"""Negative log-likelihood of log-probabilities, as ``torch.nn.functional.nll_loss``.

    $$
    \ell_n = -w_{y_n}\, x_{n, y_n}, \qquad L = \frac{\sum_n \ell_n}{\sum_n w_{y_n}}
    $$

    Use it after ``log_softmax``; ``ignore_index`` targets are skipped.

    Args:
        input: log-probabilities x.
        target: class indices.
        weight: a weight per class, shape (C,) (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        ignore_index: a class index that contributes neither loss nor gradient (default −100).
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (C,), (N, C) or (N, C, d₁, ..., d_K).
        - Target: (), (N) or (N, d₁, ..., d_K) class indices in [0, C).
        - Output: a scalar, or the target's shape with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.nll_loss(cr.tensor([[-0.1, -2.3]]), cr.tensor([0]))
        tensor(0.1)
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
    loss = NLLLoss.apply(x2, t, w, ignore_index, reduction)
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
    r"""Multi-class hinge loss, as ``torch.nn.functional.multi_margin_loss``.

    $$
    \ell_n = \frac{1}{C} \sum_{j \ne y_n} w_{y_n} \max\left(0,\; m - x_{n, y_n} + x_{n, j}\right)^{p}
    $$

    Args:
        input: the scores x.
        target: class indices y.
        p: 1 or 2 (default 1).
        margin: the margin m (default 1).
        weight: a weight per class, shape (C,) (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C) or (C,).
        - Target: (N,) or () class indices.
        - Output: a scalar, or (N,) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.multi_margin_loss(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([3]))
        tensor(0.325)
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
    r"""Binary hinge loss (linear SVM) for targets in {−1, +1}; ours (PyTorch has none).

    $$
    \ell_i = \max\left(0,\; m - y_i\, x_i\right)
    $$

    Args:
        input: the scores x.
        target: the labels y, −1 or +1, the shape of the input.
        margin: the margin m (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> cr.nn.functional.hinge_loss(cr.tensor([0.5, -2.0]), cr.tensor([1.0, -1.0]))
        tensor(0.25)
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


# ----------------------------------------------------------------------------- more losses
#
# Compositions of differentiable ops written as PyTorch writes them (ATen or torch.nn.functional),
# so values, kinks (clamp at 0 lets the gradient through, as clamp_min) and second derivatives
# match.  CTC, a whole-sequence dynamic programme, is its own op in ``ops/ctc.py``.


def _check_float(op: str, name: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor for {name}, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point {name}, got dtype {x.dtype}")


def _as_float_like(op: str, name: str, t, like: Tensor) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor for {name}, got {type(t).__name__}")
    return t if t.dtype == like.dtype else t.to(like.dtype)


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    r"""Kullback-Leibler divergence of the target from the input's distribution, as ``F.kl_div``.

    ``input`` holds log-probabilities; ``target`` probabilities (or log-probabilities with
    ``log_target=True``). Element-wise

    $$
    \ell = y (\log y - x) \quad\text{or, with log\_target,}\quad \ell = e^{y} (y - x)
    $$

    (0 where y = 0). ``reduction='batchmean'`` divides the sum by the batch size, the true KL
    divergence; ``'mean'`` divides by the number of elements and warns, as PyTorch.

    Args:
        input: log-probabilities, any shape.
        target: the same shape.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target: whether ``target`` is given as log-probabilities.

    Returns:
        A scalar, or the input's shape for ``'none'``.

    Example:
        >>> p = cr.tensor([[0.5, 0.5]])
        >>> float(cr.nn.functional.kl_div(p.log(), p, reduction="batchmean"))
        0.0
    """
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = _reduction(op, "mean", size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "kl_div: reduction 'mean' divides the total loss by both the batch size and the support size; "
            "'batchmean' divides only by the batch size, and aligns with the KL divergence math definition",
            stacklevel=2,
        )
    elif reduction != "batchmean":
        _reduction(op, reduction)
    input, target = _pair(op, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # xlogy(y, y) - y x, the y log y term 0 at y = 0
        zero = target == 0
        loss = bm.where(zero, 0.0, target * bm.where(zero, 1.0, target).log()) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Negative log-likelihood of a Poisson target, as ``torch.nn.functional.poisson_nll_loss``.

    $$
    \ell = e^{x} - y x \ (\text{log\_input}),\quad \ell = x - y \log(x + \epsilon) \ (\text{otherwise})
    $$

    With ``full``, Stirling's term $y \log y - y + \tfrac12 \log(2\pi y)$ is added where y > 1.

    Args:
        input: the predicted rate (its log with ``log_input=True``), any shape.
        target: counts, the same shape.
        log_input: whether ``input`` is the log of the rate.
        full: add Stirling's approximation of log(y!).
        size_average: deprecated, as PyTorch (use ``reduction``).
        eps: keeps log(x + eps) finite when ``log_input=False``.
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*)
        - Target: (*), the input's shape
        - Output: a scalar, or the input's shape for ``'none'``

    Example:
        >>> float(cr.nn.functional.poisson_nll_loss(cr.tensor([0.0]), cr.tensor([1.0])))
        1.0
    """
    op = "poisson_nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    eps = _args.number(op, "eps", eps)
    input, target = _pair(op, input, target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        t = bm.where(big, target, 1.0)  # Stirling's term only where y > 1; no log(0) elsewhere
        stirling = t * t.log() - t + (t * (2 * math.pi)).log() * 0.5
        loss = loss + bm.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    r"""Negative log-likelihood of a Gaussian target, as ``torch.nn.functional.gaussian_nll_loss``.

    $$
    \ell = \tfrac12 \left(\log \max(\sigma^2, \epsilon) + \frac{(x - y)^2}{\max(\sigma^2, \epsilon)}\right)
    \ (+\ \tfrac12 \log 2\pi \text{ if full})
    $$

    The clamp to ``eps`` passes the gradient of ``var`` through unchanged, as PyTorch (which
    clamps under ``no_grad``).

    Args:
        input: the predicted means (N, *).
        target: samples, the input's shape (or broadcastable to it).
        var: the predicted variances: the input's shape, one dimension fewer (the last), one
            dimension of size 1, or a float for all.
        full: add the constant ½ log 2π.
        eps: the smallest variance used.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Raises:
        ValueError: a negative variance, or ``var`` of a shape that fits none of the above.

    Shape:
        - Input: (N, *)
        - Target: (N, *), the input's shape
        - Var: the input's shape, without its last dim, with one dim of size 1, or a float
        - Output: a scalar, or the input's shape for ``'none'``

    Example:
        >>> x = cr.tensor([[1.0, 2.0]])
        >>> float(cr.nn.functional.gaussian_nll_loss(x, x, cr.ones(1, 2)))
        0.0
    """
    op = "gaussian_nll_loss"
    _check_float(op, "input", input)
    target = _as_float_like(op, "target", target, input)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries (var={var})")
        var = Tensor._make(xp_of(input._data).full(input.shape, float(var), input.dtype))
    v = _as_float_like(op, "var", var, input)
    if bool((v._data < 0).any()):
        raise ValueError(f"{op}: var has negative entry/entries")
    ishape, vshape = tuple(input.shape), tuple(v.shape)
    if vshape != ishape:
        if ishape[:-1] == vshape:
            v = v.unsqueeze(-1)
        elif not (len(ishape) == len(vshape) and sum(b for a, b in zip(ishape, vshape) if a != b) == 1):
            raise ValueError(
                f"{op}: var is of incorrect size {vshape} for input of shape {ishape}; expected the input's "
                "shape, its shape without the last dim, or one dim of size 1"
            )
    try:
        ok = np.broadcast_shapes(tuple(target.shape), ishape) == ishape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{op}: target shape {tuple(target.shape)} does not broadcast to the input {ishape}")
    reduction = _reduction(op, reduction)
    v = no_grad_clamp_min(v, _args.number(op, "eps", eps))
    d = input - target
    loss = (v.log() + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Ranking hinge: x1 should exceed x2 by ``margin`` where y = 1 (and trail it where y = -1).

    $$
    \ell = \max(0, -y (x_1 - x_2) + \text{margin})
    $$

    As ``torch.nn.functional.margin_ranking_loss``: all three of the same number of dims,
    broadcast together.

    Args:
        input1: scores (N,) or any shape.
        input2: scores, the same number of dims.
        target: 1 or -1, the same number of dims.
        margin: the required gap.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input1, Input2, Target: (N,) or (), the same number of dims
        - Output: a scalar, or the inputs' shape for ``'none'``

    Example:
        >>> f = cr.nn.functional.margin_ranking_loss
        >>> float(f(cr.tensor([1.0, 0.0]), cr.tensor([0.0, 1.0]), cr.tensor([1.0, 1.0])))
        0.5
    """
    op = "margin_ranking_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _check_float(op, "input1", input1)
    input2 = _as_float_like(op, "input2", input2, input1)
    target = _as_float_like(op, "target", target, input1)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            f"{op}: all input tensors should have the same number of dimensions, but got shapes input1: "
            f"{tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: {tuple(target.shape)}"
        )
    try:
        np.broadcast_shapes(tuple(input1.shape), tuple(input2.shape), tuple(target.shape))
    except ValueError:
        raise RuntimeError(
            f"{op}: shapes input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)} and target "
            f"{tuple(target.shape)} cannot be broadcast together"
        ) from None
    _args.number(op, "margin", margin)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Hinge loss on distances, as ``torch.nn.functional.hinge_embedding_loss``.

    $$
    \ell = \begin{cases} x & y = 1 \\ \max(0, \text{margin} - x) & y = -1 \end{cases}
    $$

    (PyTorch's sum of both pieces: a target other than ±1 gets both.)

    Args:
        input: distances, any shape.
        target: 1 (similar) or -1 (dissimilar), the same shape.
        margin: the distance dissimilar pairs should exceed.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*)
        - Target: (*), the input's shape
        - Output: a scalar, or the input's shape for ``'none'``

    Example:
        >>> f = cr.nn.functional.hinge_embedding_loss
        >>> f(cr.tensor([0.3, 0.3]), cr.tensor([1.0, -1.0]), reduction="none")
        tensor([0.3, 0.7])
    """
    op = "hinge_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input, target = _pair(op, input, target)
    _args.number(op, "margin", margin)
    margin_part = bm.where(target != 1, (margin - input).clamp(min=0), 0.0)
    self_part = bm.where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Cosine loss on pairs, as ``torch.nn.functional.cosine_embedding_loss``.

    $$
    \ell = \begin{cases} 1 - \cos(x_1, x_2) & y = 1 \\ \max(0, \cos(x_1, x_2) - \text{margin}) & y = -1
    \end{cases}
    $$

    with $\cos = \frac{x_1 \cdot x_2}{\sqrt{(\lVert x_1\rVert^2 + 10^{-12})(\lVert x_2\rVert^2 + 10^{-12})}}$.

    Args:
        input1: (N, D) or (D,).
        input2: the same shape.
        target: (N,) or () of 1 and -1.
        margin: for the dissimilar pairs, in [-1, 1].
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input1, Input2: (N, D) or (D,)
        - Target: (N,) or ()
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> f = cr.nn.functional.cosine_embedding_loss
        >>> round(float(f(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]]), cr.tensor([1.0]))), 4)
        0.2929
    """
    op = "cosine_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _check_float(op, "input1", input1)
    input2 = _as_float_like(op, "input2", input2, input1)
    target = _as_float_like(op, "target", target, input1)
    if target.ndim not in (0, 1):
        raise RuntimeError(
            f"{op}: 0D or 1D target tensor expected, multi-target not supported, got shape "
            f"{tuple(target.shape)}"
        )
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(
            f"{op}: {target.ndim}D target tensor expects {want}D input tensors, but found inputs with shapes "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if input1.shape != input2.shape or tuple(input1.shape[:-1]) != tuple(target.shape):
        raise RuntimeError(
            f"{op}: expected input1 and input2 of the same shape (N, D) and a target of shape (N,), got "
            f"{tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}"
        )
    _args.number(op, "margin", margin)
    d = target.ndim
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    pos = bm.where(target == 1, 1 - cos, 0.0)
    neg = bm.where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(pos + neg, reduction)


def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Two-class logistic loss, as ``torch.nn.functional.soft_margin_loss``.

    $$
    \ell = \log(1 + e^{-y x})
    $$

    computed as a stable softplus, so it stays finite where PyTorch's log1p(exp) overflows.

    Args:
        input: scores, any shape.
        target: 1 or -1, the same shape.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*)
        - Target: (*), the input's shape
        - Output: a scalar, or the input's shape for ``'none'``

    Example:
        >>> round(float(cr.nn.functional.soft_margin_loss(cr.tensor([0.0]), cr.tensor([1.0]))), 4)
        0.6931
    """
    op = "soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input, target = _pair(op, input, target)
    return _reduce(bm.softplus(-input * target), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Multi-label one-versus-all logistic loss, as ``torch.nn.functional.multilabel_soft_margin_loss``.

    $$
    \ell_n = -\frac{1}{C} \sum_c w_c \left(y_{nc} \log \sigma(x_{nc})
    + (1 - y_{nc}) \log \sigma(-x_{nc})\right)
    $$

    Args:
        input: scores (N, C) or (C,).
        target: 0/1 labels, the same shape.
        weight: per-class weights (C,), or None.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (one value per sample).

    Shape:
        - Input: (N, C) or (C,)
        - Target: 0/1 labels, the input's shape
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> f = cr.nn.functional.multilabel_soft_margin_loss
        >>> round(float(f(cr.tensor([[0.0, 0.0]]), cr.tensor([[1.0, 0.0]]))), 4)
        0.6931
    """
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input, target = _pair(op, input, target)
    if input.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got a 0-d tensor")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    w = _weight_like(op, weight, input)
    if w is not None:
        loss = loss * w
    c = input.shape[-1]
    return _reduce(loss.sum(input.ndim - 1) / c, reduction)


def multilabel_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Multi-label hinge loss, as ``torch.nn.functional.multilabel_margin_loss``.

    ``target`` lists each sample's classes as indices, ended by the first -1:

    $$
    \ell_n = \sum_{j \in Y_n} \sum_{k \notin Y_n} \frac{\max(0, 1 - (x_{n,j} - x_{n,k}))}{C}
    $$

    Args:
        input: scores (N, C) or (C,).
        target: int64 class indices of the input's shape, padded with -1.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (one value per sample).

    Raises:
        IndexError: a target index outside [-1, C).

    Shape:
        - Input: (N, C) or (C,)
        - Target: int64 indices, the input's shape, padded with -1
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> x = cr.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> y = cr.tensor([[3, 0, -1, 1]])
        >>> round(float(cr.nn.functional.multilabel_margin_loss(x, y)), 4)
        0.85
    """
    op = "multilabel_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _check_float(op, "input", input)
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: expected an integer (int64) target of class indices, got "
            f"{getattr(target, 'dtype', type(target).__name__)}"
        )
    if (
        input.ndim not in (1, 2)
        or (input.ndim == 1 and input.shape[0] == 0)
        or (input.ndim == 2 and input.shape[1] == 0)
    ):
        raise ValueError(
            f"{op}: expected a non-empty input of shape (C,) or (N, C), got {tuple(input.shape)}"
        )
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: inconsistent target shape {tuple(target.shape)} for input of shape {tuple(input.shape)}"
        )
    x2 = input.reshape(1, -1) if input.ndim == 1 else input
    t = target._data.reshape(x2.shape)
    m, c = x2.shape
    xp = xp_of(x2._data)
    if t.size and bool(((t < -1) | (t >= c)).any()):
        bad = int(t[(t < -1) | (t >= c)].ravel()[0])
        raise IndexError(f"{op}: target index {bad} is out of range for {c} classes (expected -1 .. {c - 1})")
    # the targets of a row are those before its first -1; pairs (listed target, class) cost
    # O(N · K · C) memory for at most K targets per row
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)
    k = int(valid.sum(axis=1).max()) if m else 0
    valid, t = valid[:, :k], t[:, :k]
    ts = xp.where(valid, t, 0)
    rows = xp.arange(m)[:, None]
    is_target = xp.zeros((m, c), bool)
    is_target[xp.broadcast_to(rows, ts.shape)[valid], ts[valid]] = True
    picked = x2[rows, ts]  # (M, K): x at each listed target
    hinge = relu(1 - picked.reshape(m, k, 1) + x2.reshape(m, 1, c))
    pairs = (valid[:, :, None] & ~is_target[:, None, :]).astype(x2.dtype)
    loss = (hinge * _const(pairs)).sum((1, 2)) / c
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""Triplet loss, as ``torch.nn.functional.triplet_margin_loss``.

    $$
    \ell = \max(0, d(a, p) - d(a, n) + \text{margin}), \qquad d(u, v) = \lVert u - v + \epsilon \rVert_p
    $$

    With ``swap``, d(a, n) is replaced by min(d(a, n), d(p, n)).

    Args:
        anchor: (N, D) or (D,).
        positive: the same number of dims.
        negative: the same number of dims.
        margin: > 0.
        p: the norm's exponent.
        eps: added to the differences.
        swap: use the distance swap.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Raises:
        ValueError: ``margin`` is not positive.

    Shape:
        - Anchor, Positive, Negative: (N, D) or (D,)
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> a, pos, neg = cr.tensor([[0.0, 0.0]]), cr.tensor([[0.0, 1.0]]), cr.tensor([[0.0, 3.0]])
        >>> float(cr.nn.functional.triplet_margin_loss(a, pos, neg, eps=0.0))
        0.0
    """
    op = "triplet_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check_float(op, name, t)
    return _triplet(
        op, anchor, positive, negative, lambda u, v: pairwise_distance(u, v, p, eps), margin, swap, reduction
    )


def _triplet(
    op: str, anchor, positive, negative, distance, margin: float, swap: bool, reduction: str
) -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) reduced, d(a, n) replaced by min(d(a, n), d(p, n)) with ``swap``."""
    if _args.number(op, "margin", margin) <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    dims = [getattr(t, "ndim", None) for t in (anchor, positive, negative)]
    if not dims[0] == dims[1] == dims[2]:
        raise RuntimeError(
            f"{op}: the anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D inputs"
        )
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    r"""Triplet loss with any distance, as ``torch.nn.functional.triplet_margin_with_distance_loss``.

    $$
    \ell = \max(0, d(a, p) - d(a, n) + 	ext{margin})
    $$

    Args:
        anchor: (N, D) or (D,), or whatever ``distance_function`` takes.
        positive: the same number of dims.
        negative: the same number of dims.
        distance_function: a callable of two tensors returning their distances (N,);
            ``pairwise_distance`` when None.
        margin: > 0.
        swap: use min(d(a, n), d(p, n)) as the negative distance.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Raises:
        ValueError: ``margin`` is not positive.

    Shape:
        - Anchor, Positive, Negative: (N, *), what ``distance_function`` takes
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> f = cr.nn.functional.triplet_margin_with_distance_loss
        >>> cos = lambda u, v: 1 - cr.nn.functional.cosine_similarity(u, v)
        >>> a, pos, neg = cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 0.1]]), cr.tensor([[-1.0, 0.0]])
        >>> float(f(a, pos, neg, distance_function=cos))
        0.0
    """
    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(op, reduction)
    if distance_function is None:
        distance_function = pairwise_distance
    elif not callable(distance_function):
        raise TypeError(
            f"{op}: distance_function must be a callable or None, got {type(distance_function).__name__}"
        )
    return _triplet(op, anchor, positive, negative, distance_function, margin, swap, reduction)
