"""Spatial layers without weights.

Spatial layers without weights: pooling (``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, the adaptive
pools), unpooling (``MaxUnpool1d/2d``), resizing (``Upsample``) and channel dropout (``Dropout2d``).

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
    r"""1-D max pooling, as ``torch.nn.MaxPool1d``: the maximum of each window.

    $$
    \text{out}(n, c, \ell) = \max_{m < k} x(n, c, s\,\ell + m)
    $$

    (dilation 1). Each spatial size becomes

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    (⌈⌉ with ``ceil_mode``) for kernel size k, stride s, padding p (with −∞) and dilation d. The
    backward pass sends each gradient to the position of its window's maximum (the first on ties).

    Args:
        kernel_size: the window size, an int or a 1-tuple.
        stride: the step between windows (default: ``kernel_size``, windows that do not overlap).
        padding: −∞ added on each side, at most half the window (default 0).
        dilation: the spacing between the window's elements (default 1).
        return_indices: also return the flat position of each maximum in its input plane
            (for ``max_unpool``).
        ceil_mode: keep a last partial window (default False).

    Shape:
        - Input: (N, C, L) or unbatched (C, L).
        - Output: (N, C, L_out), sizes as above.

    Example:
        >>> pool = cr.nn.MaxPool1d(2)
        >>> pool(cr.randn(2, 3, 10)).shape
        (2, 3, 5)
    """

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    r"""2-D max pooling, as ``torch.nn.MaxPool2d``: the maximum of each window.

    $$
    \text{out}(n, c, i, j) = \max_{m < k_h,\, l < k_w} x(n, c, s_h i + m, s_w j + l)
    $$

    (dilation 1). Each spatial size becomes

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    (⌈⌉ with ``ceil_mode``) for kernel size k, stride s, padding p (with −∞) and dilation d. The
    backward pass sends each gradient to the position of its window's maximum (the first on ties).

    Args:
        kernel_size: the window size, an int or a 2-tuple.
        stride: the step between windows (default: ``kernel_size``, windows that do not overlap).
        padding: −∞ added on each side, at most half the window (default 0).
        dilation: the spacing between the window's elements (default 1).
        return_indices: also return the flat position of each maximum in its input plane
            (for ``max_unpool``).
        ceil_mode: keep a last partial window (default False).

    Shape:
        - Input: (N, C, H, W) or unbatched (C, H, W).
        - Output: (N, C, H_out, W_out), sizes as above.

    Example:
        >>> pool = cr.nn.MaxPool2d(2)
        >>> pool(cr.randn(64, 32, 28, 28)).shape
        (64, 32, 14, 14)
    """

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    r"""3-D max pooling, as ``torch.nn.MaxPool3d``: the maximum of each window.

    $$
    \text{out}(n, c, a, i, j) = \max_{m, l, r} x(n, c, s_d a + m, s_h i + l, s_w j + r)
    $$

    (dilation 1). Each spatial size becomes

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    (⌈⌉ with ``ceil_mode``) for kernel size k, stride s, padding p (with −∞) and dilation d. The
    backward pass sends each gradient to the position of its window's maximum (the first on ties).

    Args:
        kernel_size: the window size, an int or a 3-tuple.
        stride: the step between windows (default: ``kernel_size``, windows that do not overlap).
        padding: −∞ added on each side, at most half the window (default 0).
        dilation: the spacing between the window's elements (default 1).
        return_indices: also return the flat position of each maximum in its input plane
            (for ``max_unpool``).
        ceil_mode: keep a last partial window (default False).

    Shape:
        - Input: (N, C, D, H, W) or unbatched (C, D, H, W).
        - Output: (N, C, D_out, H_out, W_out), sizes as above.

    Example:
        >>> pool = cr.nn.MaxPool3d(2)
        >>> pool(cr.randn(1, 2, 8, 8, 8)).shape
        (1, 2, 4, 4, 4)
    """

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
    r"""1-D average pooling, as ``torch.nn.AvgPool1d``: the mean of each window.

    $$
    \text{out}(n, c, \ell) = \frac{1}{k} \sum_{m < k} x(n, c, s\,\ell + m)
    $$

    Each spatial size becomes

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    with d = 1 (⌈⌉ with ``ceil_mode``), for kernel size k, stride s and padding p (with zeros).

    Args:
        kernel_size: the window size, an int or a 1-tuple.
        stride: the step between windows (default: ``kernel_size``).
        padding: zeros added on each side, at most half the window (default 0).
        ceil_mode: keep a last partial window (default False).
        count_include_pad: divide by the whole window, padding included (default True); False
            divides by the real elements only.

    Shape:
        - Input: (N, C, L) or unbatched (C, L).
        - Output: (N, C, L_out), sizes as above.

    Example:
        >>> pool = cr.nn.AvgPool1d(2)
        >>> pool(cr.randn(2, 3, 10)).shape
        (2, 3, 5)
    """

    _nd = 1

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True
    ):
        def single(v):  # PyTorch keeps AvgPool1d's sizes as 1-tuples
            return None if v is None else tuple(v) if isinstance(v, (tuple, list)) else (v,)

        super().__init__(single(kernel_size), single(stride), single(padding), ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    r"""2-D average pooling, as ``torch.nn.AvgPool2d``: the mean of each window.

    $$
    \text{out}(n, c, i, j) = \frac{1}{k_h k_w} \sum_{m < k_h,\, l < k_w} x(n, c, s_h i + m, s_w j + l)
    $$

    Each spatial size becomes

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    with d = 1 (⌈⌉ with ``ceil_mode``), for kernel size k, stride s and padding p (with zeros).

    Args:
        kernel_size: the window size, an int or a 2-tuple.
        stride: the step between windows (default: ``kernel_size``).
        padding: zeros added on each side, at most half the window (default 0).
        ceil_mode: keep a last partial window (default False).
        count_include_pad: divide by the whole window, padding included (default True); False
            divides by the real elements only.
        divisor_override: divide by this number instead of the window size.

    Shape:
        - Input: (N, C, H, W) or unbatched (C, H, W).
        - Output: (N, C, H_out, W_out), sizes as above.

    Example:
        >>> pool = cr.nn.AvgPool2d(2)
        >>> pool(cr.randn(64, 32, 28, 28)).shape
        (64, 32, 14, 14)
    """

    _nd = 2


class AvgPool3d(_AvgPoolNd):
    r"""3-D average pooling, as ``torch.nn.AvgPool3d``: the mean of each window.

    $$
    \text{out}(n, c, a, i, j) = \frac{1}{k_d k_h k_w} \sum_{m, l, r} x(n, c, s_d a + m, s_h i + l, s_w j + r)
    $$

    Each spatial size becomes

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    with d = 1 (⌈⌉ with ``ceil_mode``), for kernel size k, stride s and padding p (with zeros).

    Args:
        kernel_size: the window size, an int or a 3-tuple.
        stride: the step between windows (default: ``kernel_size``).
        padding: zeros added on each side, at most half the window (default 0).
        ceil_mode: keep a last partial window (default False).
        count_include_pad: divide by the whole window, padding included (default True); False
            divides by the real elements only.
        divisor_override: divide by this number instead of the window size.

    Shape:
        - Input: (N, C, D, H, W) or unbatched (C, D, H, W).
        - Output: (N, C, D_out, H_out, W_out), sizes as above.

    Example:
        >>> pool = cr.nn.AvgPool3d(2)
        >>> pool(cr.randn(1, 2, 8, 8, 8)).shape
        (1, 2, 4, 4, 4)
    """

    _nd = 3


class AdaptiveAvgPool2d(Module):
    r"""Average pooling to a fixed output size, whatever the input size, as ``torch.nn.AdaptiveAvgPool2d``.

    Output cell (i, j) of an H_out × W_out grid averages the input rows and columns

    $$
    \left\lfloor \frac{i\,H_{\text{in}}}{H_{\text{out}}} \right\rfloor \le h < \left\lceil \frac{(i +
    1)\,H_{\text{in}}}{H_{\text{out}}} \right\rceil,
    \qquad
    \left\lfloor \frac{j\,W_{\text{in}}}{W_{\text{out}}} \right\rfloor \le w < \left\lceil \frac{(j +
    1)\,W_{\text{in}}}{W_{\text{out}}} \right\rceil
    $$

    ``AdaptiveAvgPool2d(1)`` is global average pooling (one number per channel), the usual head
    of a modern CNN.

    Args:
        output_size: (H_out, W_out), or one int for a square; ``None`` in it keeps that input size.

    Shape:
        - Input: (N, C, H_in, W_in) or unbatched (C, H_in, W_in).
        - Output: (N, C, H_out, W_out).

    Example:
        >>> gap = cr.nn.AdaptiveAvgPool2d(1)
        >>> gap(cr.randn(8, 64, 7, 7)).shape
        (8, 64, 1, 1)
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
    r"""Resize the spatial dims, as ``torch.nn.Upsample`` (the module form of ``F.interpolate``).

    ``'nearest'`` copies the nearest pixel; ``'linear'``, ``'bilinear'`` and ``'trilinear'`` (3-D,
    4-D and 5-D inputs) mix the two neighbours along each dim:

    $$
    y_i = (1 - \lambda_i)\, x_{\lfloor s_i \rfloor} + \lambda_i\, x_{\lfloor s_i \rfloor + 1}
    $$

    Args:
        size: the output spatial size.
        scale_factor: a multiplier of the spatial size (e.g. 2 doubles H and W).
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'`` or ``'trilinear'``.
        align_corners: for the linear modes: the corner pixels' centres stay aligned.
        recompute_scale_factor: compute the source positions from the sizes.

    Shape:
        - Input: (N, C, *S)
        - Output: (N, C, *S_out)

    Example:
        >>> m = cr.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        >>> m(cr.arange(4.0).reshape(1, 1, 2, 2))[0, 0, 0]
        tensor([0.    , 0.3333, 0.6667, 1.    ])
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
        name = type(self).__name__
        _args.choice(name, "mode", mode, P._MODES)
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{name}: exactly one of size or scale_factor should be given")
        for s in _as_list(size):
            _args.integer(name, "size", s, 1)
        for f in _as_list(scale_factor):
            _args.number(name, "scale_factor", f, above=0)
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


class UpsamplingNearest2d(Upsample):
    r"""Nearest-neighbour resizing of (N, C, H, W), as ``torch.nn.UpsamplingNearest2d``.

    $$
    y_{ij} = x_{\lfloor i\,H/H_{out} \rfloor,\ \lfloor j\,W/W_{out} \rfloor}
    $$

    Args:
        size: the output size (H_out, W_out).
        scale_factor: a multiplier of H and W.

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H_out, W_out)

    Example:
        >>> m = cr.nn.UpsamplingNearest2d(scale_factor=2)
        >>> m(cr.ones(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    r"""Bilinear resizing of (N, C, H, W) with ``align_corners=True``, as ``torch.nn.UpsamplingBilinear2d``.

    $$
    y_i = (1 - \lambda_i)\, x_{\lfloor s_i \rfloor} + \lambda_i\, x_{\lfloor s_i \rfloor + 1},
    \quad s_i = i\,\frac{\text{in} - 1}{\text{out} - 1} \quad\text{(along H, then W)}
    $$

    Args:
        size: the output size (H_out, W_out).
        scale_factor: a multiplier of H and W.

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H_out, W_out)

    Example:
        >>> m = cr.nn.UpsamplingBilinear2d(scale_factor=2)
        >>> m(cr.ones(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class Dropout2d(Module):
    r"""Channel dropout: zero whole feature maps while training, as ``torch.nn.Dropout2d``.

    $$
    y_{n,c} = \frac{m_{n,c}\, x_{n,c}}{1 - p}, \qquad m_{n,c} \sim \operatorname{Bernoulli}(1 - p)
    $$

    for each (sample, channel) map of the input in ``train()`` mode; the identity in ``eval()``
    mode. Neighbouring pixels are strongly correlated, so dropping single pixels regularises a
    convolutional net little; dropping channels does.

    Args:
        p: the probability of zeroing a channel, in [0, 1] (default 0.5).
        inplace: accepted for compatibility with PyTorch; the result is always a new tensor.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: the shape of the input.

    Example:
        >>> m = cr.nn.Dropout2d(p=0.5)
        >>> y = m(cr.ones(4, 8, 3, 3))
        >>> sorted(set(y.flatten().tolist()))
        [0.0, 2.0]
        >>> bool((y.amax(dim=(2, 3)) == y.amin(dim=(2, 3))).all())
        True
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p, self.inplace = _args.probability("Dropout2d", "dropout probability", p), inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.dropout2d(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


def _adaptive_size(layer: str, output_size, nd: int):
    """Check ``output_size`` (an int, or a tuple of ``nd`` ints or None) when the layer is built."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    if len(sizes) != nd:
        raise ValueError(f"{layer}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    for s in sizes:
        if s is not None or nd == 1:
            _args.integer(layer, "output_size", s, 1)
    return output_size


class AdaptiveAvgPool1d(Module):
    r"""Average pooling of (N, C, L) to a fixed length, whatever L, as ``torch.nn.AdaptiveAvgPool1d``.

    $$
    \text{out}_i = \operatorname{mean}\, x[\lfloor iL/o \rfloor : \lceil (i+1)L/o \rceil]
    $$

    Args:
        output_size: the output length o.

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: (N, C, o) or (C, o)

    Example:
        >>> m = cr.nn.AdaptiveAvgPool1d(2)
        >>> m(cr.arange(6.0).reshape(1, 1, 6))
        tensor([[[1., 4.]]])
    """

    def __init__(self, output_size: int):
        super().__init__()
        self.output_size = _adaptive_size("AdaptiveAvgPool1d", output_size, 1)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(Module):
    _nd = 1

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size = _adaptive_size(type(self).__name__, output_size, self._nd)
        self.return_indices = return_indices

    def forward(self, input: Tensor):  # noqa: A002
        fn = (P.adaptive_max_pool1d, P.adaptive_max_pool2d, P.adaptive_max_pool3d)[self._nd - 1]
        return fn(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    r"""Max pooling of (N, C, L) to a fixed length, as ``torch.nn.AdaptiveMaxPool1d``.

    $$
    \text{out}_i = \max\, x[\lfloor iL/o \rfloor : \lceil (i+1)L/o \rceil]
    $$

    Args:
        output_size: the output length o.
        return_indices: also return where each maximum is (for ``MaxUnpool1d``).

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: (N, C, o) or (C, o)

    Example:
        >>> m = cr.nn.AdaptiveMaxPool1d(2)
        >>> m(cr.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]]))
        tensor([[[5., 3.]]])
    """

    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    r"""Max pooling of (N, C, H, W) to a fixed size, as ``torch.nn.AdaptiveMaxPool2d``.

    $$
    \text{out}_{ij} = \max\, x[\lfloor iH/o_H \rfloor : \lceil (i+1)H/o_H \rceil,\;
    \lfloor jW/o_W \rfloor : \lceil (j+1)W/o_W \rceil]
    $$

    Args:
        output_size: an int or a pair (oH, oW); None in the pair keeps that input size.
        return_indices: also return the flat positions h·W + w of the maxima.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, oH, oW) or (C, oH, oW)

    Example:
        >>> m = cr.nn.AdaptiveMaxPool2d((1, 2))
        >>> m(cr.arange(8.0).reshape(1, 1, 2, 4))
        tensor([[[[5., 7.]]]])
    """

    _nd = 2


class _MaxUnpoolNd(Module):
    _nd = 1

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _args.ints(name, "kernel_size", kernel_size, self._nd, minimum=1)
        self.stride = (
            self.kernel_size if stride is None else _args.ints(name, "stride", stride, self._nd, minimum=1)
        )
        self.padding = _args.ints(name, "padding", padding, self._nd, minimum=0)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:  # noqa: A002
        op = f"max_unpool{self._nd}d"
        return P.max_unpool_nd(
            op, self._nd, input, indices, self.kernel_size, self.stride, self.padding, output_size
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    r"""Put the maxima of ``MaxPool1d`` back in place, zeros elsewhere, as ``torch.nn.MaxUnpool1d``.

    $$
    \text{out}[n, c, \text{indices}[n, c, i]] = x[n, c, i]
    $$

    Args:
        kernel_size: the pool's kernel size.
        stride: the pool's stride (default ``kernel_size``).
        padding: the pool's padding.

    Shape:
        - Input: (N, C, L_in) or (C, L_in), and indices of the same shape
        - Output: (N, C, L_out), L_out = (L_in - 1)·stride - 2·padding + kernel_size, or
          ``output_size`` given to ``forward``

    Example:
        >>> pool, unpool = cr.nn.MaxPool1d(2, return_indices=True), cr.nn.MaxUnpool1d(2)
        >>> unpool(*pool(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]])))
        tensor([[[0., 3., 2., 0.]]])
    """

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    r"""Put the maxima of ``MaxPool2d`` back in place, zeros elsewhere, as ``torch.nn.MaxUnpool2d``.

    $$
    \text{out}[n, c, \text{indices}[n, c, i, j]] = x[n, c, i, j] \quad\text{(flat positions h·W + w)}
    $$

    Args:
        kernel_size: the pool's kernel size.
        stride: the pool's stride (default ``kernel_size``).
        padding: the pool's padding.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in), and indices of the same shape
        - Output: (N, C, H_out, W_out), H_out = (H_in - 1)·stride - 2·padding + kernel_size (W alike),
          or ``output_size`` given to ``forward`` (within a stride of that)

    Example:
        >>> pool, unpool = cr.nn.MaxPool2d(2, return_indices=True), cr.nn.MaxUnpool2d(2)
        >>> out, idx = pool(cr.arange(25.0).reshape(1, 1, 5, 5))
        >>> unpool(out, idx, output_size=(5, 5)).shape
        (1, 1, 5, 5)
    """

    _nd = 2


class AdaptiveAvgPool3d(Module):
    r"""Average pooling of (N, C, D, H, W) to a fixed size, as ``torch.nn.AdaptiveAvgPool3d``.

    $$
    \text{out}_{ijl} = \operatorname{mean} x[\lfloor iD/o_D \rfloor : \lceil (i+1)D/o_D \rceil, \ldots]
    $$

    Args:
        output_size: an int or a triple (oD, oH, oW); None keeps that input size.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, oD, oH, oW) or (C, oD, oH, oW)

    Example:
        >>> m = cr.nn.AdaptiveAvgPool3d(1)
        >>> m(cr.ones(2, 3, 4, 5, 6)).shape
        (2, 3, 1, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _adaptive_size("AdaptiveAvgPool3d", output_size, 3)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    r"""Max pooling of (N, C, D, H, W) to a fixed size, as ``torch.nn.AdaptiveMaxPool3d``.

    $$
    \text{out}_{ijl} = \max\, x[\lfloor iD/o_D \rfloor : \lceil (i+1)D/o_D \rceil, \ldots]
    $$

    Args:
        output_size: an int or a triple (oD, oH, oW); None keeps that input size.
        return_indices: also return the flat positions d·H·W + h·W + w of the maxima.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, oD, oH, oW) or (C, oD, oH, oW)

    Example:
        >>> m = cr.nn.AdaptiveMaxPool3d((1, 2, 2))
        >>> m(cr.ones(2, 3, 4, 5, 6)).shape
        (2, 3, 1, 2, 2)
    """

    _nd = 3


class MaxUnpool3d(_MaxUnpoolNd):
    r"""Put the maxima of ``MaxPool3d`` back in place, zeros elsewhere, as ``torch.nn.MaxUnpool3d``.

    $$
    \text{out}[n, c, \text{indices}[n, c, i, j, l]] = x[n, c, i, j, l]
    $$

    Args:
        kernel_size: the pool's kernel size.
        stride: the pool's stride (default ``kernel_size``).
        padding: the pool's padding.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in), and indices of the same shape
        - Output: (N, C, D_out, H_out, W_out), each (in - 1)·stride - 2·padding + kernel_size, or
          ``output_size`` given to ``forward``

    Example:
        >>> pool, unpool = cr.nn.MaxPool3d(2, return_indices=True), cr.nn.MaxUnpool3d(2)
        >>> unpool(*pool(cr.randn(1, 1, 4, 4, 4))).shape
        (1, 1, 4, 4, 4)
    """

    _nd = 3


class _LPPoolNd(Module):
    _nd = 1

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        name = type(self).__name__
        _args.number(name, "norm_type", norm_type)
        if norm_type == 0:
            raise ValueError(f"{name}: norm_type must be nonzero, got {norm_type!r}")
        _args.ints(name, "kernel_size", kernel_size, self._nd, minimum=1)
        if stride is not None:
            _args.ints(name, "stride", stride, self._nd, minimum=1)
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = (
            norm_type,
            kernel_size,
            stride,
            ceil_mode,
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.lp_pool_nd(
            f"lp_pool{self._nd}d",
            self._nd,
            input,
            self.norm_type,
            self.kernel_size,
            self.stride,
            self.ceil_mode,
        )

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    r"""Power-average pooling over (N, C, L), as ``torch.nn.LPPool1d``.

    $$
    \text{out} = \Big(\sum_{x \in \text{window}} x^p\Big)^{1/p}
    $$

    Args:
        norm_type: p (1: sum pooling, ∞: max pooling of |x|).
        kernel_size: the window length.
        stride: the step (default ``kernel_size``).
        ceil_mode: keep a last partial window.

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: (N, C, L_out) or (C, L_out)

    Example:
        >>> m = cr.nn.LPPool1d(2, 2)
        >>> m(cr.tensor([[[3.0, 4.0, 1.0, 0.0]]]))
        tensor([[[5., 1.]]])
    """

    _nd = 1


class LPPool2d(_LPPoolNd):
    r"""Power-average pooling over (N, C, H, W), as ``torch.nn.LPPool2d``.

    $$
    \text{out} = \Big(\sum_{x \in \text{window}} x^p\Big)^{1/p}
    $$

    Args:
        norm_type: p (1: sum pooling, ∞: max pooling of |x|).
        kernel_size: the window size.
        stride: the step (default ``kernel_size``).
        ceil_mode: keep a last partial window.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out)

    Example:
        >>> m = cr.nn.LPPool2d(1, 2)
        >>> m(cr.ones(1, 1, 2, 2))
        tensor([[[[4.]]]])
    """

    _nd = 2


class LPPool3d(_LPPoolNd):
    r"""Power-average pooling over (N, C, D, H, W), as ``torch.nn.LPPool3d``.

    $$
    \text{out} = \Big(\sum_{x \in \text{window}} x^p\Big)^{1/p}
    $$

    Args:
        norm_type: p (1: sum pooling, ∞: max pooling of |x|).
        kernel_size: the window size.
        stride: the step (default ``kernel_size``).
        ceil_mode: keep a last partial window.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out)

    Example:
        >>> m = cr.nn.LPPool3d(2, 2)
        >>> m(cr.ones(1, 1, 2, 2, 2))
        tensor([[[[[2.8284]]]]])
    """

    _nd = 3


class _ChannelDropout(Module):
    _nd = 1

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        _args.probability(type(self).__name__, "dropout probability", p)
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return (P.dropout1d if self._nd == 1 else P.dropout3d)(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_ChannelDropout):
    r"""Zero whole channels of (N, C, L) while training, as ``torch.nn.Dropout1d``.

    $$
    \text{out}_{nc\cdot} = x_{nc\cdot}\, m_{nc} / (1 - p), \quad m_{nc} \sim \text{Bernoulli}(1 - p)
    $$

    Args:
        p: the probability of zeroing a channel.
        inplace: accepted for compatibility.

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: the same

    Example:
        >>> m = cr.nn.Dropout1d(0.5)
        >>> m(cr.ones(2, 3, 4)).shape
        (2, 3, 4)
    """

    _nd = 1


class Dropout3d(_ChannelDropout):
    r"""Zero whole channels of (N, C, D, H, W) while training, as ``torch.nn.Dropout3d``.

    $$
    \text{out}_{nc\cdot} = x_{nc\cdot}\, m_{nc} / (1 - p), \quad m_{nc} \sim \text{Bernoulli}(1 - p)
    $$

    Args:
        p: the probability of zeroing a channel.
        inplace: accepted for compatibility.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: the same

    Example:
        >>> m = cr.nn.Dropout3d(0.5)
        >>> m(cr.ones(2, 3, 2, 2, 2)).shape
        (2, 3, 2, 2, 2)
    """

    _nd = 3
