"""``embedding`` (a lookup table of learned vectors) and ``one_hot``.

embedding: out[..., :] = weight[idx[...], :].  Backward scatters the upstream gradient
back into the rows that were looked up, adding where an index repeats (sorted, a few
vectorised passes, no loop over indices); the ``padding_idx`` row gets no gradient.
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import np, xp_of
from chainrule.ops import bmath as bm
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
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input`` (*),
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
    """Integer class indices (*) -> int64 one-hot vectors (*, num_classes), as PyTorch
    (``num_classes=-1``: max index + 1).  Example: ``one_hot(cr.tensor([0, 2]), 3)`` -> [[1,0,0],[0,0,1]]."""
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
