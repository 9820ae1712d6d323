"""The tracer behind ``cr.onnx.export``: the hooks it switches on while the model runs, and ``export``.

The design is in ``chainrule/onnx/__init__.py``.

Imported only by ``export``: it imports the ``onnx`` package.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
from onnx import helper

from chainrule.autograd.function import Function
from chainrule.nn.module import Module
from chainrule.onnx import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, UnsupportedOperatorError
from chainrule.onnx._graph import SymInt, Tracer, has_sym, onnx_dtype, out_names, sym_pieces
from chainrule.onnx._translate import (
    FUNCTIONS,
    MODULE_OK,
    MODULES,
    adaptive_avg_pool2d_fn,
    adaptive_avg_pool3d_fn,
    adaptive_max_pool_fn,
    arg_fn,
    batch_norm_fn,
    causal_mask_fn,
    compare_fn,
    embedding_bag_fn,
    finite_fn,
    gather_fn,
    logical_not_fn,
    masked_fn,
    max_unpool_fn,
    module_translation,
    reshape_value,
    sdpa_fn,
    sign_fn,
    topk_fn,
    zeros_state_fn,
)
from chainrule.tensor import Tensor

_ACTIVE: Tracer | None = None


# ============================================================================== the tracer's hooks
def _any_traced(tr: Tracer, values) -> bool:
    for v in values:
        if isinstance(v, SymInt):
            return True
        if isinstance(v, slice):
            v = (v.start, v.stop, v.step)
        if isinstance(v, Tensor):
            if id(v) in tr.names:
                return True
            tr.check_flagged(v, "an op")
        elif isinstance(v, (tuple, list)):
            if _any_traced(tr, v):
                return True
    return False


def _run_inside(tr: Tracer, fn, *args, **kwargs):
    tr.depth += 1
    try:
        return fn(*args, **kwargs)
    finally:
        tr.depth -= 1


def _install(tr: Tracer) -> list:
    """Switch the hooks on; returns what ``_uninstall`` needs to restore."""
    global _ACTIVE
    import chainrule
    import chainrule.nn.functional as F
    from chainrule.nn import embedding as emb_modules
    from chainrule.nn import normalization as norm_modules
    from chainrule.nn import rnn as rnn_modules
    from chainrule.nn.transformer import Transformer
    from chainrule.nn.utils import rnn as rnn_utils
    from chainrule.ops import attention as att_ops
    from chainrule.ops import elementwise as ew
    from chainrule.ops import embedding as emb_ops
    from chainrule.ops import indexing as ix_ops
    from chainrule.ops import mathx as mx_ops
    from chainrule.ops import normalization as norm_ops
    from chainrule.ops import pooling as pool_ops
    from chainrule.ops import reduce as reduce_ops
    from chainrule.ops import sampling as sampling_ops
    from chainrule.ops import sorting as sort_ops

    saved: list = []

    def patch(owner, name, new):
        saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, new)

    orig_apply = Function.__dict__["apply"].__func__

    def apply(cls, *args, **kwargs):
        if tr.depth:
            return orig_apply(cls, *args, **kwargs)
        traced = _any_traced(tr, args) or _any_traced(tr, kwargs.values())
        out = _run_inside(tr, orig_apply, cls, *args, **kwargs)
        if not traced:
            return out  # only constants in: a constant out
        # only chainrule's own op classes: a user's Function (or subclass) is not what its name says
        emit = FUNCTIONS.get(cls.__name__) if cls.__module__.startswith("chainrule.ops.") else None
        if emit is None:
            raise UnsupportedOperatorError(
                f"onnx.export: the op {cls.name()} (chainrule.{cls.__module__.split('chainrule.')[-1]}) "
                "has no ONNX translation"
            )
        tr.op = cls.__name__
        out_names(tr, _run_inside(tr, emit, tr, args, kwargs, out), out)
        return out

    patch(Function, "apply", classmethod(apply))

    orig_call = Module.__dict__["__call__"]

    def call(self, *args, **kwargs):
        if tr.depth:
            return orig_call(self, *args, **kwargs)
        if any(isinstance(a, rnn_utils.PackedSequence) for a in args) and _any_traced(tr, args):
            raise UnsupportedOperatorError(
                f"onnx.export: {type(self).__name__} on a PackedSequence: a packed sequence (its batch sizes "
                "are data, which the graph would hold as constants) has no ONNX translation; pass the padded "
                "batch"
            )
        kind = module_translation(self)
        if kind is None or not (_any_traced(tr, args) or _any_traced(tr, kwargs.values())):
            return orig_call(self, *args, **kwargs)
        ok = MODULE_OK.get(kind)
        if ok is not None and not ok(self, args, kwargs):
            return orig_call(self, *args, **kwargs)
        out = _run_inside(tr, orig_call, self, *args, **kwargs)
        out_names(tr, _run_inside(tr, MODULES[kind], tr, self, args, kwargs, out), out)
        return out

    patch(Module, "__call__", call)

    orig_make = Tensor.__dict__["_make"].__func__

    def make(cls, data, *args, **kwargs):
        t = orig_make(cls, data, *args, **kwargs)
        if not tr.depth:
            _note_new(tr, t, data, sys._getframe(1))
        return t

    patch(Tensor, "_make", classmethod(make))

    orig_init = Tensor.__dict__["__init__"]

    def init(self, data, *args, **kwargs):
        orig_init(self, data, *args, **kwargs)
        if not tr.depth:
            _note_new(tr, self, data, sys._getframe(1))

    patch(Tensor, "__init__", init)

    for attr in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__"):
        patch(Tensor, attr, _guard(tr, attr, Tensor.__dict__[attr]))
    patch(Tensor, "_check_inplace", _guard_write(tr, "", Tensor.__dict__["_check_inplace"]))
    data = Tensor.__dict__["data"]
    patch(Tensor, "data", property(data.fget, _guard_write(tr, "data", data.fset)))

    def function_hook(fn, emit):
        def hooked(*args, **kwargs):
            if tr.depth or not (_any_traced(tr, args) or _any_traced(tr, kwargs.values())):
                return fn(*args, **kwargs)
            out = _run_inside(tr, fn, *args, **kwargs)
            if out is NotImplemented:
                return out
            out_names(tr, _run_inside(tr, emit, tr, args, kwargs, out), out)
            return out

        return hooked

    def refuse(fn, what: str):
        def hooked(*args, **kwargs):
            if not tr.depth and (_any_traced(tr, args) or _any_traced(tr, kwargs.values())):
                raise UnsupportedOperatorError(f"onnx.export: {what} has no ONNX translation")
            return fn(*args, **kwargs)

        return hooked

    packed = "a packed sequence (its batch sizes are data, which the graph would hold as constants)"
    for name in ("pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "unpack_sequence"):
        patch(rnn_utils, name, refuse(getattr(rnn_utils, name), f"{name}: {packed}"))
    for name in ("grid_sample", "affine_grid"):
        hook = refuse(getattr(sampling_ops, name), name)
        patch(sampling_ops, name, hook)
        patch(F, name, hook)
    sdpa = function_hook(att_ops.scaled_dot_product_attention, sdpa_fn)
    patch(att_ops, "scaled_dot_product_attention", sdpa)
    patch(F, "scaled_dot_product_attention", sdpa)
    patch(ew, "compare", function_hook(ew.compare, compare_fn))
    aap = function_hook(pool_ops.adaptive_avg_pool2d, adaptive_avg_pool2d_fn)
    patch(pool_ops, "adaptive_avg_pool2d", aap)
    patch(F, "adaptive_avg_pool2d", aap)
    aap3 = function_hook(pool_ops.adaptive_avg_pool3d, adaptive_avg_pool3d_fn)
    patch(pool_ops, "adaptive_avg_pool3d", aap3)
    patch(F, "adaptive_avg_pool3d", aap3)
    patch(pool_ops, "_adaptive_max_pool", function_hook(pool_ops._adaptive_max_pool, adaptive_max_pool_fn))
    patch(pool_ops, "max_unpool_nd", function_hook(pool_ops.max_unpool_nd, max_unpool_fn))
    patch(rnn_modules, "_zeros", function_hook(rnn_modules._zeros, zeros_state_fn))
    bag = function_hook(emb_ops.embedding_bag, embedding_bag_fn)
    for owner in (emb_ops, F, emb_modules):
        patch(owner, "embedding_bag", bag)
    bn = norm_ops.batch_norm

    def batch_norm(*args, **kwargs):
        training = args[5] if len(args) > 5 else kwargs.get("training", False)
        return (bn if training else bn_hook)(*args, **kwargs)

    bn_hook = function_hook(bn, batch_norm_fn)
    for owner in (norm_ops, F, norm_modules):
        patch(owner, "batch_norm", batch_norm)
    patch(ew, "logical_not", function_hook(ew.logical_not, logical_not_fn))
    patch(ix_ops, "_masked", function_hook(ix_ops._masked, masked_fn))
    mask_fn = Transformer.__dict__["generate_square_subsequent_mask"].__func__
    patch(
        Transformer, "generate_square_subsequent_mask", staticmethod(function_hook(mask_fn, causal_mask_fn))
    )
    patch(reduce_ops, "_arg", function_hook(reduce_ops._arg, arg_fn))
    for owner in (ix_ops, chainrule):
        patch(owner, "gather", function_hook(ix_ops.gather, gather_fn))
    for owner in (sort_ops, chainrule):
        patch(owner, "topk", function_hook(sort_ops.topk, topk_fn))
    for kind in ("isnan", "isinf", "isfinite"):
        hook = function_hook(getattr(mx_ops, kind), finite_fn(kind))
        patch(mx_ops, kind, hook)
        patch(chainrule, kind, hook)
        if kind in Tensor.__dict__:
            patch(Tensor, kind, hook)
    sign = function_hook(ew.sign, sign_fn)
    patch(ew, "sign", sign)
    patch(chainrule, "sign", sign)
    _install_sizes(tr, patch)
    _ACTIVE = tr
    return saved


def _install_sizes(tr: Tracer, patch) -> None:
    """Hook the functions that take or give sizes, so sizes read at run time carry through.

    ``zeros_like``/``ones_like``/``full_like`` of a traced tensor take its run-time shape; in a
    dynamic export, ``.shape`` of a traced tensor gives ``SymInt`` sizes, and the functions that
    take sizes (reshape, view, expand, zeros, ones, full, arange) turn them into run-time shapes.
    """
    import chainrule
    from chainrule.ops import creation
    from chainrule.ops import shape as shape_ops

    def shape(self):
        s = self._data.shape
        name = None if tr.depth else tr.names.get(id(self))
        if name is None:
            return s
        return tuple(SymInt(v, tr, lambda k=k: tr.dim(name, k)) for k, v in enumerate(s))

    def size(self, dim=None):
        s = self.shape
        return s if dim is None else s[shape_ops.norm_dim(dim, len(s), "size")]

    if tr.dynamic:
        patch(Tensor, "shape", property(shape))
        patch(Tensor, "size", size)

    def sized(fn, emit, sizes_of):
        def hooked(*args, **kwargs):
            if tr.depth:
                return fn(*args, **kwargs)
            sizes = sizes_of(args, kwargs)
            if not has_sym(sizes) and not _any_traced(tr, args):
                return fn(*args, **kwargs)
            out = _run_inside(tr, fn, *args, **kwargs)
            if not (args and out is args[0]):
                out_names(tr, _run_inside(tr, emit, tr, args, kwargs, out, sizes), out)
            return out

        return hooked

    def reshape_emit(tr, args, kwargs, out, sizes):
        x = args[0]
        if not has_sym(sizes):
            minus = [k for k, v in enumerate(sizes) if v == -1]
            return reshape_value(tr, tr.value(x), x._data.shape, out._data.shape, minus[0] if minus else None)
        return tr.node("Reshape", [tr.value(x), tr.concat_shape(sym_pieces(sizes))])

    def expand_emit(tr, args, kwargs, out, sizes):
        x = args[0]
        extra = len(sizes) - x.ndim
        pieces = []
        for k, v in enumerate(sizes):
            own = x._data.shape[k - extra] if k >= extra else None
            keep = v == -1 or (own is not None and own == v and not isinstance(v, SymInt))
            pieces.append(1 if keep else v.onnx() if isinstance(v, SymInt) else int(v))
        return tr.node("Expand", [tr.value(x), tr.concat_shape(pieces)])

    def filled(value_of):
        def emit(tr, args, kwargs, out, sizes):
            value = helper.make_tensor(
                "value", onnx_dtype(out.dtype), [1], [np.asarray(value_of(args, kwargs)).item()]
            )
            return tr.node("ConstantOfShape", [tr.concat_shape(sym_pieces(sizes))], value=value)

        return emit

    def like(value_of):
        def emit(tr, args, kwargs, out, sizes):
            value = helper.make_tensor(
                "value", onnx_dtype(out.dtype), [1], [np.asarray(value_of(args, kwargs)).item()]
            )
            return tr.node("ConstantOfShape", [tr.node("Shape", [tr.value(args[0])])], value=value)

        return emit

    def size_args(args, kwargs):
        return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)

    def arange_emit(tr, args, kwargs, out, sizes):
        start, end, step = (0, args[0], 1) if len(args) == 1 else (tuple(args) + (1,))[:3]
        dt = out.dtype
        return tr.node("Range", [tr.operand(v, dt) for v in (start, end, step)])

    shape_of = {
        "reshape": lambda a, k: tuple(a[1]) if len(a) > 1 and isinstance(a[1], (tuple, list)) else (),
        "expand": lambda a, k: tuple(a[1]) if len(a) > 1 and isinstance(a[1], (tuple, list)) else (),
    }
    reshape_hook = sized(shape_ops.reshape, reshape_emit, shape_of["reshape"])
    expand_hook = sized(shape_ops.expand, expand_emit, shape_of["expand"])
    for owner in (shape_ops, chainrule):
        patch(owner, "reshape", reshape_hook)
        patch(owner, "expand", expand_hook)
    hooks = {
        "zeros": sized(creation.zeros, filled(lambda a, k: 0), size_args),
        "ones": sized(creation.ones, filled(lambda a, k: 1), size_args),
        "full": sized(
            creation.full,
            filled(lambda a, k: a[1] if len(a) > 1 else k["fill_value"]),
            lambda a, k: tuple(a[0]),
        ),
        "arange": sized(creation.arange, arange_emit, lambda a, k: tuple(a)),
        "zeros_like": sized(creation.zeros_like, like(lambda a, k: 0), lambda a, k: ()),
        "ones_like": sized(creation.ones_like, like(lambda a, k: 1), lambda a, k: ()),
        "full_like": sized(
            creation.full_like, like(lambda a, k: a[1] if len(a) > 1 else k["fill_value"]), lambda a, k: ()
        ),
    }
    for name, hook in hooks.items():
        for owner in (creation, chainrule):
            patch(owner, name, hook)


def _uninstall(saved: list) -> None:
    global _ACTIVE
    for owner, name, value in reversed(saved):
        setattr(owner, name, value)
    _ACTIVE = None


def _note_new(tr: Tracer, t: Tensor, data, frame) -> None:
    """Classify a tensor made outside the recorded ops.

    It is an alias of a traced one (``detach``), a constant, or (when the code that made it had a
    traced tensor or a run-time size at hand) something the graph
    cannot reproduce.
    """
    if isinstance(data, Tensor):
        data = data._data
    name = tr.arrays.get(id(data))
    if name is not None:
        tr.register(t, name)
        return
    first = True
    while frame is not None and (first or _in_op_layer(frame.f_code.co_filename)):
        # the function that made it, and the chainrule op functions it was called from
        for v in frame.f_locals.values():
            if _depends_on_input(tr, v):
                code = frame.f_code
                tr.flagged[id(t)] = f"{code.co_name}, {os.path.basename(code.co_filename)}:{frame.f_lineno}"
                tr.keep.append(t)
                return
        frame, first = frame.f_back, False


def _depends_on_input(tr: Tracer, v) -> bool:
    if isinstance(v, SymInt) or (isinstance(v, (tuple, list)) and any(isinstance(s, SymInt) for s in v)):
        return True
    return (isinstance(v, Tensor) and id(v) in tr.names) or (hasattr(v, "shape") and id(v) in tr.arrays)


_OP_LAYER = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), p) for p in ("ops", "tensor.py")
)


def _in_op_layer(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_OP_LAYER)


def _guard(tr: Tracer, attr: str, orig):
    def guarded(self, *args, **kwargs):
        if not tr.depth and (id(self) in tr.names or id(self) in tr.flagged):
            raise RuntimeError(
                f"onnx.export: the model reads the value of a traced tensor (Tensor.{attr}, shape "
                f"{tuple(self.shape)}) in Python; the graph would hold the example's value. Use tensor ops "
                "instead of Python control flow on tensor values."
            )
        return orig(self, *args, **kwargs)

    return guarded


def _guard_write(tr: Tracer, attr: str, orig):
    def guarded(self, *args, **kwargs):
        if not tr.depth and (id(self) in tr.names or id(self) in tr.flagged):
            raise RuntimeError(
                f"onnx.export: the model changes a traced tensor (shape {tuple(self.shape)}) in place "
                f"({attr or args[0]}); the graph records values, not memory: use the "
                "out-of-place op (x = x + 1 rather than x += 1, x.add(y) rather than x.add_(y))"
            )
        return orig(self, *args, **kwargs)

    return guarded


# ============================================================================== export
def _flatten(out, acc: list) -> list:
    if isinstance(out, Tensor):
        acc.append(out)
    elif isinstance(out, (tuple, list)):
        for o in out:
            _flatten(o, acc)
    elif isinstance(out, dict):
        for o in out.values():
            _flatten(o, acc)
    elif out is not None and not isinstance(out, (bool, int, float, str)):
        raise TypeError(
            f"onnx.export: the model returned a {type(out).__name__}; expected Tensors (or tuples of them)"
        )
    return acc


def _flatten_inputs(values, acc: list) -> list:
    for v in values:
        if isinstance(v, Tensor):
            acc.append(v)
        elif isinstance(v, (tuple, list)):
            _flatten_inputs(v, acc)
    return acc


def _axes_of(spec, name: str, ndim: int) -> dict:
    if isinstance(spec, dict):
        items = spec.items()
    elif isinstance(spec, (list, tuple)):
        items = [(a, f"{name}_dim{a}") for a in spec]
    else:
        raise ValueError(
            f"onnx.export: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of axes, "
            f"got {spec!r}"
        )
    axes = {}
    for a, label in items:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(
                f"onnx.export: dynamic_axes[{name!r}] names axis {a!r}, but {name!r} has {ndim} dims"
            )
        axes[int(a) % ndim] = str(label)
    return axes


def _value_info(name: str, t: Tensor, dyn: dict | None, dynamic: bool, is_output: bool):
    dims: list = []
    for k, s in enumerate(t.shape):
        if dyn and k in dyn:
            dims.append(dyn[k])
        elif is_output and dynamic:
            dims.append(None)  # may depend on the dynamic input axes
        else:
            dims.append(int(s))
    return helper.make_tensor_value_info(name, onnx_dtype(t.dtype), dims)


def _param_names(model) -> dict:
    names: dict = {}
    if isinstance(model, Module):
        for n, p in model.named_parameters():
            names.setdefault(id(p), n)
        for n, b in model.named_buffers():
            if b is not None:
                names.setdefault(id(b), n)
    return names


def export(
    model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=None
) -> None:
    """The body of ``cr.onnx.export`` (documented there)."""
    if _ACTIVE is not None:
        raise RuntimeError("onnx.export: called from inside a model that is being exported")
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not MIN_OPSET <= opset <= MAX_OPSET
    ):
        raise ValueError(
            f"onnx.export: opset_version must be an int from {MIN_OPSET} to {MAX_OPSET}, "
            f"got {opset_version!r}"
        )
    if not callable(model):
        raise TypeError(f"onnx.export: model must be a Module or a callable, got {type(model).__name__}")
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(
            f"onnx.export: args must be a Tensor or a tuple of arguments, got {type(args).__name__}"
        )
    kwargs: dict = {}
    if args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], dict(args[-1])
    inputs = _flatten_inputs(list(args) + list(kwargs.values()), [])
    if not inputs:
        raise ValueError("onnx.export: args holds no Tensor to use as the graph's input")
    in_names = (
        list(input_names)
        if input_names is not None
        else (["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))])
    )
    if len(in_names) != len(inputs) or len(set(in_names)) != len(in_names):
        raise ValueError(
            f"onnx.export: input_names {in_names} must be {len(inputs)} distinct names, "
            "one per Tensor in args"
        )
    dynamic_axes = dict(dynamic_axes or {})
    dynamic = bool(dynamic_axes)

    tr = Tracer(int(opset), dynamic, _param_names(model))
    tr.reserved = set(in_names) | set(output_names or ())
    for t, n in zip(inputs, in_names):
        if id(t) in tr.names:
            raise ValueError("onnx.export: the same Tensor appears twice in args; pass distinct tensors")
        tr.register(t, n)

    was_training = [(m, m.training) for m in model.modules()] if isinstance(model, Module) else []
    if isinstance(model, Module):
        model.eval()
    from chainrule.autograd.grad_mode import no_grad

    saved = _install(tr)
    try:
        with no_grad():
            out = model(*args, **kwargs)
    finally:
        _uninstall(saved)
        for m, mode in was_training:
            m.training = mode

    outs = _flatten(out, [])
    if not outs:
        raise ValueError("onnx.export: the model returned no Tensor")
    out_names = (
        list(output_names)
        if output_names is not None
        else (["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))])
    )
    if len(out_names) != len(outs) or len(set(out_names)) != len(out_names):
        raise ValueError(
            f"onnx.export: output_names {out_names} must be {len(outs)} distinct names, one per output"
        )
    clash = set(out_names) & set(in_names)
    if clash:
        raise ValueError(f"onnx.export: names {sorted(clash)} are used for both an input and an output")
    unknown = set(dynamic_axes) - set(in_names) - set(out_names)
    if unknown:
        raise ValueError(
            f"onnx.export: dynamic_axes names {sorted(unknown)}, which are not inputs {in_names} "
            f"or outputs {out_names}"
        )
    for t, n in zip(outs, out_names):
        src = tr.names.get(id(t))
        if src is None:
            tr.check_flagged(t, f"output {n!r}")
            src = tr.value(t)  # a constant output
        tr.nodes.append(helper.make_node("Identity", [src], [n], name=tr.fresh("nOutput")))

    graph_inputs = [
        _value_info(n, t, _axes_of(dynamic_axes[n], n, t.ndim) if n in dynamic_axes else None, dynamic, False)
        for t, n in zip(inputs, in_names)
    ]
    graph_outputs = [
        _value_info(n, t, _axes_of(dynamic_axes[n], n, t.ndim) if n in dynamic_axes else None, dynamic, True)
        for t, n in zip(outs, out_names)
    ]
    name = type(model).__name__
    graph = helper.make_graph(tr.nodes, name, graph_inputs, graph_outputs, initializer=tr.inits)
    opset_id = helper.make_opsetid("", int(opset))
    proto = helper.make_model(
        graph,
        opset_imports=[opset_id],
        producer_name="chainrule",
        ir_version=helper.find_min_ir_version_for([opset_id]),
    )
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"onnx.export: f must be a file path or a binary file object, got {type(f).__name__}")
