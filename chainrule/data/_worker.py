"""What runs in a DataLoader worker process, and what it tells the main process.

A worker seeds Python's ``random`` and chainrule's generator with ``base_seed + worker_id`` and
NumPy's legacy global generator with a state hashed from both (PyTorch's scheme), runs
``worker_init_fn``, then answers ``(task_idx, indices)`` requests from its index queue with
``(task_idx, pickled batch)`` on the shared result queue until it receives ``None``, the main
process goes away, or the done event is set. An exception becomes an ``ExceptionWrapper`` that
the main process re-raises with the worker's traceback.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any

MP_STATUS_CHECK_INTERVAL = 5.0  # seconds between a worker's checks that the main process is alive


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a DataLoader worker process.

    Attributes:
        id: this worker's id, ``0 .. num_workers - 1``.
        num_workers: how many workers the DataLoader runs.
        seed: the seed this worker's generators were seeded with (``base_seed + id``).
        dataset: this process's copy of the dataset.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Information about the current DataLoader worker process, or ``None`` in the main process.

    Use it in an ``IterableDataset.__iter__`` to give each worker its own share of the stream,
    or in a ``worker_init_fn`` to set each worker up differently.

    Returns:
        A ``WorkerInfo`` with ``id``, ``num_workers``, ``seed`` and ``dataset``, or ``None``.

    Example:
        >>> cr.data.get_worker_info() is None   # the main process
        True
    """
    return _worker_info


class ExceptionWrapper:
    """An exception of a worker, with its formatted traceback, to be re-raised in the main process."""

    def __init__(self, exc_info: Any = None, where: str = "in background") -> None:
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self) -> None:
        """Raise the exception again, its message holding the original traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            raise KeyError(_KeyErrorMessage(msg))
        try:
            exc = self.exc_type(msg)
        except Exception:  # an exception class that wants other arguments
            raise RuntimeError(msg) from None
        try:
            raise exc
        finally:
            del exc  # no frame -> exception cycle: the iterator (and its workers) go when the error does


class _KeyErrorMessage(str):
    """A str whose repr is itself, so a KeyError shows the traceback readably."""

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class IterableDatasetStopIteration:
    """A worker's iterable-style dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class ResumeIteration:
    """Persistent workers: start a new pass (the worker acknowledges with ``(ResumeIteration, None)``)."""


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """PyTorch's seed for NumPy's global generator in worker ``worker_id`` (a SeedSequence-like hash)."""
    init_a, mult_a, init_b, mult_b = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    mix_mult_l, mix_mult_r, xshift, mask32 = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    hash_const_a = init_a

    def hash_(value: int) -> int:
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & mask32
        hash_const_a = (hash_const_a * mult_a) & mask32
        value = (value * hash_const_a) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x: int, y: int) -> int:
        result = ((mix_mult_l * x) & mask32) - ((mix_mult_r * y) & mask32)
        result &= mask32
        return (result ^ (result >> xshift)) & mask32

    pool = [hash_(e) for e in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    hash_const_b, state = init_b, []
    for value in pool:
        value = (value ^ hash_const_b) & mask32
        hash_const_b = (hash_const_b * mult_b) & mask32
        value = (value * hash_const_b) & mask32
        state.append((value ^ (value >> xshift)) & mask32)
    return state


def seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed this process's generators for worker ``worker_id`` (one chainrule thread); returns its seed."""
    import numpy

    from chainrule import backend
    from chainrule import random as cr_random

    backend.set_num_threads(1)  # as PyTorch; the parent's thread pool did not survive the fork anyway
    seed = base_seed + worker_id
    random.seed(seed)
    cr_random.manual_seed(seed)
    numpy.random.seed(_generate_state(base_seed, worker_id))
    return seed


def dumps(obj: Any, worker_id: int) -> bytes:
    """``obj`` pickled for the result queue; what cannot be pickled becomes an error to re-raise."""
    try:
        return bytes(ForkingPickler.dumps(obj))
    except Exception:
        where = f"in DataLoader worker process {worker_id} while pickling its result for the main process"
        wrapped = ExceptionWrapper(where=where)
        wrapped.exc_type = wrapped.exc_type if _picklable(wrapped.exc_type) else RuntimeError
        return bytes(ForkingPickler.dumps(wrapped))


def _picklable(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
        return True
    except Exception:
        return False


class _ManagerWatchdog:
    """Notices that the main process is gone (the worker is then re-parented)."""

    def __init__(self) -> None:
        self.manager_pid = os.getppid()

    def is_alive(self) -> bool:
        return os.getppid() == self.manager_pid


def worker_loop(
    iterable: bool,
    dataset: Any,
    index_queue: Any,
    data_queue: Any,
    done_event: Any,
    auto_collation: bool,
    collate_fn: Any,
    drop_last: bool,
    base_seed: int,
    init_fn: Any,
    worker_id: int,
    num_workers: int,
) -> None:
    """The body of a worker process (see the module docstring)."""
    from chainrule.data._fetch import make_fetcher

    global _worker_info
    try:
        seed = seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)
        iteration_end = False
        watchdog = _ManagerWatchdog()
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                try:
                    fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                except Exception:
                    init_exception = ExceptionWrapper(where=where)
                continue
            if r is None:  # the main process asks us to stop
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            data: Any
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)  # type: ignore[union-attr]
                except StopIteration:
                    if not iterable:
                        data = ExceptionWrapper(where=where)
                    else:
                        data, iteration_end = IterableDatasetStopIteration(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where=where)
            data_queue.put((idx, dumps(data, worker_id)))
            del data, idx, index, r
    except KeyboardInterrupt:  # the main process handles Ctrl-C
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()  # never block exiting on results nobody will read
        data_queue.close()
