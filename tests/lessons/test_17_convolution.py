"""Lesson 17: the edge kernel, receptive fields, and translation robustness from pooling."""

import numpy as np
import pytest


def test_edge_kernel_is_zero_on_flat_regions(lesson):
    m = lesson("17_convolution")
    import chainrule as cr

    flat = np.full((1, 1, 5, 5), 0.7, dtype=np.float32)
    out = cr.nn.functional.conv2d(cr.tensor(flat), cr.tensor(m.EDGE[None, None])).numpy()
    np.testing.assert_allclose(out, 0.0, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pooling_cnn_is_more_shift_robust(lesson, seed):
    r = lesson("17_convolution").run(quick=True, seed=seed)
    assert [row["autograd"] for row in r["receptive_fields"]] == [3, 5, 6, 10]
    assert [row["formula"] for row in r["receptive_fields"]] == [3, 5, 6, 10]
    assert r["cnn"][0] > 0.9 and r["mlp"][0] > 0.9  # both learn the unshifted digits
    assert r["cnn"][1] > r["mlp"][1] + 0.1  # 1-pixel shift
    assert r["cnn"][2] > r["mlp"][2] + 0.1  # 2-pixel shift
