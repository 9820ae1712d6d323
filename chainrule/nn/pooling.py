"""Spatial layers without weights.

Spatial layers without weights: pooling (``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``,
``AdaptiveAvgPool2d``), ``Upsample`` (nearest) and channel dropout (``Dropout2d``).

Pooling shrinks a feature map by summarising each window — its maximum (the strongest
response of a filter nearby) or its mean — which makes the network tolerant to small
shifts and cuts the work of later layers.  Output size per dim, as PyTorch::

    out = floor((in + 2·padding - dilation·(kernel_size - 1) - 1) / stride) + 1   (ceil with ceil_mode)

``stride`` defaults to ``kernel_size`` (non-overlapping windows).  The ops are in
``chainrule/ops/pooling.py``.

Example::

    pool = nn.MaxPool2d(2)
    pool(cr.randn(64, 32, 28, 28)).shape    # (64, 32, 14, 14)
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops import pooling as P
from chainrule.tensor import Tensor


def _check_window(module: Module, kernel_size, stride, padding, dilation=1) -> None:
    """kernel_size, stride, dilation >= 1 and 0 <= padding <= half the effective kernel, per dim."""
    name, nd = type(module).__name__, module._nd
    k = _args.ints(name, "kernel_size", kernel_size, nd, minimum=1)
    if stride is not None:
        _args.ints(name, "stride", stride, nd, minimum=1)
    d = _args.ints(name, "dilation", dilation, nd, minimum=1)
    p = _args.ints(name, "padding", padding, nd, minimum=0)
    if any(pi > ((ki - 1) * di + 1) // 2 for pi, ki, di in zip(p, k, d)):
        raise ValueError(
            f"{name}: padding should be at most half of the effective kernel size, but got "
            f"padding={padding}, kernel_size={kernel_size} and dilation={dilation}"
        )


class _MaxPoolNd(Module):
    _nd = 2

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ):
        super().__init__()
        _check_window(self, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):  # noqa: A002
        return P.max_pool_nd(
            f"max_pool{self._nd}d",
            self._nd,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L), as ``torch.nn.MaxPool1d``."""

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over (N, C, H, W), as ``torch.nn.MaxPool2d``.

    Args: kernel_size, stride=kernel_size, padding=0 (with -inf), dilation=1,
    return_indices=False (also return the flat h·W + w position of each maximum),
    ceil_mode=False (keep a last partial window).  Backward sends each gradient to the
    position of its window's maximum (the first one on ties).
    """

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W), as ``torch.nn.MaxPool3d``."""

    _nd = 3


class _AvgPoolNd(Module):
    _nd = 2

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override=None,
    ):
        super().__init__()
        _check_window(self, kernel_size, stride, padding)
        if divisor_override is not None:
            _args.integer(type(self).__name__, "divisor_override", divisor_override, 1)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.avg_pool_nd(
            f"avg_pool{self._nd}d",
            self._nd,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over (N, C, L), as ``torch.nn.AvgPool1d``."""

    _nd = 1

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True
    ):
        def single(v):  # PyTorch keeps AvgPool1d's sizes as 1-tuples
            return None if v is None else tuple(v) if isinstance(v, (tuple, list)) else (v,)

        super().__init__(single(kernel_size), single(stride), single(padding), ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling over (N, C, H, W), as ``torch.nn.AvgPool2d``.

    Args: kernel_size, stride=kernel_size, padding=0 (zeros), ceil_mode=False,
    count_include_pad=True (divide by the whole window, padding included; False: by the real
    elements only), divisor_override=None.
    """

    _nd = 2


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling over (N, C, D, H, W), as ``torch.nn.AvgPool3d``."""

    _nd = 3


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input size, as ``torch.nn.AdaptiveAvgPool2d``.

    ``AdaptiveAvgPool2d(1)`` is global average pooling (one number per channel), the usual
    head of a modern CNN.  ``None`` in ``output_size`` keeps that input dim.
    """

    def __init__(self, output_size):
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
        for s in sizes:
            if s is not None:
                _args.integer("AdaptiveAvgPool2d", "output_size", s, 1)
        if len(sizes) != 2:
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be an int or a pair, got {output_size!r}")
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (tuple, list)) else [value]


class Upsample(Module):
    """Resize the spatial dims by copying the nearest pixel, as ``torch.nn.Upsample(mode='nearest')``.

    Give ``size`` (the output spatial size) or ``scale_factor`` (e.g. 2 doubles H and W).
    """

    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode: str = "nearest",
        align_corners=None,
        recompute_scale_factor=None,
    ):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: only mode='nearest' is supported, got mode={mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: exactly one of size or scale_factor should be given")
        for s in _as_list(size):
            _args.integer("Upsample", "size", s, 1)
        for f in _as_list(scale_factor):
            _args.number("Upsample", "scale_factor", f, above=0)
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.interpolate(
            input, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor
        )

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode='{self.mode}'"


class Dropout2d(Module):
    """Zero whole channels while training, as ``torch.nn.Dropout2d``.

    In ``train()`` mode each (sample, channel) feature map of an (N, C, H, W) input is zeroed
    with probability ``p`` and the others are scaled by 1/(1-p); in ``eval()`` mode it is the
    identity.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.dropout2d(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
