"""Sorting and sets.

Sorting and sets: sort, argsort, topk, kthvalue, median, mode, unique, unique_consecutive,
searchsorted, bucketize, histc, aminmax, var_mean, std_mean.

The values an op picks are read with ``gather`` at the indices it found, so their gradient flows
back to the picked entries with no derivative of its own; the indices, counts and sets carry no
gradient (as PyTorch).
"""

from __future__ import annotations

from collections import namedtuple

from chainrule import backend
from chainrule.backend import np
from chainrule.ops import reduce as _reduce
from chainrule.ops.indexing import gather
from chainrule.ops.shape import norm_dim
from chainrule.tensor import Tensor

# PyTorch's torch.return_types: a tuple with named fields
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
MinMax = namedtuple("MinMax", ["min", "max"])


def _axis(op: str, x: Tensor, dim: int) -> int:
    return norm_dim(dim, max(x.ndim, 1), op)


def _order(a, axis: int, descending: bool):
    """Stable sort order along ``axis`` (a NumPy array); NaN sorts as the largest value (as PyTorch)."""
    xp = np
    a = backend.to_numpy(a)
    if a.dtype == np.bool_:
        a = a.astype(np.int8)
    if descending:
        n = a.shape[axis]
        # reversing, sorting stably and reversing back keeps equal values in their original order
        rev = xp.flip(a, axis)
        idx = xp.flip(xp.argsort(rev, axis=axis, kind="stable"), axis)
        return (n - 1) - idx
    return xp.argsort(a, axis=axis, kind="stable")


def _on(like: Tensor, arr) -> Tensor:
    """A tensor of the NumPy array ``arr`` on the device of ``like``."""
    return Tensor._make(backend.to_device(np.asarray(arr), like.device))


def _pick(x: Tensor, axis: int, idx) -> Tensor:
    if x.ndim == 0:
        return x.reshape(())
    return gather(x, axis, _on(x, idx))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """``(values, indices)``: ``input`` sorted along ``dim`` and where each value came from.

    Equal values keep their order (the sort is always stable); NaN counts as the largest value.

    >>> cr.sort(cr.tensor([3.0, 1.0, 2.0])).indices
    tensor([1, 2, 0])
    """
    axis = _axis("sort", input, dim)
    if input.ndim == 0:
        return ValuesIndices(
            input.clone() if input.requires_grad else input, _on(input, np.zeros((), np.int64))
        )
    idx = _order(input._data, axis, descending).astype(np.int64)
    return ValuesIndices(_pick(input, axis, idx), _on(input, idx))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (int64, no gradient)."""
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) entries along ``dim``.

    >>> cr.topk(cr.tensor([1.0, 5.0, 3.0]), 2).values
    tensor([5., 3.])
    """
    axis = _axis("topk", input, dim)
    n = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size {n}")
    if input.ndim == 0:
        return sort(input)
    idx = _order(input._data, axis, largest)
    idx = np.take(idx, np.arange(k), axis=axis).astype(np.int64)
    return ValuesIndices(_pick(input, axis, idx), _on(input, idx))


def _keep(t: Tensor, axis: int, keepdim: bool, ndim: int) -> Tensor:
    return t if keepdim or ndim == 0 else t.squeeze(axis)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """``(values, indices)`` of the ``k``-th smallest entry (k from 1) along ``dim``."""
    axis = _axis("kthvalue", input, dim)
    n = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(
            f"kthvalue: k ({k}) is out of range for dimension {dim} of size {n} (k counts from 1)"
        )
    if input.ndim == 0:
        return sort(input)
    idx = np.take(_order(input._data, axis, False), [k - 1], axis=axis).astype(np.int64)
    v, i = _pick(input, axis, idx), _on(input, idx)
    return ValuesIndices(_keep(v, axis, keepdim, input.ndim), _keep(i, axis, keepdim, input.ndim))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):  # noqa: A002
    """The lower median.

    The lower median (the ⌊(n-1)/2⌋-th smallest value): over all entries a 0-d tensor, along ``dim``
    ``(values, indices)``.  A slice holding NaN has median NaN (at its first NaN), as PyTorch.
    """
    x = input.reshape(-1) if dim is None else input
    axis = 0 if dim is None else _axis("median", input, dim)
    n = x.shape[axis] if x.ndim else 1
    if n == 0:
        raise IndexError(
            f"median: can't take the median of an empty {'tensor' if dim is None else 'dimension'}"
        )
    if x.ndim == 0:
        return x.clone() if dim is None else sort(x)
    a = backend.to_numpy(x._data)
    idx = np.take(_order(a, axis, False), [(n - 1) // 2], axis=axis)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        idx = np.where(nan.any(axis, keepdims=True), nan.argmax(axis, keepdims=True), idx)
    idx = idx.astype(np.int64)
    v, i = _pick(x, axis, idx), _on(x, idx)
    if dim is None:
        return v.reshape(())
    return ValuesIndices(_keep(v, axis, keepdim, x.ndim), _keep(i, axis, keepdim, x.ndim))


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """The most frequent value.

    ``(values, indices)``: the most frequent value along ``dim`` (the smallest on a tie) and the
    last position where it occurs.
    """
    axis = _axis("mode", input, dim)
    if input.ndim == 0:
        return sort(input)
    a = np.moveaxis(backend.to_numpy(input._data), axis, -1)
    rows = a.reshape(-1, a.shape[-1])
    vals, idxs = [], []
    for row in rows:
        u, counts = np.unique(row, return_counts=True)
        v = u[np.argmax(counts)]
        vals.append(v)
        idxs.append(int(np.nonzero(row == v)[0][-1]))
    idx = np.asarray(idxs, np.int64).reshape(a.shape[:-1] + (1,))
    idx = np.moveaxis(idx, -1, axis)
    v, i = _pick(input, axis, idx), _on(input, idx)
    return ValuesIndices(_keep(v, axis, keepdim, input.ndim), _keep(i, axis, keepdim, input.ndim))


def _unique_out(like: Tensor, values, inverse, counts, return_inverse: bool, return_counts: bool):
    out = [_on(like, values)]
    if return_inverse:
        out.append(_on(like, np.asarray(inverse, np.int64)))
    if return_counts:
        out.append(_on(like, np.asarray(counts, np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(
    input: Tensor,  # noqa: A002
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
):
    """The distinct values.

    The distinct values (or, with ``dim``, distinct slices along it) in ascending order; optionally
    the index of each input entry in them (``return_inverse``) and how often each occurs.

    >>> cr.unique(cr.tensor([3, 1, 3]), return_counts=True)
    (tensor([1, 3]), tensor([1, 2]))
    """
    a = backend.to_numpy(input._data)
    if dim is None:
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        axis = norm_dim(dim, a.ndim, "unique")
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
        inv = inv.reshape(-1)
    return _unique_out(input, vals, inv, counts, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim=None):  # noqa: A002
    """Each run of equal consecutive values (or slices along ``dim``) collapsed to one.

    >>> cr.unique_consecutive(cr.tensor([1, 1, 2, 1]))
    tensor([1, 2, 1])
    """
    a = backend.to_numpy(input._data)
    if dim is None:
        flat = a.reshape(-1)
        moved, axis = flat.reshape(-1, 1), 0
    else:
        axis = norm_dim(dim, a.ndim, "unique_consecutive")
        moved = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
    n = moved.shape[0]
    start = np.ones(n, bool)
    if n > 1:
        start[1:] = np.any(moved[1:] != moved[:-1], axis=1)
    inv = np.cumsum(start) - 1
    firsts = np.nonzero(start)[0]
    counts = np.diff(np.append(firsts, n))
    vals = flat[firsts] if dim is None else np.take(a, firsts, axis=axis)
    if dim is None:
        inv = inv.reshape(a.shape)
    return _unique_out(input, vals, inv, counts, return_inverse, return_counts)


def searchsorted(
    sorted_sequence: Tensor,
    input,  # noqa: A002
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """Where values would be inserted in a sorted sequence.

    Where each value of ``input`` would go in the (last-dim) sorted ``sorted_sequence``:
    ``right=False`` the first index i with ``seq[i] >= v``, ``right=True`` with ``seq[i] > v``.

    A 1-D sequence serves every value; otherwise its leading dims must match input's.

    >>> cr.searchsorted(cr.tensor([1, 3, 5]), cr.tensor([3, 6]))
    tensor([1, 3])
    """
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side='left' contradicts right=True")
        right = side == "right"
    seq = backend.to_numpy(sorted_sequence._data)
    if sorter is not None:
        seq = np.take_along_axis(seq, backend.to_numpy(sorter._data), axis=-1)
    scalar = not isinstance(input, Tensor)
    vals = backend.to_numpy(input._data) if not scalar else np.asarray(input)
    how = "right" if right else "left"
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=how)  # type: ignore[call-overload]
    else:
        if vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                f"searchsorted: boundaries {seq.shape} and input {vals.shape} must agree in every dim but "
                "the last (or the boundaries be 1-D)"
            )
        s2, v2 = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(s2, v2)]).reshape(vals.shape)  # type: ignore[call-overload]
    return _on(sorted_sequence, np.asarray(out, np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:  # noqa: A002
    """The bucket of each value.

    The bucket of each value given 1-D sorted ``boundaries``: ``right=False`` gives i with
    ``b[i-1] < v <= b[i]``, ``right=True`` ``b[i-1] <= v < b[i]``.
    """
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be 1-D, got shape {tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Histogram with equal-width bins.

    Counts of the values in ``bins`` equal-width bins over [min, max] (the data's range when
    min == max); values outside are ignored.  Same float dtype as input.
    """
    if input._data.dtype.kind != "f":
        raise TypeError(f"histc: expected a floating point tensor, got {input.dtype}")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, got {bins}")
    a = backend.to_numpy(input._data).reshape(-1)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError(f"histc: max ({hi}) must be larger than min ({lo})")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return _on(input, counts.astype(input.dtype))


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):  # noqa: A002
    """``(min, max)`` over all entries or along ``dim``."""
    return MinMax(_reduce.amin(input, dim, keepdim), _reduce.amax(input, dim, keepdim))


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> tuple:  # noqa: A002
    """``(var, mean)`` over ``dim`` (Bessel's correction by default, as ``var``)."""
    return (
        _reduce.var(input, dim, unbiased, keepdim, correction=correction),
        _reduce.mean(input, dim, keepdim),
    )


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> tuple:  # noqa: A002
    """``(std, mean)`` over ``dim``."""
    return (
        _reduce.std(input, dim, unbiased, keepdim, correction=correction),
        _reduce.mean(input, dim, keepdim),
    )
