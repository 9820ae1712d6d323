"""Fetchers: turn the sampler's indices into a batch, in the main process and in workers alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.backend import np, xp_of
from chainrule.data.collate import default_collate
from chainrule.data.dataset import batch_getter
from chainrule.tensor import Tensor


def _to_tensor(arr: Any) -> Tensor:
    return Tensor._make(xp_of(arr).ascontiguousarray(arr))  # (CuPy arrays of a 'cuda' dataset stay there)


def wrap_batch(batch: Any) -> Any:
    """A ``_get_batch`` result as ``default_collate`` would give it: arrays as Tensors, a list."""
    if isinstance(batch, (tuple, list)):
        return [wrap_batch(b) for b in batch]
    if isinstance(batch, np.ndarray) or type(batch).__module__.startswith("cupy"):
        return _to_tensor(batch)
    return batch


class MapFetcher:
    """Reads the samples at an index (or a list of them) of a map-style dataset and collates them."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.fast = batch_getter(dataset) if auto_collation and collate_fn is default_collate else None

    def fetch(self, index: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.fast is not None:
            return wrap_batch(self.fast(np.asarray(index, dtype=np.int64)))
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class IterableFetcher:
    """Takes the next sample (or ``len(index)`` samples) from an iterable-style dataset's iterator."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def make_fetcher(iterable: bool, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool):
    """The fetcher for the dataset's kind."""
    cls = IterableFetcher if iterable else MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)
