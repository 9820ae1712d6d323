"""Argument checks shared by the layers and the functional ops.

Argument checks shared by the layer constructors and the functional ops: each raises naming the
layer or op, the argument, the allowed range and the value given, so a bad layer fails when it is
built, not with a wrong output (``Conv2d(kernel_size=0)``) or a NumPy message (``Conv2d(1, 1, -3)``)
later.

Example::

    _args.ints("Conv2d", "kernel_size", 0, 2, minimum=1)
    # ValueError: Conv2d: kernel_size must be an int >= 1 or a tuple of 2 such ints, got 0
"""

from __future__ import annotations

from typing import Any, Literal, overload

from chainrule.backend import np
from chainrule.tensor import Tensor


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _bound(minimum: Any) -> str:
    return "" if minimum is None else f" >= {minimum}"


def integer(layer: str, name: str, value: Any, minimum: int | None = None) -> int:
    """Check an integer argument.

    ``value`` as an int, refusing bools, floats (``TypeError``) and values below ``minimum``
    (``ValueError``); the other checks raise the same way.
    """
    if not _is_int(value) or (minimum is not None and value < minimum):
        error = ValueError if _is_int(value) else TypeError
        raise error(f"{layer}: {name} must be an int{_bound(minimum)}, got {value!r}")
    return int(value)


def ints(layer: str, name: str, value: Any, n: int, minimum: int | None = None) -> tuple:
    """An int or a sequence of ``n`` ints (each ``>= minimum``) as a tuple of ``n`` ints."""
    if _is_int(value):
        items = (value,) * n
    elif isinstance(value, (tuple, list)) and len(value) in (1, n) and all(_is_int(v) for v in value):
        items = tuple(value) * (n if len(value) == 1 else 1)
    else:
        items = None
    if items is None or (minimum is not None and any(v < minimum for v in items)):
        what = f"an int{_bound(minimum)}" + (f" or a tuple of {n} such ints" if n > 1 else "")
        raise (TypeError if items is None else ValueError)(f"{layer}: {name} must be {what}, got {value!r}")
    return tuple(int(v) for v in items)


@overload
def number(
    layer: str,
    name: str,
    value: Any,
    *,
    above: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    optional: Literal[False] = False,
) -> float: ...


@overload
def number(
    layer: str,
    name: str,
    value: Any,
    *,
    above: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    optional: bool,
) -> float | None: ...


def number(
    layer: str,
    name: str,
    value: Any,
    *,
    above: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    optional: bool = False,
) -> float | None:
    """Check a number argument.

    ``value`` as a float: ``> above``, ``>= minimum``, ``<= maximum`` where given (None allowed
    when ``optional``).  NaN is refused.
    """
    if value is None and optional:
        return None
    typed = _is_number(value)
    ok = typed and not np.isnan(value)
    ok = ok and (above is None or value > above) and (minimum is None or value >= minimum)
    ok = ok and (maximum is None or value <= maximum)
    if not ok:
        if minimum is not None and maximum is not None:
            what = f"a number in [{minimum}, {maximum}]"
        else:
            what = "a number" + (f" > {above}" if above is not None else "") + _bound(minimum)
            what += f" <= {maximum}" if maximum is not None else ""
        error = ValueError if typed else TypeError
        raise error(f"{layer}: {name} must be {what}{' or None' if optional else ''}, got {value!r}")
    return float(value)


def tensor(op: str, name: str, value: Any, floating: bool = False) -> Any:
    """``value`` if it is a Tensor (of a floating point dtype when ``floating``)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    if floating and value.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating point Tensor, got dtype {value.dtype}")
    return value


def probability(op: str, name: str, value: Any) -> float:
    """``value`` as a float if it is a number in [0, 1] (PyTorch's wording for dropout's ``p``)."""
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{op}: {name} has to be between 0 and 1, but got {value!r}")
    return float(value)


def choice(layer: str, name: str, value: Any, options: tuple) -> Any:
    """``value`` if it is one of ``options``."""
    if not isinstance(value, (str, int, float, type(None))) or value not in options:
        raise ValueError(f"{layer}: {name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value
