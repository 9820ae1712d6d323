"""kernels.conv: the tuned im2col, convolution, transposed convolution and weight gradient against
the plain loop references, on random geometries (and the edge shapes: one channel, 1x1 kernels,
groups, empty batches, no output channels)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.kernels import conv as K


def geometry(in_size, kernel, stride, dilation, pad, groups=1):
    out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, d, p in zip(in_size, kernel, stride, dilation, pad)
    )
    return K.make_geometry(in_size, out, kernel, stride, dilation, pad, groups)


CASES = [
    # (N, C, spatial, C_out, kernel, stride, dilation, padding, groups)
    (2, 3, (7, 8), 4, (3, 3), (1, 1), (1, 1), (0, 0), 1),
    (2, 3, (7, 8), 4, (3, 2), (2, 1), (1, 2), (1, 2), 1),
    (3, 1, (9, 9), 5, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # one input channel: offset-major columns
    (2, 4, (5, 6), 6, (1, 1), (1, 1), (1, 1), (0, 0), 1),  # 1x1 kernel: the pixels themselves
    (2, 4, (5, 6), 6, (1, 1), (2, 2), (1, 1), (0, 0), 1),
    (2, 4, (6, 6), 6, (3, 3), (1, 1), (1, 1), (1, 1), 2),  # groups
    (2, 6, (6, 5), 6, (2, 3), (2, 1), (1, 1), (0, 1), 6),  # depthwise
    (2, 3, (11,), 4, (3,), (2,), (2,), (1,), 1),  # 1-D
    (1, 2, (4, 5, 4), 3, (2, 3, 2), (1, 2, 1), (1, 1, 1), (1, 0, 1), 1),  # 3-D
    (0, 3, (7, 8), 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # empty batch
    (2, 3, (7, 8), 0, (3, 3), (1, 1), (1, 1), (0, 0), 1),  # no output channels
    # small images: kernel offsets that read only padding are cropped (kernels.conv.cropped)
    (3, 4, (1, 1), 5, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # ResNet's last stage: the centre only
    (3, 4, (2, 2), 5, (3, 3), (2, 2), (1, 1), (1, 1), 1),  # stride 2 onto one pixel: a 2x2 corner
    (2, 4, (1, 3), 6, (3, 3), (1, 1), (1, 1), (1, 1), 2),  # one dim cropped, groups
    (2, 3, (3,), 4, (5,), (1,), (2,), (4,), 1),  # dilation: offsets 0 and 4 read padding only
]


@pytest.mark.parametrize(
    "case,kernel",
    [
        (CASES[-4], (slice(1, 2), slice(1, 2))),
        (CASES[-3], (slice(1, 3), slice(1, 3))),
        (CASES[-1], (slice(1, 4),)),
    ],
)
def test_offsets_reading_only_padding_are_cropped(case, kernel, rng):
    geom, x, w, b, grad = operands(case, rng)
    crop = K.cropped(geom)
    assert crop is not None and crop[0] == kernel
    assert crop[1].out_size == geom.out_size and K.cropped(crop[1]) is None
    assert K.cropped(operands(CASES[0], rng)[0]) is None  # every offset reads input


def operands(case, rng):
    n, c, size, c_out, kernel, stride, dilation, pad, groups = case
    geom = geometry(size, kernel, stride, dilation, pad, groups)
    x = rng.standard_normal((n, c, *size))
    w = rng.standard_normal((c_out, c // groups, *kernel))
    b = rng.standard_normal(c_out)
    grad = rng.standard_normal((n, c_out, *geom.out_size))
    return geom, x, w, b, grad


@pytest.mark.parametrize("case", CASES)
def test_im2col_matches_reference(case, rng):
    geom, x, *_ = operands(case[:-1] + (1,), rng)
    cols = K.im2col(K.pad_channels_last(x, geom), geom)
    np.testing.assert_array_equal(cols[:, 0], K.im2col_reference(x, geom))
    with_ones = K.im2col(K.pad_channels_last(x, geom), geom, ones=True)
    np.testing.assert_array_equal(with_ones[:, 0, :-1], cols[:, 0])
    assert (with_ones[:, 0, -1] == 1).all()


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("keep_cols", [True, False])
def test_conv_forward_matches_reference(case, bias, keep_cols, rng):
    geom, x, w, b, _ = operands(case, rng)
    b = b if bias else None
    out, cols = K.conv_forward(x, w, b, geom, keep_cols=keep_cols)
    assert out.shape == (x.shape[0], w.shape[0], *geom.out_size)
    np.testing.assert_allclose(out, K.conv_reference(x, w, b, geom), rtol=1e-10, atol=1e-10)
    assert (cols is not None) == keep_cols


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_input_grad_matches_reference(case, bias, rng):
    geom, x, w, b, grad = operands(case, rng)
    b = rng.standard_normal(x.shape[1]) if bias else None
    dx = K.conv_input_grad(grad, w, geom, b)
    np.testing.assert_allclose(dx, K.conv_input_grad_reference(grad, w, geom, b), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("from_forward", [True, False])
def test_conv_weight_grad_matches_reference(case, from_forward, rng):
    geom, x, w, b, grad = operands(case, rng)
    cols = K.conv_forward(x, w, b, geom, keep_cols=True)[1] if from_forward else None
    dw, db = K.conv_weight_grad(x, grad, geom, w.shape, cols, need_bias=True)
    np.testing.assert_allclose(
        dw, K.conv_weight_grad_reference(x, grad, geom, w.shape), rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(db, grad.sum(axis=(0, *range(2, grad.ndim))), rtol=1e-10, atol=1e-10)


def test_weight_grad_of_a_tall_tiny_product_matches_reference(rng):
    # a first layer's shape: many rows, a tiny result, summed from a stack of 256-row products
    geom = geometry((40, 40), (3, 3), (1, 1), (1, 1), (1, 1))
    x, grad = rng.standard_normal((2, 1, 40, 40)), rng.standard_normal((2, 4, 40, 40))
    assert 2 * math.prod(geom.out_size) >= 4 * K._TALL_BLOCK
    dw, _ = K.conv_weight_grad(x, grad, geom, (4, 1, 3, 3))
    np.testing.assert_allclose(dw, K.conv_weight_grad_reference(x, grad, geom, (4, 1, 3, 3)), rtol=1e-10)


def test_channel_sum_matches_a_plain_sum(rng):
    g = rng.standard_normal((3, 5, 4, 2))
    expected = g.sum(axis=(0, 2, 3))
    np.testing.assert_allclose(K.channel_sum(g), expected, rtol=1e-12)
    np.testing.assert_allclose(
        K.channel_sum(K.channels_first(np.ascontiguousarray(K.channels_last(g)))), expected
    )


def test_col2im_reference_is_the_adjoint_of_im2col_reference(rng):
    # <im2col(x), c> = <x, col2im(c)>: the reference pair is itself consistent
    geom = geometry((6, 7), (3, 2), (2, 1), (1, 2), (1, 1))
    x = rng.standard_normal((2, 3, 6, 7))
    cols = K.im2col_reference(x, geom)
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose((cols * c).sum(), (x * K.col2im_reference(c, geom, 2, 3)).sum(), rtol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_unfold_and_fold_match_reference(case, rng):
    geom, x, *_ = operands(case[:-1] + (1,), rng)
    np.testing.assert_array_equal(K.unfold(x, geom), K.unfold_reference(x, geom))
    cols = rng.standard_normal(K.unfold_reference(x, geom).shape)
    np.testing.assert_allclose(
        K.fold(cols, geom, x.shape[1]), K.fold_reference(cols, geom, x.shape[1]), rtol=1e-12
    )
