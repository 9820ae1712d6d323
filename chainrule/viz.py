"""``cr.viz``: draw the computational graph behind a tensor (Graphviz DOT).

Boxes are tensors (their name if you pass ``names``, value, and gradient once computed),
yellow ellipses are the ops (graph nodes) that produced them, edges run forward from
inputs to outputs.  Backprop walks the same edges backwards.

The lecture example, f(x, y, z) = (x + y) · z::

    x = cr.tensor(-2.0, requires_grad=True)
    y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    q = x + y                    # q = 3
    f = q * z                    # f = -12
    cr.viz.retain_grads(f)       # also keep df/dq and df/df (intermediate gradients)
    f.backward()                 # df/dx = -4, df/dy = -4, df/dz = 3
    print(cr.viz.graph(f, names={"x": x, "y": y, "z": z, "q": q, "f": f}))
    cr.viz.render(f, "graph.svg")           # needs Graphviz's `dot` program

Leaves always show their ``.grad`` after ``backward()``; intermediate tensors show theirs
when ``retain_grads`` (or ``t.retain_grad()``) was called before ``backward()``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from chainrule import backend
from chainrule.backend import np
from chainrule.tensor import Tensor

_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg")


def _key(t) -> Any:
    """One box per value: a tensor made by an op is known by (its node, which output)."""
    return id(t) if t.grad_fn is None else (id(t.grad_fn), t._output_nr)


def _walk(root: Tensor, known: dict):
    """All values reachable from ``root`` (root, then op inputs) and the op nodes, forward order.

    After a backward without ``retain_graph`` a node keeps only edges to its inputs (their
    values were freed): such an input is drawn from a live tensor when one is ``known`` (named
    by the caller, or kept by ``retain_grad``), else as a box with its shape alone.
    """
    tensors: dict = {}
    nodes: dict = {}
    stack = [root]
    while stack:
        t = stack.pop()
        key = _key(t)
        if key in tensors:
            continue
        t = known.get(key, t)
        tensors[key] = t
        fn = t.grad_fn
        if fn is not None and id(fn) not in nodes:
            nodes[id(fn)] = fn
            for nr, kept in (fn._retained or {}).items():
                known.setdefault((id(fn), nr), kept)
            stack.extend(inp for inp in getattr(fn, "inputs", ()) or () if inp is not None)
    return list(tensors.values())[::-1], list(nodes.values())[::-1]


def retain_grads(tensor: Tensor) -> Tensor:
    """Retain the gradient of every tensor behind ``tensor``.

    Call ``retain_grad()`` on every intermediate tensor behind ``tensor`` (and on itself), so that
    after ``backward()`` the graph shows the gradient of each of them.  Returns ``tensor``.
    """
    tensors, _ = _walk(tensor, {})
    for t in tensors:
        if isinstance(t, Tensor) and t.grad_fn is not None:
            t.retain_grad()
    return tensor


def _box(t) -> str:
    key = _key(t)
    return str(key) if isinstance(key, int) else f"{key[0]}_{key[1]}"


def _format_array(t: Tensor) -> str:
    arr = backend.to_numpy(t._data)
    if arr.size == 1:
        v = arr.reshape(()).item()
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    if arr.size <= 6:
        return np.array2string(arr, precision=4, separator=", ", suppress_small=True).replace("\n", "")
    return f"{tuple(arr.shape)} {arr.dtype}"


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _names_of(names) -> dict:
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):  # a Module
        names = dict(names.named_parameters())
    if not isinstance(names, Mapping):
        raise TypeError(
            f"graph: names must be a mapping name -> Tensor (or a Module), got {type(names).__name__}"
        )
    out = {}
    for name, t in names.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"graph: names[{name!r}] is a {type(t).__name__}, not a Tensor")
        out[t] = str(name)
    return out


def graph(tensor: Tensor, names: Mapping[str, Tensor] | Any = None, show_values: bool = True) -> str:
    """The computational graph behind ``tensor`` as Graphviz DOT text.

    ``names``: ``{'x': x, ...}`` labels tensors (a Module labels its parameters by their names).
    Each tensor box shows its value (small tensors; shape and dtype for large ones) and its
    gradient once known (``.grad``: leaves after backward, intermediates with ``retain_grad``).
    A backward without ``retain_graph=True`` frees the values the graph held, as PyTorch does:
    afterwards intermediate values show only for tensors you still hold and name in ``names``
    (or that ``retain_grad`` kept); the others show their shape.  To draw every value after
    backward, call ``backward(retain_graph=True)``.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph: expected a Tensor, got {type(tensor).__name__}")
    labels = _names_of(names)
    known = {_key(t): t for t in labels}
    labels = {_key(t): name for t, name in labels.items()}
    tensors, nodes = _walk(tensor, known)
    lines = [
        "digraph chainrule {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555"];',
    ]
    for t in tensors:
        parts = []
        name = labels.get(_key(t))
        if name:
            parts.append(name)
        live = isinstance(t, Tensor)
        if show_values and live:
            parts.append(f"value: {_format_array(t)}")
        else:
            parts.append(f"{tuple(t.shape)} {t.dtype}" + ("" if live else " (value freed)"))
        if live and t.grad is not None:
            parts.append(f"grad: {_format_array(t.grad)}")
        if t.grad_fn is None:
            color = "#c7e9c0" if t.requires_grad else "#eeeeee"  # leaves: trainable green, constants grey
        else:
            color = "#dbeafe" if t is not tensor else "#fcd5ce"
        lines.append(
            f'  t{_box(t)} [shape=box, style="rounded,filled", fillcolor="{color}", '
            f'label="{_esc(chr(10).join(parts))}"];'
        )
    for fn in nodes:
        lines.append(
            f'  n{id(fn)} [shape=ellipse, style=filled, fillcolor="#fde68a", label="{_esc(fn.name())}"];'
        )
        for inp in getattr(fn, "inputs", ()) or ():
            if inp is not None:
                lines.append(f"  t{_box(inp)} -> n{id(fn)};")
    for t in tensors:
        if t.grad_fn is not None:
            lines.append(f"  n{id(t.grad_fn)} -> t{_box(t)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(
    obj: Tensor | str,
    path: str | os.PathLike,
    format: str | None = None,  # noqa: A002
    names: Mapping[str, Tensor] | None = None,
) -> str:
    """Write the graph picture of a tensor to a file.

    Write the graph of a tensor (or DOT text) to ``path``: ``.dot``/``.gv`` as text, ``.svg``,
    ``.png``, ``.pdf`` through Graphviz's ``dot`` program (a clear error when it is not installed).
    Returns the path.
    """
    dot = obj if isinstance(obj, str) else graph(obj, names)
    path = os.fspath(path)
    fmt = (format or os.path.splitext(path)[1].lstrip(".") or "svg").lower()
    if fmt in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(dot)
        return path
    if fmt not in _FORMATS:
        raise ValueError(
            f"render: unsupported format {fmt!r}; expected one of {', '.join(_FORMATS)}, dot or gv"
        )
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            f"render: writing {fmt.upper()} needs Graphviz's `dot` program, which was not found on PATH; "
            "install Graphviz (e.g. `apt install graphviz`, `brew install graphviz` or "
            "`conda install graphviz`), or write the DOT text with a .dot path and render it elsewhere"
        )
    result = subprocess.run([exe, f"-T{fmt}", "-o", path], input=dot.encode("utf-8"), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"render: `dot -T{fmt}` failed (exit code {result.returncode}): "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    return path
