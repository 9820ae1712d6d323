"""``DataLoader``: iterate over a dataset in (shuffled) mini-batches of Tensors.

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for xb, yb in loader:      # Tensors of shape (64, ...) and (64,)
        ...

Each pass (``iter(loader)``) draws a fresh permutation from ``chainrule.random`` when
``shuffle=True``, so ``cr.manual_seed`` makes the order reproducible. Datasets that can fetch
a whole batch at once (``TensorDataset``, a ``Subset`` of one: they define ``_get_batch``) are
batched by one fancy-indexing operation per array; any other dataset is read sample by
sample and the samples are merged by ``collate_fn`` (``default_collate`` unless given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from chainrule import random as _random
from chainrule.backend import np, xp_of
from chainrule.data.dataset import Dataset
from chainrule.tensor import Tensor


def _to_tensor(arr) -> Tensor:
    return Tensor._make(xp_of(arr).ascontiguousarray(arr))  # (CuPy arrays of a 'cuda' dataset stay there)


def default_collate(samples: list) -> Any:
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and arrays are stacked along a new first axis (into a Tensor); Python ints become an
    int64 Tensor, floats a float64 Tensor, bools a bool Tensor; tuples/lists are collated field
    by field (a tuple comes back), dicts key by key; strings and other objects stay a list.
    """
    if not samples:
        raise ValueError("default_collate: got an empty batch")
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor._make(xp_of(first._data).stack([s._data for s in samples]))
    if isinstance(first, np.ndarray):
        return _to_tensor(np.stack(samples))
    if isinstance(first, (bool, np.bool_)):
        return Tensor._make(np.asarray(samples, dtype=np.bool_))
    if isinstance(first, (int, np.integer)):
        return Tensor._make(np.asarray(samples, dtype=np.int64))
    if isinstance(first, (float, np.floating)):
        dtype = first.dtype if isinstance(first, np.floating) else np.float64
        return Tensor._make(np.asarray(samples, dtype=dtype))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        size = len(first)
        if any(len(s) != size for s in samples):
            raise RuntimeError(
                "default_collate: each sample in the batch must have the same number of "
                f"fields, got {sorted({len(s) for s in samples})}"
            )
        return tuple(default_collate(list(field)) for field in zip(*samples))
    return list(samples)


def _wrap_batch(batch: Any) -> Any:
    """Arrays in a pre-collated batch become Tensors."""
    if isinstance(batch, tuple):
        return tuple(_wrap_batch(b) for b in batch)
    if isinstance(batch, np.ndarray) or type(batch).__module__.startswith("cupy"):
        return _to_tensor(batch)
    return batch


class DataLoader:
    """Mini-batches of a dataset as Tensors (see the module docstring).

    Args:
        dataset: a ``Dataset`` (anything with ``__len__`` and ``__getitem__``).
        batch_size: samples per batch.
        shuffle: draw a new random order at every pass (from ``chainrule.random``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: merges a list of samples into a batch; when given, the batch is always built
            sample by sample so ``collate_fn`` sees every sample.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable | None = None,
    ):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def batch_indices(self) -> Iterator:
        """The index arrays of one pass (draws the permutation when shuffling)."""
        n = len(self.dataset)
        order = _random.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]

    def __iter__(self) -> Iterator:
        fast = self.collate_fn is None and hasattr(self.dataset, "_get_batch")
        collate = self.collate_fn or default_collate
        for idx in self.batch_indices():
            if fast:
                yield _wrap_batch(self.dataset._get_batch(idx))
            else:
                yield collate([self.dataset[int(i)] for i in idx])

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
