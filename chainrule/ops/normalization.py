"""Normalisation ops: ``batch_norm`` and ``layer_norm``, each fused with its own backward.

Both compute x̂ = (x - μ) / √(σ² + ε) and out = γ x̂ + β; they differ in what μ and σ²
are taken over:

- batch norm: per channel (dim 1), over the batch and spatial dims (0, 2, 3, ...);
- layer norm: per sample, over the trailing ``normalized_shape`` dims.

Backward of the normalisation (n values per statistic, g = dL/dout · γ):

    dx = (1/σ̂) · (g - mean(g) - x̂ · mean(g · x̂)),      σ̂ = √(σ² + ε)
    dγ = Σ dL/dout · x̂,   dβ = Σ dL/dout        (summed over everything but the feature dims)

The two means are the gradient flowing back through μ and σ² (every output depends
on every input of its group through the statistics).
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import xp_of
from chainrule.ops import _args
from chainrule.ops import bmath as bm
from chainrule.tensor import Tensor


def _stats(a, axes: tuple, eps: float):
    """(x̂, 1/σ̂, μ, σ² (biased)) of the array ``a`` over ``axes`` (kept as size-1 dims)."""
    xp = xp_of(a)
    mean = a.mean(axis=axes, keepdims=True)
    xc = a - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + eps)
    xc *= invstd
    return xc, invstd.astype(a.dtype, copy=False), mean, var


def _stats_tensor(x: Tensor, axes: tuple, eps: float):
    """x̂ and 1/σ̂ recomputed with Tensor ops (differentiable, for create_graph=True)."""
    xc = x - x.mean(dim=axes, keepdim=True)
    invstd = ((xc * xc).mean(dim=axes, keepdim=True) + eps) ** -0.5
    return xc * invstd, invstd


class Normalize(Function):
    """out = γ x̂ + β with x̂ the input normalised over ``axes`` (see the module docstring).

    ``weight``/``bias`` are already shaped to broadcast against x (or None);
    ``param_axes`` are the dims their gradients are summed over; ``stats``, when a list,
    receives the batch (mean, biased variance) for running statistics.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, param_axes, eps, stats):
        xhat, invstd, mean, var = _stats(x._data, axes, eps)
        if ctx.recorded:  # recorded: keep what backward needs
            ctx.xhat, ctx.invstd, ctx.axes, ctx.param_axes, ctx.eps = xhat, invstd, axes, param_axes, eps
            ctx.save_for_backward(weight)
        if stats is not None:
            stats.extend((mean, var))
        out = xhat * weight._data if weight is not None else xhat.copy() if ctx.recorded else xhat
        if bias is not None:
            out += bias._data
        return out

    array_backward = True

    @staticmethod
    def backward(ctx, grad):
        """The gradient of a normalisation.

        With g = γ·grad and means over the normalised axes:
        dx = (1/σ̂)(g - mean(g) - x̂ mean(g x̂));  dγ = Σ grad x̂;  dβ = Σ grad (over ``param_axes``).
        """
        (weight,) = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        axes, param_axes = ctx.axes, ctx.param_axes
        if bm.is_tensor(grad):  # recorded: x̂ and 1/σ̂ as functions of x, so dx is differentiable too
            xhat, invstd = _stats_tensor(ctx.inputs[0], axes, ctx.eps)
        else:
            xhat, invstd = ctx.xhat, ctx.invstd
        n = 1
        for a in axes:
            n *= grad.shape[a]
        gx = gw = gb = None
        if axes == param_axes:  # batch norm: γ is constant over the normalised axes, so sums are shared
            s_g = bm.sum(grad, axes, keepdim=True)
            s_gx = bm.sum(grad * xhat, axes, keepdim=True)
            gw = s_gx.reshape(weight.shape) if need_w else None
            gb = s_g.reshape(ctx.inputs[2].shape) if need_b else None
            if need_x:
                scale = invstd * weight if weight is not None else invstd
                gx = (grad - s_g * (1.0 / n) - xhat * (s_gx * (1.0 / n))) * scale
            return gx, gw, gb, None, None, None, None
        if need_w:
            gw = bm.sum(grad * xhat, param_axes, keepdim=True).reshape(weight.shape)
        if need_b:
            gb = bm.sum(grad, param_axes, keepdim=True).reshape(ctx.inputs[2].shape)
        if need_x:  # layer norm: γ varies inside each normalised group
            g = grad * weight if weight is not None else grad
            mean_g = bm.sum(g, axes, keepdim=True) * (1.0 / n)
            mean_gx = bm.sum(g * xhat, axes, keepdim=True) * (1.0 / n)
            gx = (g - mean_g - xhat * mean_gx) * invstd
        return gx, gw, gb, None, None, None, None


def _check_dtypes(op: str, input: Tensor, **params) -> None:  # noqa: A002
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
    for name, t in params.items():
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"{op}: input dtype {input.dtype} does not match {name} dtype {t.dtype} "
                "(convert the module with .to(dtype) or the input with .to(...))"
            )


def _check_channel_params(op: str, input: Tensor, running_mean, running_var, weight, bias) -> None:  # noqa: A002
    """Each given per-channel tensor has shape (C,); weight and bias have input's dtype."""
    c = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"{op}: {name} should have shape ({c},) for an input with {c} channels "
                f"(input shape {tuple(input.shape)}), got {tuple(t.shape)}"
            )
    _check_dtypes(op, input, weight=weight, bias=bias)


def _channel_view(t: Tensor | None, ndim: int) -> Tensor | None:
    """A (C,) tensor reshaped to (1, C, 1, ...) so it broadcasts along dim 1."""
    if t is None or ndim <= 2:
        return t
    return t.reshape((1, t.shape[0]) + (1,) * (ndim - 2))


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,  # noqa: A002
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over dim 1, as ``torch.nn.functional.batch_norm``.

    Training: normalise with the batch's mean and (biased) variance per channel, and
    update ``running_mean``/``running_var`` in place when given:
    r ← (1 - momentum) r + momentum · batch statistic (the variance unbiased, n/(n-1)).
    Evaluation: normalise with the running statistics.

    Shapes: input (N, C) or (N, C, L) or (N, C, H, W) ...; weight, bias, running stats (C,).
    Example::

        x = cr.randn(8, 3, 4, 4)
        y = F.batch_norm(x, None, None, training=True)   # each channel: mean 0, var 1
    """
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input with at least 2 dims (N, C, ...), got shape {tuple(input.shape)}"
        )
    if training and not eps > 0:  # as PyTorch: the batch variance can be 0, so eps must not be
        raise ValueError(f"batch_norm: eps must be positive during training, got {eps!r}")
    c = input.shape[1]
    _check_channel_params("batch_norm", input, running_mean, running_var, weight, bias)
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        n = input.numel() // c if c else 0
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"shape {tuple(input.shape)}"
            )
        stats: list = []
        out = Normalize.apply(
            input, _channel_view(weight, input.ndim), _channel_view(bias, input.ndim), axes, axes, eps, stats
        )
        if running_mean is not None or running_var is not None:
            mean, var = (s.reshape(c) for s in stats)
            with no_grad():
                if running_mean is not None:
                    running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * mean
                    running_mean._version += 1
                if running_var is not None:
                    running_var._data[...] = (1 - momentum) * running_var._data + momentum * var * (
                        n / (n - 1)
                    )
                    running_var._version += 1
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
    xp = xp_of(input._data)
    invstd = (1.0 / xp.sqrt(running_var._data + eps)).astype(input.dtype, copy=False)
    mean = running_mean._data.astype(input.dtype, copy=False)
    shape = (1, c) + (1,) * (input.ndim - 2)
    out = (input - Tensor._make(mean.reshape(shape))) * Tensor._make(invstd.reshape(shape))
    if weight is not None:
        out = out * _channel_view(weight, input.ndim)
    if bias is not None:
        out = out + _channel_view(bias, input.ndim)
    return out


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,  # noqa: A002
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the trailing ``normalized_shape`` dims, as ``torch.nn.functional.layer_norm``.

    Shapes: input (*, *normalized_shape); weight and bias ``normalized_shape``.
    Example: ``F.layer_norm(cr.randn(2, 5, 8), (8,))`` normalises every length-8 vector.
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k :]) != shape or input.ndim < k:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must match the last {k} dims of the input, got input "
            f"shape {tuple(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"layer_norm: {name} should have shape {shape}, got {tuple(t.shape)}")
    _check_dtypes("layer_norm", input, weight=weight, bias=bias)
    axes = tuple(range(input.ndim - k, input.ndim))
    return Normalize.apply(input, weight, bias, axes, tuple(range(input.ndim - k)), eps, None)


def instance_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    r"""Instance normalisation, as ``torch.nn.functional.instance_norm``.

    Each (sample, channel) map is standardised over its own positions.

    $$
    y_{nc\cdot} = \frac{x_{nc\cdot} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}\,\gamma_c + \beta_c
    $$

    with the mean and (biased) variance over the spatial dims of one sample and channel.  With
    ``use_input_stats`` and running statistics given, they are updated in place with the
    per-sample statistics averaged over the batch (the variance unbiased); with
    ``use_input_stats=False`` the running statistics normalise instead.

    Args:
        input: (N, C, *) with at least one spatial dim.
        running_mean: (C,) or None.
        running_var: (C,) or None.
        weight: γ, (C,) or None.
        bias: β, (C,) or None.
        use_input_stats: normalise with the statistics of each map (else the running ones).
        momentum: the running averages' update factor.
        eps: added to the variance.

    Returns:
        A tensor of input's shape.

    Raises:
        ValueError: fewer than 3 dims, one spatial element only, or parameters of the wrong shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.instance_norm(cr.tensor([[[1.0, 3.0], [0.0, 10.0]]]))
        tensor([[[-1.,  1.],
                 [-1.,  1.]]])
    """
    _args.tensor("instance_norm", "input", input)
    if input.ndim < 3:
        raise ValueError(
            f"instance_norm: expected an input (N, C, *) with at least one spatial dim, got shape "
            f"{tuple(input.shape)}"
        )
    c = input.shape[1]
    _check_channel_params("instance_norm", input, running_mean, running_var, weight, bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: running_mean and running_var are needed when use_input_stats=False"
            )
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = input.numel() // max(input.shape[0] * c, 1) if input.shape[0] * c else 0
    if input.shape[0] * c and spatial == 1:
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element when training, got input size "
            f"{tuple(input.shape)}"
        )
    axes = tuple(range(2, input.ndim))
    track = running_mean is not None or running_var is not None
    stats: list | None = [] if track else None
    out = Normalize.apply(
        input,
        _channel_view(weight, input.ndim),
        _channel_view(bias, input.ndim),
        axes,
        (0,) + axes,
        eps,
        stats,
    )
    if stats:
        n = input.shape[0]
        mean, var = (s.reshape(n, c).mean(axis=0) for s in stats)
        var = var * (spatial / (spatial - 1))
        with no_grad():
            for buf, new in ((running_mean, mean), (running_var, var)):
                if buf is not None:
                    buf._data[...] = (1 - momentum) * buf._data + momentum * new
                    buf._version += 1
    return out


def local_response_norm(
    input: Tensor,  # noqa: A002
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    r"""Local response normalisation across channels, as ``torch.nn.functional.local_response_norm``.

    $$
    b_c = a_c \Big/ \Big(k + \frac{\alpha}{n} \sum_{c'=c-\lfloor n/2 \rfloor}^{c+\lfloor (n-1)/2 \rfloor}
    a_{c'}^2\Big)^{\beta}
    $$

    with n = ``size`` and the channels outside [0, C) counted as zeros (AlexNet's normalisation).
    Written, as PyTorch, as an average pool of the squares over a window of channels.

    Args:
        input: (N, C, *) with at least 3 dims.
        size: n, the number of neighbouring channels.
        alpha: the multiplicative factor.
        beta: the exponent.
        k: the additive factor.

    Returns:
        A tensor of input's shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.local_response_norm(cr.ones(1, 3, 1), 3, alpha=1.0, beta=1.0)
        tensor([[[0.6],
                 [0.5],
                 [0.6]]])
    """
    from chainrule.ops.pooling import avg_pool2d, avg_pool3d
    from chainrule.ops.shape import pad

    _args.tensor("local_response_norm", "input", input)
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected 3D or higher dimensionality input, got shape {tuple(input.shape)}"
        )
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.numel() == 0:
        return input
    div = input * input
    if input.ndim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        shape = tuple(input.shape)
        div = div.reshape(shape[0], 1, shape[1], shape[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).reshape(shape)
    div = (div * alpha + k) ** beta
    return input / div
