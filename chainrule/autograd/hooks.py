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
leaf_hook_tables = _leaf_hooks  # the engine checks it is empty before looking a leaf up
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


def _leaf_table(store: dict, leaf: Tensor) -> dict:
    """The {handle id: fn} table of ``leaf`` in ``store``, made on first use.

    The entry goes when the leaf is garbage-collected (a weak reference: hooks never keep a tensor
    alive).
    """
    key = id(leaf)
    entry = store.get(key)
    if entry is None or entry[0]() is not leaf:  # a new leaf, or a dead one's id reused
        entry = store[key] = (weakref.ref(leaf, lambda _r: store.pop(key, None)), {})
    return entry[1]


def _leaf_lookup(store: dict, leaf: Tensor) -> dict | None:
    """The non-empty table of ``leaf`` in ``store``, or None."""
    entry = store.get(id(leaf))
    if entry is None or entry[0]() is not leaf or not entry[1]:
        return None
    return entry[1]


def register_tensor_hook(t: Tensor, fn: Callable) -> RemovableHandle:
    """Register ``fn(grad)`` on ``t`` (the work of ``Tensor.register_hook``); returns its handle."""
    if not callable(fn):
        raise TypeError(f"register_hook: hook must be callable, got {type(fn).__name__}")
    key = next(_ids)
    if t.grad_fn is None:
        table = _leaf_table(_leaf_hooks, t)
    else:
        node = t.grad_fn
        hooks = node.__dict__.setdefault("_hooks", {})
        table = hooks.setdefault(t._output_nr, {})
    table[key] = fn
    return RemovableHandle(table, key)


def leaf_hooks(leaf: Tensor) -> dict | None:
    """The hooks of a leaf (None when it has none)."""
    return _leaf_lookup(_leaf_hooks, leaf)


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


_post_hooks: dict = {}  # id(leaf) -> (weakref to the leaf, {handle id: fn})


def register_post_accumulate_grad_hook(t: Tensor, fn: Callable) -> RemovableHandle:
    """Register ``fn(t)``, called once per backward after the leaf ``t``'s ``.grad`` is complete."""
    if not callable(fn):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(fn).__name__}")
    table = _leaf_table(_post_hooks, t)
    key = next(_ids)
    table[key] = fn
    return RemovableHandle(table, key)


def post_hooks(leaf: Tensor) -> dict | None:
    """The post-accumulate-grad hooks of a leaf (None when it has none)."""
    return _leaf_lookup(_post_hooks, leaf)


def post_hook_counts(roots) -> dict | None:
    """Map the hooked leaves a backward from ``roots`` reaches to their pending edge counts.

    The result is id(leaf) -> [leaf, edges into it, got a gradient] for every reachable leaf with
    post-accumulate-grad hooks (None when no leaf has any).

    Counting the edges lets the engine call a leaf's hooks as soon as its last gradient arrives,
    mid-pass (what lets data-parallel training start reducing early gradients during backward).
    """
    if not _post_hooks:
        return None
    counts: dict = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for inp in node.inputs:
            if inp is None or not inp.requires_grad:
                continue
            fn = inp.grad_fn
            if fn is None:
                if post_hooks(inp) is not None:
                    entry = counts.get(id(inp))
                    if entry is None:
                        counts[id(inp)] = [inp, 1, False]
                    else:
                        entry[1] += 1
            elif fn not in seen:
                seen.add(fn)
                stack.append(fn)
    return counts


def run_post(leaf: Tensor) -> None:
    """Call the post-accumulate-grad hooks of ``leaf`` with the leaf itself."""
    for fn in list((post_hooks(leaf) or {}).values()):
        out = fn(leaf)
        if out is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: a post-accumulate-grad hook must return None, "
                f"got {type(out).__name__}"
            )
