"""Samplers: the order in which a ``DataLoader`` visits a map-style dataset, as ``torch.utils.data``.

    sampler = RandomSampler(dataset, generator=cr.Generator().manual_seed(0))
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)

A sampler is any iterable of indices with a ``__len__``; a batch sampler yields lists of indices.
Random samplers draw their whole epoch when iteration starts, from ``generator`` (a
``cr.Generator``) when given, else from the library's global generator (``cr.manual_seed``): the
same seed gives the same order. The orders are not PyTorch's own (its generator is a different
algorithm), only their distributions and semantics are.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

from chainrule import random as _random
from chainrule.backend import np, to_numpy
from chainrule.tensor import Tensor


def _check_generator(op: str, generator: Any) -> Any:
    """``generator`` when it is None, a ``cr.Generator`` or a NumPy Generator; else a TypeError."""
    if generator is None or isinstance(generator, (_random.Generator, np.random.Generator)):
        return generator
    raise TypeError(f"{op}: generator must be a cr.Generator (or None), got {type(generator).__name__}")


def _rng(generator: Any) -> np.random.Generator:
    """The NumPy generator to draw from: the global one for None."""
    if generator is None:
        return _random.generator()
    return generator if isinstance(generator, np.random.Generator) else generator._rng


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` (the indices) and usually ``__len__``.

    Example:
        >>> class Evens(cr.data.Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(0, self.n, 2))
        ...     def __len__(self): return (self.n + 1) // 2
        >>> list(Evens(5))
        [0, 2, 4]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Sampler must define __iter__")


class SequentialSampler(Sampler):
    """The indices ``0, 1, ..., len(data_source) - 1`` in order.

    Args:
        data_source: anything with ``__len__`` (usually the dataset).

    Example:
        >>> list(cr.data.SequentialSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """The indices in random order: a fresh permutation each pass, or draws with replacement.

    Without replacement, ``num_samples`` larger than the dataset chains several permutations (the
    last one cut short); with replacement, each index is drawn uniformly and independently.

    Args:
        data_source: anything with ``__len__``.
        replacement: draw with replacement.
        num_samples: indices per pass (default ``len(data_source)``).
        generator: a ``cr.Generator`` to draw from (default: the global generator).

    Example:
        >>> g = cr.Generator().manual_seed(0)
        >>> sorted(cr.data.RandomSampler(range(5), generator=g))
        [0, 1, 2, 3, 4]
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _check_generator("RandomSampler", generator)
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got replacement={replacement!r}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "RandomSampler: num_samples should be a positive integer value, "
                f"but got num_samples={self.num_samples!r}"
            )

    @property
    def num_samples(self) -> int:
        """Indices per pass."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            raise RuntimeError(f"RandomSampler: cannot draw {k} samples from an empty data_source")
        rng = _rng(self.generator)
        if self.replacement:
            order = rng.integers(0, n, size=k)
        else:
            order = np.concatenate([rng.permutation(n) for _ in range(-(-k // n))])[:k]
        yield from order.tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order drawn afresh at each pass.

    Args:
        indices: the indices to visit.
        generator: a ``cr.Generator`` to draw from (default: the global generator).

    Example:
        >>> sorted(cr.data.SubsetRandomSampler([7, 3, 5]))
        [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = _check_generator("SubsetRandomSampler", generator)

    def __iter__(self) -> Iterator[int]:
        for i in _rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    r"""``num_samples`` indices drawn with probabilities proportional to ``weights``.

    $$
    P(i) = \frac{w_i}{\sum_j w_j}
    $$

    Without replacement each index comes at most once (sequential draws, each from the weights of
    the indices not drawn yet; indices of weight 0 only once all others are drawn), so
    ``num_samples`` may not exceed ``len(weights)``.

    Args:
        weights: a 1-D sequence of non-negative weights (need not sum to one).
        num_samples: indices per pass.
        replacement: draw with replacement.
        generator: a ``cr.Generator`` to draw from (default: the global generator).

    Raises:
        ValueError: ``num_samples`` not a positive integer, ``replacement`` not a bool or
            ``weights`` not 1-D.
        RuntimeError: (when iterating) negative, infinite or NaN weights, weights summing to 0, or
            ``num_samples > len(weights)`` without replacement.

    Example:
        >>> s = cr.data.WeightedRandomSampler([0.0, 1.0, 0.0], num_samples=3)
        >>> list(s)
        [1, 1, 1]
    """

    def __init__(
        self, weights: Sequence[float], num_samples: int, replacement: bool = True, generator: Any = None
    ) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(
                "WeightedRandomSampler: num_samples should be a positive integer value, "
                f"but got num_samples={num_samples!r}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                "WeightedRandomSampler: replacement should be a boolean value, "
                f"but got replacement={replacement!r}"
            )
        w = to_numpy(weights._data) if isinstance(weights, Tensor) else weights
        w = np.array(w, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights should be a 1d sequence but given weights have shape "
                f"{tuple(w.shape)}"
            )
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = _check_generator("WeightedRandomSampler", generator)

    def __iter__(self) -> Iterator[int]:
        w, k = self.weights, self.num_samples
        if not np.isfinite(w).all() or (w < 0).any():
            raise RuntimeError(
                "WeightedRandomSampler: weights must be finite and non-negative, got "
                f"{w[~np.isfinite(w) | (w < 0)][:5].tolist()} among them"
            )
        total = w.sum()
        if total <= 0:
            raise RuntimeError("WeightedRandomSampler: the weights sum to 0; at least one must be positive")
        rng = _rng(self.generator)
        if self.replacement:
            yield from rng.choice(len(w), size=k, p=w / total).tolist()
            return
        if k > len(w):
            raise RuntimeError(
                f"WeightedRandomSampler: cannot draw num_samples={k} without replacement "
                f"from {len(w)} weights"
            )
        # PyTorch's exponential race: the k largest w_i / E_i, E_i ~ Exp(1), are k sequential weighted
        # draws without replacement; zero weights come last, as in PyTorch
        keys = w / rng.exponential(size=len(w))
        yield from np.argsort(-keys, kind="stable")[:k].tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: a sampler or any iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example:
        >>> list(cr.data.BatchSampler(range(5), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
        >>> len(cr.data.BatchSampler(range(5), batch_size=2, drop_last=True))
        2
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(
                "BatchSampler: batch_size should be a positive integer value, "
                f"but got batch_size={batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the placeholder indices of an iterable-style dataset."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)
