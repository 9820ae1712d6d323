"""kernels.pooling: max and average pooling, their argmax, scatter and gather, against the loop
references and the reshape-max, on random geometries (including empty batches)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.kernels import pooling as K
from chainrule.kernels.conv import channels_first, make_geometry


def geometry(in_size, kernel, stride, dilation, pad):
    out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, d, p in zip(in_size, kernel, stride, dilation, pad)
    )
    return make_geometry(in_size, out, kernel, stride, dilation, pad)


CASES = [
    # (N, C, spatial, kernel, stride, dilation, padding)
    (2, 3, (8, 8), (2, 2), (2, 2), (1, 1), (0, 0)),  # tiled windows
    (2, 3, (7, 9), (3, 3), (2, 2), (1, 1), (1, 1)),  # overlapping, padded
    (1, 2, (9, 8), (3, 2), (1, 2), (2, 1), (1, 0)),  # dilation
    (2, 2, (10,), (3,), (2,), (1,), (1,)),  # 1-D
    (1, 2, (4, 6, 5), (2, 3, 2), (2, 1, 2), (1, 1, 1), (1, 1, 0)),  # 3-D
    (2, 1, (5, 5), (1, 1), (1, 1), (1, 1), (0, 0)),  # 1x1 window
    (0, 3, (6, 6), (2, 2), (2, 2), (1, 1), (0, 0)),  # empty batch
]


def operand(case, rng):
    n, c, size, kernel, stride, dilation, pad = case
    geom = geometry(size, kernel, stride, dilation, pad)
    x = rng.standard_normal((n, c, *size))
    return geom, x


@pytest.mark.parametrize("case", CASES)
def test_max_pool_forward_matches_reference(case, rng):
    geom, x = operand(case, rng)
    out, idx = K.max_pool_forward(x, geom, need_argmax=True)
    ref, arg = K.max_pool_reference(x, geom)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(channels_first(idx), arg)
    np.testing.assert_array_equal(K.max_pool_forward(x, geom, need_argmax=False)[0], ref)


def test_max_pool_ties_go_to_the_first_offset(rng):
    geom = geometry((4, 4), (2, 2), (2, 2), (1, 1), (0, 0))
    x = np.round(rng.standard_normal((2, 3, 4, 4)))  # many ties
    _, idx = K.max_pool_forward(x, geom, need_argmax=True)
    np.testing.assert_array_equal(channels_first(idx), K.max_pool_reference(x, geom)[1])


def test_tiled_max_pool_is_a_reshape_max(rng):
    geom, x = operand(CASES[0], rng)
    np.testing.assert_array_equal(K.max_pool_forward(x, geom, False)[0], K.max_pool_tiled_reference(x, 2))


@pytest.mark.parametrize("case", CASES)
def test_max_pool_scatter_and_gather_match_reference(case, rng):
    geom, x = operand(case, rng)
    _, idx = K.max_pool_forward(x, geom, need_argmax=True)
    grad = rng.standard_normal((x.shape[0], x.shape[1], *geom.out_size))
    dx = K.max_pool_scatter(grad, idx, geom, *x.shape[:2])
    np.testing.assert_allclose(dx, K.max_pool_scatter_reference(grad, x, geom), rtol=1e-12)
    h = rng.standard_normal(x.shape)  # the gather is the scatter's adjoint: <scatter(g), h> = <g, gather(h)>
    np.testing.assert_allclose((dx * h).sum(), (grad * K.max_pool_gather(h, idx, geom)).sum(), rtol=1e-10)


@pytest.mark.parametrize("case", [c for c in CASES if c[5] == (1,) * len(c[2])])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_and_its_scatter_match_reference(case, count_include_pad, rng):
    geom, x = operand(case, rng)
    div = K.avg_pool_divisor(geom, count_include_pad, None)
    np.testing.assert_allclose(
        K.avg_pool_gather(x, geom, div), K.avg_pool_reference(x, geom, div), rtol=1e-12
    )
    grad = rng.standard_normal((x.shape[0], x.shape[1], *geom.out_size))
    np.testing.assert_allclose(
        K.avg_pool_scatter(grad, geom, div, *x.shape[:2]),
        K.avg_pool_scatter_reference(grad, geom, div, *x.shape[:2]),
        rtol=1e-12,
    )


def test_avg_pool_divisor_counts_real_elements_without_padding():
    geom = geometry((3, 3), (2, 2), (2, 2), (1, 1), (1, 1))
    div = K.avg_pool_divisor(geom, count_include_pad=False, divisor_override=None)
    np.testing.assert_array_equal(div[0, :, :, 0], [[1, 2], [2, 4]])
    assert K.avg_pool_divisor(geom, True, None) == math.prod(geom.kernel)
    assert K.avg_pool_divisor(geom, False, 3) == 3.0
