"""Tensor gradient hooks: ``t.register_hook(fn)`` calls ``fn(grad)`` when dL/dt has been computed.

A hook may return a tensor, which replaces the gradient for everything downstream (and for
``t.grad`` when ``t`` is a leaf).  A leaf's hooks run once per backward on its summed gradient,
before it is added to ``.grad``; a non-leaf's run when its gradient is complete, before it flows
into the op that made it.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable

from chainrule.tensor import Tensor

_leaf_hooks: dict = {}  # id(leaf) -> (weakref to the leaf, {handle id: fn})
_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns; ``handle.remove()`` unregisters the hook."""

    def __init__(self, table: dict, key: int) -> None:
        self._table, self._key = table, key

    def remove(self) -> None:
        self._table.pop(self._key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_tensor_hook(t: Tensor, fn: Callable) -> RemovableHandle:
    """Register ``fn(grad)`` on ``t`` (the work of ``Tensor.register_hook``); returns its handle."""
    if not callable(fn):
        raise TypeError(f"register_hook: hook must be callable, got {type(fn).__name__}")
    key = next(_ids)
    if t.grad_fn is None:
        entry = _leaf_hooks.get(id(t))
        if entry is None or entry[0]() is not t:
            key_t = id(t)
            entry = _leaf_hooks[key_t] = (weakref.ref(t, lambda _r: _leaf_hooks.pop(key_t, None)), {})
        table: dict = entry[1]
    else:
        node = t.grad_fn
        hooks = node.__dict__.setdefault("_hooks", {})
        table = hooks.setdefault(t._output_nr, {})
    table[key] = fn
    return RemovableHandle(table, key)


def leaf_hooks(leaf: Tensor) -> dict | None:
    """The hooks of a leaf (None when it has none)."""
    entry = _leaf_hooks.get(id(leaf))
    if entry is None or entry[0]() is not leaf or not entry[1]:
        return None
    return entry[1]


def apply(fns: dict, g, raw: bool):
    """Run ``fns`` on the gradient ``g`` (an array when ``raw``); returns the possibly replaced one."""
    for fn in list(fns.values()):
        t = Tensor._make(g) if raw else g
        out = fn(t)
        if out is not None:
            if not isinstance(out, Tensor) or out.shape != t.shape:
                raise RuntimeError(
                    f"register_hook: a hook must return None or a tensor of the gradient's shape "
                    f"{tuple(t.shape)}, got {getattr(out, 'shape', type(out).__name__)}"
                )
            g = out._data if raw else out
    return g
