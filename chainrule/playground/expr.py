"""The backprop explorer: an expression in x, y, z as a computational graph, on the real engine.

The expression is parsed with Python's ``ast`` module and checked against an explicit whitelist
of node types (numbers, the names x, y, z, + - * / **, unary minus, and a few functions); it is
never evaluated as Python.  The checked tree is then built with chainrule Tensors and ops, and
``backward()`` fills in the gradients, so the numbers shown are the engine's own::

    >>> g = explore("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    >>> [(n["name"], n["value"], n["grad"]) for n in g["nodes"]]
    [('x', -2.0, -4.0), ('y', 5.0, -4.0), ('q', 3.0, -4.0), ('z', -4.0, 3.0), ('f', -12.0, 1.0)]
"""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np

import chainrule as cr

MAX_CHARS = 200
MAX_NODES = 60
VARIABLES = ("x", "y", "z")
DEFAULT_EXPR = "(x + y) * z"
DEFAULT_VALUES = {"x": -2.0, "y": 5.0, "z": -4.0}
VALUE_LIMIT = 1e6

_BINOPS = {
    ast.Add: ("+", cr.add),
    ast.Sub: ("-", cr.sub),
    ast.Mult: ("*", cr.mul),
    ast.Div: ("/", cr.div),
    ast.Pow: ("**", cr.pow),
}
_UNARY = {ast.USub: ("neg", cr.neg), ast.UAdd: ("+", None)}
_FUNCS = {
    "exp": cr.exp,
    "log": cr.log,
    "sin": cr.sin,
    "cos": cr.cos,
    "tanh": cr.tanh,
    "sigmoid": cr.sigmoid,
    "relu": cr.relu,
    "sqrt": cr.sqrt,
    "abs": cr.abs,
}
_FUNCS2 = {"max": cr.maximum, "min": cr.minimum}
# the only node types a parsed expression may contain
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    *_BINOPS,
    *_UNARY,
)
# names for intermediate nodes, as in the lecture (q = x + y, f = q * z)
_NAMES = [c for c in "qrstuvwabcdeghkmnp"]


class ExprError(ValueError):
    """The expression is not allowed or cannot be evaluated; the message says where and why."""


def parse(text: Any) -> ast.Expression:
    """The whitelisted syntax tree of ``text`` (raises ExprError for anything else)."""
    if not isinstance(text, str):
        raise ExprError(f"expression: expected text, got {type(text).__name__}")
    if not text.strip():
        raise ExprError("expression: empty; type something like (x + y) * z")
    if len(text) > MAX_CHARS:
        raise ExprError(f"expression: {len(text)} characters is too long; at most {MAX_CHARS}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"expression: syntax error at column {e.offset}: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("expression: too deeply nested") from None
    count = 0
    for node in ast.walk(tree):
        count += 1
        if not isinstance(node, _ALLOWED):
            raise ExprError(
                f"expression: {type(node).__name__} is not allowed; use numbers, x, y, z, "
                f"+ - * / **, and {', '.join([*_FUNCS, *_FUNCS2])}"
            )
        if isinstance(node, ast.Name) and node.id not in VARIABLES and not _is_func_name(node, tree):
            raise ExprError(f"expression: unknown name {node.id!r}; the variables are x, y, z")
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise ExprError(f"expression: constant {node.value!r:.20} is not a number")
        if isinstance(node, ast.Constant) and not (abs(node.value) <= VALUE_LIMIT):
            raise ExprError(f"expression: constant {node.value!r:.20} is too large (limit {VALUE_LIMIT:g})")
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if node.keywords or name not in (*_FUNCS, *_FUNCS2):
                raise ExprError(
                    f"expression: only the functions {', '.join([*_FUNCS, *_FUNCS2])} can be called"
                )
            want = 2 if name in _FUNCS2 else 1
            if len(node.args) != want:
                raise ExprError(
                    f"expression: {name}() takes {want} argument{'s' * (want > 1)}, got {len(node.args)}"
                )
    if count > MAX_NODES:
        raise ExprError(f"expression: {count} syntax nodes is too many; at most {MAX_NODES}")
    return tree


def _is_func_name(node: ast.Name, tree: ast.AST) -> bool:
    return any(isinstance(c, ast.Call) and c.func is node for c in ast.walk(tree))


def _num(v: float) -> float | str | None:
    """A JSON-safe number (inf and nan become strings)."""
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def explore(text: Any, values: Any = None) -> dict[str, Any]:
    """The graph of ``text`` at ``values`` ({x, y, z}) with every node's value and gradient.

    Returns ``{"nodes": [...], "output": id, "order": [ids in backward order]}``; each node is
    ``{"id", "name", "op", "label", "inputs": [ids], "value", "grad", "local"}`` where ``local``
    maps each input's id to the local derivative d(node)/d(input).  ``order`` lists the nodes
    as the backward pass reaches them (the output first), for stepping through it.
    """
    tree = parse(text)
    vals = dict(DEFAULT_VALUES)
    if values is not None:
        if not isinstance(values, dict):
            raise ExprError("values: expected an object {x, y, z}")
        for k, v in values.items():
            if k not in VARIABLES:
                raise ExprError(f"values: unknown variable {str(k)[:20]!r}; the variables are x, y, z")
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float))
                or not abs(v) <= VALUE_LIMIT  # before isfinite: it overflows on a huge int
                or not math.isfinite(v)
            ):
                raise ExprError(
                    f"values: {k} must be a finite number with |{k}| <= {VALUE_LIMIT:g}, got {v!r:.20}"
                )
            vals[k] = float(v)

    nodes: list[dict[str, Any]] = []
    tensors: list[cr.Tensor | None] = []
    leaves: dict[str, int] = {}
    names = iter(_NAMES)

    def add(op: str, label: str, inputs: list[int], t: cr.Tensor | None, name: str | None = None) -> int:
        nodes.append({"id": len(nodes), "name": name, "op": op, "label": label, "inputs": inputs})
        tensors.append(t)
        return len(nodes) - 1

    def build(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Name):
            if node.id not in leaves:
                t = cr.tensor(_f64(vals[node.id]), requires_grad=True)
                leaves[node.id] = add("input", node.id, [], t, node.id)
            return leaves[node.id]
        if isinstance(node, ast.Constant):
            return add("const", _fmt(node.value), [], cr.tensor(_f64(node.value)))
        if isinstance(node, ast.UnaryOp):
            a = build(node.operand)
            sym, fn = _UNARY[type(node.op)]
            if fn is None:
                return a
            return add(sym, "−", [a], fn(tensors[a]))
        if isinstance(node, ast.BinOp):
            a, b = build(node.left), build(node.right)
            sym, fn = _BINOPS[type(node.op)]
            return add(sym, sym, [a, b], fn(tensors[a], tensors[b]))
        if isinstance(node, ast.Call):
            name = node.func.id
            args = [build(arg) for arg in node.args]
            fn = _FUNCS.get(name) or _FUNCS2[name]
            return add(name, name, args, fn(*[tensors[i] for i in args]))
        raise ExprError(f"expression: {type(node).__name__} is not allowed")  # unreachable after parse()

    try:
        out = build(tree)
    except RecursionError:
        raise ExprError("expression: too deeply nested") from None
    # names for computed nodes: the output is f, the others q, r, s, ... in order of creation
    for n in nodes:
        if n["op"] not in ("input", "const") and n["id"] != out:
            n["name"] = next(names, f"n{n['id']}")
    nodes[out]["name"] = nodes[out]["name"] if nodes[out]["op"] == "input" else "f"

    f = tensors[out]
    # local derivatives d(node)/d(input) along every edge, also from the engine
    for n, t in zip(nodes, tensors):
        local = {}
        for i in dict.fromkeys(n["inputs"]):
            ti = tensors[i]
            if t.requires_grad and ti.requires_grad:
                local[str(i)] = _num(cr.autograd.grad(t, ti, retain_graph=True)[0].item())
        n["local"] = local
    for t in tensors:
        if t is not None and t.grad_fn is not None:
            t.retain_grad()
    if f.requires_grad:
        f.backward()
    for n, t in zip(nodes, tensors):
        n["value"] = _num(t.item())
        if t is f:
            n["grad"] = 1.0
        elif n["op"] == "const":
            n["grad"] = None
        else:
            n["grad"] = _num(t.grad.item()) if t.grad is not None else 0.0
    return {
        "nodes": nodes,
        "output": out,
        "order": _backward_order(nodes, out),
        "expr": text.strip(),
        "values": vals,
    }


def _f64(v: float) -> np.ndarray:
    # float64 (the explorer shows exact values), as a 1-element array
    return np.asarray([float(v)], dtype=np.float64)


def _fmt(v: float) -> str:
    return f"{v:g}"


def _backward_order(nodes: list[dict[str, Any]], out: int) -> list[int]:
    """Reverse topological order from the output: a node comes after every node that uses it.

    Constants are left out (nothing is differentiated with respect to them).
    """
    users: dict[int, int] = {n["id"]: 0 for n in nodes}
    for n in nodes:
        for i in set(n["inputs"]):
            users[i] += 1
    order, ready = [], [out]
    while ready:
        i = ready.pop(0)
        if nodes[i]["op"] != "const" or i == out:  # a constant gets no gradient: no backward step
            order.append(i)
        for j in dict.fromkeys(nodes[i]["inputs"]):
            users[j] -= 1
            if users[j] == 0:
                ready.append(j)
    return order
