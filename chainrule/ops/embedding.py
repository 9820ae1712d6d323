"""``embedding`` (a lookup table of learned vectors) and ``one_hot``.

embedding: out[..., :] = weight[idx[...], :].  Backward scatters the upstream gradient
back into the rows that were looked up, adding where an index repeats (sorted, a few
vectorised passes, no loop over indices); the ``padding_idx`` row gets no gradient.
"""

from __future__ import annotations

from typing import Any

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import np, xp_of
from chainrule.ops import bmath as bm
from chainrule.ops.shape import IndexAdd
from chainrule.tensor import Tensor


class Embedding(Function):
    """out = weight[idx];  dweight = Σ of grad rows per index (padding row zeroed)."""

    array_backward = True

    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        # the indices are saved: changing them in place before backward raises (as PyTorch)
        ctx.save_for_backward(idx)
        ctx.padding_idx = padding_idx
        return weight._data[idx._data]

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        weight = ctx.inputs[0]
        idx = idx._data if isinstance(idx, Tensor) else idx
        g = bm.add_rows_at(grad.reshape((-1, weight.shape[1])), idx.reshape(-1), weight.shape[0])
        if ctx.padding_idx is not None:  # the padding row gets no gradient
            keep = xp_of(idx).ones((weight.shape[0], 1), grad.dtype)
            keep[ctx.padding_idx] = 0
            g = g * bm.const(keep, g)
        return g, None, None


def _as_index(op: str, input) -> Any:  # noqa: A002
    arr = input._data if isinstance(input, Tensor) else np.asarray(input)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: expected integer indices, got dtype {arr.dtype} (shape {tuple(arr.shape)}); use .long()"
        )
    return arr


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,  # noqa: A002
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up embedding vectors.

    Look up rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input`` (*),
    giving (*, embedding_dim), as ``torch.nn.functional.embedding``.

    ``max_norm``: rows that are looked up and have a larger ``norm_type``-norm are first
    rescaled in place to that norm.  Example::

        table = cr.randn(10, 3)
        F.embedding(cr.tensor([[1, 2], [4, 9]]), table).shape    # (2, 2, 3)
    """
    idx = _as_index("embedding", input)
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}"
        )
    n = weight.shape[0]
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise IndexError(
                f"embedding: index {bad} is out of range for {n} embeddings (valid 0..{n - 1}; "
                f"input shape {tuple(idx.shape)}, weight shape {tuple(weight.shape)})"
            )
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within [-{n}, {n - 1}]")
        padding_idx %= n
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    index = input if isinstance(input, Tensor) else Tensor._make(idx.copy())
    return Embedding.apply(weight, index, padding_idx)


def _renorm_(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """Rescale (in place) the looked-up rows whose norm exceeds ``max_norm``, as torch.embedding_renorm_."""
    xp = xp_of(weight._data)
    rows = xp.unique(idx.reshape(-1))
    with no_grad():
        w = weight._data[rows]
        norms = (xp.abs(w) ** norm_type).sum(1) ** (1.0 / norm_type)
        over = norms > max_norm
        if bool(over.any()):
            scale = xp.where(over, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
            weight._data[rows] = w * scale[:, None]
            weight._version += 1


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot encoding of class indices.

    Integer class indices (*) -> int64 one-hot vectors (*, num_classes), as PyTorch
    (``num_classes=-1``: max index + 1).  Example: ``one_hot(cr.tensor([0, 2]), 3)`` -> [[1,0,0],[0,0,1]].
    """
    idx = _as_index("one_hot", tensor)
    xp = xp_of(idx)
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: can not infer the number of classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if idx.size and int(idx.min()) < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(idx.min())}")
    if idx.size and int(idx.max()) >= num_classes:
        raise RuntimeError(
            f"one_hot: class values must be smaller than num_classes={num_classes}, got {int(idx.max())}"
        )
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)


# ----------------------------------------------------------------------------- embedding bags


def _bags(input, offsets, include_last_offset: bool, psw) -> tuple:  # noqa: A002
    """(flat indices, bag of each index, number of bags) of embedding_bag's 1-D or 2-D ``input``."""
    op = "embedding_bag"
    idx = backend.to_numpy(_as_index(op, input)).astype(np.int64, copy=False)
    if psw is not None and tuple(psw.shape) != tuple(idx.shape):
        raise ValueError(
            f"{op}: per_sample_weights of shape {tuple(psw.shape)} must have the shape of the input "
            f"{tuple(idx.shape)}"
        )
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                f"{op}: a 2-D input is a batch of fixed-length bags, so offsets has to be None, got "
                f"{type(offsets).__name__}"
            )
        b, length = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), length), b
    if idx.ndim != 1:
        raise ValueError(f"{op}: input has to be 1-D or 2-D, got shape {tuple(idx.shape)}")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1-D Tensor for a 1-D input, got None")
    off = backend.to_numpy(_as_index(op, offsets)).astype(np.int64, copy=False)
    if off.ndim != 1:
        raise ValueError(f"{op}: offsets has to be a 1-D Tensor, got shape {tuple(off.shape)}")
    n = len(idx)
    if len(off) and off[0] != 0:
        raise RuntimeError(f"{op}: offsets[0] has to be 0 (the first bag starts at position 0), got {off[0]}")
    if len(off) and off[-1] > n:
        raise RuntimeError(f"{op}: offsets[-1] can not be greater than input's length {n}, got {off[-1]}")
    if np.any(np.diff(off) < 0):
        raise ValueError(f"{op}: offsets must be non-decreasing, got {off.tolist()}")
    ends = off[1:] if include_last_offset else np.append(off[1:], n)
    starts = off[:-1] if include_last_offset else off
    sizes = ends - starts
    return idx[: int(sizes.sum())], np.repeat(np.arange(len(starts)), sizes), len(starts)


def embedding_bag(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    r"""Sums, means or maxima of bags of embeddings, as ``torch.nn.functional.embedding_bag``.

    $$
    \text{out}_b = \operatorname{reduce}_{i \in \text{bag } b,\ \text{idx}_i \ne \text{padding}}
    \; w_i \cdot \text{weight}[\text{idx}_i]
    $$

    with reduce = Σ (``'sum'``), the mean (``'mean'``) or the element-wise maximum (``'max'``, the
    gradient going to the first maximum); w = ``per_sample_weights`` (``'sum'`` only) or 1.  Entries
    equal to ``padding_idx`` are left out (not counted in a mean); an empty bag gives zeros.  Faster
    and lighter than ``embedding`` followed by a reduction (no (bags, length, dim) intermediate).

    Args:
        input: int indices, 2-D (B, L) (B bags of L) or 1-D with ``offsets``.
        weight: the table (num_embeddings, embedding_dim).
        offsets: for a 1-D input, where each bag starts (offsets[0] = 0).
        max_norm: rescale, in place, looked-up rows of a larger norm to this norm.
        norm_type: the p of the p-norm of ``max_norm``.
        scale_grad_by_freq: not supported (raises).
        mode: ``'sum'``, ``'mean'`` or ``'max'``.
        sparse: not supported (raises).
        per_sample_weights: float weights of input's shape (``mode='sum'``).
        include_last_offset: ``offsets`` has B + 1 entries, the last the end of the last bag.
        padding_idx: an index that does not contribute.

    Returns:
        (B, embedding_dim).

    Raises:
        ValueError: offsets with a 2-D input or none with a 1-D one, a bad mode or weight shape.
        RuntimeError: offsets not starting at 0 or past the input, padding_idx out of range.
        IndexError: an index outside the table.

    Example:
        >>> F = cr.nn.functional
        >>> table = cr.arange(12.0).reshape(4, 3)
        >>> F.embedding_bag(cr.tensor([0, 1, 3, 2]), table, cr.tensor([0, 3]), mode="sum")
        tensor([[12., 15., 18.],
                [ 6.,  7.,  8.]])
    """
    op = "embedding_bag"
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            f"{op}: weight must be a 2-D Tensor (num_embeddings, embedding_dim), got "
            f"{getattr(weight, 'shape', type(weight).__name__)}"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: scale_grad_by_freq and sparse gradients are not supported")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}"
        )
    flat, bag, b = _bags(input, offsets, include_last_offset, per_sample_weights)
    n, dim = weight.shape
    if flat.size and (flat.min() < 0 or flat.max() >= n):
        bad = int(flat.min()) if flat.min() < 0 else int(flat.max())
        raise IndexError(
            f"{op}: index {bad} is out of range for {n} embeddings (weight shape {tuple(weight.shape)})"
        )
    if padding_idx is not None:
        if not isinstance(padding_idx, int) or not -n <= padding_idx < n:
            raise RuntimeError(f"{op}: padding_idx must be within [{-n}, {n - 1}], got {padding_idx!r}")
        padding_idx %= n
    if max_norm is not None:
        _renorm_(weight, backend.to_device(flat, weight.device), max_norm, norm_type)
    pos = np.arange(len(flat))
    if padding_idx is not None:
        keep = flat != padding_idx
        pos, bag = pos[keep], bag[keep]
    dev = weight.device
    rows = Embedding.apply(weight, Tensor._make(backend.to_device(flat[pos], dev)), None)  # (M, dim)
    if per_sample_weights is not None:
        w = per_sample_weights.reshape(-1)[backend.to_device(pos, dev)]
        rows = rows * w.reshape(-1, 1)
    if mode == "max" and len(pos):
        r = backend.to_numpy(rows._data)
        bags, first = np.unique(bag, return_index=True)  # bags are contiguous runs of pos
        top = np.maximum.reduceat(r, first, axis=0)
        top = np.repeat(top, np.diff(np.append(first, len(r))), axis=0)
        is_max = (r == top) | (np.isnan(r) & np.isnan(top))  # a NaN is the maximum of its bag
        candidate = np.where(is_max, np.arange(len(r))[:, None], len(r))
        arg = np.minimum.reduceat(candidate, first, axis=0)  # (bags, dim): the first maximum's row
        rows = rows[backend.to_device(arg, dev), backend.to_device(np.arange(dim), dev)]
        bag = bags
    elif mode == "max":
        bag = np.zeros(0, np.int64)
    out = IndexAdd.apply(rows, (b, dim), (backend.to_device(bag, dev),))
    if mode == "mean":
        counts = np.bincount(bag, minlength=b).astype(weight.dtype)
        out = out / Tensor._make(backend.to_device(np.maximum(counts, 1)[:, None], dev))
    return out
