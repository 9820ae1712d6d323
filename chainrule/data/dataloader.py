"""``DataLoader``: iterate over a dataset in mini-batches, as ``torch.utils.data.DataLoader``.

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for xb, yb in loader:      # Tensors of shape (64, ...) and (64,)
        ...

The loader combines a dataset, a sampler (the order: ``SequentialSampler``, ``RandomSampler``
when ``shuffle=True``, or yours), a ``BatchSampler`` grouping the indices, and a ``collate_fn``
merging the samples (``default_collate``). Datasets that can fetch a whole batch at once
(``TensorDataset``, a ``Subset`` of one: they define ``_get_batch``) are batched by one
fancy-indexing operation per array when the default collation is used; the result is the same.

With ``num_workers > 0`` the batches are made in worker processes, delivered in order; see
docs/data.md for the start method (``fork`` on Linux), seeding and shutdown.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import multiprocessing.context
import os
import queue
import sys
import warnings
from collections.abc import Callable, Iterable
from multiprocessing.reduction import ForkingPickler
from typing import Any

from chainrule.data import _worker
from chainrule.data._fetch import make_fetcher
from chainrule.data.collate import default_collate, default_convert
from chainrule.data.dataset import Dataset, IterableDataset
from chainrule.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _check_generator,
    _InfiniteConstantSampler,
    _rng,
)

_POLL = 0.5  # seconds between the main process's checks that its workers are alive
_exiting = False  # set at interpreter exit: multiprocessing then terminates the workers itself
# The queues of each live multi-process iterator, held here so that an iterator collected as part of a
# reference cycle still finds its queues working in __del__ (their own finalizers would run first)
_live_queues: dict[int, tuple] = {}


def _set_exiting() -> None:
    global _exiting
    _exiting = True


atexit.register(_set_exiting)


def _default_context() -> multiprocessing.context.BaseContext:
    """The multiprocessing start method of the worker processes.

    ``fork`` on Linux (fast, and datasets defined in a notebook need not be importable) unless a
    start method was set explicitly; the platform's default (``spawn``) elsewhere.
    """
    chosen = multiprocessing.get_start_method(allow_none=True)
    if chosen is None and sys.platform.startswith("linux"):
        chosen = "fork"
    return multiprocessing.get_context(chosen)


def _draw_seed(generator: Any) -> int:
    """A base seed for the workers, drawn at each pass (with or without workers, as PyTorch)."""
    return int(_rng(generator).integers(0, 2**63 - 1))


class DataLoader:
    """Mini-batches of a dataset, as ``torch.utils.data.DataLoader`` (same arguments and checks).

    Args:
        dataset: a map-style ``Dataset`` (``__getitem__`` and ``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch; ``None`` turns batching off (each sample is returned,
            converted by ``default_convert``).
        shuffle: a fresh random order at each pass (a ``RandomSampler``); map-style only.
        sampler: the order of the indices (any iterable with ``__len__``); excludes ``shuffle``.
        batch_sampler: yields lists of indices; excludes ``batch_size``, ``shuffle``, ``sampler``
            and ``drop_last``.
        num_workers: worker processes making the batches (0: in the main process).
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        pin_memory: accepted for compatibility; does nothing (no pinned memory on the CPU).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from the workers before a RuntimeError (0: forever).
        worker_init_fn: called with the worker id in each worker, after seeding, before loading.
        multiprocessing_context: start method name or context for the workers (default ``fork``
            on Linux, the platform's default elsewhere).
        generator: a ``cr.Generator`` for the shuffle order and the workers' base seed (default:
            the global generator, ``cr.manual_seed``).
        prefetch_factor: batches loaded in advance per worker (default 2 with workers; only
            with ``num_workers > 0``).
        persistent_workers: keep the workers (and their dataset copies) between passes.
        pin_memory_device: accepted for compatibility; ignored.
        in_order: deliver batches in sampler order (``False``: as soon as a worker has one).

    Raises:
        ValueError: contradictory or out-of-range options, as PyTorch refuses them.

    Example:
        >>> ds = cr.data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
        >>> loader = cr.data.DataLoader(ds, batch_size=2)
        >>> len(loader), [yb.tolist() for _, yb in loader]
        (3, [[0, 1], [2, 3], [4]])
    """

    _initialized = False

    def __init__(
        self,
        dataset: Dataset | Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if not isinstance(num_workers, int) or isinstance(num_workers, bool):
            raise TypeError(f"DataLoader: num_workers must be an int, got {type(num_workers).__name__}")
        if num_workers < 0:
            raise ValueError(
                "DataLoader: num_workers option should be non-negative; use num_workers=0 to disable "
                f"multiprocessing, got {num_workers}"
            )
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in multiprocessing; let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None"
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and (
            not isinstance(prefetch_factor, int) or isinstance(prefetch_factor, bool) or prefetch_factor <= 0
        ):
            raise ValueError(
                f"DataLoader: prefetch_factor should be a positive integer, got {prefetch_factor!r}"
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if not callable(collate_fn) and collate_fn is not None:
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        generator = _check_generator("DataLoader", generator)

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            if not hasattr(dataset, "__getitem__"):
                raise TypeError(
                    "DataLoader: dataset must be a map-style dataset (__getitem__ and __len__) or an "
                    f"IterableDataset, got {type(dataset).__name__}"
                )
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                "with drop_last"
            )
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.shuffle = bool(shuffle)  # (not in PyTorch) whether the default RandomSampler is used
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called: int | None = None
        self._iterator: _MultiProcessIter | None = None
        self._initialized = True
        self._check_worker_number_rationality()

    @property
    def multiprocessing_context(self) -> Any:
        """The start method's context for the workers (None: the default, see the module docstring)."""
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx: Any) -> None:
        if ctx is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "DataLoader: multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}"
                )
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError(
                        f"DataLoader: multiprocessing_context option should specify a valid start method "
                        f"in {methods!r}, but got multiprocessing_context={ctx!r}"
                    )
                ctx = multiprocessing.get_context(ctx)
            if not isinstance(ctx, multiprocessing.context.BaseContext):
                raise TypeError(
                    "DataLoader: multiprocessing_context option should be a valid context object or a "
                    f"string specifying the start method, but got multiprocessing_context={ctx!r}"
                )
        self._mp_context = ctx

    def __setattr__(self, attr: str, val: Any) -> None:
        if self._initialized and attr in (
            "batch_size",
            "batch_sampler",
            "sampler",
            "drop_last",
            "dataset",
            "persistent_workers",
        ):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _BaseIter:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        return _SingleProcessIter(self) if self.num_workers == 0 else _MultiProcessIter(self)

    def __len__(self) -> int:
        if self._iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def _check_worker_number_rationality(self) -> None:
        if not self.num_workers:
            return
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            warnings.warn(
                f"DataLoader: this DataLoader will create {self.num_workers} worker processes in total, "
                f"more than the {cpus} CPUs this process may use; excessive worker creation might make "
                "loading slow or even freeze, lower the worker number if necessary",
                stacklevel=3,
            )

    def __repr__(self) -> str:
        try:
            n: Any = len(self.dataset)
        except TypeError:  # a stream of unknown length
            n = "?"
        return (
            f"DataLoader({type(self.dataset).__name__} of {n}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, num_workers={self.num_workers})"
        )


def _loads(payload: Any, worker_id: Any) -> Any:
    """A worker's pickled result."""
    if not isinstance(payload, bytes):
        return payload
    try:
        return ForkingPickler.loads(payload)
    except Exception as e:
        raise RuntimeError(
            f"DataLoader: the main process could not unpickle a result of worker {worker_id} ({e}); with the "
            "'spawn' or 'forkserver' start method, the dataset's classes must be importable"
        ) from e


class _BaseIter:
    """One pass over a DataLoader (what ``iter(loader)`` returns)."""

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._iterable = loader._iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._generator = loader.generator
        self._persistent_workers = loader.persistent_workers
        self._base_seed = _draw_seed(loader.generator)
        self._sampler_iter = iter(self._index_sampler)
        self._len_called = loader._IterableDataset_len_called
        self._num_yielded = 0

    def _reset(self, loader: DataLoader) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._len_called = loader._IterableDataset_len_called

    def __iter__(self) -> _BaseIter:
        return self

    def _next_index(self) -> Any:
        return next(self._sampler_iter)

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if self._iterable and self._len_called is not None and self._num_yielded > self._len_called:
            warnings.warn(
                f"DataLoader: length of IterableDataset {self._dataset} was reported to be "
                f"{self._len_called} (when accessing len(dataloader)), but {self._num_yielded} samples "
                "have been fetched"
                + (
                    "; with workers, each one must yield its own share (see get_worker_info())"
                    if self._num_workers
                    else ""
                ),
                stacklevel=2,
            )
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self) -> Any:
        raise TypeError(f"{type(self).__name__} cannot be pickled")


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        if self._timeout != 0:
            raise ValueError(f"DataLoader: timeout={self._timeout} needs num_workers > 0")
        self._fetcher = make_fetcher(
            self._iterable, self._dataset, self._auto_collation, self._collate_fn, self._drop_last
        )

    def _next_data(self) -> Any:
        return self._fetcher.fetch(self._next_index())


class _MultiProcessIter(_BaseIter):
    """Worker processes fed with index lists; batches come back through one result queue.

    Up to ``prefetch_factor * num_workers`` tasks are outstanding; task ``k`` goes to the next
    active worker round-robin and results are handed out in task order (``in_order``).
    """

    _shutdown = True  # until workers exist there is nothing to shut down (__del__ may run early)

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context or _default_context()
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues: list = []
        _live_queues[id(self)] = (self._result_queue, self._index_queues)
        self._workers: list = []
        self._workers_status = [True] * self._num_workers
        self._shutdown = False
        try:
            for i in range(self._num_workers):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()
                w = ctx.Process(
                    target=_worker.worker_loop,
                    args=(
                        self._iterable,
                        self._dataset,
                        index_queue,
                        self._result_queue,
                        self._done_event,
                        self._auto_collation,
                        self._collate_fn,
                        self._drop_last,
                        self._base_seed,
                        loader.worker_init_fn,
                        i,
                        self._num_workers,
                    ),
                    daemon=True,
                )
                w.start()
                self._index_queues.append(index_queue)
                self._workers.append(w)
            self._reset(loader, first_iter=True)
        except BaseException:
            self._shutdown_workers()
            raise

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:  # type: ignore[override]
        super()._reset(loader)
        self._send_idx = 0  # the next task to send
        self._rcvd_idx = 0  # the next task to hand out
        # task -> (worker,) while outstanding, (worker, data) once back
        self._task_info: dict[int, tuple] = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:  # persistent workers: new fetchers; results of the last pass are dropped
            for q in self._index_queues:
                q.put(_worker.ResumeIteration())
            pending = self._num_workers
            while pending > 0:
                idx, _ = self._get_data()
                if isinstance(idx, _worker.ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_get_data(self, timeout: float) -> tuple[bool, Any]:
        try:
            return True, self._result_queue.get(timeout=timeout)
        except queue.Empty:
            failed = [w for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
            if failed:
                for i, w in enumerate(self._workers):
                    if w in failed:
                        self._mark_worker_as_unavailable(i)
                info = ", ".join(f"{w.pid} with exit code {w.exitcode}" for w in failed)
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader worker (pid(s) {info}) exited unexpectedly") from None
            return False, None

    def _get_data(self) -> tuple[Any, Any]:
        if self._timeout > 0:
            ok, data = self._try_get_data(self._timeout)
            if not ok:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            return data
        while True:
            ok, data = self._try_get_data(_POLL)
            if ok:
                return data

    def _next_data(self) -> Any:
        while True:
            # skip the tasks of workers whose iterable dataset ran out
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            idx, payload = self._get_data()
            self._tasks_outstanding -= 1
            data = _loads(payload, self._task_info.get(idx, ("?",))[0])
            if isinstance(data, _worker.IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(data, self._task_info.pop(idx)[0])
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        max_tasks = self._prefetch_factor * self._num_workers
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_id = next(self._worker_cycle)
            if self._workers_status[worker_id] and (
                self._in_order or self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status)
            ):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data: Any, worker_id: int) -> Any:
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id: int) -> None:
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        """Stop the workers and reap them (they are terminated if they do not stop in time)."""
        if _exiting or self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for i, q in enumerate(self._index_queues):
                if self._persistent_workers or self._workers_status[i]:
                    q.put(None)
            for w in self._workers:
                w.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
            self._result_queue.cancel_join_thread()
            self._result_queue.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
            _live_queues.pop(id(self), None)

    def __del__(self) -> None:
        self._shutdown_workers()
