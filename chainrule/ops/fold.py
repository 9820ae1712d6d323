"""Rearranging ops.

``unfold`` / ``fold`` (sliding blocks to columns and back) and ``pixel_shuffle`` /
``pixel_unshuffle`` (channels to space and back).

``unfold`` copies every sliding block of an image into one column, exactly the im2col of the
convolutions (``chainrule/kernels/conv.py``); ``fold`` adds every column back onto its block,
the col2im of a convolution's input gradient.  They are each other's adjoint, so each is the
other's derivative::

    unfold:  cols[n, c·K + k, l] = x_pad[n, c, block l + offset k]      d(x) = fold(grad)
    fold:    out[n, c, p] = Σ over the (k, l) whose block puts offset k on p of cols[n, c·K + k, l]
                                                                          d(cols) = unfold(grad)

The pixel shuffles only reshape and permute, so their gradients come from those ops.
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function
from chainrule.kernels import conv as K
from chainrule.ops import _args
from chainrule.ops import bmath as bm
from chainrule.ops.conv import _tuple
from chainrule.tensor import Tensor


class Unfold(Function):
    """out = the sliding blocks of x as columns (N, C·K, L);  dx = fold(grad)."""

    array_backward = True

    @staticmethod
    def kernel(x, geom):
        return K.unfold(x, geom)

    @staticmethod
    def forward(ctx, x, geom):
        if ctx.recorded:
            ctx.geom, ctx.c = geom, x.shape[1]
        return K.unfold(x._data, geom)

    @staticmethod
    def backward(ctx, grad):
        return bm.apply(Fold, grad, ctx.geom, ctx.c), None


class Fold(Function):
    """out = the columns (N, C·K, L) summed back onto their blocks (N, C, *S);  dcols = unfold(grad)."""

    array_backward = True

    @staticmethod
    def kernel(cols, geom, c):
        return K.fold(cols, geom, c)

    @staticmethod
    def forward(ctx, cols, geom, c):
        if ctx.recorded:
            ctx.geom = geom
        return K.fold(cols._data, geom, c)

    @staticmethod
    def backward(ctx, grad):
        return bm.apply(Unfold, grad, ctx.geom), None, None


def _block_geometry(op: str, size: tuple, kernel_size, dilation, padding, stride):
    """The ConvGeometry of the sliding blocks over a 2-D map of ``size``."""
    kernel = _tuple(kernel_size, 2, op, "kernel_size")
    dilation = _tuple(dilation, 2, op, "dilation")
    padding = _tuple(padding, 2, op, "padding")
    stride = _tuple(stride, 2, op, "stride")
    if min(kernel) < 1 or min(dilation) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(
            f"{op}: kernel_size {kernel}, dilation {dilation} and stride {stride} must be positive and "
            f"padding {padding} non-negative"
        )
    blocks = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, d, p, s in zip(size, kernel, dilation, padding, stride)
    )
    if min(blocks) < 1:
        raise RuntimeError(
            f"{op}: given a spatial size {tuple(size)}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, stride={stride}, the array of sliding blocks is {blocks}: each must be at "
            "least one"
        )
    return K.make_geometry(size, blocks, kernel, stride, dilation, padding)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    r"""The sliding blocks of an image as columns, as ``torch.nn.functional.unfold`` (im2col).

    $$
    \text{out}[n, c \cdot K + k, l] = x_{\text{pad}}[n, c, s \cdot l + d \cdot k]
    $$

    with K = kH·kW kernel offsets k and L blocks l, row-major over the (zero-padded) image.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: the block size (kH, kW).
        dilation: the spacing of a block's elements.
        padding: zeros added on both sides of H and W.
        stride: the step between blocks.

    Returns:
        (N, C·kH·kW, L) or (C·kH·kW, L), L = the number of blocks.

    Raises:
        ValueError: input not 3-D or 4-D, or a non-positive size.
        RuntimeError: the kernel does not fit in the padded input.

    Example:
        >>> F = cr.nn.functional
        >>> F.unfold(cr.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
    """
    _args.tensor("unfold", "input", input)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"unfold: only 3-D or 4-D input is supported, got input of shape {tuple(input.shape)}"
        )
    x = input.unsqueeze(0) if input.ndim == 3 else input
    geom = _block_geometry("unfold", tuple(x.shape[2:]), kernel_size, dilation, padding, stride)
    out = Unfold.apply(x, geom)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    r"""Columns of sliding blocks summed back into an image, as ``torch.nn.functional.fold`` (col2im).

    $$
    \text{out}[n, c, p] = \sum_{(k, l):\ s \cdot l + d \cdot k = p} \text{input}[n, c \cdot K + k, l]
    $$

    Overlapping blocks add up; what falls into the padding is dropped.  ``fold(unfold(x))`` is x
    times the number of blocks covering each pixel.

    Args:
        input: (N, C·kH·kW, L) or (C·kH·kW, L).
        output_size: the image size (H, W).
        kernel_size: the block size (kH, kW).
        dilation: the spacing of a block's elements.
        padding: the padding the blocks were taken with.
        stride: the step between blocks.

    Returns:
        (N, C, H, W) or (C, H, W).

    Raises:
        ValueError: input not 2-D or 3-D.
        RuntimeError: dim 1 not divisible by kH·kW, or L not the number of blocks of ``output_size``.

    Example:
        >>> F = cr.nn.functional
        >>> F.fold(cr.ones(1, 4, 4), (3, 3), 2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    _args.tensor("fold", "input", input)
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: only 2-D or 3-D input is supported, got input of shape {tuple(input.shape)}")
    cols = input.unsqueeze(0) if input.ndim == 2 else input
    size = _tuple(output_size, 2, "fold", "output_size")
    geom = _block_geometry("fold", size, kernel_size, dilation, padding, stride)
    k = math.prod(geom.kernel)
    if cols.shape[1] % k:
        raise RuntimeError(
            f"fold: expected size of input's dimension 1 to be divisible by the product of kernel_size "
            f"{geom.kernel}, got input of shape {tuple(input.shape)}"
        )
    if cols.shape[2] != math.prod(geom.out_size):
        raise RuntimeError(
            f"fold: given output_size={size}, kernel_size={geom.kernel}, dilation={geom.dilation}, "
            f"padding={geom.pad_lo}, stride={geom.stride}, expected size of input's dimension 2 to match the "
            f"number of sliding blocks {' * '.join(map(str, geom.out_size))} = {math.prod(geom.out_size)}, "
            f"got input of shape {tuple(input.shape)}"
        )
    out = Fold.apply(cols, geom, cols.shape[1] // k)
    return out.squeeze(0) if input.ndim == 2 else out


def _factor(op: str, name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return value


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    r"""Channels to space, (*, C·r², H, W) -> (*, C, H·r, W·r), as ``torch.nn.functional.pixel_shuffle``.

    $$
    \text{out}[\ldots, c, h r + i, w r + j] = x[\ldots, c r^2 + i r + j, h, w]
    $$

    The sub-pixel convolution's upsampling step (ESPCN).

    Args:
        input: (*, C·r², H, W).
        upscale_factor: r.

    Returns:
        (*, C, H·r, W·r).

    Example:
        >>> F = cr.nn.functional
        >>> F.pixel_shuffle(cr.arange(4.0).reshape(1, 4, 1, 1), 2)
        tensor([[[[0., 1.],
                  [2., 3.]]]])
    """
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(
            f"pixel_shuffle: expected an input with at least 3 dims (*, C, H, W), got "
            f"{getattr(input, 'shape', type(input).__name__)}"
        )
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle: expected the channel dim to be divisible by upscale_factor² = {r * r}, got "
            f"input of shape {tuple(input.shape)}"
        )
    nb = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    r"""Space to channels, (*, C, H·r, W·r) -> (*, C·r², H, W), as ``F.pixel_unshuffle`` in PyTorch.

    $$
    \text{out}[\ldots, c r^2 + i r + j, h, w] = x[\ldots, c, h r + i, w r + j]
    $$

    The inverse of ``pixel_shuffle``.

    Args:
        input: (*, C, H·r, W·r).
        downscale_factor: r.

    Returns:
        (*, C·r², H, W).

    Example:
        >>> F = cr.nn.functional
        >>> F.pixel_unshuffle(cr.arange(4.0).reshape(1, 1, 2, 2), 2).flatten()
        tensor([0., 1., 2., 3.])
    """
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(
            f"pixel_unshuffle: expected an input with at least 3 dims (*, C, H, W), got "
            f"{getattr(input, 'shape', type(input).__name__)}"
        )
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle: expected height and width divisible by downscale_factor {r}, got input of "
            f"shape {tuple(input.shape)}"
        )
    nb = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    r"""Interleave the channels of ``groups`` groups, as ``torch.nn.functional.channel_shuffle`` (ShuffleNet).

    $$
    \text{out}[:, j \cdot g + i] = x[:, i \cdot (C/g) + j] \quad (i < g,\ j < C/g)
    $$

    Args:
        input: (N, C, *), C divisible by ``groups``.
        groups: g.

    Returns:
        A tensor of input's shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.channel_shuffle(cr.arange(4.0).reshape(1, 4, 1), 2).flatten()
        tensor([0., 2., 1., 3.])
    """
    g = _factor("channel_shuffle", "groups", groups)
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(
            f"channel_shuffle: expected an input with at least 3 dims (N, C, *), got "
            f"{getattr(input, 'shape', type(input).__name__)}"
        )
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(f"channel_shuffle: the number of channels ({c}) must be divisible by groups ({g})")
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)
