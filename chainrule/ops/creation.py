"""Tensor factories.

Tensor factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye``,
``rand``, ``randn``, ``randint``, ``zeros_like``, ``ones_like``, ``from_numpy`` (``cat``/``stack``
live in shape).

As PyTorch: Python floats give float32 (the default dtype), Python ints int64,
NumPy arrays keep their dtype.  ``size`` may be given as ``f(2, 3)`` or ``f((2, 3))``.
"""

from __future__ import annotations

import builtins
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
    dtype = _dtype("zeros", dtype, backend.get_default_dtype())
    return _make(np.zeros(_size(size, "zeros", dtype), dtype), requires_grad, device)


def ones(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ones of the given size."""
    dtype = _dtype("ones", dtype, backend.get_default_dtype())
    return _make(np.ones(_size(size, "ones", dtype), dtype), requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it as PyTorch)."""
    dtype = _dtype("full", dtype)
    if dtype is None:
        dtype = (
            bool_
            if isinstance(fill_value, bool)
            else int64
            if isinstance(fill_value, int)
            else backend.get_default_dtype()
        )
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
        dtype = (
            int64
            if all(isinstance(v, (int, np.integer)) for v in (start, end, step))
            else backend.get_default_dtype()
        )
    return _make(np.arange(start, end, step).astype(dtype), requires_grad, device)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    return _make(
        np.linspace(start, end, steps).astype(dtype or backend.get_default_dtype()), requires_grad, device
    )


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """The n×m identity matrix."""
    return _make(np.eye(n, m, dtype=dtype or backend.get_default_dtype()), requires_grad, device)


def _float_dtype(dtype, op: str) -> None:
    if dtype is not None and _dtype(op, dtype).kind != "f":
        raise TypeError(f"{op}: dtype must be floating point, got {np.dtype(dtype)} (randint gives integers)")


def rand(*size, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Uniform draws from [0, 1) (reproducible under ``cr.manual_seed``, or from ``generator``)."""
    _float_dtype(dtype, "rand")
    dtype = _dtype("rand", dtype, backend.get_default_dtype())
    arr = _random.uniform(_size(size, "rand", dtype), dtype, generator=generator)
    return _make(arr, requires_grad, device)


def randn(*size, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Standard normal draws N(0, 1) (from ``generator`` when given)."""
    _float_dtype(dtype, "randn")
    dtype = _dtype("randn", dtype, backend.get_default_dtype())
    arr = _random.normal(_size(size, "randn", dtype), dtype, generator=generator)
    return _make(arr, requires_grad, device)


def randint(*args, size=None, generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    dtype = _dtype("randint", dtype, int64)
    return _make(
        _random.integers(low, high, _size((size,), "randint", dtype), dtype, generator=generator),
        False,
        device,
    )


def randperm(n: int, *, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype``)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative integer, got {n!r}")
    return _make(_random.permutation(int(n), generator).astype(dtype or int64), requires_grad, device)


# ----------------------------------------------------------------------------- wider vocabulary


def empty(*size, dtype=None, requires_grad: bool = False, device=None, **_ignored) -> Tensor:
    """A tensor of ``size`` with unspecified values.

    A tensor of ``size`` whose values are unspecified (zeros here: NumPy's uninitialised memory
    could hold NaNs that leak into sums).
    """
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def empty_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None, **_ignored) -> Tensor:
    """An uninitialised (here: zero) tensor with the shape, dtype and device of ``t``."""
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad, device=device)


def rand_like(t: Tensor, *, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``rand`` with the shape (and dtype, device) of ``t``."""
    dtype = dtype or t.dtype
    _float_dtype(dtype, "rand_like")
    return _make(_random.uniform(t.shape, dtype, generator=generator), requires_grad, device or t.device)


def randint_like(t: Tensor, low: int = 0, high: int | None = None, *, generator=None, dtype=None,
                 requires_grad: bool = False, device=None) -> Tensor:  # fmt: skip
    """Integers uniform in [low, high) with the shape (and dtype, device) of ``t``.

    ``randint_like(t, high)`` draws from [0, high).
    """
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint_like: expected low < high, got low={low}, high={high}")
    arr = _random.integers(low, high, t.shape, dtype or t.dtype, generator=generator)
    return _make(arr, requires_grad, device or t.device)


def bernoulli(input: Tensor, p: builtins.float | None = None, *, generator=None) -> Tensor:  # noqa: A002
    """0/1 draws, each 1 with probability ``input`` (or ``p``), in input's dtype.

    >>> cr.bernoulli(cr.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """
    probs = input._data if p is None else np.full(input.shape, p)
    if probs.size and (np.any(probs < 0) or np.any(probs > 1)):
        raise RuntimeError("bernoulli: expected all probabilities in [0, 1]")
    draws = _random._gen(generator).random(size=input.shape) < np.asarray(backend.to_numpy(probs))
    return _make(draws.astype(input.dtype), False, input.device)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:  # noqa: A002
    """Indices drawn with probabilities proportional to the rows of ``input`` (1-D or 2-D, non-negative).

    Without ``replacement`` an index is drawn at most once per row (then ``num_samples`` must not
    exceed the number of nonzero weights).

    >>> cr.multinomial(cr.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    w = np.asarray(backend.to_numpy(input._data), np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: input must be 1-D or 2-D, got shape {tuple(w.shape)}")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(rows < 0) or not np.all(np.isfinite(rows)):
        raise RuntimeError("multinomial: probabilities must be finite and non-negative")
    if np.any(rows.sum(1) <= 0):
        raise RuntimeError("multinomial: each row of probabilities must have a positive sum")
    if not replacement and num_samples > int((rows > 0).sum(1).min()):
        raise RuntimeError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{int((rows > 0).sum(1).min())} nonzero weights"
        )
    rng = _random._gen(generator)
    out = np.stack([rng.choice(len(r), num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return _make(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64), False, input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, requires_grad: bool = False,
           device=None) -> Tensor:  # fmt: skip
    """Draws from a normal distribution.

    Draws from N(mean, std²); ``mean`` and ``std`` numbers (then ``size`` is needed) or tensors
    (broadcast; the draws have their shape).
    """
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if tensors:
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
        dt = tensors[0].dtype
    else:
        if size is None:
            raise TypeError("normal: with numbers for mean and std, size is required")
        shape, dt = _size((size,)), dtype or backend.get_default_dtype()
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal: std must be >= 0, got {std}")
    z = _random.normal(shape, np.float64, generator=generator)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    return _make(np.asarray(m + s * z).astype(dt), requires_grad, device)


def logspace(start, end, steps: int, base: builtins.float = 10.0, dtype=None, requires_grad: bool = False,
             device=None) -> Tensor:  # fmt: skip
    """``steps`` values base^t for t evenly spaced from ``start`` to ``end``."""
    if steps < 0:
        raise ValueError(f"logspace: number of steps must be non-negative, got {steps}")
    arr = np.logspace(start, end, steps, base=base).astype(dtype or backend.get_default_dtype())
    return _make(arr, requires_grad, device)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a row × col matrix, row by row."""
    r, c = np.tril_indices(row, offset, col)
    return _make(np.stack([r, c]).astype(dtype or int64), False, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) indices of the upper triangle of a row × col matrix, row by row."""
    r, c = np.triu_indices(row, offset, col)
    return _make(np.stack([r, c]).astype(dtype or int64), False, device)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Convert to a tensor, sharing memory when possible.

    ``data`` as a tensor, sharing memory when it already is one (or a NumPy array) of the requested
    dtype and device; otherwise a copy, as ``torch.as_tensor``.

    >>> a = np.zeros(2, np.float32); t = cr.as_tensor(a); a[0] = 1; t
    tensor([1., 0.])
    """
    dtype = None if dtype is None else np.dtype(dtype)
    dev = None if device is None else backend.normalize_device(device)
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=dev) if (dtype or dev) else data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype) and dev in (None, "cpu"):
        return Tensor._make(data)
    return Tensor(data, dtype=dtype, device=dev)


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``as_tensor`` with ``copy=True`` forcing a copy and ``requires_grad``."""
    t = Tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype, device)
    return t.requires_grad_(True) if requires_grad else t


def from_dlpack(ext: Any) -> Tensor:
    """A tensor sharing memory with a DLPack object.

    A tensor sharing memory with any object that speaks DLPack (a NumPy array, a torch tensor, a
    CuPy array): ``cr.from_dlpack(torch_tensor)``.
    """
    if isinstance(ext, Tensor):
        return ext
    if not hasattr(ext, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(ext).__name__} does not implement __dlpack__")
    dev_type, _ = ext.__dlpack_device__()
    if dev_type == 2:  # kDLCUDA
        cupy = backend.cupy_module()
        if cupy is None:
            raise RuntimeError("from_dlpack: a CUDA tensor needs CuPy, which is not available")
        return Tensor._make(cupy.from_dlpack(ext))
    return Tensor._make(np.from_dlpack(ext))


class _NeedsMlDtypes:
    """Stands for bfloat16 when ml_dtypes (NumPy's bfloat16) is missing: any use raises clearly."""

    @property
    def dtype(self):
        raise TypeError(
            "bfloat16: NumPy has no bfloat16; install ml_dtypes (pip install ml_dtypes) to use it"
        )

    def __repr__(self) -> str:
        return "chainrule.bfloat16 (unavailable: pip install ml_dtypes)"


def __getattr__(name: str):
    """``bfloat16``, made on first use: importing ml_dtypes costs more than the rest of chainrule."""
    if name != "bfloat16":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import ml_dtypes

        dtype: Any = np.dtype(ml_dtypes.bfloat16)
    except ImportError:  # pragma: no cover - ml_dtypes is a dependency
        dtype = _NeedsMlDtypes()
    globals()["bfloat16"] = dtype
    return dtype
