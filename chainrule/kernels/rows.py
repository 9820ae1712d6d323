"""Row blocks: one element-wise pass cut along axis 0, on chainrule's threads or in cache-sized pieces.

NumPy runs element-wise work on one core and releases the GIL while it does, so a big pass split
into row blocks runs on several cores from plain Python threads (``cr.set_num_threads(n)``; the
default is one, see docs/performance.md).  The reference is the plain call ``fn(*arrays)``: a kernel
handed to ``parallel_rows`` must give the same result either way, so it may only do work that is
independent per row (a per-row maximum, a per-image scatter), never a reduction across rows.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy

from chainrule import backend

# Below this many elements (in the largest array of the call) waking a thread costs more than it saves.
PARALLEL_MIN_ELEMENTS = 1 << 20
# Rows per cache block: about this many elements of the largest array (256 KiB of float32), so a
# block's few operands stay in a core's L2 cache together.
BLOCK_ELEMENTS = 1 << 16

_pool: ThreadPoolExecutor | None = None
_pool_threads = 0


def _workers(k: int) -> ThreadPoolExecutor:
    """The pool of ``k - 1`` helper threads (the caller is the k-th), rebuilt when ``k`` changes."""
    global _pool, _pool_threads
    if _pool is None or _pool_threads != k:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _pool_threads = ThreadPoolExecutor(k - 1, thread_name_prefix="chainrule"), k
    return _pool


def parallel_rows(fn: Callable[..., Any], *arrays: Any, cache_blocks: bool = False) -> None:
    """Call ``fn(*blocks)``, the blocks being matching row ranges (axis 0) of ``arrays``.

    ``fn`` writes its results into one of the arrays (an ``out`` buffer), so the blocks need no
    joining.  Two reasons to cut the rows into blocks:

    - **threads**: for calls touching at least ``PARALLEL_MIN_ELEMENTS`` elements, every thread,
      the caller included, takes the next block until none is left (a worker that starts late
      leaves its share to the others instead of holding everyone up);
    - **cache** (``cache_blocks=True``, for an ``fn`` that chains several NumPy calls): blocks of
      about ``BLOCK_ELEMENTS`` elements of the largest array, so each call finds its operands
      still in the core's cache instead of streaming whole arrays through memory once per call.
      Not the default: for kernels that loop over slabs in Python (im2col, pooling) the extra
      calls cost more.

    Small arrays or GPU arrays: one plain call, ``fn(*arrays)``.

    Example::

        out = np.empty_like(x)
        parallel_rows(lambda o, a: np.maximum(a, 0, out=o), out, x)   # relu(x), in row blocks
    """
    rows = arrays[0].shape[0] if arrays[0].ndim else 0
    biggest = max(a.size for a in arrays)
    threads = backend.get_num_threads()
    k = min(threads, rows) if biggest >= PARALLEL_MIN_ELEMENTS else 1
    n_blocks = min(rows, biggest // BLOCK_ELEMENTS) if cache_blocks else 1
    n_blocks = max(n_blocks, min(rows, 4 * k) if k > 1 else 1)
    if n_blocks < 2 or type(arrays[0]) is not numpy.ndarray:
        fn(*arrays)
        return
    bounds = [rows * i // n_blocks for i in range(n_blocks + 1)]
    if k < 2:
        for i in range(n_blocks):
            fn(*(a[bounds[i] : bounds[i + 1]] for a in arrays))
        return
    pool = _workers(threads)
    claim = itertools.count()  # next() on it is atomic under the GIL
    left = [n_blocks]
    lock, done, errors = threading.Lock(), threading.Event(), []

    def work() -> None:
        while (i := next(claim)) < n_blocks:
            try:
                fn(*(a[bounds[i] : bounds[i + 1]] for a in arrays))
            except BaseException as e:  # noqa: BLE001 - handed to the caller below
                errors.append(e)
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    done.set()

    for _ in range(k - 1):
        pool.submit(work)
    work()
    done.wait()
    if errors:
        raise errors[0]


def parallel_copy(dst: Any, src: Any) -> None:
    """``dst[...] = src`` (same shapes), in row blocks on chainrule's threads."""
    parallel_rows(_copy_into, dst, src)


def _copy_into(dst: Any, src: Any) -> None:
    dst[...] = src
