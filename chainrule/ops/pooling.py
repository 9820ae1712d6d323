"""Pooling (max, average, adaptive average), nearest-neighbour upsampling and channel dropout.

Pooling summarises each window of a feature map by one number — its maximum or its
mean — so the map shrinks (stride 2 halves it) and small shifts of the input barely
change the result.  Like the convolutions (``ops/conv.py``), every op here reads the
windows through strided views of a channels-last buffer, with one Python iteration per
*kernel offset* (4 for a 2x2 window), never per pixel:

- **max pool**: a running ``maximum`` over the offsets.  For backward it records, per
  output, *which* offset won (a small ``uint8`` array; ties go to the first offset, and a
  NaN beats everything, as PyTorch); backward routes each gradient to that position only.
- **average pool**: the sum over the offsets divided by the window size (or, with
  ``count_include_pad=False``, by the number of real, non-padding elements); backward
  spreads each gradient evenly over its window.

Both backward maps are linear in the gradient, and each has the forward "gather" as its
own derivative, so they are differentiable too (second derivatives).

Outputs keep the input's memory layout where it is cheap (channels-last in, channels-last
out), so a conv → ReLU → pool → conv stack never converts layouts.  The array code is in
``chainrule/kernels/pooling.py``, beside plain loop versions it is tested against.
"""

from __future__ import annotations

import math
import warnings

from chainrule import random as _random
from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.kernels import pooling as K
from chainrule.kernels.conv import make_geometry
from chainrule.ops import bmath as bm
from chainrule.ops.conv import _tuple
from chainrule.tensor import Tensor

# ----------------------------------------------------------------------------- geometry


def pool_out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ``ceil_mode`` the last window must start inside the input."""
    span = d * (k - 1) + 1
    num = n + 2 * p - span + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_geometry(op: str, x, nd: int, kernel_size, stride, padding, dilation, ceil_mode, max_pool: bool):
    kernel = _tuple(kernel_size, nd, op, "kernel_size")
    stride = (
        kernel
        if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
        else _tuple(stride, nd, op, "stride")
    )
    padding = _tuple(padding, nd, op, "padding")
    dilation = _tuple(dilation, nd, op, "dilation")
    if any(k < 1 for k in kernel) or any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(
            f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be positive"
        )
    for k, p, d in zip(kernel, padding, dilation):
        limit = (d * (k - 1) + 1) // 2 if max_pool else k // 2
        if p < 0 or p > limit:
            raise ValueError(
                f"{op}: padding should be at most half of the {'effective ' if max_pool else ''}"
                f"kernel size, but got padding={padding}, kernel_size={kernel}"
                + (f" and dilation={dilation}" if max_pool else "")
            )
    in_size = tuple(x.shape[2:])
    out = tuple(
        pool_out_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation)
    )
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"{op}: given input of shape {tuple(x.shape)}, kernel_size {kernel}, stride {stride}, "
            f"padding {padding}, dilation {dilation}: the output size {out} is too small"
        )
    return make_geometry(in_size, out, kernel, stride, dilation, padding)


# ----------------------------------------------------------------------------- max pooling


class MaxPoolNd(Function):
    """N-D max pooling.

    out = max over each window (and, with ``return_indices``, where it is);
    dx = grad routed to each window's (first) maximum.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, geom, return_indices):
        out, idx = K.max_pool_forward(x._data, geom, ctx.recorded or return_indices)
        if ctx.recorded:
            ctx.geom, ctx.idx, ctx.shape = geom, idx, x.shape
        if return_indices:
            return out, K.flat_indices(idx, geom)
        return out

    @staticmethod
    def backward(ctx, grad, *_):
        n, c = ctx.shape[:2]
        return bm.apply(MaxPoolScatter, grad, ctx.idx, ctx.geom, n, c), None, None


class MaxPoolScatter(Function):
    """out = grad placed at the argmax positions (max-pool's backward); d(grad) = the gather."""

    array_backward = True
    kernel = staticmethod(K.max_pool_scatter)

    @staticmethod
    def forward(ctx, grad, idx, geom, n, c):
        if ctx.recorded:
            ctx.idx, ctx.geom = idx, geom
        return K.max_pool_scatter(grad._data, idx, geom, n, c)

    @staticmethod
    def backward(ctx, h):
        return bm.apply(MaxPoolGather, h, ctx.idx, ctx.geom), None, None, None, None


class MaxPoolGather(Function):
    """out = h at the argmax positions; d(h) = grad scattered back (MaxPoolScatter)."""

    array_backward = True
    kernel = staticmethod(K.max_pool_gather)

    @staticmethod
    def forward(ctx, h, idx, geom):
        if ctx.recorded:
            ctx.idx, ctx.geom, ctx.shape = idx, geom, h.shape
        return K.max_pool_gather(h._data, idx, geom)

    @staticmethod
    def backward(ctx, grad):
        n, c = ctx.shape[:2]
        return bm.apply(MaxPoolScatter, grad, ctx.idx, ctx.geom, n, c), None, None


# ----------------------------------------------------------------------------- average pooling


class AvgPoolNd(Function):
    """out = mean over each window;  dx = grad / window size spread over the window."""

    array_backward = True
    kernel = staticmethod(K.avg_pool_gather)

    @staticmethod
    def forward(ctx, x, geom, div):
        if ctx.recorded:
            ctx.geom, ctx.div, ctx.shape = geom, div, x.shape
        return K.avg_pool_gather(x._data, geom, div)

    @staticmethod
    def backward(ctx, grad):
        n, c = ctx.shape[:2]
        return bm.apply(AvgPoolScatter, grad, ctx.geom, ctx.div, n, c), None, None


class AvgPoolScatter(Function):
    """out = grad / divisor spread over the windows (avg-pool's backward); d(grad) = avg pool."""

    array_backward = True
    kernel = staticmethod(K.avg_pool_scatter)

    @staticmethod
    def forward(ctx, grad, geom, div, n, c):
        if ctx.recorded:
            ctx.geom, ctx.div = geom, div
        return K.avg_pool_scatter(grad._data, geom, div, n, c)

    @staticmethod
    def backward(ctx, h):
        return bm.apply(AvgPoolNd, h, ctx.geom, ctx.div), None, None, None, None


# ----------------------------------------------------------------------------- functional API


def _batched(op: str, x, nd: int):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got input of "
            f"shape {tuple(x.shape)}"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {x.dtype}")
    if any(s == 0 for s in x.shape[1:]):  # as PyTorch, only the first dim may be empty
        raise RuntimeError(
            f"{op}: input of shape {tuple(x.shape)} has an empty dimension (only the batch may be 0)"
        )
    return (x.unsqueeze(0), True) if x.ndim == nd + 1 else (x, False)


def max_pool_nd(
    op: str,
    nd: int,
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """Max pooling over ``nd`` spatial dims, as ``torch.nn.functional.max_poolNd``."""
    x, unbatched = _batched(op, input, nd)
    geom = _pool_geometry(op, x, nd, kernel_size, stride, padding, dilation, ceil_mode, max_pool=True)
    out = MaxPoolNd.apply(x, geom, bool(return_indices))
    if unbatched:
        out = tuple(o.squeeze(0) for o in out) if return_indices else out.squeeze(0)
    return out


def max_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,  # noqa: A002
    return_indices=False,
):
    """1-D max pooling over (N, C, L), as ``torch.nn.functional.max_pool1d``."""
    return max_pool_nd(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,  # noqa: A002
    return_indices=False,
):
    """2-D max pooling over (N, C, H, W), as ``torch.nn.functional.max_pool2d``.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows); ``padding`` pads with -inf;
    ``ceil_mode`` keeps a last, partial window; ``return_indices`` also returns the flat
    position (h·W + w) of every maximum.
    """
    return max_pool_nd(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,  # noqa: A002
    return_indices=False,
):
    """3-D max pooling over (N, C, D, H, W), as ``torch.nn.functional.max_pool3d``."""
    return max_pool_nd(
        "max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def avg_pool_nd(
    op: str,
    nd: int,
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Average pooling over ``nd`` spatial dims, as ``torch.nn.functional.avg_poolNd``."""
    x, unbatched = _batched(op, input, nd)
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override <= 0):
        raise ValueError(f"{op}: divisor_override must be a positive int, got {divisor_override!r}")
    geom = _pool_geometry(op, x, nd, kernel_size, stride, padding, 1, ceil_mode, max_pool=False)
    if nd == 3 and any(n < k for n, k in zip(geom.in_size, geom.kernel)):  # PyTorch checks this in 3-D only
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} is smaller than the kernel size {geom.kernel}"
        )
    out = AvgPoolNd.apply(x, geom, K.avg_pool_divisor(geom, count_include_pad, divisor_override))
    return out.squeeze(0) if unbatched else out


def avg_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,  # noqa: A002
    count_include_pad=True,
):
    """1-D average pooling over (N, C, L), as ``torch.nn.functional.avg_pool1d``."""
    return avg_pool_nd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,  # noqa: A002
    count_include_pad=True,
    divisor_override=None,
):
    """2-D average pooling over (N, C, H, W), as ``torch.nn.functional.avg_pool2d``.

    With ``count_include_pad=False`` windows that overlap the zero padding average only
    their real elements.
    """
    return avg_pool_nd(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,  # noqa: A002
    count_include_pad=True,
    divisor_override=None,
):
    """3-D average pooling over (N, C, D, H, W), as ``torch.nn.functional.avg_pool3d``."""
    return avg_pool_nd(
        "avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _adaptive_matrix(n: int, o: int, dtype, xp):
    """(o, n) averaging matrix of PyTorch's adaptive windows [floor(i·n/o), ceil((i+1)·n/o))."""
    m = np.zeros((o, n), dtype)
    for i in range(o):
        start, end = (i * n) // o, -((-(i + 1) * n) // o)
        m[i, start:end] = 1.0 / (end - start)
    return Tensor._make(xp.asarray(m))


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average pooling to a fixed output size (oH, oW), as ``torch.nn.functional.adaptive_avg_pool2d``.

    Window i along a dim of size n covers [floor(i·n/o), ceil((i+1)·n/o)).  When o divides n
    that is a plain average pool; otherwise the windows differ in size, and since an average
    over a rectangle is a row average of column averages, the op is two small matrix
    products (A_h · x · A_wᵀ).  ``None`` in ``output_size`` keeps that dimension.
    """
    x, unbatched = _batched("adaptive_avg_pool2d", input, 2)
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    if len(output_size) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    h, w = x.shape[2:]
    oh = h if output_size[0] is None else int(output_size[0])
    ow = w if output_size[1] is None else int(output_size[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    if h % oh == 0 and w % ow == 0:
        out = avg_pool2d(x, (h // oh, w // ow))
    else:
        xp = xp_of(x._data)
        out = _adaptive_matrix(h, oh, x.dtype, xp) @ (x @ _adaptive_matrix(w, ow, x.dtype, xp).mT)
    return out.squeeze(0) if unbatched else out


def _nearest_index(n_in: int, n_out: int, scale, shortcuts: bool):
    """PyTorch's nearest-neighbour source indices.

    PyTorch's nearest source index min(floor(i · s), n_in - 1), in float32, with s = 1/scale when a
    scale factor was given and n_in/n_out otherwise.  PyTorch's 2-D kernel (``shortcuts``) takes i
    itself when the size does not change and i >> 1 when it doubles, whatever the scale factor.
    """
    if shortcuts and n_out == n_in:
        return np.arange(n_out)
    if shortcuts and n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    idx = np.floor(np.arange(n_out, dtype=np.float32) * s).astype(np.int64)
    return np.minimum(idx, n_in - 1)


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,  # noqa: A002
    recompute_scale_factor=None,
):
    """Resize the spatial dims of (N, C, *S), as ``torch.nn.functional.interpolate`` (``mode='nearest'``).

    Give either ``size`` (output sizes) or ``scale_factor`` (output = floor(input · factor)).
    Each output pixel copies the input pixel at floor(i · in / out); backward sums the
    gradients of the copies.  Integer factors take a fast path (a broadcast view, reshaped).
    """
    op = "interpolate"
    if mode != "nearest":
        raise ValueError(f"{op}: only mode='nearest' is supported, got mode={mode!r}")
    if align_corners is not None:
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes "
            "linear | bilinear | bicubic | trilinear"
        )
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(
            f"{op}: expected a (N, C, *spatial) Tensor with 1 to 3 spatial dims, got "
            f"{getattr(input, 'shape', type(input).__name__)}"
        )
    nd = input.ndim - 2
    in_size = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"{op}: exactly one of size or scale_factor should be defined (got size={size!r}, "
            f"scale_factor={scale_factor!r})"
        )
    if size is not None:
        out_size = _tuple(size, nd, op, "size")
        scales = (None,) * nd
    else:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
        if len(sf) != nd:
            raise ValueError(
                f"{op}: scale_factor {scale_factor!r} should have {nd} values for input of shape "
                f"{tuple(input.shape)}"
            )
        out_size = tuple(int(math.floor(n * float(f))) for n, f in zip(in_size, sf))
        scales = (None,) * nd if recompute_scale_factor else tuple(float(f) for f in sf)
    if any(o < 1 for o in out_size):
        raise ValueError(f"{op}: output size {out_size} must be positive (input shape {tuple(input.shape)})")
    x = input
    indices = [_nearest_index(n, o, s, nd == 2) for n, o, s in zip(in_size, out_size, scales)]
    factors = [o // n if o % n == 0 else 0 for n, o in zip(in_size, out_size)]
    exact = all(f and np.array_equal(idx, np.arange(len(idx)) // f) for f, idx in zip(factors, indices))
    if exact:  # each pixel repeated f times: broadcast a view and reshape (backward sums the copies)
        n, c = x.shape[:2]
        shape, expanded = [n, c], [n, c]
        for size_i, f in zip(in_size, factors):
            shape += [size_i, 1]
            expanded += [size_i, f]
        return x.reshape(shape).expand(expanded).reshape(n, c, *out_size)
    xp = xp_of(x._data)
    for i, idx in enumerate(indices):
        x = x[(slice(None),) * (i + 2) + (xp.asarray(idx),)]
    return x


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero whole channels at random, as ``torch.nn.functional.dropout2d``.

    During training each channel of each sample (a whole (H, W) map) is zeroed with probability
    ``p`` and the kept ones are scaled by 1/(1-p) ("inverted" dropout: nothing to undo at test
    time).  Neighbouring pixels of a feature map are strongly correlated, so dropping single
    pixels regularises little; dropping channels does.  Input (N, C, H, W), or (N, C, L) or
    (N, F) as PyTorch (which warns for those and drops channels, or single elements for 2-D).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout2d: input must be a Tensor, got {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (2, 3, 4):
        raise ValueError(
            f"dropout2d: expected 2-D, 3-D or 4-D input, got input of shape {tuple(input.shape)}"
        )
    if input.ndim == 2:
        warnings.warn(
            "dropout2d: received a 2-D input, which PyTorch deprecates; as PyTorch, each element is "
            "dropped on its own (use dropout for that)",
            stacklevel=2,
        )
    elif input.ndim == 3:
        warnings.warn(
            "dropout2d: received a 3-D input; as PyTorch, it is treated as (N, C, L) and whole "
            "channels are dropped (use dropout1d for that)",
            stacklevel=2,
        )
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)  # a 2-D input: one draw per element
    keep = _random.bernoulli(1.0 - p, shape, input.device)
    xp = xp_of(input._data)
    if p == 1.0:
        noise = xp.zeros(shape, input.dtype)
    else:
        noise = keep.astype(input.dtype) / input.dtype.type(1.0 - p)
    return input * Tensor._make(noise)
