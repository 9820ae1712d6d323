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


# The LSTM step loops below take a step's C-contiguous (rows, B) blocks and walk them flat, one
# simple loop per output block: loops that LLVM vectorises (one loop writing several blocks was
# slower than NumPy's calls).


@_jit
def lstm_cell(g, c_prev, c):  # pragma: no cover
    """σ = 1/(1 + e) in place of e = exp(-z) on the rows i, f, o of a step's gates g (4H, B), then c.

    ``c = f·c_prev + i·g``, as ``recurrent.lstm_forward``'s NumPy calls, in their order.
    """
    n = c.size
    one = g.dtype.type(1.0)
    gf, cp, cf = g.reshape(g.size), c_prev.reshape(n), c.reshape(n)
    for x in range(3 * n):
        gf[x] = one / (gf[x] + one)
    for x in range(n):
        cf[x] = gf[n + x] * cp[x] + gf[x] * gf[3 * n + x]


@_jit
def lstm_hidden(g, c_prev, tc, h, k, a):  # pragma: no cover
    """``h = o·tanh c`` and the step's derivative factors k (4H, B, PyTorch's row order) and a (H, B).

    g holds i, f, o, g (activated); tc = tanh c_t; the factors as ``recurrent.lstm_forward`` forms them.
    """
    n = h.size
    one = g.dtype.type(1.0)
    gf, cp, tf, hf = g.reshape(g.size), c_prev.reshape(n), tc.reshape(n), h.reshape(n)
    kf, af = k.reshape(k.size), a.reshape(n)
    for x in range(n):
        hf[x] = gf[2 * n + x] * tf[x]
    for x in range(n):
        i = gf[x]
        kf[x] = ((one - i) * i) * gf[3 * n + x]
    for x in range(n):
        f = gf[n + x]
        kf[n + x] = ((one - f) * f) * cp[x]
    for x in range(n):
        gg = gf[3 * n + x]
        kf[2 * n + x] = (one - gg * gg) * gf[x]
    for x in range(n):
        o = gf[2 * n + x]
        kf[3 * n + x] = ((one - o) * o) * tf[x]
    for x in range(n):
        t = tf[x]
        af[x] = (one - t * t) * gf[2 * n + x]


@_jit
def lstm_cell_backward(dh, dc, grad_out, k, a, f, dz):  # pragma: no cover
    """One step of ``recurrent.lstm_backward`` before its product: dL/d(pre-activations) into dz (4H, B).

    dh, dc (H, B): the gradients at h_t (to which grad_out (B, H), dL/dout_t, is added) and c_t,
    dc updated to dL/dc_{t-1}; k (4H, B), a (H, B): the forward's factors; f (H, B) the forget gate.
    """
    H, B = dh.shape
    for j in range(H):
        for b in range(B):
            dh[j, b] += grad_out[b, j]
    n = dh.size
    d, c, ff = dh.reshape(n), dc.reshape(n), f.reshape(n)
    kf, af, z = k.reshape(k.size), a.reshape(n), dz.reshape(dz.size)
    for x in range(n):
        z[3 * n + x] = d[x] * kf[3 * n + x]
    for x in range(n):
        c[x] = c[x] + d[x] * af[x]
    for x in range(n):
        z[x] = c[x] * kf[x]
    for x in range(n):
        z[n + x] = c[x] * kf[n + x]
    for x in range(n):
        z[2 * n + x] = c[x] * kf[2 * n + x]
    for x in range(n):
        c[x] = c[x] * ff[x]
