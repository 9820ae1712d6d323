"""Indexing and shape ops of PyTorch's wider vocabulary.

Indexing and shape ops of PyTorch's wider vocabulary: gather/scatter, index_*, masked_*, take,
nonzero, select, unbind, tile, repeat_interleave, roll, flip, rot90, movedim, unflatten, stacks.

Almost all are written as integer-array indexing (``getitem``, whose gradient scatters back with
repeated indices adding up), ``where`` and reshapes, so they carry no derivative of their own; the
one exception, ``Assign`` (out = x with some entries replaced), has its backward here.
"""

from __future__ import annotations

from collections.abc import Sequence

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import elementwise as _ew
from chainrule.ops import shape as _shape
from chainrule.ops.shape import norm_dim
from chainrule.tensor import Tensor


class Assign(Function):
    """Indexed assignment.

    out = x with ``out[index] = src`` (``src`` a Tensor or a number);  dx = grad with the assigned
    entries zeroed, dsrc = grad[index].
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, src, index, keep):
        ctx.index, ctx.keep = index, keep
        out = x._data.copy()
        out[index] = src._data if isinstance(src, Tensor) else src
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = grad * ctx.keep if ctx.needs_input_grad[0] else None
        gsrc = grad[ctx.index] if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None


# ----------------------------------------------------------------------------- checks


def _dev(like: Tensor, arr):
    """``arr`` (an index or mask built on the CPU) on the device of ``like``."""
    return backend.to_device(arr, like.device)


def _int_index(op: str, index, what: str = "index", int64: bool = False) -> np.ndarray:
    """The array of an integer index (a Tensor, array or list); raises TypeError for other dtypes."""
    arr = index._data if isinstance(index, Tensor) else np.asarray(index)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise TypeError(f"{op}: {what} must be an integer tensor (int64), got dtype {arr.dtype}")
    if int64 and arr.dtype != np.int64:
        raise TypeError(f"{op}: expected dtype int64 for {what}, got {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _in_range(op: str, idx, n: int, dim: int) -> None:
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].ravel()[0]
        raise IndexError(f"{op}: index {int(bad)} is out of bounds for dimension {dim} with size {n}")


def _grid(index_shape: tuple, axis: int, idx) -> tuple:
    """The advanced index picking ``x[i0, .., idx[i], .., in]`` for every position i of ``idx``."""
    xp = xp_of(idx)
    parts = []
    for d, n in enumerate(index_shape):
        if d == axis:
            parts.append(idx)
        else:
            shape = [1] * len(index_shape)
            shape[d] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


def _gather_index(op: str, x: Tensor, dim: int, index) -> tuple:
    axis = norm_dim(dim, max(x.ndim, 1), op)
    idx = _int_index(op, index, int64=True)
    if idx.ndim != x.ndim:
        raise RuntimeError(
            f"{op}: index tensor must have the same number of dimensions as input ({x.ndim}), "
            f"got {idx.ndim} (shape {tuple(idx.shape)})"
        )
    for d, (a, b) in enumerate(zip(idx.shape, x.shape)):
        if d != axis and a > b:
            raise RuntimeError(
                f"{op}: size of index {tuple(idx.shape)} exceeds input {tuple(x.shape)} at dimension {d}"
            )
    _in_range(op, idx, x.shape[axis] if x.ndim else 1, dim)
    return axis, idx


# ----------------------------------------------------------------------------- gather / scatter


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` (for dim=1): values picked along ``dim``.

    ``index`` is int64 with input's number of dims; out has index's shape.  The gradient adds back
    into the picked positions (repeated indices add up).

    >>> cr.gather(cr.tensor([[1, 2], [3, 4]]), 1, cr.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]])
    """
    axis, idx = _gather_index("gather", input, dim, index)
    if input.ndim == 0:
        return input.reshape(idx.shape)
    return _shape.getitem(input, _grid(idx.shape, axis, idx))


def _scatter_src(op: str, src, idx: np.ndarray, input: Tensor):  # noqa: A002
    if isinstance(src, Tensor):
        if src.ndim != idx.ndim or any(a > b for a, b in zip(idx.shape, src.shape)):
            raise RuntimeError(
                f"{op}: src {tuple(src.shape)} must have index's number of dims and be at least as large "
                f"as index {tuple(idx.shape)}"
            )
        if src.dtype != input.dtype:
            raise RuntimeError(f"{op}: expected src dtype {input.dtype} (input's), got {src.dtype}")
        return src[tuple(slice(0, n) for n in idx.shape)] if src.shape != idx.shape else src
    return src


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:  # noqa: A002
    """Write values at the positions given by an index.

    A copy of ``input`` with ``out[i][index[i][j]] = src[i][j]`` (dim=1); ``src`` a tensor or a number
    (``value=``).  ``reduce='add'``/``'multiply'`` combine instead of replace.

    With repeated indices the entry written last wins (PyTorch leaves the choice unspecified).

    >>> cr.scatter(cr.zeros(2, 3), 1, cr.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: expected src (a tensor) or value (a number)")
    axis, idx = _gather_index("scatter", input, dim, index)
    src = _scatter_src("scatter", src, idx, input)
    grid = _grid(idx.shape, axis, idx)
    if reduce == "add":
        return scatter_add(input, dim, index, src if isinstance(src, Tensor) else _full(idx, src, input))
    if reduce is not None:
        raise ValueError(
            f"scatter: reduce must be None or 'add' ('multiply' is not supported), got {reduce!r}"
        )
    keep = xp_of(input._data).ones(input.shape, input.dtype)
    keep[grid] = 0
    return Assign.apply(input, src, grid, keep)


def _full(idx, value, like: Tensor) -> Tensor:
    return Tensor._make(xp_of(like._data).full(idx.shape, value, like.dtype))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``out[i][index[i][j]] += src[i][j]`` (dim=1); repeated indices add up.

    >>> cr.scatter_add(cr.zeros(3), 0, cr.tensor([0, 0, 2]), cr.ones(3))
    tensor([2., 0., 1.])
    """
    axis, idx = _gather_index("scatter_add", input, dim, index)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    src = _scatter_src("scatter_add", src, idx, input)
    from chainrule.ops import bmath as bm

    return _ew.add(input, bm.index_add(src, input.shape, _grid(idx.shape, axis, idx)))


# ----------------------------------------------------------------------------- index_*


def _dim_index(op: str, x: Tensor, dim: int, index) -> tuple:
    axis = norm_dim(dim, max(x.ndim, 1), op)
    idx = _int_index(op, index)
    if idx.ndim > 1:
        raise IndexError(f"{op}: index must be a vector (0 or 1 dims), got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    _in_range(op, idx, x.shape[axis] if x.ndim else 1, dim)
    return axis, idx


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    """The slices ``index`` (a 1-D integer tensor) of ``input`` along ``dim``.

    >>> cr.index_select(cr.arange(6).reshape(2, 3), 1, cr.tensor([2, 0]))
    tensor([[2, 0],
            [5, 3]])
    """
    axis, idx = _dim_index("index_select", input, dim, index)
    if input.ndim == 0:
        return _shape.getitem(_shape.reshape(input, (1,)), idx)
    return _shape.getitem(input, (slice(None),) * axis + (_dev(input, idx),))


def _check_source(op: str, x: Tensor, axis: int, idx, source: Tensor) -> None:
    want = x.shape[:axis] + (idx.size,) + x.shape[axis + 1 :]
    if tuple(source.shape) != want:
        raise RuntimeError(
            f"{op}: source must have shape {want} (input's with dim {axis} of the index's length), "
            f"got {tuple(source.shape)}"
        )


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``alpha * source`` added to the slices ``index`` along ``dim``.

    >>> cr.index_add(cr.zeros(3, 2), 0, cr.tensor([0, 0]), cr.ones(2, 2))
    tensor([[2., 2.],
            [0., 0.],
            [0., 0.]])
    """
    axis, idx = _dim_index("index_add", input, dim, index)
    _check_source("index_add", input, axis, idx, source)
    from chainrule.ops import bmath as bm

    src = source if alpha == 1 else _ew.mul(source, alpha)
    return _ew.add(input, bm.index_add(src, input.shape, (slice(None),) * axis + (_dev(input, idx),)))


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` whose slices ``index`` along ``dim`` are replaced by ``source``'s.

    >>> cr.index_copy(cr.zeros(3), 0, cr.tensor([2]), cr.tensor([5.0]))
    tensor([0., 0., 5.])
    """
    axis, idx = _dim_index("index_copy", input, dim, index)
    _check_source("index_copy", input, axis, idx, source)
    where = (slice(None),) * axis + (_dev(input, idx),)
    keep = xp_of(input._data).ones(input.shape, input.dtype)
    keep[where] = 0
    return Assign.apply(input, source, where, keep)


def _dim_mask(x: Tensor, axis: int, idx) -> np.ndarray:
    mask = np.zeros(x.shape[axis], bool)
    mask[backend.to_numpy(idx)] = True
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return _dev(x, mask.reshape(shape))


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:  # noqa: A002
    """A copy of ``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number or 0-d tensor).

    >>> cr.index_fill(cr.zeros(2, 2), 1, cr.tensor([1]), -1.0)
    tensor([[ 0., -1.],
            [ 0., -1.]])
    """
    axis, idx = _dim_index("index_fill", input, dim, index)
    return _masked(input, Tensor._make(_dim_mask(input, axis, idx)), value, "index_fill")


def _masked(x: Tensor, mask: Tensor, value, op: str) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                f"{op}: only a 0-dimensional value tensor is supported, got shape {value.shape}"
            )
        value = value.to(x.dtype)
    else:
        value = Tensor._make(xp_of(x._data).asarray(value, dtype=x.dtype))
    return _ew.where(mask, value, x)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:  # noqa: A002
    """``input`` with ``value`` where the bool ``mask`` (broadcast to input's shape) is True.

    >>> cr.masked_fill(cr.zeros(3), cr.tensor([True, False, True]), 7.0)
    tensor([7., 0., 7.])
    """
    _check_mask("masked_fill", input, mask)
    return _masked(input, mask, value, "masked_fill")


def _check_mask(op: str, x: Tensor, mask) -> None:
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise TypeError(f"{op}: mask must be a bool tensor, got {got}")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        shape = None
    if shape != tuple(x.shape):
        raise RuntimeError(
            f"{op}: mask of shape {tuple(mask.shape)} can't be broadcast to input's shape {tuple(x.shape)}"
        )


def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    """The entries of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast together).

    >>> cr.masked_select(cr.tensor([1, 2, 3]), cr.tensor([True, False, True]))
    tensor([1, 3])
    """
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        raise TypeError("masked_select: mask must be a bool tensor")
    shape = np.broadcast_shapes(input.shape, mask.shape)
    x = _shape.expand(input, shape) if input.shape != shape else input
    return _shape.getitem(x, xp_of(mask._data).broadcast_to(mask._data, shape))


def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    """``input`` read as 1-D at the positions ``index``; out has index's shape.

    >>> cr.take(cr.tensor([[1, 2], [3, 4]]), cr.tensor([0, 3]))
    tensor([1, 4])
    """
    idx = _dev(input, _int_index("take", index))
    _in_range("take", idx, input.numel(), 0)
    return _shape.getitem(_shape.reshape(input, (-1,)), idx)


def nonzero(input: Tensor, *, as_tuple: bool = False):  # noqa: A002
    """The indices of the nonzero entries.

    The indices of the nonzero entries: an (n, ndim) int64 tensor, or with ``as_tuple=True`` one
    1-D tensor per dimension.

    >>> cr.nonzero(cr.tensor([0, 3, 0, 4]))
    tensor([[1],
            [3]])
    """
    nz = xp_of(input._data).nonzero(input._data.reshape(1) if input.ndim == 0 else input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in nz)
    return Tensor._make(xp_of(input._data).stack(nz, axis=1).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """``nonzero(input)``: the (n, ndim) indices of the nonzero entries."""
    nz = xp_of(input._data).argwhere(input._data)
    return Tensor._make(nz.astype(np.int64))


# ----------------------------------------------------------------------------- shape


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """The slice at ``index`` along ``dim`` (that dimension removed): ``x.select(1, 0) == x[:, 0]``."""
    axis = norm_dim(dim, input.ndim, "select")
    n = input.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} out of range for dimension {dim} of size {n}")
    return _shape.getitem(input, (slice(None),) * axis + (int(index),))


def unbind(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002
    """The slices along ``dim`` as a tuple (that dimension removed)."""
    axis = norm_dim(dim, input.ndim, "unbind")
    return tuple(select(input, axis, i) for i in range(input.shape[axis]))


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` repeated ``dims`` times along each dimension (missing leading counts are 1)."""
    dims = tuple(int(d) for d in dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return _shape.repeat(input, dims)


def repeat_interleave(input: Tensor, repeats, dim: int | None = None, *, output_size=None) -> Tensor:  # noqa: A002
    """Each element (or slice along ``dim``) repeated ``repeats`` times (an int or one count each).

    Without ``dim`` the input is flattened first.

    >>> cr.repeat_interleave(cr.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    """
    x = input
    if dim is None:
        x, axis = _shape.reshape(input, (-1,)), 0
    else:
        axis = norm_dim(dim, x.ndim, "repeat_interleave")
    n = x.shape[axis]
    reps = (
        _int_index("repeat_interleave", repeats, "repeats")
        if isinstance(repeats, (Tensor, list))
        else repeats
    )
    if np.any(np.asarray(reps) < 0):
        raise RuntimeError("repeat_interleave: repeats must be non-negative")
    if np.ndim(reps) == 1 and len(reps) not in (1, n):
        raise RuntimeError(
            f"repeat_interleave: repeats must have {n} counts (dim size) or 1, got {len(reps)}"
        )
    idx = np.repeat(np.arange(n), np.asarray(reps).reshape(-1) if np.ndim(reps) else int(reps))
    return _shape.getitem(x, (slice(None),) * axis + (_dev(x, idx),))


def roll(input: Tensor, shifts, dims=None) -> Tensor:  # noqa: A002
    """Elements shifted cyclically by ``shifts`` along ``dims`` (without dims: over the flattened tensor).

    >>> cr.roll(cr.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError("roll: with dims=None, shifts must be a single int")
        return roll(_shape.reshape(input, (-1,)), shifts, 0).reshape(input.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    x = input
    for s, d in zip(shifts, dims):
        axis = norm_dim(d, x.ndim, "roll")
        n = x.shape[axis]
        if n:
            x = _shape.getitem(x, (slice(None),) * axis + (_dev(x, np.roll(np.arange(n), s)),))
    return x


def flip(input: Tensor, dims) -> Tensor:  # noqa: A002
    """``input`` reversed along ``dims`` (a copy, as PyTorch).

    >>> cr.flip(cr.tensor([1, 2, 3]), [0])
    tensor([3, 2, 1])
    """
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = _shape.norm_dims(dims, input.ndim, "flip") if dims else ()
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dims {dims} has a dimension twice")
    x = input
    for axis in axes:
        x = _shape.getitem(x, (slice(None),) * axis + (_dev(x, np.arange(x.shape[axis] - 1, -1, -1)),))
    return x if axes else _ew.clone(input)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """Reverse the columns (dim 1); input must have at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must have at least 2 dims, got {input.ndim}")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """Reverse the rows (dim 0); input must have at least 1 dim."""
    if input.ndim < 1:
        raise RuntimeError("flipud: input must have at least 1 dim")
    return flip(input, (0,))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """Rotate by 90° ``k`` times in the plane ``dims`` (from the first axis towards the second)."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 dims, got {len(dims)}")
    a, b = (norm_dim(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"rot90: dims must be different, got {dims}")
    k %= 4
    if k == 0:
        return _ew.clone(input)
    if k == 2:
        return flip(input, (a, b))
    if k == 1:
        return _shape.transpose(flip(input, (b,)), a, b)
    return flip(_shape.transpose(input, a, b), (b,))


def movedim(input: Tensor, source, destination) -> Tensor:  # noqa: A002
    """Move dims ``source`` to positions ``destination`` (ints or sequences of equal length)."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {src} and destination {dst} must have the same length")
    src = tuple(norm_dim(d, input.ndim, "movedim") for d in src)
    dst = tuple(norm_dim(d, input.ndim, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _shape.permute(input, tuple(order))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` expanded (a view) to ``size`` following the broadcasting rules."""
    return _shape.expand(input, tuple(size))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """Dimension ``dim`` split into ``sizes`` (one may be -1).

    >>> cr.unflatten(cr.zeros(2, 6), 1, (2, 3)).shape
    (2, 2, 3)
    """
    axis = norm_dim(dim, input.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    n = input.shape[axis]
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply to dimension {dim} of size {n}")
    return _shape.reshape(input, input.shape[:axis] + sizes + input.shape[axis + 1 :])


def _at_least(t: Tensor, n: int) -> Tensor:
    return t.reshape((1,) * (n - t.ndim) + t.shape) if t.ndim < n else t


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    ts = [_at_least(t, 1) for t in tensors]
    return _shape.cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0, 1-D tensors becoming rows."""
    return _shape.cat([_at_least(t, 2) for t in tensors], 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 2 (1-D tensors become (1, n, 1), 2-D (m, n, 1))."""
    ts = []
    for t in tensors:
        t = _at_least(t, 2)
        ts.append(t.reshape(t.shape + (1,)) if t.ndim == 2 else t)
    return _shape.cat(ts, 2)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors (``indexing='ij'`` matrix or ``'xy'`` Cartesian order)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, got shape {tuple(t.shape)}")
    ts = [t.reshape(-1) for t in tensors]
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        out.append(_shape.expand(t.reshape(tuple(view)), shape))
    if indexing == "xy" and len(ts) >= 2:
        out[0], out[1] = out[1], out[0]
    return tuple(out)
