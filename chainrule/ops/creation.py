"""Tensor factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye``,
``rand``, ``randn``, ``randint``, ``zeros_like``, ``ones_like``, ``from_numpy`` (``cat``/``stack``
live in shape).

As PyTorch: Python floats give float32 (the default dtype), Python ints int64,
NumPy arrays keep their dtype.  ``size`` may be given as ``f(2, 3)`` or ``f((2, 3))``.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule import backend
from chainrule import random as _random
from chainrule.backend import np
from chainrule.ops.shape import shape_arg
from chainrule.tensor import Tensor

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
half, float, double, long = float16, float32, float64, int64  # noqa: A001 - PyTorch's aliases


def _make(arr, requires_grad: bool, device) -> Tensor:
    dev = backend.normalize_device(device)
    if dev != "cpu":
        arr = backend.to_device(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


_MAX_BYTES = np.iinfo(np.intp).max


def _dtype(op: str, dtype: Any, default: Any = None) -> Any:
    """``dtype`` as a NumPy dtype (``default`` when None), or a TypeError naming ``op``."""
    if dtype is None:
        return default
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind not in "biufc":
        raise TypeError(
            f"{op}: dtype must be a numeric dtype such as cr.float32, cr.int64 or cr.bool, got {dtype!r}"
        )
    return dt


def _size(size: tuple, op: str = "size", dtype: Any = float32) -> tuple:
    shape = shape_arg(size)
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"{op}: expected non-negative integer sizes, got {shape}")
    shape = tuple(int(s) for s in shape)
    n = math.prod(shape)
    if n * np.dtype(dtype).itemsize > _MAX_BYTES:
        raise ValueError(
            f"{op}: size {shape} has {n} elements of {np.dtype(dtype)}, more than an array can address "
            f"({_MAX_BYTES} bytes)"
        )
    return shape


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, array or tensor).

    >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]]).dtype
    dtype('float32')
    """
    return Tensor(data, requires_grad=requires_grad, dtype=_dtype("tensor", dtype), device=device)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array (dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of zeros of the given size (float32 unless ``dtype``)."""
    dtype = _dtype("zeros", dtype, float32)
    return _make(np.zeros(_size(size, "zeros", dtype), dtype), requires_grad, device)


def ones(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ones of the given size."""
    dtype = _dtype("ones", dtype, float32)
    return _make(np.ones(_size(size, "ones", dtype), dtype), requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it as PyTorch)."""
    dtype = _dtype("full", dtype)
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, int) else float32
    return _make(np.full(_size((size,), "full", dtype), fill_value, dtype), requires_grad, device)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Zeros with the shape (and dtype, device) of ``t``."""
    return _make(np.zeros(t.shape, dtype or t.dtype), requires_grad, device or t.device)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Ones with the shape (and dtype, device) of ``t``."""
    return _make(np.ones(t.shape, dtype or t.dtype), requires_grad, device or t.device)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``fill_value`` with the shape (and dtype, device) of ``t``."""
    return _make(np.full(t.shape, fill_value, dtype or t.dtype), requires_grad, device or t.device)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are ints, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        dtype = int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else float32
    return _make(np.arange(start, end, step).astype(dtype), requires_grad, device)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    return _make(np.linspace(start, end, steps).astype(dtype or float32), requires_grad, device)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """The n×m identity matrix."""
    return _make(np.eye(n, m, dtype=dtype or float32), requires_grad, device)


def _float_dtype(dtype, op: str) -> None:
    if dtype is not None and _dtype(op, dtype).kind != "f":
        raise TypeError(f"{op}: dtype must be floating point, got {np.dtype(dtype)} (randint gives integers)")


def rand(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Uniform draws from [0, 1) (reproducible under ``cr.manual_seed``)."""
    _float_dtype(dtype, "rand")
    dtype = _dtype("rand", dtype, float32)
    return _make(_random.uniform(_size(size, "rand", dtype), dtype), requires_grad, device)


def randn(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Standard normal draws N(0, 1)."""
    _float_dtype(dtype, "randn")
    dtype = _dtype("randn", dtype, float32)
    return _make(_random.normal(_size(size, "randn", dtype), dtype), requires_grad, device)


def randint(*args, size=None, dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    dtype = _dtype("randint", dtype, int64)
    return _make(_random.integers(low, high, _size((size,), "randint", dtype), dtype), False, device)


def randperm(n: int, device=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    return _make(_random.permutation(n).astype(np.int64), False, device)
