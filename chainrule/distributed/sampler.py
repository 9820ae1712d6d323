"""``DistributedSampler``: each rank's share of a dataset's indices, as ``torch.utils.data``'s."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from chainrule.backend import np
from chainrule.data.dataset import Dataset


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """The permutation ``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` gives.

    PyTorch shuffles on the CPU with a Fisher-Yates pass driven by MT19937 seeded with ``seed``:
    position ``i`` swaps with ``i + u_i mod (n - i)``, ``u_i`` the generator's i-th 32-bit output.
    NumPy's legacy ``RandomState(seed)`` is the same MT19937 with the same seeding.
    """
    order = list(range(n))
    if n > 1:
        draws = np.random.RandomState(seed % 2**32).randint(0, 2**32, size=n - 1, dtype=np.uint32).tolist()
        for i, u in enumerate(draws):
            j = i + u % (n - i)
            order[i], order[j] = order[j], order[i]
    return np.asarray(order, dtype=np.int64)


class DistributedSampler:
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` trains on, epoch by epoch.

    As ``torch.utils.data.DistributedSampler`` (same indices for the same arguments, seed and
    epoch): the indices ``0..N-1``, shuffled with seed ``seed + epoch`` when ``shuffle``, are
    padded by repeating the first ones up to ``num_samples * num_replicas`` (or, with
    ``drop_last``, cut down to it), and rank ``r`` takes every ``num_replicas``-th from ``r``:
    ``num_samples = ceil(N / P)`` (``ceil((N - P) / P)`` with ``drop_last`` when ``P`` does not
    divide ``N``). The shards are disjoint (up to the padding) and cover the data; call
    ``set_epoch(e)`` at the start of each epoch for a new shuffle.

    Args:
        dataset: anything with ``__len__``.
        num_replicas: the number of processes (default ``cr.distributed.world_size()``).
        rank: this process's rank (default ``cr.distributed.rank()``).
        shuffle: shuffle the indices with seed ``seed + epoch``.
        seed: the shuffle's base seed, the same on every rank.
        drop_last: cut the indices to a multiple of ``num_replicas`` instead of padding.

    Example:
        >>> s = DistributedSampler(range(10), num_replicas=3, rank=0, shuffle=False)
        >>> list(s)
        [0, 3, 6, 9]
    """

    def __init__(
        self,
        dataset: Dataset | Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        from chainrule.distributed import comm

        if num_replicas is None:
            num_replicas = comm.world_size()
        if rank is None:
            rank = comm.rank()
        if (
            not isinstance(num_replicas, (int, np.integer))
            or isinstance(num_replicas, bool)
            or num_replicas < 1
        ):
            raise ValueError(
                f"DistributedSampler: num_replicas must be a positive integer, got {num_replicas!r}"
            )
        if not isinstance(rank, (int, np.integer)) or isinstance(rank, bool) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"DistributedSampler: invalid rank {rank!r}, "
                f"rank should be in the interval [0, {num_replicas - 1}]"
            )
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DistributedSampler: dataset must define __len__, got {type(dataset).__name__}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"DistributedSampler: seed must be a non-negative integer, got {seed!r}")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        order = torch_randperm(n, self.seed + self.epoch) if self.shuffle else np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                order = np.concatenate([order, np.resize(order, pad)])  # np.resize repeats from the start
        else:
            order = order[: self.total_size]
        return order[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``seed + epoch`` for the next shuffle (the same on every rank)."""
        if not isinstance(epoch, (int, np.integer)) or isinstance(epoch, bool):
            raise TypeError(f"DistributedSampler.set_epoch: epoch must be an integer, got {epoch!r}")
        self.epoch = int(epoch)
