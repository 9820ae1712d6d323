"""The numba-compiled loops of ``chainrule.kernels.jit`` (imported only through ``jit.kernel``).

Each loop repeats, element by element, the float operations of a NumPy kernel in the same
order and precision (scalars arrive already cast to the arrays' dtype; no fast-math, so no fused
multiply-adds), so its results are bitwise those of the NumPy code; the plain references stay in
the kernel modules (``optim.adam_reference(...)``, ``embedding.sum_rows_by_index_reference(...)``).
Arrays arrive 1-D and contiguous (or C-contiguous 2-D where a loop says so).
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def adam(p, g, m, v, w, lerp_low, beta2, one_minus_beta2, neg_step_size, sqrt_bc2, eps):  # pragma: no cover
    """``optim._adam_rows`` (no AMSGrad) on flat arrays; ``w`` is lerp's weight as ``lerp_`` uses it
    (1 − β₁ when that is below 0.5, else β₁), ``lerp_low`` which of its two branches runs."""
    for i in range(p.size):
        gi = g[i]
        d = gi - m[i]
        mi = m[i] + d * w if lerp_low else gi - d * w
        m[i] = mi
        vi = v[i] * beta2 + gi * one_minus_beta2 * gi
        v[i] = vi
        p[i] += mi * neg_step_size / (np.sqrt(vi) / sqrt_bc2 + eps)


@_jit
def sum_rows_by_index(out, index, rows):  # pragma: no cover
    """``out[index[k]] += rows[k]`` for every k, in order (``out`` and ``rows`` C-contiguous 2-D)."""
    n = out.shape[1]
    for k in range(index.size):
        r = index[k]
        for j in range(n):
            out[r, j] += rows[k, j]
