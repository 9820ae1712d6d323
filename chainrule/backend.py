"""The array module behind every tensor: NumPy on ``'cpu'``, CuPy on ``'cuda'``.

This is the only place in chainrule that decides which array library runs an
op.  Ops never ``import numpy`` themselves; they ask for the module that owns
their operands::

    from chainrule.backend import xp_of
    xp = xp_of(x._data)      # numpy for CPU arrays, cupy for GPU arrays
    y = xp.tanh(x._data)

A CuPy-backed ``'cuda'`` device slots in here without touching any op: CuPy
mirrors NumPy's API, so ``xp.tanh`` works on both.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy

np = numpy  # the CPU array module; ops reach it only through this module

_cupy: Any = None
_cupy_checked = False


def cupy_module():
    """Return the ``cupy`` module, or ``None`` when CuPy (or a GPU) is absent."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # noqa: PLC0415 - optional dependency, imported on first use

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # ImportError, or CUDA present but unusable
            _cupy = None
    return _cupy


def normalize_device(device: Any) -> str:
    """Map ``None``/``'cpu'``/``'cuda'``/``'cuda:0'`` (or a Device object) to ``'cpu'`` or ``'cuda'``."""
    if device is None:
        return "cpu"
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"device: expected 'cpu' or 'cuda', got {device!r}")


def xp_for(device: str):
    """The array module for a device name (``'cpu'`` or ``'cuda'``)."""
    if device == "cpu":
        return numpy
    cp = cupy_module()
    if cp is None:
        raise RuntimeError(
            "device 'cuda': CuPy with a working GPU is required "
            "(pip install 'chainrule[gpu]'); none was found"
        )
    return cp


def xp_of(array: Any):
    """The array module that owns ``array`` (NumPy unless it is a CuPy array)."""
    if type(array) is numpy.ndarray or _cupy is None:
        return numpy
    return _cupy.get_array_module(array)


def device_of(array: Any) -> str:
    """``'cpu'`` for NumPy arrays, ``'cuda'`` for CuPy arrays."""
    if type(array) is numpy.ndarray or _cupy is None:
        return "cpu"
    return "cuda" if isinstance(array, _cupy.ndarray) else "cpu"


def to_device(array: Any, device: str):
    """Copy ``array`` to ``device`` (a no-op when it is already there)."""
    if device_of(array) == device:
        return array
    if device == "cpu":
        return array.get()
    return xp_for("cuda").asarray(array)


def to_numpy(array: Any) -> numpy.ndarray:
    """A NumPy array with the contents of ``array`` (copied from the GPU when needed)."""
    return array if isinstance(array, numpy.ndarray) else to_device(array, "cpu")


# ----------------------------------------------------------------------------- threads

# NumPy runs element-wise work on one core and releases the GIL while it does, so a big
# element-wise op split into row blocks runs on all cores from plain Python threads.  Below
# this many elements (in the largest array of the call) waking a thread and passing the GIL back
# and forth cost more than they save (docs/performance.md, "Threads").
PARALLEL_MIN_ELEMENTS = 1 << 20
# Rows per block in parallel_rows: about this many elements of the largest array (256 KiB of
# float32), so that a block's few operands fit in a core's L2 cache together.
BLOCK_ELEMENTS = 1 << 16

# Default 1: inside a model step the BLAS library's own threads already hold the other cores (they
# spin for a while after every matrix product), and ours only fight them (docs/performance.md).
_num_threads = 1
_pool: ThreadPoolExecutor | None = None


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for chainrule's own element-wise work, as ``torch.set_num_threads``.

    The default is 1: matrix products are threaded by the BLAS library (``OPENBLAS_NUM_THREADS``),
    whose idle threads keep the other cores busy for a while after each product, so in a model
    step our threads mostly wait for them (docs/performance.md).  More threads pay off for very
    big element-wise work with no matrix products around it.

    Example::

        cr.set_num_threads(2)   # big element-wise passes (>= 2^20 elements) in row blocks on 2 threads
    """
    global _num_threads, _pool
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads: expected a positive int, got {n!r} ({type(n).__name__})")
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n}")
    if _pool is not None and n != _num_threads:
        _pool.shutdown(wait=True)
        _pool = None
    _num_threads = n


def get_num_threads() -> int:
    """The number of threads chainrule's element-wise work runs on (default 1; see ``set_num_threads``)."""
    return _num_threads


def parallel_rows(fn: Callable[..., Any], *arrays: Any, cache_blocks: bool = False) -> None:
    """Call ``fn(*blocks)``, the blocks being matching row ranges (axis 0) of ``arrays``.

    ``fn`` writes its results into one of the arrays (an ``out`` buffer), so the blocks need no
    joining.  Two reasons to cut the rows into blocks:

    - **threads**: for calls touching at least ``PARALLEL_MIN_ELEMENTS`` elements, every thread,
      the caller included, takes the next block until none is left (a worker that starts late
      leaves its share to the others instead of holding everyone up);
    - **cache** (``cache_blocks=True``, for an ``fn`` that chains several NumPy calls): blocks of
      about ``BLOCK_ELEMENTS`` elements of the largest array, so each call finds its operands
      still in the core's cache instead of streaming whole arrays through memory once per call
      (Adam's 13 in-place calls, ``kernels/optim.py``).  Not the default: for kernels that loop
      over slabs in Python (im2col, pooling) the extra calls cost more.

    Small arrays or GPU arrays: one plain call.
    """
    global _pool
    rows = arrays[0].shape[0] if arrays[0].ndim else 0
    biggest = max(a.size for a in arrays)
    k = min(_num_threads, rows) if biggest >= PARALLEL_MIN_ELEMENTS else 1
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
    if _pool is None:
        _pool = ThreadPoolExecutor(_num_threads - 1, thread_name_prefix="chainrule")
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
        _pool.submit(work)
    work()
    done.wait()
    if errors:
        raise errors[0]


def parallel_copy(dst: Any, src: Any) -> None:
    """``dst[...] = src`` (same shapes), in row blocks on all threads."""
    parallel_rows(_copy_into, dst, src)


def _copy_into(dst: Any, src: Any) -> None:
    dst[...] = src


# ----------------------------------------------------------------------------- malloc

malloc_tuned = False  # whether tune_malloc() has changed this process's allocator


def tune_malloc() -> bool:
    """Keep freed memory inside the process instead of handing it back to the OS (Linux, glibc).

    Opt-in, for training loops: call it once, or set the environment variable
    ``CHAINRULE_TUNE_MALLOC=1`` before importing chainrule.  ``import chainrule`` alone never
    changes the allocator.

    glibc serves big arrays with ``mmap`` and unmaps them on free, so every training step
    page-faults its activations and gradients back in, which can cost a large part of a CNN
    step (docs/performance.md).  This sets ``M_MMAP_MAX = 0`` (big arrays come from the heap)
    and ``M_TRIM_THRESHOLD = 1 GiB`` (freed heap memory stays mapped).  The setting is
    process-wide and can't be undone: memory freed by any library (a 400 MB array in a
    notebook) stays resident in the process.

    Returns whether the allocator was changed (``False`` off Linux or without glibc).

    Example::

        cr.backend.tune_malloc()   # at the top of a training script: True on Linux with glibc
    """
    global malloc_tuned
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4
        libc.mallopt(m_mmap_max, 0)
        libc.mallopt(m_trim_threshold, 1 << 30)
    except (OSError, AttributeError):
        return False
    malloc_tuned = True
    return True


if os.environ.get("CHAINRULE_TUNE_MALLOC", "0") not in ("", "0"):
    tune_malloc()
