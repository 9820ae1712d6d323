"""Convolution kernels on arrays: im2col, the transposed convolution (col2im), weight gradients.

A convolution slides a kernel over the input and takes, at every output position ``p``, the dot
product of the kernel with the patch under it::

    out[n, o, p] = b[o] + Σ_c Σ_k  w[o, c, k] · x_pad[n, c, p·stride + k·dilation]

**im2col** copies every patch into one row of a matrix (the "columns"), so all those dot products
become one matrix product that BLAS runs fast: ``cols (N·O, K·C) @ Wᵀ (K·C, C_out) = out (N·O, C_out)``.
The tuned version reads the patches through one strided view of a channels-last padded buffer
(no Python loop over pixels or images); ``im2col_reference`` is the obvious loop over kernel offsets.

**Channels-last.**  The product gives (N, *O, C_out); ``conv_forward`` returns it as a transposed
*view* with PyTorch's shape (N, C_out, *O), so the next element-wise op, pool or convolution reads
channels contiguously and the network never converts layouts.

**Backward.**  ``conv_input_grad`` is the transposed convolution: ``dcols = grad @ W``, then each
kernel offset adds its slab back onto the input positions it read (col2im, one strided slice-add
per offset; ``col2im_reference`` loops the same way without the tricks).  ``conv_weight_grad`` is
``gradᵀ @ cols``; with a column of ones appended to ``cols`` the bias gradient comes out of the same
product.  Figures behind the layout choices: docs/performance.md, "Kernels".

Arrays in, arrays out (NumPy or CuPy); ``geom`` (a ``ConvGeometry``) says where every kernel offset reads.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import NamedTuple

from chainrule.backend import np, xp_of
from chainrule.kernels.rows import parallel_copy, parallel_rows

# ----------------------------------------------------------------------------- geometry


class ConvGeometry(NamedTuple):
    """Where every kernel offset reads: sizes per spatial dimension (tuples of ints).

    ``in_size``: spatial size of the (unpadded) input; ``out_size``: of the output;
    ``pad_lo``: zeros before the input; ``padded``: size of the zero-padded buffer
    (covers the input and every window); ``groups``: channel groups.
    """

    in_size: tuple
    out_size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    pad_lo: tuple
    padded: tuple
    groups: int


def make_geometry(in_size, out_size, kernel, stride, dilation, pad_lo, groups: int = 1) -> ConvGeometry:
    """A ``ConvGeometry`` whose padded buffer holds both the input and the last window."""
    padded = tuple(
        max(lo + n, (o - 1) * s + d * (k - 1) + 1)
        for n, o, k, s, d, lo in zip(in_size, out_size, kernel, stride, dilation, pad_lo)
    )
    return ConvGeometry(
        tuple(in_size),
        tuple(out_size),
        tuple(kernel),
        tuple(stride),
        tuple(dilation),
        tuple(pad_lo),
        padded,
        groups,
    )


def windows(geom) -> list:
    """For each kernel offset (row-major), the slices of the padded buffer's spatial dims it reads."""
    per_dim = [
        [slice(j * d, j * d + (o - 1) * s + 1, s) for j in range(k)]
        for k, s, d, o in zip(geom.kernel, geom.stride, geom.dilation, geom.out_size)
    ]
    return [tuple(sl) for sl in itertools.product(*per_dim)]


def interior(geom) -> tuple:
    """Index of the unpadded input inside the padded channels-last buffer (N, *padded, C)."""
    return (slice(None), *(slice(lo, lo + n) for lo, n in zip(geom.pad_lo, geom.in_size)), slice(None))


def is_unpadded(geom) -> bool:
    """True when no side of any spatial dim is padded."""
    return not any(geom.pad_lo) and geom.padded == geom.in_size


@functools.lru_cache(maxsize=256)
def cropped(geom):
    """The same convolution without the kernel offsets that read only padding.

    Returns ``(kernel slices, geometry)``, or ``None`` when every offset reads some input.

    On small images (ResNet's last stage: a 3x3 kernel, padding 1, over 1x1 pixels) most offsets
    see zeros only; cropping them from the kernel (and the padding they covered) gives the same
    output at a fraction of the products.  Offsets that read only padding form the two ends of each
    dim's kernel range, so the rest is one box.
    """
    keep, pads = [], []
    for n, o, k, s, d, lo in zip(
        geom.in_size, geom.out_size, geom.kernel, geom.stride, geom.dilation, geom.pad_lo
    ):
        # offset i reads positions i·d − lo + s·j, j < o: some of them in [0, n)?
        real = [i for i in range(k) if any(0 <= i * d - lo + s * j < n for j in range(o))]
        if not real or real[0] * d > lo:
            return None
        keep.append(slice(real[0], real[-1] + 1))
        pads.append(lo - real[0] * d)
    if all(sl.stop - sl.start == k for sl, k in zip(keep, geom.kernel)):
        return None
    kernel = tuple(sl.stop - sl.start for sl in keep)
    small = make_geometry(geom.in_size, geom.out_size, kernel, geom.stride, geom.dilation, pads, geom.groups)
    return tuple(keep), small


def channels_last(a):
    """(N, C, *S) -> (N, *S, C), a view."""
    return a.transpose((0, *range(2, a.ndim), 1))


def channels_first(a):
    """(N, *S, C) -> (N, C, *S), a view."""
    return a.transpose((0, a.ndim - 1, *range(1, a.ndim - 1)))


def pad_channels_last(a, geom, fill=0.0):
    """``a`` (N, C, *S) as a channels-last buffer (N, *padded, C) with ``fill`` around the input.

    Without padding this is just a view of ``a`` (no copy).  Only the border is filled, so the
    input is written once.
    """
    a_cl = channels_last(a)
    if is_unpadded(geom):
        return a_cl
    xp = xp_of(a)
    buf = xp.empty((a.shape[0], *geom.padded, a.shape[1]), a.dtype)
    for i, (lo, n, p) in enumerate(zip(geom.pad_lo, geom.in_size, geom.padded)):
        before = (slice(None),) * (i + 1)
        if lo:
            buf[before + (slice(0, lo),)] = fill
        if lo + n < p:
            buf[before + (slice(lo + n, p),)] = fill
    parallel_copy(buf[interior(geom)], a_cl)
    return buf


def _rows(a_cl):
    """A channels-last array (N, *S, C) as a matrix (N·S, C) (a view when its memory allows)."""
    return a_cl.reshape(math.prod(a_cl.shape[:-1]), a_cl.shape[-1])


# ----------------------------------------------------------------------------- array kernels


def im2col(x_pad, geom, ones: bool = False):
    """The patches of a padded channels-last input (N, *P, C) as a matrix (N·O, G, K·C/G).

    Row ``n·O + p`` holds the patch under output position ``p`` of image ``n``, ordered
    (group, kernel offset, channel within the group) — matching the weight reshaped to
    (G, C_out/G, K·C/G).  One strided view, one copy, in blocks of images on all threads.

    ``ones=True`` (one group only) appends a column of ones, (N·O, 1, K·C + 1): with the bias
    appended to the weight matrix, the matrix product adds the bias for free, and in backward
    gradᵀ @ cols gives the bias gradient (Σ grad) in its last column.
    """
    xp = xp_of(x_pad)
    n, c, g = x_pad.shape[0], x_pad.shape[-1], geom.groups
    m, kc = n * math.prod(geom.out_size), math.prod(geom.kernel) * (c // g)
    if (
        g == 1
        and not ones
        and math.prod(geom.kernel) == 1
        and all(s == 1 for s in geom.stride)
        and x_pad.shape[1:-1] == tuple(geom.out_size)
    ):
        return _rows(x_pad)[:, None]  # 1x1 kernel: the pixels themselves (no copy if channels-last)
    width = g * kc + int(ones)
    if c == 1:  # one input channel: an offset-major (width, N, *O) buffer takes whole image rows per copy
        buf = xp.empty((width, n, *geom.out_size), x_pad.dtype)
        parallel_rows(lambda b, x_pad: _im2col_one_channel(b, x_pad, geom, ones), buf.swapaxes(0, 1), x_pad)
        return buf.reshape(width, m).T[:, None]
    # rows padded to a multiple of 64 bytes: BLAS reads aligned rows faster than rows of odd length
    stride = width if width < 64 else -(-width // 16) * 16
    cols = xp.empty((n, *geom.out_size, stride), x_pad.dtype)[..., :width]
    parallel_rows(lambda cols, x_pad: _im2col_block(cols, x_pad, geom, kc, ones), cols, x_pad)
    return cols.reshape(m, g, kc + int(ones))


def _im2col_block(cols, x_pad, geom, kc: int, ones: bool) -> None:
    """Fill ``cols`` (n, *O, G·K·C/G [+1]) with the patches of ``x_pad`` (n, *P, C)."""
    n, c, g = x_pad.shape[0], x_pad.shape[-1], geom.groups
    nd, item = len(geom.kernel), cols.itemsize
    # both sides as (n, *O, G, *K, C/G): a strided view of the input, one of the columns
    shape = (n, *geom.out_size, g, *geom.kernel, c // g)
    st = x_pad.strides
    sp, sc = st[1:-1], st[-1]
    src = (
        st[0],
        *(a * s for a, s in zip(sp, geom.stride)),
        sc * (c // g),
        *(a * d for a, d in zip(sp, geom.dilation)),
        sc,
    )
    dst = (
        *cols.strides[: nd + 1],
        kc * item,
        *((c // g) * item * math.prod(geom.kernel[i + 1 :]) for i in range(nd)),
        item,
    )
    as_strided = xp_of(x_pad).lib.stride_tricks.as_strided
    as_strided(cols, shape, dst)[...] = as_strided(x_pad, shape, src)
    if ones:
        cols[..., kc] = 1


def _im2col_one_channel(buf, x_pad, geom, ones: bool) -> None:
    """Fill ``buf`` (n, K [+1], *O) from a one-channel ``x_pad`` (n, *P, 1): one copy per kernel offset."""
    for j, win in enumerate(windows(geom)):
        buf[:, j] = x_pad[(slice(None), *win, 0)]
    if ones:
        buf[:, -1] = 1


def _weight_matrix(w, groups: int):
    """(C_out, C_in/G, *K) -> (G, C_out/G, K·C_in/G), the kernel offset before the channel."""
    c_out = w.shape[0]
    return channels_last(w).reshape(groups, c_out // groups, math.prod(w.shape[1:]))


# Without backward to feed, the columns of a large batch are made and consumed a few images at a
# time, so a block is still in cache when the product reads it.
_COLS_BLOCK_BYTES = 16 << 20


def conv_forward(x, w, b, geom, keep_cols: bool = False):
    """out = conv(x, w) + b on arrays; returns (out (N, C_out, *O) over channels-last memory, cols)."""
    crop = cropped(geom)
    if crop is not None:  # the columns then belong to the cropped geometry (as conv_weight_grad reads them)
        return conv_forward(x, w[(slice(None), slice(None), *crop[0])], b, crop[1], keep_cols)
    xp = xp_of(x)
    n, c_out, g = x.shape[0], w.shape[0], geom.groups
    wm = _weight_matrix(w, g)  # (G, C_out/G, KC)
    fold_bias = b is not None and g == 1
    if fold_bias:  # the ones column of im2col: the bias joins the weights
        wm = xp.concatenate([wm[0], b[:, None]], axis=1)[None]
    per_image = math.prod(geom.out_size)
    block = max(1, _COLS_BLOCK_BYTES // (per_image * wm.shape[-1] * x.itemsize))
    if g == 1 and not keep_cols and block < n and xp is np:
        out = xp.empty((n * per_image, c_out), x.dtype)
        for i in range(0, n, block):
            cols = im2col(pad_channels_last(x[i : i + block], geom), geom, ones=fold_bias)
            xp.matmul(cols[:, 0], wm[0].T, out=out[i * per_image : (i + block) * per_image])
        return channels_first(out.reshape(n, *geom.out_size, c_out)), None
    cols = im2col(pad_channels_last(x, geom), geom, ones=fold_bias)  # (M, G, KC [+1])
    if g == 1:
        out = cols[:, 0] @ wm[0].T  # (M, C_out)
    else:
        out = xp.matmul(cols.transpose(1, 0, 2), wm.transpose(0, 2, 1))  # (G, M, C_out/G)
        out = out.transpose(1, 0, 2).reshape(out.shape[1], c_out)
        if b is not None:
            out += b
    out = channels_first(out.reshape(n, *geom.out_size, c_out))
    return out, (cols if keep_cols else None)


def conv_input_grad(grad, w, geom, b=None):
    """The transposed convolution: dL/dx of ``conv(x, w)`` for dL/dout = ``grad`` (+ ``b`` per channel).

    ``dcols = grad @ W`` holds, per output position, what each kernel offset read contributes
    back (one product per kernel offset and group); col2im then adds each offset's slab onto
    the input positions that offset read (a strided slice of the buffer).  Overlapping windows
    simply add up.
    """
    crop = cropped(geom)
    if crop is not None:
        return conv_input_grad(grad, w[(slice(None), slice(None), *crop[0])], crop[1], b)
    xp = xp_of(grad)
    n, c_out, g = grad.shape[0], w.shape[0], geom.groups
    cg = w.shape[1]
    k = math.prod(geom.kernel)
    g2 = _rows(channels_last(grad))  # (M, C_out)
    # one product per (group, kernel offset), each a contiguous (M, C/G) slab that col2im adds whole
    wk = xp.ascontiguousarray(w.reshape(g, c_out // g, cg, k).transpose(0, 3, 1, 2))  # (G, K, C_out/G, C/G)
    g3 = g2.reshape(len(g2), g, c_out // g).transpose(1, 0, 2)  # (G, M, C_out/G)
    dcols = xp.matmul(g3[:, None], wk)  # (G, K, M, C/G)
    dcols = dcols.reshape(g, k, n, math.prod(geom.out_size), cg).transpose(
        2, 0, 1, 3, 4
    )  # (N, G, K, O, C/G) view
    if k == 1 and is_unpadded(geom) and all(s == 1 for s in geom.stride):
        dx = dcols[:, :, 0].transpose(0, 2, 1, 3).reshape(n, *geom.in_size, g * cg)
    else:
        dx = _col2im(xp, dcols, geom, n, g, cg, grad.dtype)
    if b is not None:
        dx += b  # channels are last here: plain broadcasting (dx is our own buffer)
    return channels_first(dx)


def _input_slices(geom) -> list:
    """The input and output slices each kernel offset connects.

    For each kernel offset (row-major index ``j``) that reads any real input element:
    ``(j, src, dst, whole)`` — the slices of the output positions (``src``) and of the unpadded
    input positions they read (``dst``), padding left out; ``whole``: ``dst`` is every input
    position, once.
    """
    per_dim = []
    for n, o, k, s, d, lo in zip(
        geom.in_size, geom.out_size, geom.kernel, geom.stride, geom.dilation, geom.pad_lo
    ):
        options: list[tuple[slice, slice, bool] | None] = []
        for i in range(k):
            first = i * d - lo  # input position read by output 0 (negative: in the padding)
            o_min = max(0, -(first // s))  # first output reading a position >= 0
            o_max = min(o - 1, (n - 1 - first) // s)  # last output reading a position < n
            if o_min > o_max:
                options.append(None)  # this kernel row/column only ever reads padding
                continue
            dst = slice(first + s * o_min, first + s * o_max + 1, s)
            options.append((slice(o_min, o_max + 1), dst, s == 1 and dst.start == 0 and dst.stop == n))
        per_dim.append(options)
    result = []
    for j, combo in enumerate(itertools.product(*per_dim)):
        if all(c is not None for c in combo):
            srcs, dsts, wholes = zip(*combo)
            result.append((j, srcs, dsts, all(wholes)))
    return result


def _col2im(xp, dcols, geom, n: int, g: int, cg: int, dtype):
    """Scatter-add column gradients back onto the input (the adjoint of im2col).

    Add each kernel offset's slab of ``dcols`` (N, G, K, O, C/G) back onto the input positions it
    was read from (one strided slice-add per offset).  Only real input positions are written, and an
    offset that read every input position once is assigned first instead of zero-filling.  Blocks
    of images run on separate threads.
    """
    parts = _input_slices(geom)
    first = next((p for p in parts if p[3]), None)
    order = ([first] if first else []) + [p for p in parts if p is not first]
    dx = (xp.zeros if first is None else xp.empty)((n, *geom.in_size, g, cg), dtype)

    def block(dx, dcols):
        for part in order:
            j, src, dst, _ = part
            slab = dcols[:, :, j].transpose(0, 2, 1, 3).reshape(len(dx), *geom.out_size, g, cg)
            slab = slab[(slice(None), *src)]
            if part is first:
                dx[(slice(None), *dst)] = slab
            else:
                dx[(slice(None), *dst)] += slab

    parallel_rows(block, dx, dcols)
    return dx.reshape(n, *geom.in_size, g * cg)


def conv_weight_grad(x, grad, geom, w_shape, cols=None, need_bias: bool = False):
    """(dL/dw, dL/db or None) of ``conv(x, w) + b`` for dL/dout = ``grad``: gradᵀ @ cols, per group.

    When ``cols`` carries the ones column (see ``im2col``) the bias gradient comes out of the
    same product; otherwise it is ``channel_sum(grad)``.
    """
    xp = xp_of(grad)
    crop = cropped(geom)
    if crop is not None:  # offsets that read only padding get a zero gradient
        index = (slice(None), slice(None), *crop[0])
        small_shape = (*w_shape[:2], *crop[1].kernel)
        dw_small, db = conv_weight_grad(x, grad, crop[1], small_shape, cols, need_bias)
        dw = xp.zeros(tuple(w_shape), grad.dtype)
        dw[index] = dw_small
        return dw, db
    c_out, g = w_shape[0], geom.groups
    kc = math.prod(geom.kernel) * w_shape[1]
    if cols is None:
        cols = im2col(pad_channels_last(x, geom), geom, ones=need_bias and g == 1)
    g2 = _rows(channels_last(grad))  # (M, C_out)
    db = None
    if g == 1:
        dw = _tall_t_matmul(g2, cols[:, 0])  # (C_out, K·C [+1])
        if dw.shape[1] > kc:
            dw, db = dw[:, :kc], xp.ascontiguousarray(dw[:, kc])
    else:
        g3 = g2.reshape(len(g2), g, c_out // g).transpose(1, 2, 0)  # (G, C_out/G, M)
        dw = xp.matmul(g3, cols.transpose(1, 0, 2))  # (G, C_out/G, K·C/G)
    if need_bias and db is None:
        db = channel_sum(grad)
    dw = dw.reshape(c_out, *geom.kernel, w_shape[1])
    return xp.ascontiguousarray(channels_first(dw)), db


# aᵀ·b for tall a, b (a weight gradient): BLAS is slow on a tiny result, where a stack of 256-row
# products, summed, is faster; otherwise (bᵀ·a)ᵀ with the wider matrix first is.
_TALL_BLOCK = 256
_TALL_MAX_RESULT = 1024


def _tall_t_matmul(a, b):
    """aᵀ @ b for tall matrices a (M, P), b (M, Q) (the result may be a transposed view)."""
    m, p = a.shape
    q = b.shape[1]
    if p * q > _TALL_MAX_RESULT or m < 4 * _TALL_BLOCK or xp_of(a) is not np:
        return (b.T @ a).T if q > p else a.T @ b
    cut = m - m % _TALL_BLOCK
    blocks = np.matmul(
        a[:cut].reshape(-1, _TALL_BLOCK, p).transpose(0, 2, 1), b[:cut].reshape(-1, _TALL_BLOCK, q)
    )
    out = blocks.sum(axis=0)
    if cut < m:
        out += a[cut:].T @ b[cut:]
    return out


def channel_sum(grad):
    """Σ grad over every dimension but the channels (dim 1): a bias gradient."""
    g_cl = channels_last(grad)
    if g_cl.flags.c_contiguous:  # channels-last memory: a BLAS product beats .sum(0) on a tall matrix
        rows = _rows(g_cl)
        return xp_of(grad).ones(rows.shape[0], grad.dtype) @ rows
    return grad.sum(axis=(0, *range(2, grad.ndim)))


# ----------------------------------------------------------------------------- references
#
# The same maps written the obvious way (a loop over output positions, one group at a time, PyTorch's
# (N, C, *S) layout): slow, and what the tuned kernels above are tested against.


def _padded_reference(x, geom):
    """``x`` (N, C, *S) inside a zero buffer (N, C, *padded), ``pad_lo`` zeros before each dim."""
    buf = np.zeros((*x.shape[:2], *geom.padded), x.dtype)
    buf[(slice(None), slice(None), *(slice(lo, lo + n) for lo, n in zip(geom.pad_lo, geom.in_size)))] = x
    return buf


def _patch(p, geom) -> tuple:
    """The slices of the padded spatial dims under output position ``p`` (a tuple of ints)."""
    return tuple(
        slice(i * s, i * s + d * (k - 1) + 1, d)
        for i, k, s, d in zip(p, geom.kernel, geom.stride, geom.dilation)
    )


def im2col_reference(x, geom):
    """The plain im2col: one row per output position, one group.

    (N, C, *S) -> (N·O, K·C): row n·O + p is the patch under output ``p`` of image ``n``, flattened
    (kernel offset, channel); one group.
    """
    buf = _padded_reference(x, geom)
    rows = []
    for n in range(x.shape[0]):
        for p in np.ndindex(*geom.out_size):
            patch = buf[(n, slice(None), *_patch(p, geom))]  # (C, *K)
            rows.append(np.moveaxis(patch, 0, -1).ravel())
    return np.array(rows, x.dtype).reshape(-1, math.prod(geom.kernel) * x.shape[1])


def col2im_reference(cols, geom, n: int, c: int):
    """The adjoint of ``im2col_reference``: each row of ``cols`` (N·O, K·C) added back onto its patch."""
    buf = np.zeros((n, c, *geom.padded), cols.dtype)
    rows = iter(cols)
    for i in range(n):
        for p in np.ndindex(*geom.out_size):
            patch = np.moveaxis(next(rows).reshape(*geom.kernel, c), -1, 0)
            buf[(i, slice(None), *_patch(p, geom))] += patch
    return buf[(slice(None), slice(None), *(slice(lo, lo + s) for lo, s in zip(geom.pad_lo, geom.in_size)))]


def _group_rows(a, groups: int, g: int, axis: int = 1):
    """Group ``g`` of the channels of ``a`` along ``axis`` (1 for activations, 0 for weights)."""
    size = a.shape[axis] // groups
    return a[(slice(None),) * axis + (slice(g * size, (g + 1) * size),)]


def _as_rows(a):
    """(N, C, *O) -> (N·O, C)."""
    return np.moveaxis(a, 1, -1).reshape(a.shape[0] * math.prod(a.shape[2:]), a.shape[1])


def conv_reference(x, w, b, geom):
    """The plain convolution, through im2col.

    conv(x, w) + b: (N, C, *S), (C_out, C/G, *K), (C_out,) or None -> (N, C_out, *O), per group
    ``im2col(x_g) @ w_gᵀ``.
    """
    n, outs = x.shape[0], []
    for g in range(geom.groups):
        wg = _group_rows(w, geom.groups, g, axis=0)
        cols = im2col_reference(_group_rows(x, geom.groups, g), geom)
        outs.append(cols @ np.moveaxis(wg, 1, -1).reshape(wg.shape[0], cols.shape[1]).T)
    out = np.concatenate(outs, axis=1)
    if b is not None:
        out = out + b
    return np.moveaxis(out.reshape(n, *geom.out_size, w.shape[0]), -1, 1)


def conv_input_grad_reference(grad, w, geom, b=None):
    """dL/dx of conv(x, w) for dL/dout = ``grad``: per group ``col2im(grad_g @ w_g)`` (+ ``b``)."""
    n, c_in, parts = grad.shape[0], w.shape[1], []
    for g in range(geom.groups):
        wg = _group_rows(w, geom.groups, g, axis=0)
        wm = np.moveaxis(wg, 1, -1).reshape(wg.shape[0], math.prod(wg.shape[1:]))
        dcols = _as_rows(_group_rows(grad, geom.groups, g)) @ wm
        parts.append(col2im_reference(dcols, geom, n, c_in))
    dx = np.concatenate(parts, axis=1)
    if b is not None:
        dx = dx + b.reshape(1, -1, *(1,) * len(geom.kernel))
    return dx


def conv_weight_grad_reference(x, grad, geom, w_shape):
    """dL/dw of conv(x, w) for dL/dout = ``grad``: per group ``grad_gᵀ @ im2col(x_g)``, shaped as ``w``."""
    parts = []
    for g in range(geom.groups):
        cols = im2col_reference(_group_rows(x, geom.groups, g), geom)
        dw = _as_rows(_group_rows(grad, geom.groups, g)).T @ cols  # (C_out/G, K·C/G)
        parts.append(np.moveaxis(dw.reshape(len(dw), *geom.kernel, w_shape[1]), -1, 1))
    return np.concatenate(parts, axis=0)


# ----------------------------------------------------------------------------- unfold / fold


def unfold(x, geom):
    """The sliding blocks of ``x`` (N, C, *S) as columns (N, C·K, O), as ``F.unfold``.

    Ordered (channel, kernel offset): the im2col of the padded channels-last buffer, reordered.
    """
    n, c = x.shape[:2]
    k, o = math.prod(geom.kernel), math.prod(geom.out_size)
    cols = im2col(pad_channels_last(x, geom), geom)  # (N·O, 1, K·C)
    return cols.reshape(n, o, k, c).transpose(0, 3, 2, 1).reshape(n, c * k, o)


def fold(cols, geom, c: int):
    """The adjoint of ``unfold`` (col2im).

    Each column of ``cols`` (N, C·K, O) is added back onto its block of an (N, C, *S) output
    (overlaps add up, what fell in the padding is dropped).
    """
    n = cols.shape[0]
    k, o = math.prod(geom.kernel), math.prod(geom.out_size)
    dcols = cols.reshape(n, c, k, o).transpose(0, 2, 3, 1)[:, None]  # (N, G=1, K, O, C)
    return channels_first(_col2im(xp_of(cols), dcols, geom, n, 1, c, cols.dtype))


def unfold_reference(x, geom):
    """``unfold`` by the loop of ``im2col_reference``."""
    n, c = x.shape[:2]
    k, o = math.prod(geom.kernel), math.prod(geom.out_size)
    return im2col_reference(x, geom).reshape(n, o, k, c).transpose(0, 3, 2, 1).reshape(n, c * k, o)


def fold_reference(cols, geom, c: int):
    """``fold`` by the loop of ``col2im_reference``."""
    n = cols.shape[0]
    k, o = math.prod(geom.kernel), math.prod(geom.out_size)
    rows = cols.reshape(n, c, k, o).transpose(0, 3, 2, 1).reshape(n * o, k * c)
    return col2im_reference(rows, geom, n, c)
