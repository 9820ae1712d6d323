"""Convolutions (1-D, 2-D, 3-D, transposed), lowered to one big matrix multiply.

A convolution slides a small kernel over the input and, at every output position,
takes the dot product of the kernel with the patch of input under it::

    out[n, o, p] = b[o] + Σ_c Σ_k  w[o, c, k] · x_pad[n, c, p·stride + k·dilation]

(``p`` and ``k`` run over the spatial positions and kernel offsets; ``x_pad`` is
``x`` with ``padding`` zeros around it.)  PyTorch layouts: ``x`` (N, C_in, *S),
``w`` (C_out, C_in/groups, *K), ``out`` (N, C_out, *O).

**im2col.**  Copying every patch into one row of a matrix (the "columns") turns
all those dot products into a single matrix product::

    cols (N·O, K·C_in)  @  Wᵀ (K·C_in, C_out)  =  out (N·O, C_out)

The array code (im2col through strided views, channels-last outputs, col2im) lives in
``chainrule/kernels/conv.py``, beside a plain loop version of each map it is tested against.

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
derivatives).  On the engine's fast path the same backward runs the kernels on arrays.
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.backend import np
from chainrule.kernels import conv as K
from chainrule.kernels.conv import make_geometry
from chainrule.ops import bmath as bm
from chainrule.tensor import Tensor

# ----------------------------------------------------------------------------- differentiable ops
#
# Each op's backward is written once with ``bm.apply``: on the fast path it calls the array kernel of
# the op it names (``K.conv_input_grad``, ...), under create_graph=True that op itself, recorded.


class ConvNd(Function):
    """N-D convolution.

    out = conv(x, w) + b (cross-correlation, as PyTorch);
    dx = conv_transpose(grad, w), dw = gradᵀ·cols (ConvWeightGrad), db = Σ grad.
    """

    array_backward = True

    @staticmethod
    def kernel(x, w, b, geom):
        return K.conv_forward(x, w, b, geom)[0]

    @staticmethod
    def forward(ctx, x, w, b, geom):
        keep = ctx.recorded and w.requires_grad  # backward's gradᵀ·cols reuses forward's columns
        out, cols = K.conv_forward(x._data, w._data, None if b is None else b._data, geom, keep_cols=keep)
        if ctx.recorded:
            ctx.geom, ctx.cols = geom, cols
            ctx.save_for_backward(x, w)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geom, cols = ctx.geom, ctx.cols
        ctx.cols = None
        gx = bm.apply(ConvTransposeNd, grad, w, None, geom) if need_x else None
        gw = gb = None
        if need_w and need_b:  # one product gives both when cols carries its column of ones
            gw, gb = bm.apply(ConvWeightGrad, x, grad, geom, w.shape, cols, True)
        elif need_w:
            gw = bm.apply(ConvWeightGrad, x, grad, geom, w.shape, cols, False)
        elif need_b:
            gb = bm.apply(ChannelSum, grad)
        return gx, gw, gb, None

    def release(self) -> None:
        super().release()
        self.cols = None


class ConvTransposeNd(Function):
    """N-D transposed convolution.

    out = conv_transpose(g, w) + b: the adjoint of x ↦ conv(x, w) (``geom`` is that conv's);
    dg = conv(grad, w), dw = ConvWeightGrad(grad, g), db = Σ grad.
    """

    array_backward = True

    @staticmethod
    def kernel(g, w, b, geom):
        return K.conv_input_grad(g, w, geom, b)

    @staticmethod
    def forward(ctx, g, w, b, geom):
        if ctx.recorded:
            ctx.geom = geom
            ctx.save_for_backward(g, w)
        return K.conv_input_grad(g._data, w._data, geom, None if b is None else b._data)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        need_g, need_w, need_b = ctx.needs_input_grad[:3]
        geom = ctx.geom
        gg = bm.apply(ConvNd, grad, w, None, geom) if need_g else None
        gw = bm.apply(ConvWeightGrad, grad, g, geom, w.shape, None, False) if need_w else None
        gb = bm.apply(ChannelSum, grad) if need_b else None
        return gg, gw, gb, None


class ConvWeightGrad(Function):
    """The weight (and bias) gradient of a convolution.

    dw = dL/dw of conv(x, w) + b at dL/dout = g (shape of w) and, with ``bias``, db = Σ g too;
    dx = conv_transpose(g, grad_w), dg = conv(x, grad_w) + grad_b (``cols``: x's columns when known).
    """

    array_backward = True

    @staticmethod
    def kernel(x, g, geom, w_shape, cols=None, bias=False):
        dw, db = K.conv_weight_grad(x, g, geom, w_shape, cols, bias)
        return (dw, db) if bias else dw

    @staticmethod
    def forward(ctx, x, g, geom, w_shape, cols=None, bias=False):
        if ctx.recorded:
            ctx.geom = geom
            ctx.save_for_backward(x, g)
        return ConvWeightGrad.kernel(x._data, g._data, geom, w_shape, cols, bias)

    @staticmethod
    def backward(ctx, grad_w, grad_b=None):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        geom = ctx.geom
        gx = bm.apply(ConvTransposeNd, g, grad_w, None, geom) if need_x else None
        gg = bm.apply(ConvNd, x, grad_w, grad_b, geom) if need_g else None
        return gx, gg, None, None, None, None


class ChannelSum(Function):
    """out[c] = Σ x[:, c, ...] (a bias gradient);  dx = grad broadcast over the other dims."""

    array_backward = True
    kernel = staticmethod(K.channel_sum)

    @staticmethod
    def forward(ctx, x):
        if ctx.recorded:
            ctx.shape = x.shape
        return K.channel_sum(x._data)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.shape
        return bm.broadcast_to(grad.reshape((1, shape[1]) + (1,) * (len(shape) - 2)), shape)


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
    if c_out == 0:
        raise RuntimeError(
            f"{op}: expected a weight with at least 1 output channel (dim 0), got weight of shape "
            f"{tuple(weight.shape)}"
        )
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
    """1-D convolution.

    1-D convolution over (N, C_in, L) with weight (C_out, C_in/groups, k), as
    ``torch.nn.functional.conv1d``.

    ``padding``: an int, a tuple, ``'valid'`` (none) or ``'same'`` (output as long as the input).
    """
    return conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:  # noqa: A002
    """2-D convolution.

    2-D convolution over (N, C_in, H, W) with weight (C_out, C_in/groups, kH, kW), as
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
