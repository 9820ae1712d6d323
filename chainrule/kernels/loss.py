"""Cross-entropy rows on arrays: log-softmax in one exp pass, and the softmax backward reads.

``softmax_rows`` is log Σ_j e^(x_ij) the fast way: e = exp(x) of the *unshifted* scores (no row
max, no subtraction: two of the textbook's four passes over the (M, C) scores gone) and the row
sums as a product with a vector of ones (BLAS beats ``.sum(1)`` on a wide matrix).  Only rows
whose sum overflowed (a score above ~88 in float32) or is tiny (every score below ~-20.7, where
the smallest terms would be subnormal) are redone with the textbook shift by the row maximum, so
results match the shifted formula for any scores.  ``scaled_softmax`` then gives s_i · p_ij from
those e in one pass (the division by the row sum folded into the row scale).

References: ``log_softmax_reference`` (the shifted textbook formula) and
``cross_entropy_grad_reference`` (softmax minus one-hot).
"""

from __future__ import annotations

from chainrule.backend import np, xp_of

# Rows whose Σ_j e^(x_ij) lies outside [_SUM_MIN, inf) are redone with the shift by their maximum.
_SUM_MIN = 1e-9


def softmax_rows(x):
    """Row-wise exponentials, their sums and log-sum-exp, without overflow.

    (e, total, lse) for scores x (M, C): e = exp(x) (exp(x - max_i) in the redone rows), total
    = Σ_j e row-wise (M,), and lse = log Σ_j exp(x_ij) (M,).  Then softmax = e / total[:, None].
    """
    xp = xp_of(x)
    e, total = xp.empty_like(x), xp.empty((x.shape[0], 1), x.dtype)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # bad rows are redone below
        xp.exp(x, out=e)
        xp.matmul(e, xp.ones(e.shape[1], e.dtype), out=total[:, 0])
    shift = _shift_bad_rows(x, e, total)
    with np.errstate(divide="ignore"):
        lse = xp.log(total)[:, 0]
    if shift is not None:
        lse += shift
    return e, total[:, 0], lse


def _shift_bad_rows(x, e, total):
    """Recompute the rows whose sum of exponentials overflowed or underflowed.

    Redo the rows of ``e = exp(x)`` whose sum overflowed or is tiny as e = exp(x - m_i),
    m_i = max_j x_ij (and their ``total``); returns the shifts m (0 for the other rows), or None
    when every row was fine.  NaN rows stay NaN, as in PyTorch.
    """
    xp = xp_of(x)
    t = total[:, 0]
    bad = ~((t >= _SUM_MIN) & (t < xp.inf))  # also catches NaN
    if not bad.any():
        return None
    idx = xp.nonzero(bad)[0]
    xb = x[idx]
    mx = xb.max(axis=1, keepdims=True)
    mx = xp.where(xp.isfinite(mx), mx, 0)  # an all -inf row: e = 0, lse = -inf
    with np.errstate(under="ignore", invalid="ignore"):
        eb = xp.exp(xb - mx)
    e[idx] = eb
    total[idx, 0] = eb.sum(axis=1)
    shift = xp.zeros(len(x), x.dtype)
    shift[idx] = mx[:, 0]
    return shift


def scaled_softmax(e, total, s=None):
    """s_i · softmax_ij from ``softmax_rows``' e and total (s of None: 1), one pass over e."""
    row = 1.0 / total if s is None else s / total
    return e * row.astype(e.dtype, copy=False)[:, None]


def log_softmax_reference(x):
    """log softmax(x) row-wise, shifted by the row maximum."""
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy_grad_reference(x, target):
    """d/dx of Σᵢ -log softmax(x)_i,targetᵢ: softmax(x) - one_hot(target)."""
    p = np.exp(log_softmax_reference(x))
    p[np.arange(len(x)), target] -= 1
    return p
