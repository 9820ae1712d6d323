"""The one dropout primitive (ops.dropout.drop) behind dropout, dropout2d and the recurrent layers."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.nn import functional as F


@pytest.mark.parametrize("p", [0.1, 0.3, 0.7])
@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_kept_values_are_scaled_as_pytorch_scales_them(p, dtype):
    # PyTorch divides the mask by (1 - p) in the input's dtype: kept values must be bit-identical
    x = cr.randn(4000, dtype=dtype)
    y = F.dropout(x, p).numpy()
    kept = y != 0
    noise = torch.ones(1, dtype=torch.float32 if dtype == cr.float32 else torch.float64).div_(1 - p)
    expected = (torch.from_numpy(x.numpy()[kept]) * noise).numpy()
    np.testing.assert_array_equal(y[kept], expected)


def test_dropout2d_and_the_recurrent_layers_use_the_same_draws():
    # same seed, same mask stream: F.dropout on an (N, C) shape equals dropout2d's channel mask
    x = cr.ones(8, 5, 3, 3)
    cr.manual_seed(4)
    a = F.dropout2d(x, 0.4).numpy()
    cr.manual_seed(4)
    b = F.dropout(cr.ones(8, 5), 0.4).numpy()
    np.testing.assert_array_equal(a, np.broadcast_to(b[:, :, None, None], a.shape))
    assert F.dropout(x, 1.0).abs().sum().item() == 0 and F.dropout2d(x, 1.0).abs().sum().item() == 0
