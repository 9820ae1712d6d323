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
    r"""Resize the spatial dims by copying the nearest pixel, as ``torch.nn.Upsample(mode='nearest')``.

    $$
    \text{out}(n, c, i, j) = x\left(n, c, \min\left(\lfloor i\,H_{\text{in}}/H_{\text{out}} \rfloor,
    H_{\text{in}} - 1\right), \min\left(\lfloor j\,W_{\text{in}}/W_{\text{out}} \rfloor, W_{\text{in}} -
    1\right)\right)
    $$

    (with a ``scale_factor`` s the ratio is 1/s, as PyTorch). Give ``size`` or ``scale_factor``,
    not both.

    Args:
        size: the output spatial size (an int or one per spatial dim).
        scale_factor: the factor of each spatial size (e.g. 2 doubles H and W).
        mode: only ``'nearest'``.
        align_corners: accepted for compatibility (``None``; nearest ignores it).
        recompute_scale_factor: accepted for compatibility with PyTorch.

    Shape:
        - Input: (N, C, L), (N, C, H, W) or (N, C, D, H, W).
        - Output: (N, C, L_out), (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out).

    Example:
        >>> up = cr.nn.Upsample(scale_factor=2)
        >>> up(cr.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.],
                  [3., 3., 4., 4.],
                  [3., 3., 4., 4.]]]])
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
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.dropout2d(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
