"""Datasets: anything with ``__len__`` and ``__getitem__``, plus arrays wrapped as one.

    ds = TensorDataset(x, y)          # x: (N, ...) and y: (N,) arrays or Tensors
    ds[3]                             # (x[3], y[3]) as arrays
    train, val = random_split(ds, [0.8, 0.2])

A dataset may also offer ``_get_batch(indices) -> tuple of arrays``: the DataLoader then
fetches a whole batch with one fancy-indexing operation per array instead of a Python loop
over the samples (``TensorDataset`` and ``Subset`` of one do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule import random as _random
from chainrule.backend import np
from chainrule.tensor import Tensor


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _as_array(t: Any):
    """The raw array of a Tensor (NumPy, or CuPy on 'cuda'), or ``t`` as a NumPy array."""
    if isinstance(t, Tensor):
        return t._data
    if type(t).__module__.startswith("cupy"):
        return t
    return np.asarray(t)


class TensorDataset(Dataset):
    """Samples are the rows of several arrays of the same length: ``ds[i] == (a[i], b[i], ...)``.

    ``transform`` (optional, keyword only) is applied to the first array (the inputs) — to a single
    sample in ``ds[i]`` and to a whole batch at once when a DataLoader fetches a batch, so
    the augmentations of ``cr.data.transforms`` (which accept one image or a batch) run vectorised.
    """

    def __init__(self, *tensors: Any, transform: Callable | None = None):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one array")
        arrays = tuple(_as_array(t) for t in tensors)
        lengths = [a.shape[0] if a.ndim else None for a in arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [tuple(a.shape) for a in arrays]
            raise ValueError(f"TensorDataset: all arrays need the same first dimension, got shapes {shapes}")
        self.tensors = arrays
        self.transform = transform

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        items = tuple(a[index] for a in self.tensors)
        if self.transform is not None:
            items = (self.transform(items[0]),) + items[1:]
        return items

    def _get_batch(self, indices) -> tuple:
        batch = tuple(a[indices] for a in self.tensors)
        if self.transform is not None:
            batch = (self.transform(batch[0]),) + batch[1:]
        return batch


class Subset(Dataset):
    """The samples ``dataset[indices[i]]`` of another dataset."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)) or (hasattr(index, "ndim") and index.ndim > 0):
            return [self.dataset[int(i)] for i in self.indices[np.asarray(index)]]
        return self.dataset[int(self.indices[index])]

    def __getattr__(self, name: str):
        # ``_get_batch`` only when the underlying dataset has one (the DataLoader checks hasattr).
        if name == "_get_batch" and hasattr(self.dataset, "_get_batch"):
            return lambda indices: self.dataset._get_batch(self.indices[indices])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets: Sequence[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for length {n}")
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (as PyTorch).

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1 (the
    remainder of the rounding goes round-robin to the first subsets, as PyTorch does). The
    permutation comes from ``chainrule.random`` (seeded by ``cr.manual_seed``), or from
    ``generator`` (a NumPy Generator) when given.
    """
    n = len(dataset)
    lengths = list(lengths)
    is_fractions = not all(isinstance(x, (int, np.integer)) for x in lengths)
    if is_fractions and all(0 <= x <= 1 for x in lengths) and math.isclose(sum(lengths), 1.0):
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths {lengths} must be non-negative counts summing to the "
            f"dataset length {n}, or fractions summing to 1"
        )
    perm = generator.permutation(n) if generator is not None else _random.permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start : start + int(length)]))
        start += int(length)
    return out
