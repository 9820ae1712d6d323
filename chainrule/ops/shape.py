"""Shape ops.

Shape ops: reshape/view, flatten, squeeze/unsqueeze, transpose/permute, expand, repeat,
indexing, cat/stack, split/chunk and pad.

None of these change values, only where they sit, so each backward moves the
gradient back to where the value came from: reshape it back, transpose it
back, sum it over the copies that expand/repeat made, scatter it into the
indexed positions (adding where an index repeats).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule.autograd.function import Function
from chainrule.backend import np, xp_of
from chainrule.ops import _args
from chainrule.ops import bmath as bm
from chainrule.tensor import Tensor

# ----------------------------------------------------------------------------- argument helpers


def norm_dim(dim: int, ndim: int, op: str, extra: int = 0) -> int:
    """A dimension index in [0, ndim + extra), accepting negatives as PyTorch; IndexError otherwise."""
    n = ndim + extra
    lo, hi = -max(n, 1), max(n, 1) - 1
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    if not lo <= dim <= hi:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return int(dim) % max(n, 1)


def norm_dims(dim, ndim: int, op: str) -> tuple:
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    axes = tuple(sorted(norm_dim(d, ndim, op) for d in dim))
    if ndim == 0:
        return ()  # dim 0 / -1 of a 0-d tensor is allowed and reduces nothing
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return axes


def shape_arg(args: tuple) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))`` forms of a shape argument."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    if len(args) == 1 and isinstance(args[0], Tensor):
        return tuple(int(v) for v in args[0].tolist())
    return tuple(args)


# ----------------------------------------------------------------------------- ops


class Reshape(Function):
    """out = x with a new shape (same elements, row-major order);  dx = grad reshaped back."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return x._data.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {tuple(shape)} is invalid for input of size {x._data.size} "
                f"(shape {tuple(x.shape)})"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        return grad.reshape(x.shape), None


class Permute(Function):
    """out = x with its dimensions reordered by ``dims``;  dx = grad with the inverse order."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._data.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = tuple(int(i) for i in np.argsort(ctx.dims))
        return bm.permute(grad, inverse), None


class Expand(Function):
    """out = x broadcast to ``shape`` (a view, no copy);  dx = grad summed over the broadcast dims."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        return xp_of(x._data).broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, grad):
        from chainrule.ops.elementwise import unbroadcast

        x = ctx.inputs[0]
        return unbroadcast(grad, x.shape), None


class Repeat(Function):
    """out = x tiled ``reps`` times along each dim;  dx = grad summed over the tiles."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, reps):
        ctx.reps = reps
        return xp_of(x._data).tile(x._data, reps)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        reps = ctx.reps
        shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
        interleaved = []
        for r, s in zip(reps, shape):
            interleaved += [r, s]
        g = grad.reshape(interleaved).sum(tuple(range(0, 2 * len(reps), 2)))
        return g.reshape(x.shape), None


class Index(Function):
    """out = x[index] (basic and integer/bool-array indexing);  dx = grad scattered back into x's shape."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, index, index_tensors=()):
        ctx.index = index
        # the index tensors are saved: changing one in place before backward raises (as PyTorch)
        ctx.save_for_backward(*index_tensors)
        try:
            out = x._data[index]
            if isinstance(out, np.generic):  # x[i, j] of every dim: a 0-d view (as PyTorch), not a copy
                out = x._data[(*index, Ellipsis) if isinstance(index, tuple) else (index, Ellipsis)]
            return out
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor shape {tuple(x.shape)})") from None

    @staticmethod
    def backward(ctx, grad):
        ctx.saved_tensors  # noqa: B018 - raises if an index tensor was changed since forward
        return bm.index_add(grad, ctx.inputs[0].shape, ctx.index), None


class IndexAdd(Function):
    """out = zeros(shape) with ``src`` added at ``index`` (repeated indices add up);  dsrc = grad[index]."""

    array_backward = True

    @staticmethod
    def forward(ctx, src, shape, index):
        ctx.index = index
        return _index_add(src._data, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None


def _index_add(src, shape: tuple, index):
    """zeros(shape) with the array ``src`` added at ``index`` (repeated indices add up)."""
    xp = xp_of(src)
    out = xp.zeros(shape, src.dtype)
    if _is_advanced(index):
        xp.add.at(out, index, src)
    else:
        out[index] = src
    return out


class Cat(Function):
    """out = the tensors joined along ``axis``;  each input gets its slice of grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, *tensors, axis):
        ctx.axis = axis
        ctx.sizes = [t.shape[axis] for t in tensors]
        out = xp_of(tensors[0]._data).concatenate([t._data for t in tensors], axis=axis)
        if out.dtype == np.float64 and all(t.dtype != np.float64 for t in tensors):
            out = out.astype(np.float32)  # ints joined with float32: float32, as PyTorch (NumPy: float64)
        return out

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        lead = (slice(None),) * ctx.axis
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            grads.append(grad[lead + (slice(start, start + size),)] if needed else None)
            start += size
        return tuple(grads)


class ConstantPad(Function):
    """out = x surrounded by ``value`` (``widths`` per dim as (before, after));  dx = the middle of grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        return xp_of(x._data).pad(x._data, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        index = tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(ctx.widths))
        return grad[index], None, None


# ----------------------------------------------------------------------------- functional API


def reshape(x: Tensor, shape) -> Tensor:
    """x with a new shape; one dimension may be -1 (inferred)."""
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape)._view_of(x)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    if x.ndim == 0:
        return x.reshape(1)
    s = norm_dim(start_dim, x.ndim, "flatten")
    e = norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    shape = x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :]
    return reshape(x, shape)


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (only ``dim``, when given; a dim of another size is left alone)."""
    axes = norm_dims(dim, x.ndim, "squeeze") if dim is not None else tuple(range(x.ndim))
    shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    d = norm_dim(dim, x.ndim, "unsqueeze", extra=1)
    return Reshape.apply(x, x.shape[:d] + (1,) + x.shape[d:])._view_of(x)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    d0, d1 = norm_dim(dim0, x.ndim, "transpose"), norm_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, tuple(dims))._view_of(x)


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Reorder the dimensions: out.shape[i] = x.shape[dims[i]]."""
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: number of dims {len(dims)} doesn't match the tensor's {x.ndim} dims (shape {x.shape})"
        )
    axes = tuple(norm_dim(d, x.ndim, "permute") for d in dims)
    if sorted(axes) != list(range(x.ndim)):
        raise RuntimeError(f"permute: dims {tuple(dims)} must be a permutation of 0..{x.ndim - 1}")
    return Permute.apply(x, axes)._view_of(x)


def expand(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Broadcast x to a larger ``shape`` without copying (-1 keeps a size)."""
    extra = len(shape) - x.ndim
    if extra < 0:
        raise RuntimeError(
            f"expand: the target shape {tuple(shape)} has fewer dims than the tensor {x.shape}"
        )
    full = []
    for i, s in enumerate(shape):
        own = x.shape[i - extra] if i >= extra else None
        if s == -1:
            if own is None:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, new dimension ({tuple(shape)})")
            s = own
        if own is not None and own != 1 and own != s:
            raise RuntimeError(
                f"expand: the size of dim {i - extra} ({own}) must match the target size {s} or be 1 "
                f"(tensor shape {x.shape}, target {tuple(shape)})"
            )
        full.append(int(s))
    target = tuple(full)
    return x if target == x.shape else Expand.apply(x, target)


def repeat(x: Tensor, reps: Sequence[int]) -> Tensor:
    """Tile x ``reps[i]`` times along dim i (reps may have more dims than x)."""
    if len(reps) < x.ndim:
        raise RuntimeError(
            f"repeat: number of repeat dims {len(reps)} can't be smaller than the tensor's {x.ndim}"
        )
    return Repeat.apply(x, tuple(int(r) for r in reps))


def _is_advanced(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        (hasattr(p, "__array_interface__") or hasattr(p, "__cuda_array_interface__"))
        and not isinstance(p, np.generic)
        for p in parts
    )


def normalize_index(index):
    """Turn Tensors and lists inside an index into arrays (NumPy indexing semantics otherwise)."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, np.ndarray) and index.ndim:
        return index.copy()  # as PyTorch, which makes a tensor of it: a later change can't reach backward
    if isinstance(index, list):
        arr = np.asarray([i.item() if isinstance(i, Tensor) else i for i in index])
        return arr.astype(np.int64) if arr.dtype.kind in "iu" or arr.size == 0 else arr
    return index


def getitem(x: Tensor, index) -> Tensor:
    """x[index]: ints, slices, None, Ellipsis, and integer or bool arrays/tensors."""
    # basic indexing gives a view (sharing the version counter), integer arrays a copy;
    # NumPy's IndexError is re-raised naming getitem
    tensors = tuple(i for i in (index if isinstance(index, tuple) else (index,)) if isinstance(i, Tensor))
    return Index.apply(x, normalize_index(index), index_tensors=tensors)._view_of(x)


def _tensor_list(op: str, tensors: Sequence[Tensor]) -> list:
    """``tensors`` as a non-empty list of Tensors, or a TypeError/ValueError naming ``op``."""
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: expected a sequence of Tensors, got {type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{op}: expected a sequence of Tensors, got {type(t).__name__} at position {i}; convert it "
                "with cr.tensor(x) (a copy) or cr.from_numpy(x) (shared memory)"
            )
    return tensors


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; all other dims must agree."""
    tensors = _tensor_list("cat", tensors)
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; use stack"
            )
    axis = norm_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != axis):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {dim}; tensor 0 has shape "
                f"{ref.shape} but tensor {i} has shape {t.shape}"
            )
    return Cat.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dimension ``dim``."""
    tensors = _tensor_list("stack", tensors)
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {tensors[0].shape} at entry 0 and "
                f"{t.shape} at entry {i}"
            )
    d = norm_dim(dim, tensors[0].ndim, "stack", extra=1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x: Tensor, split_size, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (an int, the last may be smaller, or a list of sizes)."""
    axis = norm_dim(dim, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size, (int, np.integer)):
        split_size = int(split_size)
        if split_size <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size}")
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
    else:
        sizes = list(split_size)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} don't add up to dimension {dim} of size {n}")
    lead = (slice(None),) * axis
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` nearly equal pieces (ceil(n / chunks) each)."""
    n = x.shape[norm_dim(dim, x.ndim, "chunk")]
    if chunks <= 0:
        raise ValueError(f"chunk: number of chunks must be positive, got {chunks}")
    return split(x, max(1, -(-n // chunks)), dim)


_PAD_MODES: dict[str, Any] = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad (or, with negative widths, crop) the last dims, as ``torch.nn.functional.pad``.

    ``pad = (left, right)`` pads the last dim, ``(left, right, top, bottom)`` the last two, and so on.
    ``mode`` is ``'constant'`` (with ``value``), ``'reflect'``, ``'replicate'`` or ``'circular'``.
    """
    _args.tensor("pad", "input", input)
    x = input
    value = 0.0 if value is None else value  # PyTorch's F.pad default (None) means 0
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"pad: value must be a number, got {type(value).__name__} {value!r}")
    if not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: padding widths must be ints, got {tuple(pad)}")
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: padding length must be even and at most 2 * ndim = {2 * x.ndim}, got {len(pad)} ({pad})"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    for axis, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
        if n + min(lo, 0) + min(hi, 0) < 0:
            raise ValueError(
                f"pad: the input size {n} of dim {axis}, plus negative padding {lo} and {hi}, gives a "
                f"negative size (input shape {tuple(x.shape)}, pad {tuple(pad)})"
            )
    if any(lo < 0 or hi < 0 for lo, hi in widths):  # negative widths crop
        crop = tuple(
            slice(-lo if lo < 0 else 0, s + hi if hi < 0 else s) for (lo, hi), s in zip(widths, x.shape)
        )
        x = x[crop]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return ConstantPad.apply(x, tuple(widths), value) if any(lo or hi for lo, hi in widths) else x
    if mode not in _PAD_MODES:
        raise ValueError(
            f"pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular', got {mode!r}"
        )
    k = len(pad) // 2
    if not 1 <= k <= 3 or x.ndim not in (k + 1, k + 2):  # as PyTorch: the last 1-3 dims of a (batched) map
        raise NotImplementedError(
            f"pad: padding size {len(pad)} is not supported for {x.ndim}D input in mode {mode!r}; "
            "non-constant padding takes 2 widths for 2D or 3D input, 4 for 3D or 4D, 6 for 4D or 5D"
        )
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            n = x.shape[axis]
            if mode == "reflect" and (lo >= n or hi >= n):
                raise RuntimeError(
                    f"pad: reflect padding ({lo}, {hi}) must be smaller than the size {n} of dim {axis} "
                    f"(input shape {tuple(x.shape)})"
                )
            if mode == "circular" and (lo > n or hi > n):
                raise RuntimeError(
                    f"pad: circular padding ({lo}, {hi}) wraps around more than once: it must be at most "
                    f"the size {n} of dim {axis} (input shape {tuple(x.shape)})"
                )
            if mode == "replicate" and n == 0:
                raise RuntimeError(f"pad: cannot replicate-pad the empty dim {axis} of {tuple(x.shape)}")
            idx = np.pad(np.arange(n), (lo, hi), mode=_PAD_MODES[mode])
            x = x[(slice(None),) * axis + (xp_of(x._data).asarray(idx),)]
    return x
