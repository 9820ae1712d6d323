"""Resampling ops.

Linear interpolation for ``interpolate`` (modes linear, bilinear, trilinear), ``grid_sample`` and
``affine_grid`` (the spatial transformer's two halves).

All three read an input at fractional positions and mix the neighbouring pixels with weights
that are linear in the position.

- The linear resize is one op per dim, ``LinearResize`` (y = w0·x[i0] + w1·x[i1], array code in
  ``chainrule/kernels/sampling.py``), whose derivative is its adjoint ``LinearResizeAdjoint`` and
  the other way round, so second derivatives work.
- ``grid_sample`` and ``affine_grid`` are compositions of differentiable ops: the integer
  neighbours and the in-bounds masks are constants, the pixel reads are integer indexing (whose
  gradient adds back into the pixels), the weights are arithmetic on the positions.  So the
  gradients towards the input, the grid and theta, and the second derivatives, come from those
  ops' own backwards.

The positions are computed in the input's precision with PyTorch's formulas (float32 for a
float32 input), so the neighbours picked and the weights agree with PyTorch's to the last bit
where it matters (a position just below an integer).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

from chainrule.autograd.function import Function
from chainrule.backend import np, to_device, xp_of
from chainrule.kernels import sampling as K
from chainrule.ops import bmath as bm
from chainrule.ops.linalg import matmul
from chainrule.tensor import Tensor

# ----------------------------------------------------------------------------- linear interpolation


def _source_positions(n_in: int, n_out: int, scale, align_corners: bool, dtype):
    """(index0, index1, lambda0, lambda1) of PyTorch's linear upsampling along one dim.

    Output i reads input positions index0 and index1 with weights lambda0 = 1 - lambda1 and lambda1.
    """
    ft = np.dtype(dtype).type
    i = np.arange(n_out, dtype=dtype)
    if align_corners:
        ratio = ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
        src = ratio * i
    else:
        ratio = ft(1.0 / scale) if scale else ft(n_in) / ft(n_out)
        src = np.maximum(ratio * (i + ft(0.5)) - ft(0.5), ft(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, (ft(1) - lam1).astype(dtype), lam1


class LinearResize(Function):
    """out = w0·x[i0] + w1·x[i1] along one axis (linear interpolation);  dx = its adjoint."""

    array_backward = True

    @staticmethod
    def kernel(x, axis, plan, n_in):
        return K.linear_mix(x, axis, plan)

    @staticmethod
    def forward(ctx, x, axis, plan, n_in):
        if ctx.recorded:
            ctx.axis, ctx.plan, ctx.n_in = axis, plan, n_in
        return K.linear_mix(x._data, axis, plan)

    @staticmethod
    def backward(ctx, grad):
        return bm.apply(LinearResizeAdjoint, grad, ctx.axis, ctx.plan, ctx.n_in), None, None, None


class LinearResizeAdjoint(Function):
    """out = the output gradients added back onto the inputs they mixed;  d(grad) = the mix."""

    array_backward = True

    @staticmethod
    def kernel(g, axis, plan, n_in):
        return K.linear_mix_adjoint(g, axis, plan, n_in)

    @staticmethod
    def forward(ctx, g, axis, plan, n_in):
        if ctx.recorded:
            ctx.axis, ctx.plan, ctx.n_in = axis, plan, n_in
        return K.linear_mix_adjoint(g._data, axis, plan, n_in)

    @staticmethod
    def backward(ctx, h):
        return bm.apply(LinearResize, h, ctx.axis, ctx.plan, ctx.n_in), None, None, None


def linear_resize(x: Tensor, out_size: tuple, scales: tuple, align_corners: bool) -> Tensor:
    r"""Resize the spatial dims of (N, C, *S) to ``out_size`` by (bi/tri)linear interpolation.

    Along each dim, output i mixes the two input pixels around its source position s:

    $$
    y_i = (1 - \lambda_i)\, x_{\lfloor s_i \rfloor} + \lambda_i\, x_{\lfloor s_i \rfloor + 1},
    \quad \lambda_i = s_i - \lfloor s_i \rfloor
    $$

    with s_i = i·(in - 1)/(out - 1) when ``align_corners`` (the corner pixels' centres coincide),
    else s_i = max((i + ½)·in/out - ½, 0) (or 1/scale for in/out when a scale factor was given).
    The dims are done one after the other, the last first, as PyTorch.
    """
    for d in reversed(range(len(out_size))):
        axis = 2 + d
        n_in, n_out = x.shape[axis], out_size[d]
        if n_in == n_out:  # as PyTorch: the same size is a copy, whatever the scale factor says
            continue
        plan = _source_positions(n_in, n_out, scales[d], align_corners, x.dtype)
        x = LinearResize.apply(x, axis, plan, n_in)
    return x


# ----------------------------------------------------------------------------- grid_sample


class _WithZeroGrad(Function):
    """out = x;  dx = grad, d(other) = 0.

    Puts ``other`` in the graph with a zero gradient (as PyTorch gives the grid of a
    nearest-neighbour grid_sample).
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, other):
        ctx.other = (other.shape, other.dtype)
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        shape, dtype = ctx.other
        xp = xp_of(grad._data if isinstance(grad, Tensor) else grad)
        return grad, bm.const(xp.zeros(shape, dtype), grad)


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    """Grid coordinates in [-1, 1] to pixel positions.

    -1 and 1 are the corner pixels' centres (``align_corners``) or their outer edges.
    """
    if align_corners:
        return ((coord + 1.0) / 2) * (size - 1)
    return ((coord + 1.0) * size - 1.0) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflect positions into [twice_low/2, twice_high/2] as often as needed (as PyTorch's kernel)."""
    if twice_low == twice_high:
        return coord * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    flips = np.floor(dist._data / span)  # constant: the number of reflections
    extra = dist - Tensor._make(flips * span)
    even = Tensor._make(flips % 2 == 0)
    return bm.where(even, extra + low, (extra * -1.0) + (span + low))


def _source_index(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = coord.clamp(0, size - 1)
    return coord


def _read(x_cl: Tensor, idx: list, valid) -> Tensor:
    """x_cl (N, *S, C) at the integer positions ``idx``, 0 where not ``valid``.

    ``idx`` holds one array (N, *O) per spatial dim.
    """
    n = x_cl.shape[0]
    xp = xp_of(x_cl._data)
    bidx = xp.arange(n).reshape((n,) + (1,) * (idx[0].ndim - 1))
    clipped = [xp.asarray(np.clip(j, 0, size - 1)) for j, size in zip(idx, x_cl.shape[1:-1])]
    vals = x_cl[(bidx, *clipped)]
    if valid.all():
        return vals
    return vals * Tensor._make(xp.asarray(valid[..., None].astype(x_cl.dtype)))


def grid_sample(
    input: Tensor,  # noqa: A002
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    r"""Sample an image (or a volume) at the positions of a grid, as ``torch.nn.functional.grid_sample``.

    ``grid[n, h, w] = (x, y)`` in [-1, 1] names a point of image n (-1: left/top, 1: right/bottom);
    the output there is, with (i, j) the point in pixels and (i₀, j₀) = its floor (``'bilinear'``):

    $$
    \text{out}[n, c, h, w] = \sum_{a, b \in \{0, 1\}} (1 - |i - i_0 - a|)(1 - |j - j_0 - b|)\;
    x[n, c, j_0 + b, i_0 + a]
    $$

    (for a 5-D input the 8 neighbours, trilinearly) or the nearest pixel (``'nearest'``, halves
    rounded to even).  Points outside the image read
    zeros (``padding_mode='zeros'``), the border pixels (``'border'``) or the image mirrored at its
    border (``'reflection'``).  Differentiable in input and in grid (the gradient in grid is zero
    for ``'nearest'``, as PyTorch).

    Args:
        input: (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in).
        grid: (N, H_out, W_out, 2) (x, y) or (N, D_out, H_out, W_out, 3) (x, y, z), the dtype of input.
        mode: ``'bilinear'`` (trilinear for 5-D) or ``'nearest'``.
        padding_mode: ``'zeros'``, ``'border'`` or ``'reflection'``.
        align_corners: -1 and 1 are the centres of the corner pixels (True) or their outer edges
            (False, the default; None warns as PyTorch).

    Returns:
        (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out).

    Raises:
        ValueError: a bad mode or padding_mode.
        RuntimeError: shapes that do not fit (not 4-D or 5-D, grid's last dim wrong, batch sizes differ).
        NotImplementedError: ``mode='bicubic'``.

    Example:
        >>> F = cr.nn.functional
        >>> img = cr.arange(4.0).reshape(1, 1, 2, 2)
        >>> F.grid_sample(img, cr.tensor([[[[0.0, 0.0], [1.0, -1.0]]]]), align_corners=True)
        tensor([[[[1.5, 1. ]]]])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"grid_sample: expected mode to be 'bilinear', 'nearest' or 'bicubic', got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "grid_sample: expected padding_mode to be 'zeros', 'border' or 'reflection', got "
            f"{padding_mode!r}"
        )
    if align_corners is None:
        warnings.warn(
            "grid_sample: the default align_corners is False (PyTorch changed it in 1.3.0); pass "
            "align_corners explicitly to silence this warning",
            stacklevel=2,
        )
        align_corners = False
    for name, t in (("input", input), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise TypeError(f"grid_sample: {name} must be a Tensor, got {type(t).__name__}")
    if mode == "bicubic":
        raise NotImplementedError(
            "grid_sample: mode='bicubic' is not supported (use 'bilinear' or 'nearest')"
        )
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(
            f"grid_sample: expected a 4-D or 5-D input and a grid with as many dims, got input of shape "
            f"{tuple(input.shape)} and grid of shape {tuple(grid.shape)}"
        )
    k = input.ndim - 2
    if grid.shape[-1] != k:
        raise RuntimeError(
            f"grid_sample: expected grid to have size {k} in its last dim for a {input.ndim}-D input, got "
            f"{tuple(grid.shape)}"
        )
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            f"grid_sample: expected grid and input to have the same batch size, got input of shape "
            f"{tuple(input.shape)} and grid of shape {tuple(grid.shape)}"
        )
    if input.dtype.kind != "f" or grid.dtype != input.dtype:
        raise RuntimeError(
            f"grid_sample: expected floating input and grid of the same dtype, got {input.dtype} and "
            f"{grid.dtype}"
        )
    spatial = tuple(input.shape[2:])
    if any(s == 0 for s in spatial):
        raise RuntimeError(f"grid_sample: input of shape {tuple(input.shape)} has an empty spatial dim")
    # grid[..., 0] is x (the last dim, W), grid[..., 1] is y (H), grid[..., 2] is z (D)
    pos = [
        _source_index(grid[..., k - 1 - d], size, padding_mode, align_corners)
        for d, size in enumerate(spatial)
    ]
    x_cl = input.permute(0, *range(2, input.ndim), 1)  # (N, *S, C): one read per point gives its C values
    to_channels_first = (0, k + 1, *range(1, k + 1))
    if mode == "nearest":
        idx = [np.rint(p._data).astype(np.int64) for p in pos]
        valid = np.all([(j >= 0) & (j < size) for j, size in zip(idx, spatial)], axis=0)
        return _WithZeroGrad.apply(_read(x_cl, idx, valid), grid).permute(*to_channels_first)
    low = [np.floor(p._data) for p in pos]
    out: Any = None
    for corner in itertools.product((0, 1), repeat=k):
        weight: Any = None
        for p, lo, up in reversed(list(zip(pos, low, corner))):  # x·y(·z), PyTorch's product order
            # (lo + 1 - p) for the lower neighbour, (p - lo) for the upper one
            w = (p - Tensor._make(lo)) if up else (Tensor._make(lo + 1) - p)
            weight = w if weight is None else weight * w
        idx = [(lo + up).astype(np.int64) for lo, up in zip(low, corner)]
        valid = np.all([(j >= 0) & (j < size) for j, size in zip(idx, spatial)], axis=0)
        term = _read(x_cl, idx, valid) * weight.unsqueeze(-1)
        out = term if out is None else out + term
    return out.permute(*to_channels_first)


# ----------------------------------------------------------------------------- affine_grid


def _base_coords(n: int, align_corners: bool, dtype):
    """PyTorch's linspace_from_neg_one: n points from -1 to 1 (scaled by (n-1)/n without align_corners)."""
    if n <= 1:
        return np.zeros(n, dtype)
    r = np.linspace(-1.0, 1.0, n).astype(dtype)
    return r if align_corners else (r * np.dtype(dtype).type(n - 1) / np.dtype(dtype).type(n)).astype(dtype)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    r"""The sampling grid of a batch of affine maps, as ``torch.nn.functional.affine_grid``.

    For a 2-D ``size`` (N, C, H, W) the grid point of output pixel (h, w) is

    $$
    \text{grid}[n, h, w] = \theta_n \, (x_w, y_h, 1)^\top
    $$

    with x, y the pixel centres in [-1, 1] (the corner centres at ±1 with ``align_corners``, else
    at ±(1 - 1/W)); a 3-D ``size`` (N, C, D, H, W) takes (N, 3, 4) maps alike.  Fed to
    ``grid_sample`` with the same ``align_corners`` it warps an image by θ (spatial transformer
    networks).  Differentiable in theta.

    Args:
        theta: (N, 2, 3) (or (N, 3, 4) for a 5-D size), floating point.
        size: the output size (N, C, H, W) or (N, C, D, H, W).
        align_corners: as in ``grid_sample`` (None: False, with PyTorch's warning).

    Returns:
        (N, H, W, 2) or (N, D, H, W, 3).

    Raises:
        ValueError: theta not floating or not of the shape ``size`` needs, a non-positive size.
        NotImplementedError: a size of another length.

    Example:
        >>> F = cr.nn.functional
        >>> theta = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # the identity
        >>> F.affine_grid(theta, (1, 1, 2, 2), align_corners=True)[0, :, :, 0]
        tensor([[-1.,  1.],
                [-1.,  1.]])
    """
    if align_corners is None:
        warnings.warn(
            "affine_grid: the default align_corners is False (PyTorch changed it in 1.3.0); pass "
            "align_corners explicitly to silence this warning",
            stacklevel=2,
        )
        align_corners = False
    if not isinstance(theta, Tensor) or theta.dtype.kind != "f":
        raise ValueError(
            "affine_grid: expected theta to be a floating point Tensor, got "
            f"{getattr(theta, 'dtype', type(theta))}"
        )
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            f"affine_grid: only 4-D and 5-D sizes (2-D and 3-D affine maps) are supported, got size {size}"
        )
    k = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (k, k + 1):
        raise ValueError(
            f"affine_grid: expected a batch of {k}-D affine matrices of shape Nx{k}x{k + 1} for size {size}, "
            f"got theta of shape {tuple(theta.shape)}"
        )
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected a positive output size, got {size}")
    if theta.shape[0] != size[0]:
        raise ValueError(
            f"affine_grid: theta has {theta.shape[0]} matrices for a batch of {size[0]} (size {size})"
        )
    spatial = size[2:]
    coords = [_base_coords(s, align_corners, theta.dtype) for s in spatial]  # D/H/W order
    mesh = np.meshgrid(*coords, indexing="ij")
    rows = np.stack([*mesh[::-1], np.ones(spatial, theta.dtype)], axis=-1)  # (*S, k+1): x, y[, z], 1
    base = Tensor._make(to_device(rows.reshape(1, -1, k + 1).astype(theta.dtype), theta.device))
    grid = matmul(base, theta.mT)  # (N, prod S, k)
    return grid.reshape(size[0], *spatial, k)
