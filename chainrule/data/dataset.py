"""Datasets: map-style (``__getitem__`` and ``__len__``) and iterable-style (``__iter__``), as PyTorch.

    ds = TensorDataset(x, y)          # x: (N, ...) and y: (N,) arrays or Tensors
    ds[3]                             # (x[3], y[3]) as arrays
    train, val = random_split(ds, [0.8, 0.2], generator=cr.Generator().manual_seed(0))

A dataset may also offer ``_get_batch(indices) -> tuple of arrays``: the DataLoader then
fetches a whole batch with one fancy-indexing operation per array instead of a Python loop
over the samples (``TensorDataset`` and ``Subset`` of one do). A subclass that overrides
``__getitem__`` below the class offering ``_get_batch`` is read sample by sample, so its
``__getitem__`` is never bypassed. ``__getitems__(indices) -> list of samples`` (PyTorch's
protocol) is honoured too.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from chainrule.backend import np
from chainrule.data.sampler import _check_generator, _rng
from chainrule.tensor import Tensor


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(i)`` and ``__len__()``.

    ``a + b`` concatenates two datasets (a ``ConcatDataset``).

    Example:
        >>> class Squares(cr.data.Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return i * i
        >>> [Squares()[i] for i in range(4)], len(Squares() + Squares())
        ([0, 1, 4, 9], 8)
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of iterable-style datasets (streams): subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker process iterates its own copy of the dataset, so a
    dataset that does not shard itself yields each sample once per worker; shard with
    ``get_worker_info()`` (``None`` in the main process):

        def __iter__(self):
            info = cr.data.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(self.start + start, self.end, step))

    ``a + b`` chains two iterable datasets (a ``ChainDataset``).

    Example:
        >>> class Count(cr.data.IterableDataset):
        ...     def __iter__(self): return iter(range(3))
        >>> [b.tolist() for b in cr.data.DataLoader(Count(), batch_size=2)]
        [[0, 1], [2]]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of IterableDataset must define __iter__"
        )

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


def _defining_class(cls: type, name: str) -> type | None:
    return next((c for c in cls.__mro__ if name in c.__dict__), None)


def batch_getter(dataset: Any) -> Callable | None:
    """``dataset._get_batch`` when it may replace reading the samples one by one, else None.

    Not when a subclass overrides ``__getitem__`` below the class that offers ``_get_batch``: the
    batch must be what ``__getitem__`` would give.
    """
    get = getattr(dataset, "_get_batch", None)
    if get is None:
        return None
    cls = type(dataset)
    owner = _defining_class(cls, "_get_batch") or _defining_class(cls, "__getattr__")
    item = _defining_class(cls, "__getitem__")
    return get if owner is not None and item is not None and issubclass(owner, item) else None


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


class StackDataset(Dataset):
    """Several datasets of the same length side by side: sample ``i`` is a tuple (or dict) of theirs.

    Args:
        *args: datasets; ``ds[i] == (args[0][i], args[1][i], ...)``.
        **kwargs: or named datasets; ``ds[i] == {name: dataset[i], ...}`` (not both).

    Example:
        >>> ds = cr.data.StackDataset(image=[10, 11], label=[0, 1])
        >>> ds[1]
        {'image': 11, 'label': 1}
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset: supported either tuple-like (via args) or dict-like (via kwargs) "
                "input/output, but both types are given"
            )
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        named = dict(kwargs) if kwargs else {i: d for i, d in enumerate(args)}
        lengths = {k: len(d) for k, d in named.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"StackDataset: size mismatch between datasets, got lengths {lengths}")
        self._length = next(iter(lengths.values()))
        self.datasets: tuple | dict = dict(kwargs) if kwargs else tuple(args)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class Subset(Dataset):
    """The samples ``dataset[indices[i]]`` of another dataset.

    Args:
        dataset: the dataset.
        indices: which of its samples, in this order.

    Example:
        >>> sub = cr.data.Subset(cr.data.TensorDataset(np.arange(5)), [4, 0])
        >>> len(sub), int(sub[0][0])
        (2, 4)
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)) or (hasattr(index, "ndim") and index.ndim > 0):
            return [self.dataset[int(i)] for i in self.indices[np.asarray(index)]]
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices`` (PyTorch's batched-read protocol)."""
        inner = [int(i) for i in self.indices[np.asarray(indices, dtype=np.int64)]]
        getitems = getattr(self.dataset, "__getitems__", None)
        return getitems(inner) if callable(getitems) else [self.dataset[i] for i in inner]

    def __getattr__(self, name: str):
        # ``_get_batch`` only when the underlying dataset has one (the DataLoader checks hasattr).
        if name == "_get_batch" and "dataset" in self.__dict__:
            inner = batch_getter(self.dataset)
            if inner is not None:
                return lambda indices: inner(self.indices[indices])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other.

    Args:
        datasets: the datasets (at least one; not iterable-style ones: use ``ChainDataset``).

    Example:
        >>> cat = cr.data.ConcatDataset([[1, 2], [3]])
        >>> len(cat), cat[2]
        (3, 3)
    """

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
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


class ChainDataset(IterableDataset):
    """Several iterable-style datasets one after the other (chained lazily, as ``itertools.chain``).

    Args:
        datasets: iterable-style datasets.

    Example:
        >>> class Count(cr.data.IterableDataset):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(self.n))
        >>> list(cr.data.ChainDataset([Count(2), Count(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    @staticmethod
    def _check(d: Any) -> None:
        if not isinstance(d, IterableDataset):
            raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            self._check(d)
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            self._check(d)
            total += len(d)  # type: ignore[arg-type]
        return total


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (as PyTorch).

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1 (the
    remainder of the rounding goes round-robin to the first subsets, as PyTorch does). The
    permutation comes from ``generator`` (a ``cr.Generator``) when given, else from the global
    generator (seeded by ``cr.manual_seed``); the same seed gives the same split (not PyTorch's
    split: the generators differ).

    Args:
        dataset: the dataset to split.
        lengths: counts or fractions.
        generator: a ``cr.Generator``.

    Returns:
        One ``Subset`` per length.

    Example:
        >>> a, b = cr.data.random_split(range(10), [0.7, 0.3], generator=cr.Generator().manual_seed(0))
        >>> len(a), len(b), sorted([*a.indices, *b.indices]) == list(range(10))
        (7, 3, True)
    """
    generator = _check_generator("random_split", generator)
    n = len(dataset)  # type: ignore[arg-type]
    lengths = list(lengths)
    is_fractions = not all(isinstance(x, (int, np.integer)) for x in lengths)
    if is_fractions and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1, got {frac}")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(
                    f"random_split: length of split at index {i} is 0; this might result in an empty dataset",
                    stacklevel=2,
                )
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths {lengths} must be non-negative counts summing to the "
            f"dataset length {n}, or fractions summing to 1"
        )
    perm = _rng(generator).permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start : start + int(length)]))
        start += int(length)
    return out
