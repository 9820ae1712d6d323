"""The numba-compiled loops of ``chainrule.kernels.jit`` (imported only through ``jit.kernel``).

Each loop repeats, element by element, the float operations of a NumPy kernel in the same
order and precision (scalars arrive already cast to the arrays' dtype; no fast-math, so no fused
multiply-adds), so its results are bitwise those of the NumPy code; the plain references stay in
the kernel modules (``optim.adam_reference(...)``, ``embedding.sum_rows_by_index_reference(...)``).
Arrays arrive C-contiguous (a loop reshapes them flat itself: a reshape costs less inside).
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def adam(p, g, m, v, scalars, lerp_low):  # pragma: no cover
    """``optim._adam_rows`` (no AMSGrad) on C-contiguous arrays of one shape.

    ``scalars`` holds, in the arrays' dtype, lerp's weight as ``lerp_`` uses it (1 − β₁ below
    0.5, else β₁), β₂, 1 − β₂, −η/(1 − β₁ᵗ), √(1 − β₂ᵗ) and ε; ``lerp_low`` says which of lerp's
    two branches runs.
    """
    p, g, m, v = p.reshape(p.size), g.reshape(g.size), m.reshape(m.size), v.reshape(v.size)
    w, beta2, one_minus_beta2, neg_step_size, sqrt_bc2, eps = (
        scalars[0],
        scalars[1],
        scalars[2],
        scalars[3],
        scalars[4],
        scalars[5],
    )
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


@_jit
def relu(out, x):  # pragma: no cover
    """``np.maximum(x, 0, out=out)`` on flat arrays: NaN stays NaN, −0 becomes +0 (as NumPy)."""
    for i in range(x.size):
        xi = x[i]
        out[i] = xi if (xi > 0 or xi != xi) else 0


@_jit
def relu_backward(dx, grad, y):  # pragma: no cover
    """``np.multiply(grad, y != 0, out=dx)`` on flat arrays (so −grad·0 is −0, NaN·0 is NaN, as NumPy)."""
    for i in range(grad.size):
        dx[i] = grad[i] * (1 if y[i] != 0 else 0)
