"""interpolate (nearest-exact and the linear modes), Upsample, grid_sample and affine_grid vs PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import check, check_second_order, gradcheck_op

LINEAR_CASES = [  # (input shape, kwargs)
    ((2, 3, 5), dict(size=9, mode="linear")),
    ((2, 3, 7), dict(size=4, mode="linear")),
    ((2, 3, 5), dict(scale_factor=2.5, mode="linear")),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((2, 2, 3, 3), dict(scale_factor=2, mode="bilinear")),
    ((1, 2, 5, 4), dict(scale_factor=(0.6, 1.7), mode="bilinear")),
    ((1, 2, 5, 4), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ((1, 2, 3, 4, 2), dict(size=(4, 3, 5), mode="trilinear")),
    ((1, 1, 4, 5), dict(size=(1, 5), mode="bilinear")),  # one output row, the same width
]


@pytest.mark.parametrize("shape,kw", LINEAR_CASES, ids=str)
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_linear_modes_match_torch(shape, kw, align_corners):
    kw = dict(kw, align_corners=align_corners)
    check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [shape])
    m, t = cr.nn.Upsample(**kw), torch.nn.Upsample(**kw)
    assert repr(m) == repr(t)
    check(m, t, [shape])


@pytest.mark.parametrize(
    "shape,kw",
    [((2, 3, 5), dict(size=8)), ((1, 2, 4, 5), dict(scale_factor=1.6)), ((1, 1, 2, 3, 4), dict(size=5))],
)
def test_interpolate_nearest_exact_matches_torch(shape, kw):
    kw = dict(kw, mode="nearest-exact")
    check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [shape])


def test_upsampling_2d_modules():
    for name, kw in (
        ("UpsamplingBilinear2d", dict(scale_factor=2)),
        ("UpsamplingNearest2d", dict(size=(5, 7))),
    ):
        m, t = getattr(cr.nn, name)(**kw), getattr(torch.nn, name)(**kw)
        assert repr(m) == repr(t)
        check(m, t, [(2, 3, 3, 4)])


def test_interpolate_gradcheck_and_second_order():
    gradcheck_op(lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"), [(1, 2, 3, 4)])
    gradcheck_op(lambda x: F.interpolate(x, scale_factor=1.5, mode="linear", align_corners=True), [(2, 1, 4)])
    check_second_order(
        lambda x: F.interpolate(x, size=(5, 3), mode="bilinear") ** 2,
        lambda x: TF.interpolate(x, size=(5, 3), mode="bilinear") ** 2,
        [(1, 2, 3, 4)],
    )


def test_interpolate_errors():
    with pytest.raises(
        NotImplementedError, match="interpolate: got 4D input, but linear mode needs 3D input"
    ):
        F.interpolate(cr.ones(1, 2, 3, 3), scale_factor=2, mode="linear")
    with pytest.raises(
        NotImplementedError, match="interpolate: got 3D input, but bilinear mode needs 4D input"
    ):
        F.interpolate(cr.ones(1, 2, 3), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="interpolate: align_corners option can only be set"):
        F.interpolate(cr.ones(1, 2, 3), scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="interpolate: mode must be one of"):
        F.interpolate(cr.ones(1, 2, 3), scale_factor=2, mode="area")
    with pytest.raises(NotImplementedError, match="interpolate: antialias=True is not supported"):
        F.interpolate(cr.ones(1, 2, 3, 3), scale_factor=2, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="interpolate: expected a \\(N, C, \\*spatial\\) Tensor"):
        F.interpolate(cr.ones(3, 3), scale_factor=2)


# ----------------------------------------------------------------------------- grid_sample, affine_grid


def _grid(shape, seed=0, spread=1.3):
    """Grid points mostly inside [-1, 1], some outside (to exercise the padding modes)."""
    return np.random.default_rng(seed).uniform(-spread, spread, shape).astype(np.float32)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_matches_torch(mode, padding_mode, align_corners):
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    for x_shape, g_shape, spread in (
        ((2, 3, 5, 4), (2, 3, 6, 2), 1.3),
        ((1, 2, 4, 6), (1, 4, 2, 2), 3.5),
        ((2, 2, 3, 4, 5), (2, 2, 3, 2, 3), 1.3),  # volumetric
    ):
        check(
            lambda x, g: F.grid_sample(x, g, **kw),
            lambda x, g: TF.grid_sample(x, g, **kw),
            [(x_shape), _grid(g_shape, spread=spread)],
            grad_atol=1e-4,
        )


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck_and_second_order(padding_mode):
    kw = dict(mode="bilinear", padding_mode=padding_mode, align_corners=False)
    grid = _grid((1, 2, 3, 2), seed=4, spread=1.2).astype(np.float64)
    gradcheck_op(lambda x, g: F.grid_sample(x, g, **kw), [(1, 2, 3, 4), grid])
    check_second_order(
        lambda x, g: F.grid_sample(x, g, **kw) ** 2,
        lambda x, g: TF.grid_sample(x, g, **kw) ** 2,
        [(1, 2, 3, 4), grid],
    )
    grid3 = _grid((1, 2, 1, 2, 3), seed=5, spread=1.2).astype(np.float64)
    gradcheck_op(lambda x, g: F.grid_sample(x, g, **kw), [(1, 1, 2, 3, 2), grid3])


def test_grid_sample_errors_and_warning():
    x, g = cr.ones(2, 3, 4, 4), cr.zeros(2, 3, 3, 2)
    with pytest.warns(UserWarning, match="grid_sample: the default align_corners is False"):
        F.grid_sample(x, g)
    with pytest.raises(
        ValueError, match="grid_sample: expected mode to be 'bilinear', 'nearest' or 'bicubic'"
    ):
        F.grid_sample(x, g, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="grid_sample: expected padding_mode to be"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="grid_sample: expected grid to have size 2 in its last dim"):
        F.grid_sample(x, cr.zeros(2, 3, 3, 3), align_corners=False)
    with pytest.raises(
        RuntimeError, match="grid_sample: expected grid and input to have the same batch size"
    ):
        F.grid_sample(x, cr.zeros(1, 3, 3, 2), align_corners=False)
    with pytest.raises(
        RuntimeError, match="grid_sample: expected a 4-D or 5-D input and a grid with as many"
    ):
        F.grid_sample(cr.ones(2, 4, 4), g, align_corners=False)
    with pytest.raises(
        RuntimeError, match="grid_sample: expected grid to have size 3 in its last dim for a 5-D"
    ):
        F.grid_sample(cr.ones(1, 1, 2, 2, 2), cr.zeros(1, 1, 1, 1, 2), align_corners=False)
    with pytest.raises(NotImplementedError, match="grid_sample: mode='bicubic' is not supported"):
        F.grid_sample(x, g, mode="bicubic", align_corners=False)


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 2, 4)], ids=str)
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(size, align_corners):
    k = len(size) - 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns for a unit size with align_corners
        check(
            lambda th: F.affine_grid(th, size, align_corners=align_corners),
            lambda th: TF.affine_grid(th, size, align_corners=align_corners),
            [(size[0], k, k + 1)],
        )
    gradcheck_op(lambda th: F.affine_grid(th, size, align_corners=align_corners), [(size[0], k, k + 1)])


def test_spatial_transformer_round_trip():
    # affine_grid + grid_sample with the identity map gives the image back
    x = cr.randn(2, 3, 5, 6)
    theta = cr.tensor(np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]], np.float32), (2, 1, 1)))
    for ac in (False, True):
        out = F.grid_sample(x, F.affine_grid(theta, (2, 3, 5, 6), align_corners=ac), align_corners=ac)
        np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-5)


def test_affine_grid_errors():
    with pytest.raises(
        ValueError, match="affine_grid: expected a batch of 2-D affine matrices of shape Nx2x3"
    ):
        F.affine_grid(cr.zeros(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="affine_grid: expected theta to be a floating point Tensor"):
        F.affine_grid(cr.zeros(1, 2, 3, dtype=cr.int64), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(NotImplementedError, match="affine_grid: only 4-D and 5-D sizes"):
        F.affine_grid(cr.zeros(1, 2, 3), (1, 1, 2), align_corners=False)
    with pytest.raises(ValueError, match="affine_grid: expected a positive output size"):
        F.affine_grid(cr.zeros(1, 2, 3), (1, 1, 0, 2), align_corners=False)
    with pytest.warns(UserWarning, match="affine_grid: the default align_corners is False"):
        F.affine_grid(cr.zeros(1, 2, 3), (1, 1, 2, 2))
