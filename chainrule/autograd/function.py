"""``Function``: one differentiable operation, and the graph node it leaves behind.

Every op in chainrule is a subclass with two static methods side by side::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):            # x: Tensor; return an array (or Tensor)
            y = xp_of(x._data).exp(x._data)
            ctx.save_output()           # backward needs y itself
            return y

        @staticmethod
        def backward(ctx, grad):        # grad: Tensor, dL/dy
            (y,) = ctx.outputs
            return grad * y             # dL/dx = dL/dy * e^x

``Exp.apply(x)`` runs ``forward`` with graph recording off, wraps the result
in a Tensor and, when an input requires grad, stores the ``ctx`` object as the
result's ``grad_fn``: that object *is* the node of the computational graph.
``backward`` is written with Tensor ops, so the same code gives first
derivatives (run without recording) and, with ``create_graph=True``,
differentiable gradients for second derivatives.

Custom ops are written the same way, PyTorch style (``forward`` may use
Tensor ops and return a Tensor; ``ctx.save_for_backward`` / ``ctx.saved_tensors``).
"""

from __future__ import annotations

import itertools
import traceback
import weakref
from typing import Any

from chainrule.autograd.grad_mode import State
from chainrule.backend import np
from chainrule.tensor import Tensor


class Function:
    """Base class of differentiable operations; an instance is a graph node (``grad_fn``).

    Attributes set by ``apply`` on the node:
        inputs: the positional arguments that were Tensors (``None`` for the others),
        needs_input_grad: one bool per positional argument.
    """

    # Node instances carry per-call attributes (ctx.shape = ...), so no __slots__ here.
    # Class-level defaults keep attribute lookups on the hot path cheap.
    _saved: tuple | None = ()
    _saved_versions: tuple | list = ()
    # set by apply on every node
    inputs: tuple[Any, ...]  # Tensor or None per argument (an _Edge once released)
    needs_input_grad: tuple[bool, ...]
    _out_meta: tuple
    _wants_output = False
    _output_refs: tuple | None = None
    _retained: dict | None = None
    _released = ""  # after release(): "kept" (it had saved values: no second backward) or "empty"
    # True when backward only uses what NumPy arrays and Tensors share (operators, .T,
    # .reshape, .sum(axes)): then the engine runs it on bare arrays unless create_graph=True.
    array_backward = False
    _raw = False
    recorded = True  # this forward is part of a graph (False for the throw-away ctx of _Unrecorded)
    _seq = 0  # creation order: the engine runs newer nodes first (a reverse topological order)

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> Any:
        """Compute the outputs from the inputs, with recording off; override it in a subclass.

        ``ctx`` is the graph node: store what backward needs with ``ctx.save_for_backward(...)`` or
        as attributes.

        Args:
            ctx: the node of this call.
            *args: the inputs, as given to ``apply`` (Tensors stay Tensors; ``x._data`` is the array).
            **kwargs: keyword inputs.

        Returns:
            The outputs: an array or a Tensor, or a tuple of them (``apply`` wraps them as Tensors).
        """
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, *grads: Tensor) -> Any:
        """Compute the gradient of each input from the gradients of the outputs; override it in a subclass.

        Args:
            ctx: the node that ran the forward, holding what it saved.
            *grads: dL/d(output), one per output (Tensors, or arrays on the engine's fast path).

        Returns:
            dL/d(input) for each input of forward (None for an input that needs none).
        """
        raise NotImplementedError

    # -- saving what backward needs -------------------------------------------------
    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``backward``; an in-place change to one before then is an error."""
        self._saved = tensors
        versions = []
        for t in tensors:
            vc = t._vc if isinstance(t, Tensor) else None
            versions.append(0 if vc is None else vc[0])
        self._saved_versions = versions

    @property
    def saved_tensors(self) -> tuple:
        """What forward saved with ``save_for_backward``, in order (an error once the graph is freed)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time, but the saved "
                "tensors were already freed; call .backward(retain_graph=True) the first time"
            )
        for i, (t, v) in enumerate(zip(saved, self._saved_versions)):
            if t is not None and (0 if t._vc is None else t._vc[0]) != v:  # t._version, inlined
                raise RuntimeError(
                    f"{self.name()}: one of the tensors needed for backward (saved tensor {i}, shape "
                    f"{tuple(t.shape)}) was modified in place (version {v} -> {t._version}) after it was "
                    "used; clone it before modifying it"
                )
        if self._raw:
            return tuple([t if t is None else t._data for t in saved])
        return saved

    def save_output(self) -> None:
        """Ask ``apply`` to keep (weak references to) the outputs, read back as ``ctx.outputs``."""
        self._wants_output = True

    @property
    def outputs(self) -> tuple:
        """The outputs of the node's forward, while they are alive."""
        refs = self._output_refs
        if refs is None:
            raise RuntimeError(
                f"{self.name()}: the outputs were not saved (call ctx.save_output() in forward) "
                "or were already freed by an earlier backward without retain_graph=True"
            )
        outs = tuple(r() for r in refs)
        for t in outs:
            if t is None:
                raise RuntimeError(f"{self.name()}: an output needed for backward no longer exists")
            if t._version != 0:
                raise RuntimeError(
                    f"{self.name()}: its output (shape {tuple(t.shape)}) was modified in place after it "
                    "was computed, but backward needs it; clone it before modifying it"
                )
        if self._raw:
            return tuple(t._data for t in outs)
        return outs

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Accepted for PyTorch compatibility; integer outputs never require grad anyway."""

    def release(self) -> None:
        """Free the values this node kept for backward; the engine calls it unless ``retain_graph``.

        As PyTorch frees a graph's saved tensors after backward: the saved tensors, the outputs
        and every array or Tensor the forward stored on ``ctx``.  A later backward through a
        node that had kept something raises instead of reusing freed values.
        """
        d = self.__dict__
        kept = bool(self._saved) or self._output_refs is not None
        for name in d.keys() - _KEPT_NAMES:  # what the forward stored on ctx itself
            if _holds_values(d[name]):
                del d[name]
                kept = True
        self._saved = None
        self._output_refs = None
        self._released = "kept" if kept else "empty"

    def release_inputs(self) -> None:
        """Drop the node's saved inputs, keeping only what backward needs to route gradients.

        Keep only the graph's shape of the inputs (each one's ``grad_fn``, shape and dtype, and
        the leaves that collect ``.grad``), so ``losses.append(loss)`` keeps no activations alive.

        The engine calls it once the whole backward pass is over: until then an input may be the
        only reference to another node's output that that node's backward still reads.
        """
        inputs = self.__dict__.get("inputs")
        if inputs is not None:
            edges = []
            for t in inputs:  # leaves that collect .grad stay; other tensors become edges
                keep = t is None or type(t) is _Edge or (t.grad_fn is None and t.requires_grad)
                edges.append(t if keep else _Edge(t))
            self.inputs = tuple(edges)

    @classmethod
    def name(cls) -> str:
        """The op's name, as shown in ``grad_fn`` (the class name)."""
        return cls.__name__

    def __repr__(self) -> str:
        return f"<{self.name()}Backward>"

    # -- running the op ---------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run the op on ``args`` and record it in the graph when any input requires grad."""
        requires_grad = False
        if State.grad_enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    requires_grad = True
                    break
        if not requires_grad:
            out = _apply_unrecorded(cls, args, kwargs)
            if State.anomaly:
                _anomaly_forward(cls, _Unrecorded(), args, out if type(out) is tuple else (out,))
            return out
        ctx = cls.__new__(cls)
        ctx._seq = next(_SEQUENCE)
        inputs: list[Tensor | None] = []
        needs: list[bool] = []
        for a in args:
            if isinstance(a, Tensor):
                inputs.append(a)
                needs.append(a.requires_grad)
            else:
                inputs.append(None)
                needs.append(False)
        ctx.needs_input_grad = tuple(needs)  # as PyTorch, forward may already read it
        State.grad_enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            State.grad_enabled = True
        ctx.inputs = tuple(inputs)

        if type(out) is not tuple:  # one output: the common case
            data = out._data if isinstance(out, Tensor) else out
            rg = data.dtype.kind == "f"  # integer outputs (argmax) carry no grad
            t = Tensor._make(data, rg, ctx if rg else None, 0)
            ctx._out_meta = ((data.shape, data.dtype),)
            if ctx._wants_output:
                ctx._output_refs = (weakref.ref(t),)
            if State.anomaly:
                _anomaly_forward(cls, ctx, args, [t])
            return t
        wrapped = []
        for i, o in enumerate(out):
            data = o._data if isinstance(o, Tensor) else o
            rg = data.dtype.kind == "f"
            wrapped.append(Tensor._make(data, rg, ctx if rg else None, i))
        ctx._out_meta = tuple((t._data.shape, t._data.dtype) for t in wrapped)
        if ctx._wants_output:
            ctx._output_refs = tuple(weakref.ref(t) for t in wrapped)
        if State.anomaly:
            _anomaly_forward(cls, ctx, args, wrapped)
        return tuple(wrapped)


_SEQUENCE = itertools.count(1)

# release() resets _saved, _saved_versions and _output_refs itself: no need to look inside them
_KEPT_NAMES = frozenset(
    {"inputs", "needs_input_grad", "_out_meta", "_retained", "_seq", "_created_at"}
    | {"_saved", "_saved_versions", "_output_refs", "_raw"}
)
_PLAIN_TYPES = frozenset({int, float, bool, str, type(None), slice})


def _holds_values(value: Any) -> bool:
    """Whether an attribute a forward stored on ctx holds tensor values (freed after backward)."""
    t = type(value)
    if t is np.ndarray or t is Tensor:
        return True
    if t in _PLAIN_TYPES:
        return False
    if t is tuple or t is list:
        return any(_holds_values(v) for v in value)
    if isinstance(value, Tensor):
        return True
    # NumPy/CuPy arrays, not NumPy scalars (hyper-parameters) or dtypes
    return hasattr(value, "shape") and hasattr(value, "strides") and not isinstance(value, np.generic)


class _Edge:
    """The part of a released node's input that backward still needs.

    What a released node keeps of an input that is not a leaf collecting ``.grad``: the way
    back through the graph (``grad_fn``, ``_output_nr``) and the metadata backward checks.
    """

    __slots__ = ("grad_fn", "_output_nr", "requires_grad", "shape", "dtype", "ndim")

    def __init__(self, t: Tensor):
        self.grad_fn, self._output_nr, self.requires_grad = t.grad_fn, t._output_nr, t.requires_grad
        self.shape, self.dtype, self.ndim = t._data.shape, t._data.dtype, t._data.ndim


class _Unrecorded:
    """The ``ctx`` given to ``forward`` when nothing will be differentiated: saving is a no-op.

    This is the fast path of every op under ``no_grad`` (and of the backward pass itself,
    which runs its Tensor ops unrecorded unless ``create_graph=True``).
    """

    recorded = False
    needs_input_grad: tuple[bool, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        pass

    def save_output(self) -> None:
        pass

    def mark_non_differentiable(self, *tensors: Any) -> None:
        pass


_UNRECORDED = _Unrecorded()


def _apply_unrecorded(cls, args: tuple, kwargs: dict) -> Any:
    _UNRECORDED.needs_input_grad = (False,) * len(args)  # a custom forward may read it
    if State.grad_enabled:  # a custom forward may use Tensor ops: keep them out of the graph
        State.grad_enabled = False
        try:
            out = cls.forward(_UNRECORDED, *args, **kwargs)
        finally:
            State.grad_enabled = True
    else:
        out = cls.forward(_UNRECORDED, *args, **kwargs)
    make = Tensor._make
    if type(out) is tuple:
        return tuple(make(o._data if isinstance(o, Tensor) else o) for o in out)
    return make(out._data if isinstance(out, Tensor) else out)


def _anomaly_forward(cls, ctx, args, outs) -> None:
    from chainrule.backend import xp_of

    ctx._created_at = "".join(traceback.format_list(traceback.extract_stack()[:-3][-4:]))
    for t in outs:
        if t._data.dtype.kind in "fc" and not bool(xp_of(t._data).isfinite(t._data).all()):
            shapes = [tuple(a.shape) for a in args if isinstance(a, Tensor)]
            raise RuntimeError(
                f"detect_anomaly: forward of {cls.name()} (inputs of shapes {shapes}) produced NaN or inf "
                f"in an output of shape {tuple(t.shape)}; the op was called at:\n{ctx._created_at}"
            )
