"""kernels.activation: ReLU and its backward in row blocks against max(x, 0) and the plain mask
(the suite runs the row-block threads for any array of two rows, see conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels import activation as K


@pytest.mark.parametrize("shape", [(), (1,), (5,), (7, 3), (0, 4), (4, 3, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_backward_match_reference(shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    if x.size > 2:
        x.flat[0], x.flat[1] = 0.0, np.nan
    grad = rng.standard_normal(shape).astype(dtype)
    out = K.relu(x)
    np.testing.assert_array_equal(out, K.relu_reference(x))
    np.testing.assert_array_equal(K.relu_backward(grad, out), K.relu_backward_reference(grad, out))
    assert out.dtype == dtype and out is not x
