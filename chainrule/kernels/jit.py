"""The optional JIT: numba-compiled loops for memory-bound kernels, used when numba is installed.

``pip install chainrule[jit]`` adds numba. A kernel that has a compiled twin asks ``kernel(name)``
for it: the first call imports numba and compiles the loop (``cache=True``: later processes load
the machine code from ``__pycache__`` instead of compiling again), so ``import chainrule`` never
pays for it. Without numba, or with the JIT switched off (``set_enabled(False)`` or
``CHAINRULE_JIT=0`` in the environment), ``kernel`` returns ``None`` and the kernel runs its NumPy
code. Both give the same bits: each compiled loop does the NumPy code's float operations in the
same order and the same precision, without fast-math (``tests/kernels/`` checks it against the
NumPy tuned code and the ``*_reference`` functions).

Why only memory-bound chains: NumPy's SIMD ``exp``/``tanh`` beat a scalar compiled loop on
transcendental work, but a chain of cheap passes (Adam's 13 calls over five arrays) is bound by
memory traffic and per-call overhead, which one fused loop removes (docs/performance.md).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

_state: dict[str, Any] = {"enabled": os.environ.get("CHAINRULE_JIT", "1") != "0", "module": None}


def available() -> bool:
    """Whether numba can be imported here (imports it on the first call)."""
    if _state["module"] is None:
        try:
            _state["module"] = importlib.import_module("chainrule.kernels.jit_kernels")
        except ImportError:
            _state["module"] = False
    return _state["module"] is not False


def set_enabled(flag: bool) -> bool:
    """Use the compiled kernels (``True``, the default when numba is installed) or NumPy only.

    Returns the previous setting. Results are the same either way.

    >>> from chainrule.kernels import jit
    >>> previous = jit.set_enabled(False)
    >>> jit.kernel("adam") is None
    True
    >>> _ = jit.set_enabled(previous)
    """
    previous = _state["enabled"]
    _state["enabled"] = bool(flag)
    return previous


def enabled() -> bool:
    """Whether kernels use the compiled loops now (switched on and numba importable)."""
    return _state["enabled"] and available()


def kernel(name: str) -> Any:
    """The compiled kernel ``name`` of ``jit_kernels`` (compiled on first call), or ``None`` when off."""
    if not _state["enabled"] or not available():
        return None
    return getattr(_state["module"], name)
