"""kernels.sampling: the linear-resize mix and its adjoint against the plain references, on the plans
of up- and downsampling, align_corners, one output and one input position."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels import sampling as K
from chainrule.ops.sampling import _source_positions


@pytest.mark.parametrize("n_in,n_out", [(5, 11), (7, 3), (4, 4 * 3), (6, 1), (1, 4), (9, 8)])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_linear_mix_and_adjoint_match_reference(n_in, n_out, align_corners, axis, rng):
    plan = _source_positions(n_in, n_out, None, align_corners, np.float64)
    shape = [3, 2, 4]
    shape[axis] = n_in
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(K.linear_mix(x, axis, plan), K.linear_mix_reference(x, axis, plan), rtol=1e-12)
    shape[axis] = n_out
    g = rng.standard_normal(shape)
    np.testing.assert_allclose(
        K.linear_mix_adjoint(g, axis, plan, n_in),
        K.linear_mix_adjoint_reference(g, axis, plan, n_in),
        rtol=1e-12,
    )
