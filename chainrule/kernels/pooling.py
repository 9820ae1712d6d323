"""Pooling kernels on arrays: max pooling with its argmax and scatter, average pooling.

Every kernel reads the windows through strided views of a channels-last buffer (as the convolution
kernels, ``kernels/conv.py``), with one Python iteration per *kernel offset* (4 for a 2x2 window),
never per pixel:

- **max pool**: a running ``maximum`` over the offsets, recording per output *which* offset won
  (a small ``uint8`` array; ties go to the first offset, a NaN wins, as PyTorch); the backward
  scatter routes each gradient to that position only, the gather is its adjoint;
- **average pool**: the sum over the offsets divided by the window size (or the per-window count
  of real elements); the scatter spreads each gradient evenly over its window.

Outputs keep channels-last memory (an (N, C, *O) view), so conv -> ReLU -> pool -> conv never
converts layouts.  References at the end: loops over output positions in PyTorch's layout, and the
reshape-max a textbook writes for windows that tile the input.
"""

from __future__ import annotations

import math

from chainrule.backend import np, xp_of
from chainrule.kernels.conv import channels_first, channels_last, interior, pad_channels_last, windows
from chainrule.kernels.rows import parallel_rows


def _disjoint(geom) -> bool:
    """True when no input element lies in two windows (each window's span fits in one stride)."""
    return all(d * (k - 1) + 1 <= s for k, s, d in zip(geom.kernel, geom.stride, geom.dilation))


def _slab(buf, win):
    return buf[(slice(None), *win, slice(None))]


def max_pool_forward(x, geom, need_argmax: bool):
    """Running maximum over the kernel offsets; returns (out (N, C, *O), argmax offsets or None).

    ``argmax`` holds, per output, the index of the winning kernel offset: a later offset
    replaces the running winner only when strictly greater, so ties keep the first.
    Blocks of images run on separate threads (``parallel_rows``).
    """
    xp = xp_of(x)
    buf = pad_channels_last(x, geom, fill=-math.inf)
    out = xp.empty((x.shape[0], *geom.out_size, x.shape[1]), x.dtype)  # contiguous channels-last
    n_offsets = math.prod(geom.kernel)
    if not need_argmax:
        parallel_rows(lambda o, b: _max_pool_block(b, o, None, geom), out, buf)
        return channels_first(out), None
    idx = xp.empty(out.shape, xp.uint8 if n_offsets <= 255 else xp.int32)
    parallel_rows(lambda o, i, b: _max_pool_block(b, o, i, geom), out, idx, buf)
    return channels_first(out), idx


def _max_pool_block(buf, out, idx, geom) -> None:
    """``max_pool_forward`` on a block of images: fills ``out`` and (unless None) ``idx``."""
    xp = xp_of(buf)
    slabs = [_slab(buf, win) for win in windows(geom)]
    if len(slabs) == 1:
        out[...] = slabs[0]
        if idx is not None:
            idx[...] = 0
        return
    small = idx is not None and idx.dtype == xp.uint8
    if small:
        xp.greater(slabs[1], slabs[0], out=idx.view(bool))  # winner of the first two: offset 0 or 1
    elif idx is not None:
        idx[...] = xp.greater(slabs[1], slabs[0])
    xp.maximum(slabs[0], slabs[1], out=out)
    for k, s in enumerate(slabs[2:], 2):
        if idx is not None:
            better = xp.greater(s, out)
            if small:  # offsets only grow, so max(idx, better·k) is "k where better"
                b = better.view(xp.uint8)
                b *= k
                xp.maximum(idx, b, out=idx)
            else:
                idx[better] = k
        xp.maximum(out, s, out=out)
    if idx is not None and out.dtype.kind == "f" and xp.isnan(out).any():
        for k, s in enumerate(slabs):  # as PyTorch, a NaN wins its window (the last NaN, if several)
            idx[xp.isnan(s)] = k


def max_pool_scatter(grad, idx, geom, n: int, c: int):
    """Route each output gradient to the input position its window's maximum came from."""
    xp = xp_of(grad)
    disjoint = _disjoint(geom)
    tiled = disjoint and all(  # the windows cover the buffer exactly: every element gets written
        (k == 1 or d == 1) and (d * (k - 1) + 1) == s and o * s == p
        for k, s, d, o, p in zip(geom.kernel, geom.stride, geom.dilation, geom.out_size, geom.padded)
    )
    dx = (xp.empty if tiled else xp.zeros)((n, *geom.padded, c), grad.dtype)

    def block(dx, g, idx):
        g = xp.ascontiguousarray(g)  # channels-last: one transposing copy beats K strided reads
        for k, win in enumerate(windows(geom)):
            slab = _slab(dx, win)
            if disjoint:  # every input element belongs to at most one window: write, don't add
                xp.multiply(g, idx == k, out=slab)
            else:
                slab += g * (idx == k)

    parallel_rows(block, dx, channels_last(grad), idx)
    return channels_first(dx[interior(geom)])


def max_pool_gather(h, idx, geom):
    """The values of ``h`` (input-shaped) at each window's argmax: the adjoint of the scatter."""
    xp = xp_of(h)
    buf = pad_channels_last(h, geom, fill=0.0)
    out = xp.zeros(idx.shape, h.dtype)
    for k, win in enumerate(windows(geom)):
        out += _slab(buf, win) * (idx == k)
    return channels_first(out)


def flat_indices(idx, geom):
    """PyTorch's ``return_indices``: per output, the flat position of the maximum in its input plane.

    A window with no real element to win (only padding, or only -inf values) reports, as PyTorch,
    the first position of the window at or after the start of the input in every dim.
    """
    xp = xp_of(idx)
    nd = len(geom.kernel)
    offsets = np.array(list(np.ndindex(*geom.kernel)), np.int64).reshape(-1, nd)  # kernel coords per offset
    flat = xp.zeros(idx.shape, xp.int64)  # (N, *O, C)
    fallback = xp.zeros(idx.shape, xp.int64)
    outside = xp.zeros(idx.shape, bool)
    for i in range(nd):
        n, d = geom.in_size[i], geom.dilation[i]
        start = np.arange(geom.out_size[i], dtype=np.int64) * geom.stride[i] - geom.pad_lo[i]
        first = np.where(start < 0, start + (-start + d - 1) // d * d, start)  # PyTorch: while (i < 0) i += d
        shape = [1] * (nd + 2)
        shape[i + 1] = geom.out_size[i]
        coord = xp.asarray(start.reshape(shape)) + xp.asarray(offsets[:, i] * d)[idx]
        outside |= (coord < 0) | (coord >= n)
        flat = flat * n + coord
        fallback = fallback * n + xp.asarray(first.reshape(shape))
    return channels_first(xp.where(outside, fallback, flat))


def avg_pool_divisor(geom, count_include_pad: bool, divisor_override):
    """PyTorch's per-window divisor: a number, or an array (1, *O, 1) when windows differ."""
    if divisor_override:
        return float(divisor_override)
    per_dim = []
    for n, o, k, s, p in zip(geom.in_size, geom.out_size, geom.kernel, geom.stride, geom.pad_lo):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)  # windows never extend past the padding...
        if not count_include_pad:  # ...and here count only the real input elements
            end = np.minimum(end, n)
            start = np.maximum(start, 0)
        per_dim.append(end - start)
    sizes = per_dim[0]
    for d in per_dim[1:]:
        sizes = np.multiply.outer(sizes, d)
    if np.all(sizes == math.prod(geom.kernel)):
        return float(math.prod(geom.kernel))
    return sizes.reshape(1, *geom.out_size, 1)


def _as_divisor(xp, div, dtype):
    return div if isinstance(div, float) else xp.asarray(div, dtype=dtype)


def avg_pool_gather(x, geom, div):
    """Σ over each window / divisor: (N, C, *S) -> (N, C, *O)."""
    xp = xp_of(x)
    buf = pad_channels_last(x, geom, fill=0.0)
    slabs = [_slab(buf, win) for win in windows(geom)]
    out = xp.empty(slabs[0].shape, x.dtype)
    out[...] = slabs[0]
    for s in slabs[1:]:
        out += s
    out /= _as_divisor(xp, div, x.dtype)
    return channels_first(out)


def avg_pool_scatter(grad, geom, div, n: int, c: int):
    """Each output gradient / divisor spread over its window: (N, C, *O) -> (N, C, *S)."""
    xp = xp_of(grad)
    g_cl = channels_last(grad)
    g = xp.empty(g_cl.shape, grad.dtype)  # channels-last memory, whatever the layout of grad
    xp.divide(g_cl, _as_divisor(xp, div, grad.dtype), out=g)
    dx = xp.zeros((n, *geom.padded, c), grad.dtype)
    for win in windows(geom):
        _slab(dx, win)[...] += g
    return channels_first(dx[interior(geom)])


# ----------------------------------------------------------------------------- references


def _windows_reference(x, geom, fill):
    """Yield (n, c, slices of the padded buffer, window values) for every window of ``x`` (N, C, *S)."""
    buf = np.full((*x.shape[:2], *geom.padded), fill, x.dtype)
    buf[(slice(None), slice(None), *(slice(lo, lo + s) for lo, s in zip(geom.pad_lo, geom.in_size)))] = x
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for p in np.ndindex(*geom.out_size):
                sl = tuple(
                    slice(i * s, i * s + d * (k - 1) + 1, d)
                    for i, k, s, d in zip(p, geom.kernel, geom.stride, geom.dilation)
                )
                yield n, c, p, sl, buf


def max_pool_reference(x, geom):
    """The plain max pooling, with the position of each maximum.

    (out, argmax): the maximum of each window of ``x`` (N, C, *S), padded with -inf, and the flat
    offset of its first maximum within the window (row-major over the kernel).
    """
    out = np.empty((*x.shape[:2], *geom.out_size), x.dtype)
    arg = np.empty(out.shape, np.int64)
    for n, c, p, sl, buf in _windows_reference(x, geom, -np.inf):
        window = buf[(n, c, *sl)]
        out[(n, c, *p)] = window.max()
        arg[(n, c, *p)] = window.argmax()
    return out, arg


def max_pool_tiled_reference(x, k: int):
    """2-D max pool of (N, C, H, W) with k x k windows that tile the input: a reshape and a max."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))


def max_pool_scatter_reference(grad, x, geom):
    """dL/dx of max pooling: each output's gradient added at its window's first maximum."""
    _, arg = max_pool_reference(x, geom)
    dx = np.zeros((*x.shape[:2], *geom.padded), grad.dtype)
    for n, c, p, sl, _ in _windows_reference(x, geom, -np.inf):
        window = dx[(n, c, *sl)]  # a view: writing into it writes dx
        window[np.unravel_index(arg[(n, c, *p)], window.shape)] += grad[(n, c, *p)]
    return dx[(slice(None), slice(None), *(slice(lo, lo + s) for lo, s in zip(geom.pad_lo, geom.in_size)))]


def avg_pool_reference(x, geom, div):
    """Each window sum of ``x`` (zero-padded) divided by ``div`` (a number, or (1, *O, 1) per window)."""
    out = np.empty((*x.shape[:2], *geom.out_size), x.dtype)
    for n, c, p, sl, buf in _windows_reference(x, geom, 0.0):
        d = div if isinstance(div, float) else div[(0, *p, 0)]
        out[(n, c, *p)] = buf[(n, c, *sl)].sum() / d
    return out


def avg_pool_scatter_reference(grad, geom, div, n: int, c: int):
    """dL/dx of average pooling: each output's gradient / its divisor added over its window."""
    dx = np.zeros((n, c, *geom.padded), grad.dtype)
    shape = (n, c, *geom.in_size)
    for i, j, p, sl, _ in _windows_reference(np.zeros(shape, grad.dtype), geom, 0.0):
        d = div if isinstance(div, float) else div[(0, *p, 0)]
        dx[(i, j, *sl)] += grad[(i, j, *p)] / d
    return dx[(slice(None), slice(None), *(slice(lo, lo + s) for lo, s in zip(geom.pad_lo, geom.in_size)))]
