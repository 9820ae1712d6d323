"""Pooling (max, average, adaptive), unpooling, resizing (``interpolate``) and channel dropout.

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

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.kernels import pooling as K
from chainrule.kernels.conv import make_geometry
from chainrule.ops import _args
from chainrule.ops import bmath as bm
from chainrule.ops.conv import _tuple
from chainrule.ops.dropout import drop
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


def _nearest_index(n_in: int, n_out: int, scale, shortcuts: bool, exact: bool = False):
    """PyTorch's nearest-neighbour source indices.

    PyTorch's nearest source index min(floor(i · s), n_in - 1), in float32, with s = 1/scale when a
    scale factor was given and n_in/n_out otherwise (``exact``: floor((i + ½) · s), 'nearest-exact').
    PyTorch's 2-D kernel (``shortcuts``) takes i itself when the size does not change and i >> 1
    when it doubles, whatever the scale factor.
    """
    if shortcuts and not exact and n_out == n_in:
        return np.arange(n_out)
    if shortcuts and not exact and n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    i = np.arange(n_out, dtype=np.float32)
    idx = np.floor((i + np.float32(0.5)) * s if exact else i * s).astype(np.int64)
    return np.minimum(idx, n_in - 1)


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")


def interpolate(
    input,  # noqa: A002
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    r"""Resize the spatial dims of (N, C, *S), as ``torch.nn.functional.interpolate``.

    Give either ``size`` (the output sizes) or ``scale_factor`` (output = floor(input · factor)).
    ``mode``:

    - ``'nearest'``: output i copies input floor(i · in / out) (``'nearest-exact'``:
      floor((i + ½) · in / out)); backward sums the gradients of the copies;
    - ``'linear'`` (3-D input), ``'bilinear'`` (4-D), ``'trilinear'`` (5-D): along each dim,
      output i mixes the two input pixels around its source position s_i, at
      s_i = i·(in - 1)/(out - 1) with ``align_corners=True``, else max((i + ½)·in/out - ½, 0):

    $$
    y_i = (1 - \lambda_i)\, x_{\lfloor s_i \rfloor} + \lambda_i\, x_{\lfloor s_i \rfloor + 1},
    \quad \lambda_i = s_i - \lfloor s_i \rfloor
    $$

    With a scale factor (and ``recompute_scale_factor`` not True) the positions use 1/factor for
    in/out, as PyTorch.

    Args:
        input: (N, C, L), (N, C, H, W) or (N, C, D, H, W).
        size: the output spatial size (an int or a tuple).
        scale_factor: a multiplier (or one per spatial dim).
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'`` or ``'trilinear'``.
        align_corners: for the linear modes (default False); must be None for the nearest ones.
        recompute_scale_factor: compute the positions from the sizes even when a scale factor is given.
        antialias: not supported (raises when True).

    Returns:
        (N, C, *out_size).

    Raises:
        ValueError: both or neither of size and scale_factor, align_corners with a nearest mode.
        NotImplementedError: a mode that needs another number of dims, an unsupported mode.

    Example:
        >>> F = cr.nn.functional
        >>> F.interpolate(cr.tensor([[[0.0, 1.0]]]), size=4, mode="linear", align_corners=True)
        tensor([[[0.    , 0.3333, 0.6667, 1.    ]]])
    """
    op = "interpolate"
    if not isinstance(input, Tensor) or input.ndim < 3 or input.ndim > 5:
        raise NotImplementedError(
            f"{op}: expected a (N, C, *spatial) Tensor with 1 to 3 spatial dims, got "
            f"{getattr(input, 'shape', type(input).__name__)}"
        )
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
    if mode in _LINEAR_MODES and input.ndim != _LINEAR_MODES[mode] + 2:
        raise NotImplementedError(
            f"{op}: got {input.ndim}D input, but {mode} mode needs {_LINEAR_MODES[mode] + 2}D input"
        )
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes "
            "linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
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
    if mode in _LINEAR_MODES:
        from chainrule.ops.sampling import linear_resize

        return linear_resize(input, out_size, scales, bool(align_corners))
    x = input
    exact_mode = mode == "nearest-exact"
    indices = [_nearest_index(n, o, s, nd == 2, exact_mode) for n, o, s in zip(in_size, out_size, scales)]
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
    _args.tensor("dropout2d", "input", input)
    _args.probability("dropout2d", "dropout probability", p)
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
    return drop(input, p, shape)


# ----------------------------------------------------------------------------- adaptive pooling, unpooling


def _adaptive_sizes(op: str, x, nd: int, output_size) -> tuple:
    """``output_size`` (an int, None or a tuple of ``nd`` of them; None keeps the input size) as ints."""
    sizes = (
        (output_size,) * nd
        if output_size is None or isinstance(output_size, (int, np.integer))
        else output_size
    )
    if not isinstance(sizes, (tuple, list)) or len(sizes) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd} ints, got {output_size!r}")
    out = tuple(n if s is None else s for n, s in zip(x.shape[2:], sizes))
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in out):
        raise ValueError(f"{op}: output_size must hold positive ints (or None), got {output_size!r}")
    return tuple(int(s) for s in out)


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    r"""Average pooling of (N, C, L) to a fixed length, as ``torch.nn.functional.adaptive_avg_pool1d``.

    Output i averages the window $[\lfloor iL/o \rfloor, \lceil (i+1)L/o \rceil)$.

    Args:
        input: (N, C, L) or (C, L).
        output_size: the output length o (an int).

    Returns:
        (N, C, o) or (C, o).

    Example:
        >>> F = cr.nn.functional
        >>> F.adaptive_avg_pool1d(cr.arange(6.0).reshape(1, 1, 6), 2)
        tensor([[[1., 4.]]])
    """
    x, unbatched = _batched("adaptive_avg_pool1d", input, 1)
    (o,) = _adaptive_sizes("adaptive_avg_pool1d", x, 1, output_size)
    out = adaptive_avg_pool2d(x.unsqueeze(2), (1, o)).squeeze(2)
    return out.squeeze(0) if unbatched else out


def _adaptive_windows(spatial: tuple, out_size: tuple) -> np.ndarray:
    """The (*O, K) flat positions (row-major over ``spatial``) of every adaptive window's elements.

    A short window repeats its last element (a later tie, never chosen as the first maximum).
    """
    grids = []
    for size, o in zip(spatial, out_size):
        start = (np.arange(o) * size) // o
        end = -((-(np.arange(o) + 1) * size) // o)
        k = int((end - start).max())
        grids.append(np.minimum(start[:, None] + np.arange(k)[None, :], end[:, None] - 1))
    nd = len(grids)
    flat = np.zeros((1,) * (2 * nd), np.int64)
    for d, g in enumerate(grids):
        shape = [1] * (2 * nd)
        shape[2 * d], shape[2 * d + 1] = g.shape
        flat = flat * spatial[d] + g.reshape(shape)  # (o1, k1, o2, k2, ...)
    order = [2 * d for d in range(nd)] + [2 * d + 1 for d in range(nd)]
    return flat.transpose(order).reshape(*out_size, -1)


def _adaptive_argmax(a, out_size: tuple):
    """Flat index of the first maximum of every adaptive window of the array ``a`` (N, C, *S).

    Row-major over the spatial dims; as PyTorch, a NaN counts as the maximum (the last NaN of the window).
    """
    xp = xp_of(a)
    n, c = a.shape[:2]
    spatial = a.shape[2:]
    flat = _adaptive_windows(spatial, out_size)
    vals = a.reshape(n, c, math.prod(spatial))[:, :, xp.asarray(flat)]  # (N, C, *O, K)
    nan = xp.isnan(vals)
    last_nan = nan.shape[-1] - 1 - xp.argmax(nan[..., ::-1], axis=-1)  # PyTorch's kernel keeps the last NaN
    pos = xp.where(nan.any(axis=-1), last_nan, xp.argmax(vals, axis=-1))
    return xp.take_along_axis(xp.broadcast_to(xp.asarray(flat), vals.shape), pos[..., None], -1)[..., 0]


def _adaptive_max_pool(op: str, nd: int, input, output_size, return_indices: bool):  # noqa: A002
    x, unbatched = _batched(op, input, nd)
    out_size = _adaptive_sizes(op, x, nd, output_size)
    idx = _adaptive_argmax(x._data, out_size)  # (N, C, *O) int64
    n, c = x.shape[:2]
    out = x.reshape(n, c, math.prod(x.shape[2:]))[_flat_grid(idx, n, c)].reshape(idx.shape)
    indices = Tensor._make(idx)
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def _flat_grid(idx, n: int, c: int) -> tuple:
    """The advanced index (n, c, flat position) that picks ``idx`` (N, C, *O) from an (N, C, L) array."""
    xp = xp_of(idx)
    tail = (1,) * (idx.ndim - 2)
    return (xp.arange(n).reshape(n, 1, *tail), xp.arange(c).reshape(1, c, *tail), idx)


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):  # noqa: A002
    r"""Max pooling of (N, C, L) to a fixed length, as ``torch.nn.functional.adaptive_max_pool1d``.

    Output i is the maximum of the window $[\lfloor iL/o \rfloor, \lceil (i+1)L/o \rceil)$; the
    gradient goes to that maximum (the first one on ties).

    Args:
        input: (N, C, L) or (C, L).
        output_size: the output length o.
        return_indices: also return the position of every maximum.

    Returns:
        (N, C, o), and with ``return_indices`` the int64 positions of the same shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.adaptive_max_pool1d(cr.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]]), 2, return_indices=True)
        (tensor([[[5., 3.]]]), tensor([[[1, 4]]]))
    """
    if isinstance(output_size, (tuple, list)) and len(output_size) != 1:
        raise ValueError(f"adaptive_max_pool1d: output_size must be one int, got {output_size!r}")
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):  # noqa: A002
    r"""Max pooling of (N, C, H, W) to a fixed size (oH, oW), as ``torch.nn.functional.adaptive_max_pool2d``.

    Window (i, j) covers rows $[\lfloor iH/o_H \rfloor, \lceil (i+1)H/o_H \rceil)$ and the columns
    alike; ``None`` in ``output_size`` keeps that size.  The indices are flat positions h·W + w.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: an int or a pair (oH, oW).
        return_indices: also return the position of every maximum.

    Returns:
        (N, C, oH, oW), and with ``return_indices`` the int64 positions.

    Example:
        >>> F = cr.nn.functional
        >>> F.adaptive_max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 1)
        tensor([[[[15.]]]])
    """
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def _unpool_output_size(op: str, x, nd: int, kernel, stride, padding, output_size) -> tuple:
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(x.shape[2:], kernel, stride, padding))
    if output_size is None:
        return default
    size = tuple(output_size)
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(
            f"{op}: output_size should be a sequence of {nd} or {nd + 2} ints, got {output_size!r}"
        )
    for d, (o, dflt, s) in enumerate(zip(size, default, stride)):
        if not dflt - s < o < dflt + s:
            raise ValueError(
                f"{op}: invalid output_size {tuple(size)} (dim {d} must be between {dflt - s + 1} and "
                f"{dflt + s - 1})"
            )
    return tuple(int(o) for o in size)


def max_unpool_nd(op: str, nd: int, input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of max pooling over ``nd`` dims (see ``max_unpool2d``)."""
    x, unbatched = _batched(op, input, nd)
    if not isinstance(indices, Tensor):
        raise TypeError(f"{op}: indices must be a Tensor, got {type(indices).__name__}")
    if indices.dtype != np.int64:
        raise RuntimeError(f"{op}: indices should be int64, got dtype {indices.dtype}")
    idx = indices.unsqueeze(0) if unbatched else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(
            f"{op}: indices of shape {tuple(indices.shape)} must have the shape of the input "
            f"{tuple(input.shape)}"
        )
    kernel = _tuple(kernel_size, nd, op, "kernel_size")
    stride = kernel if stride is None else _tuple(stride, nd, op, "stride")
    padding = _tuple(padding, nd, op, "padding")
    out_size = _unpool_output_size(op, x, nd, kernel, stride, padding, output_size)
    n, c = x.shape[:2]
    total = math.prod(out_size)
    flat = idx._data.reshape(n, c, math.prod(idx.shape[2:]))
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= total):
        bad = int(flat.max()) if int(flat.max()) >= total else int(flat.min())
        raise RuntimeError(
            f"{op}: found an invalid max index {bad} (the output has {total} positions per map)"
        )
    zeros = Tensor._make(xp_of(x._data).zeros((n, c, total), x.dtype))
    from chainrule.ops.indexing import scatter

    out = scatter(zeros, 2, Tensor._make(flat), x.reshape(flat.shape)).reshape(n, c, *out_size)
    return out.squeeze(0) if unbatched else out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of ``max_pool1d``, as ``torch.nn.functional.max_unpool1d`` (see ``max_unpool2d``).

    Example:
        >>> F = cr.nn.functional
        >>> out, idx = F.max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
        >>> F.max_unpool1d(out, idx, 2)
        tensor([[[0., 3., 2., 0.]]])
    """
    return max_unpool_nd("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    r"""The partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d``.

    Every value goes back to the position its index names, the rest is zero:
    $\text{out}[n, c, \text{idx}[n, c, p]] = x[n, c, p]$; the gradient of x is the output gradient
    read at the same positions.  The output size defaults to (in - 1)·stride - 2·padding + kernel
    per dim; ``output_size`` picks another one within a stride of it (pooling floored a size).

    Args:
        input: (N, C, H, W) or (C, H, W), a max pool's output.
        indices: int64, the shape of input, from ``max_pool2d(..., return_indices=True)``.
        kernel_size: the pool's kernel size.
        stride: the pool's stride (default ``kernel_size``).
        padding: the pool's padding.
        output_size: (H_out, W_out) or (N, C, H_out, W_out).

    Returns:
        (N, C, H_out, W_out).

    Raises:
        RuntimeError: an index outside the output, or indices of another shape.
        ValueError: an output_size out of range.

    Example:
        >>> F = cr.nn.functional
        >>> out, idx = F.max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
        >>> F.max_unpool2d(out, idx, 2)[0, 0]
        tensor([[ 0.,  0.,  0.,  0.],
                [ 0.,  5.,  0.,  7.],
                [ 0.,  0.,  0.,  0.],
                [ 0., 13.,  0., 15.]])
    """
    return max_unpool_nd("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


# ----------------------------------------------------------------------------- 3-d adaptive pools, unpooling


def adaptive_avg_pool3d(input, output_size):  # noqa: A002
    r"""Average pooling of (N, C, D, H, W) to a fixed size, as ``torch.nn.functional.adaptive_avg_pool3d``.

    Window (i, j, l) covers $[\lfloor iD/o_D \rfloor, \lceil (i+1)D/o_D \rceil)$ along D, and H and W
    alike; ``None`` keeps that size.  An average over a box is an average of averages along each
    dim, so the op is three small matrix products (or a plain average pool when the sizes divide).

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        output_size: an int or a triple (oD, oH, oW).

    Returns:
        (N, C, oD, oH, oW) or (C, oD, oH, oW).

    Example:
        >>> F = cr.nn.functional
        >>> F.adaptive_avg_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
        tensor([[[[[3.5]]]]])
    """
    x, unbatched = _batched("adaptive_avg_pool3d", input, 3)
    out_size = _adaptive_sizes("adaptive_avg_pool3d", x, 3, output_size)
    sizes = tuple(x.shape[2:])
    if all(n % o == 0 for n, o in zip(sizes, out_size)):
        out = avg_pool3d(x, tuple(n // o for n, o in zip(sizes, out_size)))
    else:
        xp = xp_of(x._data)
        n, c = x.shape[:2]
        (d, h, w), (od, oh, ow) = sizes, out_size
        out = x @ _adaptive_matrix(w, ow, x.dtype, xp).mT  # (N, C, D, H, oW)
        out = _adaptive_matrix(h, oh, x.dtype, xp) @ out  # (N, C, D, oH, oW)
        out = (_adaptive_matrix(d, od, x.dtype, xp) @ out.reshape(n, c, d, oh * ow)).reshape(n, c, od, oh, ow)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d(input, output_size, return_indices: bool = False):  # noqa: A002
    r"""Max pooling of (N, C, D, H, W) to a fixed size, as ``torch.nn.functional.adaptive_max_pool3d``.

    The maximum of each adaptive window (see ``adaptive_avg_pool3d``); the indices are flat
    positions d·H·W + h·W + w.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        output_size: an int or a triple (oD, oH, oW); None keeps that size.
        return_indices: also return the position of every maximum.

    Returns:
        (N, C, oD, oH, oW), and with ``return_indices`` the int64 positions.

    Example:
        >>> F = cr.nn.functional
        >>> F.adaptive_max_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 1, return_indices=True)
        (tensor([[[[[7.]]]]]), tensor([[[[[7]]]]]))
    """
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of ``max_pool3d``, as ``torch.nn.functional.max_unpool3d`` (see ``max_unpool2d``).

    Example:
        >>> F = cr.nn.functional
        >>> out, idx = F.max_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
        >>> F.max_unpool3d(out, idx, 2).flatten()
        tensor([0., 0., 0., 0., 0., 0., 0., 7.])
    """
    return max_unpool_nd("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# ----------------------------------------------------------------------------- power-average pooling


def lp_pool_nd(op: str, nd: int, input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling over ``nd`` dims, (Σ over each window of x^p)^(1/p), as ``lp_poolNd``."""
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or norm_type == 0:
        raise ValueError(f"{op}: norm_type must be a nonzero number, got {norm_type!r}")
    kernel = _tuple(kernel_size, nd, op, "kernel_size")
    max_pool = (max_pool1d, max_pool2d, max_pool3d)[nd - 1]
    if norm_type == math.inf:
        return max_pool(input.abs(), kernel, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool(-input.abs(), kernel, stride, 0, 1, ceil_mode)
    avg_pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    out = avg_pool(input**norm_type, kernel, stride, 0, ceil_mode)
    from chainrule.ops.activation import relu

    return ((out.sign() * relu(out.abs())) * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    r"""Power-average pooling over (N, C, L), as ``torch.nn.functional.lp_pool1d``.

    $$
    \text{out} = \Big(\sum_{x \in \text{window}} x^p\Big)^{1/p}
    $$

    p = 1 is sum pooling, p = ∞ max pooling (of |x|).  As PyTorch, a window whose sum of powers is
    negative gives 0.

    Args:
        input: (N, C, L) or (C, L).
        norm_type: p.
        kernel_size: the window length.
        stride: the step (default ``kernel_size``).
        ceil_mode: keep a last partial window.

    Returns:
        (N, C, L_out) or (C, L_out).

    Example:
        >>> F = cr.nn.functional
        >>> F.lp_pool1d(cr.tensor([[[3.0, 4.0, 1.0, 0.0]]]), 2, 2)
        tensor([[[5., 1.]]])
    """
    return lp_pool_nd("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    r"""Power-average pooling over (N, C, H, W), as ``torch.nn.functional.lp_pool2d``.

    $$
    \text{out} = \Big(\sum_{x \in \text{window}} x^p\Big)^{1/p}
    $$

    Args:
        input: (N, C, H, W) or (C, H, W).
        norm_type: p.
        kernel_size: the window size.
        stride: the step (default ``kernel_size``).
        ceil_mode: keep a last partial window.

    Returns:
        (N, C, H_out, W_out) or (C, H_out, W_out).

    Example:
        >>> F = cr.nn.functional
        >>> F.lp_pool2d(cr.ones(1, 1, 2, 2), 1, 2)
        tensor([[[[4.]]]])
    """
    return lp_pool_nd("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    r"""Power-average pooling over (N, C, D, H, W), as ``torch.nn.functional.lp_pool3d``.

    $$
    \text{out} = \Big(\sum_{x \in \text{window}} x^p\Big)^{1/p}
    $$

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        norm_type: p.
        kernel_size: the window size.
        stride: the step (default ``kernel_size``).
        ceil_mode: keep a last partial window.

    Returns:
        (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out).

    Example:
        >>> F = cr.nn.functional
        >>> F.lp_pool3d(cr.ones(1, 1, 2, 2, 2), 2, 2)
        tensor([[[[[2.8284]]]]])
    """
    return lp_pool_nd("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


# ----------------------------------------------------------------------------- channel dropout, 1-d and 3-d


def _channel_dropout(op: str, nd: int, input, p: float, training: bool):  # noqa: A002
    _args.tensor(op, "input", input)
    _args.probability(op, "dropout probability", p)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}: expected {nd + 1}D (unbatched) or {nd + 2}D input, got input of shape "
            f"{tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    x = input.unsqueeze(0) if input.ndim == nd + 1 else input
    shape = tuple(x.shape[:2]) + (1,) * nd
    out = drop(x, p, shape)
    return out.squeeze(0) if input.ndim == nd + 1 else out


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    r"""Zero whole channels of (N, C, L) at random, as ``torch.nn.functional.dropout1d``.

    $$
    \text{out}_{nc\cdot} = x_{nc\cdot}\, m_{nc} / (1 - p), \quad m_{nc} \sim \text{Bernoulli}(1 - p)
    $$

    Args:
        input: (N, C, L) or (C, L).
        p: the probability of zeroing a channel.
        training: apply dropout (else return input).
        inplace: accepted for compatibility.

    Returns:
        A tensor of input's shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.dropout1d(cr.ones(2, 3, 4), 0.5, training=False).shape
        (2, 3, 4)
    """
    return _channel_dropout("dropout1d", 1, input, p, training)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    r"""Zero whole channels of (N, C, D, H, W) at random, as ``torch.nn.functional.dropout3d``.

    $$
    \text{out}_{nc\cdot} = x_{nc\cdot}\, m_{nc} / (1 - p), \quad m_{nc} \sim \text{Bernoulli}(1 - p)
    $$

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        p: the probability of zeroing a channel.
        training: apply dropout (else return input).
        inplace: accepted for compatibility.

    Returns:
        A tensor of input's shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.dropout3d(cr.ones(2, 3, 2, 2, 2), 0.5, training=False).shape
        (2, 3, 2, 2, 2)
    """
    return _channel_dropout("dropout3d", 3, input, p, training)
