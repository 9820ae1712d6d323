"""Convolutions (1-D, 2-D, 3-D, transposed), lowered to one big matrix multiply.

A convolution slides a small kernel over the input and, at every output position,
takes the dot product of the kernel with the patch of input under it::

    out[n, o, p] = b[o] + Σ_c Σ_k  w[o, c, k] · x_pad[n, c, p·stride + k·dilation]

(``p`` and ``k`` run over the spatial positions and kernel offsets; ``x_pad`` is
``x`` with ``padding`` zeros around it.)  PyTorch layouts: ``x`` (N, C_in, *S),
``w`` (C_out, C_in/groups, *K), ``out`` (N, C_out, *O).

**im2col.**  Copying every patch into one row of a matrix (the "columns") turns
all those dot products into a single matrix product, which BLAS runs fast and on
every core::

    cols (N·O, K·C_in)  @  Wᵀ (K·C_in, C_out)  =  out (N·O, C_out)

The patches are read through a strided *view* of the padded input (``as_strided``
with the strides of the input: no Python loop over pixels or images), and one copy
materialises ``cols``.

**Channels-last inside.**  The product above naturally gives (N, *O, C_out): the
channels are the fastest-moving index.  Rather than transposing that into PyTorch's
(N, C, *S) order, the op returns a transposed *view* with PyTorch's shape whose
memory stays channels-last.  Element-wise ops (ReLU) keep that layout, pooling
reads it through strided views, and the next convolution's im2col reads its
channels contiguously: the whole network runs channels-last with no conversion
copies.  (Only a reshape that needs PyTorch's memory order, such as ``flatten``
before a Linear layer, copies once.)

**Backward.**  A convolution is linear in ``x`` and in ``w``, so its gradients are
again convolution-like products (three ops that are each other's derivatives):

- ``dL/dw = gradᵀ @ cols`` (the columns saved from forward), ``dL/db = Σ grad``;
- ``dL/dx`` is the *transposed convolution* of the gradient: ``dcols = grad @ W``,
  then every kernel offset adds its slab of ``dcols`` back onto the input positions
  it was read from ("col2im": one strided slice-add per kernel offset, no
  ``np.add.at``).

``conv_transpose`` (the "deconvolution" of decoders and GANs) is exactly that
input-gradient map, with its own weight and bias.  Each of the three ops —
``ConvNd`` (x, w ↦ conv), ``ConvTransposeNd`` (grad, w ↦ dx) and ``ConvWeightGrad``
(x, grad ↦ dw) — has a backward made of the other two, so gradients through
convolutions are themselves differentiable (``create_graph=True``: second
derivatives).  On the engine's fast path (``array_backward``) backward runs the
same kernels directly on arrays.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

from chainrule.autograd.function import Function
from chainrule.backend import np, parallel_copy, parallel_rows, xp_of
from chainrule.tensor import Tensor

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
    return a_cl.reshape(-1, a_cl.shape[-1])


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
    if c == 1:  # one input channel: fill an offset-major (width, N, *O) buffer, whose rows take whole
        # runs of image rows (~5x faster than 4-byte writes 10 floats apart), and return it transposed
        buf = xp.empty((width, n, *geom.out_size), x_pad.dtype)
        parallel_rows(lambda b, x_pad: _im2col_one_channel(b, x_pad, geom, ones), buf.swapaxes(0, 1), x_pad)
        return buf.reshape(width, m).T[:, None]
    # Rows padded to a multiple of 64 bytes: BLAS reads them ~10% faster than rows of odd length
    # (289 floats for a 3x3 kernel over 32 channels plus the ones column).
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
        at = (slice(None), *win, 0)  # (a named tuple: mypy reads x[(a, *b)] as 3.11 syntax)
        buf[:, j] = x_pad[at]
    if ones:
        buf[:, -1] = 1


def _weight_matrix(w, groups: int):
    """(C_out, C_in/G, *K) -> (G, C_out/G, K·C_in/G), the kernel offset before the channel."""
    c_out = w.shape[0]
    return channels_last(w).reshape(groups, c_out // groups, -1)


# Without backward to feed, the columns of a large batch are made and consumed a few images at a
# time: a block of ~16 MiB is still in cache when the matrix product reads it (measured ~25% faster
# than one huge im2col matrix at batch 256).  The loop runs over blocks of images, not pixels.
_COLS_BLOCK_BYTES = 16 << 20


def conv_forward(x, w, b, geom, keep_cols: bool = False):
    """out = conv(x, w) + b on arrays; returns (out (N, C_out, *O) over channels-last memory, cols)."""
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
        out = out.transpose(1, 0, 2).reshape(-1, c_out)
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
    xp = xp_of(grad)
    n, c_out, g = grad.shape[0], w.shape[0], geom.groups
    cg = w.shape[1]
    k = math.prod(geom.kernel)
    g2 = _rows(channels_last(grad))  # (M, C_out)
    # One product per (group, kernel offset), each giving a contiguous (M, C/G) slab: col2im then
    # adds whole image rows at a time (one wide product of width K·C runs faster, but its
    # interleaved slabs made col2im slower by more; measured 7.3 -> 5.8 ms for a 32->64 3x3 conv).
    wk = xp.ascontiguousarray(w.reshape(g, c_out // g, cg, k).transpose(0, 3, 1, 2))  # (G, K, C_out/G, C/G)
    g3 = g2.reshape(-1, g, c_out // g).transpose(1, 0, 2)  # (G, M, C_out/G)
    dcols = xp.matmul(g3[:, None], wk)  # (G, K, M, C/G)
    dcols = dcols.reshape(g, k, n, -1, cg).transpose(2, 0, 1, 3, 4)  # (N, G, K, O, C/G) view
    if k == 1 and is_unpadded(geom) and all(s == 1 for s in geom.stride):
        dx = dcols[:, :, 0].transpose(0, 2, 1, 3).reshape(n, *geom.in_size, g * cg)
    else:
        dx = _col2im(xp, dcols, geom, n, g, cg, grad.dtype)
    if b is not None:
        dx += b  # channels are last here: plain broadcasting (dx is our own buffer)
    return channels_first(dx)


def _input_slices(geom) -> list:
    """For each kernel offset (row-major index ``j``) that reads any real input element:
    ``(j, src, dst, whole)`` — the slices of the output positions (``src``) and of the unpadded
    input positions they read (``dst``), padding left out; ``whole``: ``dst`` is every input
    position, once."""
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
    """Add each kernel offset's slab of ``dcols`` (N, G, K, O, C/G) back onto the input positions it
    was read from (one strided slice-add per offset).  Only real input positions are written, and an
    offset that read every input position once is assigned first instead of zero-filling.  Blocks
    of images run on separate threads."""
    parts = _input_slices(geom)
    first = next((p for p in parts if p[3]), None)
    order = ([first] if first else []) + [p for p in parts if p is not first]
    dx = (xp.zeros if first is None else xp.empty)((n, *geom.in_size, g, cg), dtype)

    def block(dx, dcols):
        for part in order:
            j, src, dst, _ = part
            slab = dcols[:, :, j].transpose(0, 2, 1, 3).reshape(len(dx), *geom.out_size, g, cg)
            src_at, dst_at = (slice(None), *src), (slice(None), *dst)
            slab = slab[src_at]
            if part is first:
                dx[dst_at] = slab
            else:
                dx[dst_at] += slab

    parallel_rows(block, dx, dcols)
    return dx.reshape(n, *geom.in_size, g * cg)


def conv_weight_grad(x, grad, geom, w_shape, cols=None, need_bias: bool = False):
    """(dL/dw, dL/db or None) of ``conv(x, w) + b`` for dL/dout = ``grad``: gradᵀ @ cols, per group.

    When ``cols`` carries the ones column (see ``im2col``) the bias gradient comes out of the
    same product; otherwise it is ``channel_sum(grad)``.
    """
    xp = xp_of(grad)
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
        g3 = g2.reshape(-1, g, c_out // g).transpose(1, 2, 0)  # (G, C_out/G, M)
        dw = xp.matmul(g3, cols.transpose(1, 0, 2))  # (G, C_out/G, K·C/G)
    if need_bias and db is None:
        db = channel_sum(grad)
    dw = dw.reshape(c_out, *geom.kernel, w_shape[1])
    return xp.ascontiguousarray(channels_first(dw)), db


# How BLAS runs aᵀ·b for tall a, b (a weight gradient gradᵀ·cols) depends on the shapes.  With a
# tiny result (a first layer's: 50176 rows, 32x10) it crawls at ~25 GFLOP/s, and a stack of
# 256-row products, summed, runs ~2.5x faster; otherwise (bᵀ·a)ᵀ, with the wider matrix first,
# runs 10-35% faster than aᵀ·b (measured for 12544-50176 rows and results 32x73 ... 256x1153).
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


# ----------------------------------------------------------------------------- differentiable ops


def _arr(t):
    return t._data if isinstance(t, Tensor) else t


class ConvNd(Function):
    """out = conv(x, w) + b (cross-correlation, as PyTorch);
    dx = conv_transpose(grad, w), dw = gradᵀ·cols (ConvWeightGrad), db = Σ grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, w, b, geom):
        recording = ctx.recorded
        keep = recording and w.requires_grad
        out, cols = conv_forward(x._data, w._data, None if b is None else b._data, geom, keep_cols=keep)
        if recording:
            ctx.geom, ctx.cols = geom, cols
            ctx.save_for_backward(x, w)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geom = ctx.geom
        if isinstance(grad, Tensor):  # create_graph: build the gradient from differentiable ops
            gx = ConvTransposeNd.apply(grad, w, None, geom) if need_x else None
            gw = ConvWeightGrad.apply(x, grad, geom, w.shape, ctx.cols) if need_w else None
            gb = ChannelSum.apply(grad) if need_b else None
        else:
            gx = conv_input_grad(grad, w, geom) if need_x else None
            gw = gb = None
            if need_w:  # the bias gradient rides in the same product when cols has its ones column
                gw, gb = conv_weight_grad(x, grad, geom, w.shape, ctx.cols, need_b)
            elif need_b:
                gb = channel_sum(grad)
        ctx.cols = None
        return gx, gw, gb, None

    def release(self) -> None:
        super().release()
        self.cols = None


class ConvTransposeNd(Function):
    """out = conv_transpose(g, w) + b: the adjoint of x ↦ conv(x, w) (``geom`` is that conv's);
    dg = conv(grad, w), dw = ConvWeightGrad(grad, g), db = Σ grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, g, w, b, geom):
        if ctx.recorded:
            ctx.geom = geom
            ctx.save_for_backward(g, w)
        return conv_input_grad(g._data, w._data, geom, None if b is None else b._data)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        need_g, need_w, need_b = ctx.needs_input_grad[:3]
        geom = ctx.geom
        if isinstance(grad, Tensor):
            gg = ConvNd.apply(grad, w, None, geom) if need_g else None
            gw = ConvWeightGrad.apply(grad, g, geom, w.shape) if need_w else None
            gb = ChannelSum.apply(grad) if need_b else None
        else:
            gg = conv_forward(grad, w, None, geom)[0] if need_g else None
            gw = conv_weight_grad(grad, g, geom, w.shape)[0] if need_w else None
            gb = channel_sum(grad) if need_b else None
        return gg, gw, gb, None


class ConvWeightGrad(Function):
    """out = dL/dw of conv(x, w) at dL/dout = g (shape of w);
    dx = conv_transpose(g, grad), dg = conv(x, grad) (``cols``: x's columns when known)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, g, geom, w_shape, cols=None):
        if ctx.recorded:
            ctx.geom = geom
            ctx.save_for_backward(x, g)
        return conv_weight_grad(x._data, g._data, geom, w_shape, cols)[0]

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        geom = ctx.geom
        if isinstance(grad, Tensor):
            gx = ConvTransposeNd.apply(g, grad, None, geom) if need_x else None
            gg = ConvNd.apply(x, grad, None, geom) if need_g else None
        else:
            gx = conv_input_grad(g, grad, geom) if need_x else None
            gg = conv_forward(x, grad, None, geom)[0] if need_g else None
        return gx, gg, None, None, None


class ChannelSum(Function):
    """out[c] = Σ x[:, c, ...] (a bias gradient);  dx = grad broadcast over the other dims."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return channel_sum(x._data)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        g = grad.reshape(shape)
        return g.expand(x.shape) if isinstance(g, Tensor) else xp_of(g).broadcast_to(g, x.shape)


# ----------------------------------------------------------------------------- functional API


def _tuple(value, n: int, op: str, name: str) -> tuple:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if (
        isinstance(value, (tuple, list))
        and len(value) == n
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        return tuple(int(v) for v in value)
    if isinstance(value, (tuple, list)) and len(value) == 1 and isinstance(value[0], (int, np.integer)):
        return (int(value[0]),) * n
    raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")


def _check_operands(op: str, input, weight, bias, nd: int) -> bool:
    """Validate types/ranks/dtypes; returns True when ``input`` is unbatched (C, *S)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(
            f"{op}: input and weight must be Tensors, got {type(input).__name__} and {type(weight).__name__}"
        )
    if weight.ndim != nd + 2:
        raise ValueError(
            f"{op}: expected a {nd + 2}-D weight (out, in/groups, *kernel), got weight of shape "
            f"{tuple(weight.shape)}"
        )
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got input of "
            f"shape {tuple(input.shape)}"
        )
    if input.dtype != weight.dtype or input.dtype.kind != "f":
        raise TypeError(
            f"{op}: input dtype {input.dtype} and weight dtype {weight.dtype} must be the same "
            "floating point type"
        )
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
        if bias.dtype != weight.dtype:
            raise TypeError(f"{op}: bias dtype {bias.dtype} does not match weight dtype {weight.dtype}")
    return input.ndim == nd + 1


def _same_padding(kernel, dilation) -> tuple[tuple, tuple]:
    """'same' padding as PyTorch: total d·(k-1), the odd one out goes after (right/bottom)."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    lo = tuple(t // 2 for t in total)
    return lo, tuple(t - t // 2 for t in total)


def conv_nd(op: str, nd: int, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """The convolution behind conv1d/conv2d/conv3d (``nd`` spatial dims), as PyTorch."""
    unbatched = _check_operands(op, input, weight, bias, nd)
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(stride, nd, op, "stride")
    dilation = _tuple(dilation, nd, op, "dilation")
    kernel = tuple(weight.shape[2:])
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    if 0 in kernel:
        raise ValueError(f"{op}: the kernel size must be positive, got weight shape {tuple(weight.shape)}")
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions (stride {stride})"
                )
            lo, hi = _same_padding(kernel, dilation)
        else:
            raise ValueError(
                f"{op}: padding must be 'valid', 'same', an int or a tuple of ints, got {padding!r}"
            )
    else:
        lo = hi = _tuple(padding, nd, op, "padding")
        if any(p < 0 for p in lo):
            raise ValueError(f"{op}: negative padding {lo} is not supported")
    c_out = weight.shape[0]
    c_in = x.shape[1]
    if c_out % groups:
        raise ValueError(
            f"{op}: out_channels {c_out} (weight shape {tuple(weight.shape)}) must be divisible "
            f"by groups={groups}"
        )
    if c_in != weight.shape[1] * groups:
        raise RuntimeError(
            f"{op}: expected input with {weight.shape[1] * groups} channels (weight shape "
            f"{tuple(weight.shape)}, groups={groups}) but got {c_in} channels "
            f"(input shape {tuple(input.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(
            f"{op}: bias has shape {tuple(bias.shape)} but the weight has {c_out} output channels "
            f"(weight shape {tuple(weight.shape)}); expected bias shape ({c_out},)"
        )
    in_size = tuple(x.shape[2:])
    out_size = []
    for i in range(nd):
        span = dilation[i] * (kernel[i] - 1) + 1
        padded = in_size[i] + lo[i] + hi[i]
        if padded < span:
            raise RuntimeError(
                f"{op}: kernel size {kernel} (dilation {dilation}) can't be greater than the padded input "
                "size "
                f"{tuple(n + a + b for n, a, b in zip(in_size, lo, hi))} (input shape {tuple(input.shape)}, "
                f"padding {lo if lo == hi else (lo, hi)})"
            )
        out_size.append((padded - span) // stride[i] + 1)
    geom = make_geometry(in_size, out_size, kernel, stride, dilation, lo, groups)
    out = ConvNd.apply(x, weight, bias, geom)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:  # noqa: A002
    """1-D convolution over (N, C_in, L) with weight (C_out, C_in/groups, k), as
    ``torch.nn.functional.conv1d``.

    ``padding``: an int, a tuple, ``'valid'`` (none) or ``'same'`` (output as long as the input).
    """
    return conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:  # noqa: A002
    """2-D convolution over (N, C_in, H, W) with weight (C_out, C_in/groups, kH, kW), as
    ``torch.nn.functional.conv2d``.

    Example (the classic lecture example: a 3x3 "X" kernel over a 5x5 binary image)::

        img = cr.tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1],
                         [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], dtype=cr.float32).reshape(1, 1, 5, 5)
        k = cr.tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=cr.float32).reshape(1, 1, 3, 3)
        conv2d(img, k)   # [[[[4, 3, 4], [2, 4, 3], [2, 3, 4]]]]
    """
    return conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:  # noqa: A002
    """3-D convolution over (N, C_in, D, H, W), as ``torch.nn.functional.conv3d``."""
    return conv_nd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose_nd(
    op: str, nd: int, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """The transposed convolution behind conv_transpose1d/2d/3d, as PyTorch.

    ``weight`` is (C_in, C_out/groups, *K); the output size per dim is
    (in - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1.
    """
    unbatched = _check_operands(op, input, weight, bias, nd)
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(stride, nd, op, "stride")
    padding = _tuple(padding, nd, op, "padding")
    output_padding = _tuple(output_padding, nd, op, "output_padding")
    dilation = _tuple(dilation, nd, op, "dilation")
    kernel = tuple(weight.shape[2:])
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation) or any(p < 0 for p in padding):
        raise ValueError(
            f"{op}: stride {stride} and dilation {dilation} must be positive and padding {padding} "
            "non-negative"
        )
    if 0 in kernel:
        raise ValueError(f"{op}: the kernel size must be positive, got weight shape {tuple(weight.shape)}")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ < 0 or (op_ >= s and op_ >= d):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either stride {stride} "
                f"or dilation {dilation}"
            )
    c_in = x.shape[1]
    if c_in != weight.shape[0]:
        raise RuntimeError(
            f"{op}: expected input with {weight.shape[0]} channels (weight shape {tuple(weight.shape)}, "
            f"groups={groups}) but got {c_in} channels (input shape {tuple(input.shape)})"
        )
    if c_in % groups:
        raise ValueError(f"{op}: in_channels {c_in} must be divisible by groups={groups}")
    c_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(
            f"{op}: bias has shape {tuple(bias.shape)} but the output has {c_out} channels "
            f"(weight shape {tuple(weight.shape)}, groups={groups}); expected ({c_out},)"
        )
    in_size = tuple(x.shape[2:])  # the transposed conv's input = the underlying conv's output
    out_size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip(in_size, stride, padding, dilation, kernel, output_padding)
    )
    if any(o < 1 for o in out_size):
        raise RuntimeError(
            f"{op}: the output size {out_size} is too small (input shape {tuple(input.shape)}, "
            f"weight shape {tuple(weight.shape)}, stride {stride}, padding {padding})"
        )
    geom = make_geometry(out_size, in_size, kernel, stride, dilation, padding, groups)
    out = ConvTransposeNd.apply(x, weight, bias, geom)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,  # noqa: A002
    dilation=1,
) -> Tensor:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``."""
    return conv_transpose_nd(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,  # noqa: A002
    dilation=1,
) -> Tensor:
    """2-D transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    It is the gradient of conv2d with respect to its input: it spreads each input pixel over a
    kernel-sized patch of the output, so stride 2 doubles the resolution.
    """
    return conv_transpose_nd(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,  # noqa: A002
    dilation=1,
) -> Tensor:
    """3-D transposed convolution, as ``torch.nn.functional.conv_transpose3d``."""
    return conv_transpose_nd(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
