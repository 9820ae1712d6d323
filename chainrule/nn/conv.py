"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d`` and ``ConvTranspose1d/2d/3d``.

A convolution layer slides ``out_channels`` learned filters, each of size
``in_channels/groups × kernel_size``, over its input; every output value is one filter's
dot product with one patch.  The same filter is used at every position (weight sharing),
so the layer is small and detects a pattern wherever it appears.

Output size along each spatial dim::

    out = floor((in + 2·padding - dilation·(kernel_size - 1) - 1) / stride) + 1

Parameters as PyTorch: ``weight`` (out_channels, in_channels/groups, *kernel_size)
(transposed: (in_channels, out_channels/groups, *kernel_size)) and ``bias``
(out_channels,), initialised with ``kaiming_uniform_(a=√5)`` and U(±1/√fan_in).
The ops are in ``chainrule/ops/conv.py``.

Example::

    conv = nn.Conv2d(1, 32, kernel_size=3, padding=1)   # 28x28 stays 28x28
    conv(cr.randn(64, 1, 28, 28)).shape                  # (64, 32, 28, 28)
"""

from __future__ import annotations

import math

from chainrule.nn import init
from chainrule.nn.module import Module, new_parameter
from chainrule.ops import _args
from chainrule.ops.conv import _same_padding, conv_nd, conv_transpose_nd
from chainrule.ops.shape import pad as _pad
from chainrule.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolution layers."""

    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        output_padding=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        in_channels = _args.integer(name, "in_channels", in_channels, 0)
        out_channels = _args.integer(name, "out_channels", out_channels, 0)
        groups = _args.integer(name, "groups", groups, 1)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        _args.choice(name, "padding_mode", padding_mode, _PADDING_MODES)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _args.ints(name, "kernel_size", kernel_size, nd, minimum=1)
        self.stride = _args.ints(name, "stride", stride, nd, minimum=1)
        self.dilation = _args.ints(name, "dilation", dilation, nd, minimum=1)
        if isinstance(padding, str):
            _args.choice(name, "padding", padding, ("same", "valid"))
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions (stride {self.stride})"
                )
            self.padding = padding
        else:
            self.padding = _args.ints(name, "padding", padding, nd, minimum=0)
        self.output_padding = _args.ints(name, "output_padding", output_padding, nd, minimum=0)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(
                    f"{name}: output_padding {self.output_padding} must be smaller than either stride "
                    f"{self.stride} or dilation {self.dilation} in each dim"
                )
        self.groups, self.padding_mode = groups, padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        name = type(self).__name__
        self.weight = new_parameter(name, shape, device, dtype)
        if bias:
            self.bias = new_parameter(name, (out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W ~ kaiming_uniform_(a=√5) = U(±1/√fan_in), b ~ U(±1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = init.default_bounds(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"  # PyTorch prints padding=same unquoted
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            0,
            device,
            dtype,
        )

    def _explicit_padding(self) -> list:
        """F.pad widths (last dim first) for a non-'zeros' padding_mode."""
        if self.padding == "valid":
            return [0] * (2 * self._nd)
        if self.padding == "same":
            lo, hi = _same_padding(self.kernel_size, self.dilation)
        else:
            lo = hi = self.padding
        widths = []
        for a, b in zip(reversed(lo), reversed(hi)):
            widths += [a, b]
        return widths

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        op = f"conv{self._nd}d"
        if self.padding_mode != "zeros":
            x = _pad(input, self._explicit_padding(), mode=self.padding_mode)
            return conv_nd(
                op, self._nd, x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups
            )
        return conv_nd(
            op, self._nd, input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv1d(_Conv):
    r"""1-D convolution (cross-correlation, as PyTorch), as ``torch.nn.Conv1d``.

    $$
    \text{out}(n, c_{\text{out}}) = b(c_{\text{out}}) + \sum_{k=0}^{C_{\text{in}}/G - 1} W(c_{\text{out}},
    k) \star x(n, g\,C_{\text{in}}/G + k)
    $$

    where ⋆ is the 1-D cross-correlation and g the group of c_out. Along each spatial dim:

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    with padding p, dilation d, kernel size k and stride s.
    Parameters as PyTorch: ``weight`` (C_out, C_in/groups, *kernel_size) and ``bias`` (C_out,),
    initialised with ``kaiming_uniform_(a=√5)`` and U(±1/√fan_in).

    Args:
        in_channels: channels of the input, C_in.
        out_channels: channels of the output (the number of filters), C_out.
        kernel_size: the filter size, an int or a 1-tuple.
        stride: the step between windows (default 1).
        padding: zeros added on each side: an int, a 1-tuple, ``'valid'`` (none) or ``'same'``
            (the output keeps the input's size; stride 1 only) (default 0).
        dilation: the spacing between filter taps (default 1).
        groups: split the channels into groups convolved separately; ``groups=in_channels`` is a
            depthwise convolution (default 1).
        bias: learn the bias b (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (N, C_in, L) or unbatched (C_in, L).
        - Output: (N, C_out, L_out), sizes as above.

    Example:
        >>> conv = cr.nn.Conv1d(4, 8, kernel_size=3, padding=1)
        >>> conv(cr.randn(2, 4, 50)).shape
        (2, 8, 50)
        >>> conv.weight.shape
        (8, 4, 3)
    """

    _nd = 1


class Conv2d(_Conv):
    r"""2-D convolution (cross-correlation, as PyTorch), as ``torch.nn.Conv2d``.

    $$
    \text{out}(n, c_{\text{out}}) = b(c_{\text{out}}) + \sum_{k=0}^{C_{\text{in}}/G - 1} W(c_{\text{out}},
    k) \star x(n, g\,C_{\text{in}}/G + k)
    $$

    where ⋆ is the 2-D cross-correlation and g the group of c_out. Along each spatial dim:

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    with padding p, dilation d, kernel size k and stride s.
    One filter per output channel slides over the image; every output value is that filter's dot
    product with one patch, so the layer detects a pattern wherever it appears (weight sharing).

    Parameters as PyTorch: ``weight`` (C_out, C_in/groups, *kernel_size) and ``bias`` (C_out,),
    initialised with ``kaiming_uniform_(a=√5)`` and U(±1/√fan_in).

    Args:
        in_channels: channels of the input, C_in.
        out_channels: channels of the output (the number of filters), C_out.
        kernel_size: the filter size, an int or a 2-tuple.
        stride: the step between windows (default 1).
        padding: zeros added on each side: an int, a 2-tuple, ``'valid'`` (none) or ``'same'``
            (the output keeps the input's size; stride 1 only) (default 0).
        dilation: the spacing between filter taps (default 1).
        groups: split the channels into groups convolved separately; ``groups=in_channels`` is a
            depthwise convolution (default 1).
        bias: learn the bias b (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (N, C_in, H, W) or unbatched (C_in, H, W).
        - Output: (N, C_out, H_out, W_out), sizes as above.

    Example:
        >>> conv = cr.nn.Conv2d(1, 32, kernel_size=3, padding=1)
        >>> conv(cr.randn(64, 1, 28, 28)).shape
        (64, 32, 28, 28)
        >>> conv.weight.shape
        (32, 1, 3, 3)
    """

    _nd = 2


class Conv3d(_Conv):
    r"""3-D convolution (cross-correlation, as PyTorch), as ``torch.nn.Conv3d``.

    $$
    \text{out}(n, c_{\text{out}}) = b(c_{\text{out}}) + \sum_{k=0}^{C_{\text{in}}/G - 1} W(c_{\text{out}},
    k) \star x(n, g\,C_{\text{in}}/G + k)
    $$

    where ⋆ is the 3-D cross-correlation and g the group of c_out. Along each spatial dim:

    $$
    L_{\text{out}} = \left\lfloor \frac{L_{\text{in}} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1
    $$

    with padding p, dilation d, kernel size k and stride s.
    Parameters as PyTorch: ``weight`` (C_out, C_in/groups, *kernel_size) and ``bias`` (C_out,),
    initialised with ``kaiming_uniform_(a=√5)`` and U(±1/√fan_in).

    Args:
        in_channels: channels of the input, C_in.
        out_channels: channels of the output (the number of filters), C_out.
        kernel_size: the filter size, an int or a 3-tuple.
        stride: the step between windows (default 1).
        padding: zeros added on each side: an int, a 3-tuple, ``'valid'`` (none) or ``'same'``
            (the output keeps the input's size; stride 1 only) (default 0).
        dilation: the spacing between filter taps (default 1).
        groups: split the channels into groups convolved separately; ``groups=in_channels`` is a
            depthwise convolution (default 1).
        bias: learn the bias b (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        - Output: (N, C_out, D_out, H_out, W_out), sizes as above.

    Example:
        >>> conv = cr.nn.Conv3d(2, 4, kernel_size=3, stride=2)
        >>> conv(cr.randn(1, 2, 9, 9, 9)).shape
        (1, 4, 4, 4, 4)
        >>> conv.weight.shape
        (4, 2, 3, 3, 3)
    """

    _nd = 3


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        if padding_mode != "zeros":
            raise ValueError(
                f"{type(self).__name__}: only 'zeros' padding_mode is supported, got {padding_mode!r}"
            )
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            device,
            dtype,
        )

    def _output_padding(self, input: Tensor, output_size) -> tuple:  # noqa: A002
        """The output_padding that gives ``output_size`` (PyTorch's ``forward(input, output_size)``)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = tuple(int(s) for s in output_size)[-nd:]
        if len(size) != nd:
            raise ValueError(
                f"{type(self).__name__}: output_size must have {nd} or {nd + 2} elements, "
                f"got {tuple(output_size)}"
            )
        result = []
        for i in range(nd):
            smallest = (
                (input.shape[-nd + i] - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            if not smallest <= size[i] < smallest + self.stride[i]:
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {size}, but valid sizes "
                    f"range from {smallest} to {smallest + self.stride[i] - 1} in dim {i} "
                    f"(input shape {tuple(input.shape)})"
                )
            result.append(size[i] - smallest)
        return tuple(result)

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return conv_transpose_nd(
            f"conv_transpose{self._nd}d",
            self._nd,
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTransposeNd):
    r"""1-D transposed convolution ("deconvolution"), as ``torch.nn.ConvTranspose1d``.

    The adjoint of ``Conv1d``: the gradient of a convolution with respect to its input, used to
    upsample (stride 2 doubles each spatial size). Each input value scatters a copy of the filter,
    scaled by it, onto the output:

    $$
    \text{out}(n, c_{\text{out}}) = b(c_{\text{out}}) + \sum_{c_{\text{in}}} W(c_{\text{in}},
    c_{\text{out}}) \ast_{s} x(n, c_{\text{in}})
    $$

    and along each spatial dim

    $$
    L_{\text{out}} = (L_{\text{in}} - 1)\,s - 2p + d\,(k - 1) + p_{\text{out}} + 1
    $$

    with stride s, padding p, dilation d, kernel size k and output padding p_out.
    ``weight`` is (C_in, C_out/groups, *kernel_size); ``forward(x, output_size=...)`` picks the
    output padding that gives that size.

    Args:
        in_channels: channels of the input, C_in.
        out_channels: channels of the output, C_out.
        kernel_size: the filter size, an int or a 1-tuple.
        stride: the upsampling factor (default 1).
        padding: the padding p of the convolution this layer is the adjoint of:
            an int or a 1-tuple (default 0).
        output_padding: extra size added to one side of the output, to pick among the input sizes
            a strided convolution maps to the same output size (default 0).
        groups: split the channels into groups (default 1).
        bias: learn the bias b (default True).
        dilation: the spacing between filter taps (default 1).
        padding_mode: only ``'zeros'``.
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (N, C_in, L) or unbatched (C_in, L).
        - Output: (N, C_out, L_out), sizes as above.

    Example:
        >>> up = cr.nn.ConvTranspose1d(8, 4, kernel_size=2, stride=2)
        >>> up(cr.randn(2, 8, 25)).shape
        (2, 4, 50)
        >>> up.weight.shape
        (8, 4, 2)
    """

    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    r"""2-D transposed convolution ("deconvolution"), as ``torch.nn.ConvTranspose2d``.

    The adjoint of ``Conv2d``: the gradient of a convolution with respect to its input, used to
    upsample (stride 2 doubles each spatial size). Each input value scatters a copy of the filter,
    scaled by it, onto the output:

    $$
    \text{out}(n, c_{\text{out}}) = b(c_{\text{out}}) + \sum_{c_{\text{in}}} W(c_{\text{in}},
    c_{\text{out}}) \ast_{s} x(n, c_{\text{in}})
    $$

    and along each spatial dim

    $$
    L_{\text{out}} = (L_{\text{in}} - 1)\,s - 2p + d\,(k - 1) + p_{\text{out}} + 1
    $$

    with stride s, padding p, dilation d, kernel size k and output padding p_out.
    ``weight`` is (C_in, C_out/groups, *kernel_size); ``forward(x, output_size=...)`` picks the
    output padding that gives that size.

    Args:
        in_channels: channels of the input, C_in.
        out_channels: channels of the output, C_out.
        kernel_size: the filter size, an int or a 2-tuple.
        stride: the upsampling factor (default 1).
        padding: the padding p of the convolution this layer is the adjoint of:
            an int or a 2-tuple (default 0).
        output_padding: extra size added to one side of the output, to pick among the input sizes
            a strided convolution maps to the same output size (default 0).
        groups: split the channels into groups (default 1).
        bias: learn the bias b (default True).
        dilation: the spacing between filter taps (default 1).
        padding_mode: only ``'zeros'``.
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (N, C_in, H, W) or unbatched (C_in, H, W).
        - Output: (N, C_out, H_out, W_out), sizes as above.

    Example:
        >>> up = cr.nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        >>> up(cr.randn(1, 16, 7, 7)).shape
        (1, 8, 14, 14)
        >>> up.weight.shape
        (16, 8, 2, 2)
    """

    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    r"""3-D transposed convolution ("deconvolution"), as ``torch.nn.ConvTranspose3d``.

    The adjoint of ``Conv3d``: the gradient of a convolution with respect to its input, used to
    upsample (stride 2 doubles each spatial size). Each input value scatters a copy of the filter,
    scaled by it, onto the output:

    $$
    \text{out}(n, c_{\text{out}}) = b(c_{\text{out}}) + \sum_{c_{\text{in}}} W(c_{\text{in}},
    c_{\text{out}}) \ast_{s} x(n, c_{\text{in}})
    $$

    and along each spatial dim

    $$
    L_{\text{out}} = (L_{\text{in}} - 1)\,s - 2p + d\,(k - 1) + p_{\text{out}} + 1
    $$

    with stride s, padding p, dilation d, kernel size k and output padding p_out.
    ``weight`` is (C_in, C_out/groups, *kernel_size); ``forward(x, output_size=...)`` picks the
    output padding that gives that size.

    Args:
        in_channels: channels of the input, C_in.
        out_channels: channels of the output, C_out.
        kernel_size: the filter size, an int or a 3-tuple.
        stride: the upsampling factor (default 1).
        padding: the padding p of the convolution this layer is the adjoint of:
            an int or a 3-tuple (default 0).
        output_padding: extra size added to one side of the output, to pick among the input sizes
            a strided convolution maps to the same output size (default 0).
        groups: split the channels into groups (default 1).
        bias: learn the bias b (default True).
        dilation: the spacing between filter taps (default 1).
        padding_mode: only ``'zeros'``.
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        - Output: (N, C_out, D_out, H_out, W_out), sizes as above.

    Example:
        >>> up = cr.nn.ConvTranspose3d(4, 2, kernel_size=2, stride=2)
        >>> up(cr.randn(1, 4, 3, 3, 3)).shape
        (1, 2, 6, 6, 6)
        >>> up.weight.shape
        (4, 2, 2, 2, 2)
    """

    _nd = 3
