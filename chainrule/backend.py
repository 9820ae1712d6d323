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
import os
import sys
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
    """Map None, 'cpu', 'cpu:0', 'cuda', 'cuda:0' (or a ``cr.device``) to ``'cpu'`` or ``'cuda'``."""
    if device is None:
        return "cpu"
    name = str(device)
    if name == "cpu" or name.startswith("cpu:"):
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

# How many threads chainrule's own element-wise kernels use (``chainrule.kernels.rows``).  Default 1:
# inside a model step the BLAS library's idle threads keep the other cores busy after every
# product, and ours only fight them (docs/performance.md).
_num_threads = 1


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for chainrule's own element-wise work, as ``torch.set_num_threads``.

    The default is 1: matrix products are threaded by the BLAS library (``OPENBLAS_NUM_THREADS``),
    whose idle threads keep the other cores busy for a while after each product, so in a model
    step our threads mostly wait for them.  More threads pay off for very big element-wise work
    with no matrix products around it.

    Example::

        cr.set_num_threads(2)   # big element-wise passes (>= 2^20 elements) in row blocks on 2 threads
    """
    global _num_threads
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads: expected a positive int, got {n!r} ({type(n).__name__})")
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n}")
    _num_threads = n


def get_num_threads() -> int:
    """The number of threads chainrule's element-wise work runs on (default 1; see ``set_num_threads``)."""
    return _num_threads


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


_default_dtype = numpy.dtype(numpy.float32)


def get_default_dtype():
    """The float dtype of Python floats and float factories (float32 unless changed), as PyTorch."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (float16, float32 or float64) the default float dtype, as ``torch.set_default_dtype``.

    >>> cr.set_default_dtype(cr.float64); cr.tensor(1.5).dtype
    dtype('float64')
    >>> cr.set_default_dtype(cr.float32)   # back to the default
    """
    global _default_dtype
    try:
        d = numpy.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.kind != "f" or d.itemsize not in (2, 4, 8):
        raise TypeError(f"set_default_dtype: only floating point dtypes are supported, got {dtype!r}")
    _default_dtype = d
