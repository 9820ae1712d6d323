"""Row scatter-add, the backward of an embedding lookup: ``out[idx[i]] += rows[i]``.

Reference: ``sum_rows_by_index_reference`` (NumPy's ``add.at``, slow for row scatters).  Tuned:
``sum_rows_by_index``, with NumPy alone (sorted indices, one vectorised pass per occurrence rank)
or, when the JIT is on, one compiled loop.  The loop and ``add.at`` add each index's rows in their
original order, and so does the NumPy path up to 16 occurrences of an index (beyond, its segmented
sum rounds in another order, within float rounding of the others).
"""

from __future__ import annotations

from chainrule.backend import np, xp_of
from chainrule.kernels import jit


def sum_rows_by_index_reference(rows, idx, n: int):
    """out = zeros(n, d) with ``out[idx[i]] += rows[i]`` for i = 0, 1, ... (``rows`` (m, d), ``idx`` (m,))."""
    out = np.zeros((n, rows.shape[1]), rows.dtype)
    np.add.at(out, idx, rows)
    return out


def sum_rows_by_index(rows, idx, n: int):
    """out[k] = Σ rows[i] over the i with idx[i] = k, for k < n, summed in the order of i.

    NumPy path: sort the indices, then add the first occurrence of every index in one vectorised
    pass, the second occurrences in the next, and so on: each pass has no repeated index, so plain
    fancy-index addition is exact, and a text batch needs only a handful of passes (several
    times faster than ``add.at``).  Heavily repeated indices use one segmented sum instead.

    >>> sum_rows_by_index(np.ones((3, 2), np.float32), np.array([2, 0, 2]), 3)
    array([[1., 1.],
           [0., 0.],
           [2., 2.]], dtype=float32)
    """
    xp = xp_of(rows)
    out = xp.zeros((n, rows.shape[1]), rows.dtype)
    if idx.size == 0:
        return out
    if type(rows) is np.ndarray and rows.dtype.kind == "f" and (loop := jit.kernel("sum_rows_by_index")):
        loop(out, np.ascontiguousarray(idx.reshape(-1)), np.ascontiguousarray(rows))
        return out
    order = xp.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    first = xp.concatenate([xp.ones(1, bool), sorted_idx[1:] != sorted_idx[:-1]])
    starts = xp.flatnonzero(first)
    rank = xp.arange(idx.size) - starts[xp.cumsum(first) - 1]  # 0 for a first occurrence, 1, ...
    passes = int(rank.max()) + 1
    sorted_rows = rows[order]
    if passes > 16:
        out[sorted_idx[starts]] += xp.add.reduceat(sorted_rows, starts, axis=0)
        return out
    for k in range(passes):
        take = rank == k
        out[sorted_idx[take]] += sorted_rows[take]
    return out
