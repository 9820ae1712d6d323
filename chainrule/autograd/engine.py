"""Reverse-mode automatic differentiation: the chain rule applied to the graph, backwards.

Backprop in three steps:

1. seed each output with its upstream gradient (1 for a scalar loss),
2. visit the graph nodes from the outputs towards the inputs in reverse topological
   order, so a node runs only once every consumer of its outputs has handed it a
   gradient.  Every node carries the sequence number of its creation, and an op's
   inputs always exist before it, so "newest first" (a heap on the sequence number) is
   such an order; no recursion, so a 10,000-op chain is fine,
3. each node turns the gradient of its outputs into gradients of its inputs
   (``Function.backward``: local derivative × upstream gradient); gradients arriving
   at the same tensor along several paths are summed.

Leaves (tensors made by the user, not by an op) collect the result in ``.grad``.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from chainrule.autograd import hooks as _hooks
from chainrule.autograd.grad_mode import State
from chainrule.backend import xp_of
from chainrule.tensor import Tensor


def _owner(array):
    """The array that owns the memory of ``array`` (NumPy collapses view chains to it)."""
    base = array.base
    return array if base is None else base


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list | None:
    """Backpropagate ``grad_outputs`` from ``outputs``.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of every leaf
    (``Tensor.backward``); otherwise they are returned, one per input, and no
    ``.grad`` is touched (``autograd.grad``).
    """
    # Without create_graph nothing is recorded, so gradients travel as bare arrays (the fast
    # path); with it they are Tensors, and every backward op joins the graph.
    raw = not create_graph
    grads: dict = {}  # node -> list of gradients, one per output of the node
    captured: dict = {}  # id(input tensor) -> gradient, for autograd.grad
    wanted = None if inputs is None else {id(t): t for t in inputs}
    owned: set = set()  # memory already handed to a leaf's .grad in this pass
    hooked: dict = {}  # id(leaf with hooks) -> (leaf, its summed gradient), delivered at the end
    roots = [o.grad_fn for o in outputs if o.grad_fn is not None]
    # leaves with post-accumulate-grad hooks: id -> [leaf, edges still to come, got a gradient]
    post = _hooks.post_hook_counts(roots) if inputs is None else None

    for out, g in zip(outputs, grad_outputs):
        owned.add(id(_owner(g._data)))
        g = g._data if raw else g
        if out.grad_fn is None:
            _deliver_to_leaf(out, g, wanted, captured, owned, raw)
            if post is not None and _hooks.post_hooks(out) is not None:
                post.setdefault(id(out), [out, 0, False])[2] = True
        else:
            _add_grad(grads, out.grad_fn, out._output_nr, len(out.grad_fn._out_meta), g)

    heap = [(-n._seq, n) for n in set(roots)]
    heapq.heapify(heap)
    queued = {n for _, n in heap}
    pop, push = heapq.heappop, heapq.heappush
    leaf_tables = _hooks.leaf_hook_tables  # empty unless some leaf ever had a hook: skip the lookup
    released: list = []
    prev_mode = State.grad_enabled
    State.grad_enabled = create_graph
    anomaly = State.anomaly
    try:
        while heap:
            node = pop(heap)[1]
            slot = grads.pop(node, None)
            if slot is None:
                continue
            node_hooks = node.__dict__.get("_hooks")
            if node_hooks:  # Tensor.register_hook on an output of this node
                for nr, fns in node_hooks.items():
                    if slot[nr] is not None and fns:
                        slot[nr] = _hooks.apply(fns, slot[nr], raw)
            if wanted is not None or node._retained is not None:
                _capture_nonleaf(node, slot, wanted, captured, raw)
            if node._released == "kept":
                raise RuntimeError(
                    f"{node.name()}: trying to backward through the graph a second time, but the values "
                    "it saved were freed by the first backward; call .backward(retain_graph=True) "
                    "(or autograd.grad(..., retain_graph=True)) the first time"
                )
            for i, g in enumerate(slot):
                if g is None:  # an output nobody used: its gradient is zero
                    slot[i] = _zeros_like_meta(node, i, slot, raw)
            if raw and node.array_backward:
                in_grads = _call_array_backward(node, slot)
            else:
                in_grads = _call_backward(node, slot, raw)
                if raw:
                    # a Tensor backward (a custom Function) may hand back memory the user owns, e.g. a
                    # saved tensor: mark it taken, so a leaf's .grad gets a copy and never aliases it
                    owned.update(id(_owner(g)) for g in in_grads if g is not None)
            inputs_ = node.inputs
            if len(in_grads) < len(inputs_):
                raise RuntimeError(
                    f"{node.name()}.backward returned {len(in_grads)} gradients but the op had "
                    f"{len(inputs_)} inputs"
                )
            if anomaly:
                _anomaly_backward(node, in_grads)
            for inp, g in zip(inputs_, in_grads):
                if g is None or inp is None or not inp.requires_grad:
                    if post is not None and inp is not None and id(inp) in post:
                        _edge_done(post, inp, None, hooked)
                    continue
                if g.shape != inp.shape:
                    raise RuntimeError(
                        f"{node.name()}.backward returned a gradient of shape {tuple(g.shape)} for an "
                        f"input of shape {tuple(inp.shape)}"
                    )
                if g.dtype != inp.dtype:  # a gradient has the dtype of its input, as PyTorch
                    g = g.astype(inp.dtype) if raw else g.to(inp.dtype)
                fn = inp.grad_fn
                if fn is None:
                    if leaf_tables and _hooks.leaf_hooks(inp) is not None:
                        # hooked leaves get their summed gradient once, at the end
                        prev = hooked.get(id(inp))
                        hooked[id(inp)] = (inp, g if prev is None else prev[1] + g)
                    else:
                        _deliver_to_leaf(inp, g, wanted, captured, owned, raw)
                    if post is not None and id(inp) in post:
                        _edge_done(post, inp, g, hooked)
                    continue
                pending = grads.get(fn)
                if pending is None:
                    if fn not in queued:
                        queued.add(fn)
                        push(heap, (-fn._seq, fn))
                    pending = grads[fn] = [None] * len(fn._out_meta)
                nr = inp._output_nr
                pending[nr] = g if pending[nr] is None else pending[nr] + g
            if not retain_graph:
                node.release()
                released.append(node)
        for leaf, g in hooked.values():
            fns = _hooks.leaf_hooks(leaf)
            g = _hooks.apply(fns, g, raw) if fns else g
            _deliver_to_leaf(leaf, g, wanted, captured, owned, raw)
        if post:  # leaves whose hooks did not run mid-pass (an edge that never carried a gradient)
            for leaf, _left, got in list(post.values()):
                if got:
                    _hooks.run_post(leaf)
    finally:
        State.grad_enabled = prev_mode
        for node in released:
            node.release_inputs()

    if inputs is None:
        return None
    return [captured.get(id(t)) for t in inputs]


def _edge_done(post: dict, leaf: Tensor, g, hooked: dict) -> None:
    """One edge into a leaf with post-accumulate-grad hooks is done; at its last, run the hooks."""
    entry = post[id(leaf)]
    entry[1] -= 1
    if g is not None:
        entry[2] = True
    if entry[1] <= 0 and id(leaf) not in hooked:  # hooked leaves get their .grad at the end
        del post[id(leaf)]
        if entry[2]:
            _hooks.run_post(leaf)


def _call_array_backward(node, slot: list) -> tuple:
    """Run the ``backward`` of an ``array_backward`` op on arrays (the fast path); returns arrays.

    Ops marked ``array_backward`` write backward with operators that NumPy arrays and Tensors
    share, so on the fast path they get arrays (and ``ctx.saved_tensors`` / ``ctx.outputs`` give
    arrays).
    """
    node._raw = True
    try:
        out = node.backward(node, *slot)
    finally:
        node._raw = False
    if type(out) is not tuple:
        out = (out,)
    for g in out:
        if isinstance(g, Tensor):  # a backward may still hand back a Tensor
            return tuple(g._data if isinstance(g, Tensor) else g for g in out)
    return out


def _call_backward(node, slot: list, raw: bool) -> tuple:
    """Run a Tensor ``backward`` (or any backward with ``create_graph``); arrays back when ``raw``."""
    if raw:
        out = node.backward(node, *[Tensor._make(g) for g in slot])
    else:
        out = node.backward(node, *slot)
    if type(out) is not tuple:
        out = (out,)
    if raw:
        return tuple(g._data if isinstance(g, Tensor) else g for g in out)
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor._make(g) for g in out)


def _zeros_like_meta(node, i: int, slot: list, raw: bool):
    shape, dtype = node._out_meta[i]
    ref = next(g for g in slot if g is not None)  # some output got a gradient, or the node would not run
    z = xp_of(ref._data if isinstance(ref, Tensor) else ref).zeros(shape, dtype)
    return z if raw else Tensor._make(z)


def _add_grad(grads: dict, node, index: int, n_outputs: int, g) -> None:
    slot = grads.get(node)
    if slot is None:
        slot = grads[node] = [None] * n_outputs
    slot[index] = g if slot[index] is None else slot[index] + g


def _capture_nonleaf(node, slot, wanted, captured, raw: bool) -> None:
    retained = node._retained
    if retained:
        for nr, t in retained.items():
            g = slot[nr]
            if g is not None:
                g = Tensor._make(g.copy()) if raw else g
                t.grad = g if t.grad is None else t.grad + g
    if wanted:
        for t in wanted.values():
            if t.grad_fn is node and slot[t._output_nr] is not None:
                g = slot[t._output_nr]
                captured[id(t)] = Tensor._make(g) if raw else g


def _deliver_to_leaf(leaf: Tensor, g, wanted, captured, owned: set, raw: bool) -> None:
    """Hand the gradient ``g`` (an array when ``raw``, else a Tensor) to a leaf."""
    if wanted is not None:
        if id(leaf) in wanted:
            prev = captured.get(id(leaf))
            g = Tensor._make(g) if raw else g
            captured[id(leaf)] = g if prev is None else prev + g
        return
    if raw:
        if leaf.grad is None:
            owner = id(_owner(g))
            if owner in owned or not _writable(g):
                # the same memory already went elsewhere (e.g. both inputs of an add), or it is a
                # broadcast view: copy, so an in-place change of one .grad never shows in another
                g = g.copy()
            else:
                owned.add(owner)  # borrowed: gradients still pending in this pass may read it
            leaf.grad = Tensor._make(g)
        elif leaf.grad.requires_grad:
            leaf.grad = leaf.grad + Tensor._make(g)
        elif id(_owner(leaf.grad._data)) in owned:
            # .grad still borrows memory that pending gradients read (x + f(x): the add hands the
            # same array to x and to f's node): accumulating in place would corrupt them
            leaf.grad._data = leaf.grad._data + g
        else:
            leaf.grad._data += g
    else:
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def _writable(array) -> bool:
    """Whether ``array`` may be accumulated into in place (not a read-only or broadcast view)."""
    writeable = getattr(array.flags, "writeable", None)  # CuPy arrays have no such flag
    if writeable is None:
        return not (array.size > 1 and 0 in array.strides)
    return writeable


def _anomaly_backward(node, in_grads) -> None:
    for i, g in enumerate(in_grads):
        if g is None:
            continue
        data = g._data if isinstance(g, Tensor) else g
        if data.dtype.kind in "fc" and not bool(xp_of(data).isfinite(data).all()):
            where = getattr(node, "_created_at", "(unknown: the op ran before detect_anomaly was entered)")
            raise RuntimeError(
                f"detect_anomaly: backward of {node.name()} produced NaN or inf in the gradient of input "
                f"{i} (shape {tuple(data.shape)}); the op was created at:\n{where}"
            )
