"""Rearranging layers without weights, as ``torch.nn``.

``Unfold`` / ``Fold`` (sliding blocks to columns and back) and ``PixelShuffle`` /
``PixelUnshuffle`` (channels to space and back).

The ops are in ``chainrule/ops/fold.py``.
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops import fold as P
from chainrule.tensor import Tensor


def _check_blocks(layer: str, kernel_size, dilation, padding, stride) -> None:
    _args.ints(layer, "kernel_size", kernel_size, 2, minimum=1)
    _args.ints(layer, "dilation", dilation, 2, minimum=1)
    _args.ints(layer, "padding", padding, 2, minimum=0)
    _args.ints(layer, "stride", stride, 2, minimum=1)


class Unfold(Module):
    r"""Extract the sliding blocks of an image as columns (im2col), as ``torch.nn.Unfold``.

    $$
    \text{out}[n, c \cdot K + k, l] = x_{\text{pad}}[n, c, s \cdot l + d \cdot k]
    $$

    Args:
        kernel_size: the block size (kH, kW), K = kH·kW.
        dilation: the spacing of a block's elements.
        padding: zeros added on both sides of H and W.
        stride: the step between blocks.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C·K, L) or (C·K, L), L the number of blocks

    Example:
        >>> m = cr.nn.Unfold(kernel_size=2)
        >>> m(cr.randn(2, 3, 4, 5)).shape
        (2, 12, 12)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _check_blocks("Unfold", kernel_size, dilation, padding, stride)
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    r"""Sum columns of sliding blocks back into an image (col2im), as ``torch.nn.Fold``.

    $$
    \text{out}[n, c, p] = \sum_{(k, l):\ s \cdot l + d \cdot k = p} \text{input}[n, c \cdot K + k, l]
    $$

    Args:
        output_size: the image size (H, W).
        kernel_size: the block size (kH, kW), K = kH·kW.
        dilation: the spacing of a block's elements.
        padding: the padding the blocks were taken with.
        stride: the step between blocks.

    Shape:
        - Input: (N, C·K, L) or (C·K, L)
        - Output: (N, C, H, W) or (C, H, W)

    Example:
        >>> m = cr.nn.Fold(output_size=(3, 3), kernel_size=2)
        >>> m(cr.ones(1, 4, 4))
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _args.ints("Fold", "output_size", output_size, 2, minimum=1)
        _check_blocks("Fold", kernel_size, dilation, padding, stride)
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class PixelShuffle(Module):
    r"""Move channels into space, (*, C·r², H, W) -> (*, C, H·r, W·r), as ``torch.nn.PixelShuffle``.

    $$
    \text{out}[\ldots, c, h r + i, w r + j] = x[\ldots, c r^2 + i r + j, h, w]
    $$

    Args:
        upscale_factor: r.

    Shape:
        - Input: (*, C·r², H, W)
        - Output: (*, C, H·r, W·r)

    Example:
        >>> m = cr.nn.PixelShuffle(3)
        >>> m(cr.randn(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = _args.integer("PixelShuffle", "upscale_factor", upscale_factor, 1)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    r"""Move space into channels, (*, C, H·r, W·r) -> (*, C·r², H, W), as ``torch.nn.PixelUnshuffle``.

    $$
    \text{out}[\ldots, c r^2 + i r + j, h, w] = x[\ldots, c, h r + i, w r + j]
    $$

    Args:
        downscale_factor: r.

    Shape:
        - Input: (*, C, H·r, W·r)
        - Output: (*, C·r², H, W)

    Example:
        >>> m = cr.nn.PixelUnshuffle(2)
        >>> m(cr.randn(1, 1, 4, 4)).shape
        (1, 4, 2, 2)
    """

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = _args.integer("PixelUnshuffle", "downscale_factor", downscale_factor, 1)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    r"""Interleave the channels of ``groups`` groups, as ``torch.nn.ChannelShuffle`` (ShuffleNet).

    $$
    \text{out}[:, j \cdot g + i] = x[:, i \cdot (C/g) + j]
    $$

    Args:
        groups: g, dividing the number of channels.

    Shape:
        - Input: (N, C, *)
        - Output: the same

    Example:
        >>> m = cr.nn.ChannelShuffle(2)
        >>> m(cr.arange(4.0).reshape(1, 4, 1)).flatten()
        tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups: int):
        super().__init__()
        self.groups = _args.integer("ChannelShuffle", "groups", groups, 1)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
