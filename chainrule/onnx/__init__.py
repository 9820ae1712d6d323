"""``cr.onnx.export``: write a model as an ONNX graph that onnxruntime runs.

**How it works (tracing).**  ``export`` puts the model in evaluation mode and runs it once on the
example ``args`` with a tracer switched on.  The tracer listens at three places:

- ``Function.apply``: every differentiable op of chainrule (``Add``, ``MatMul``, ``Linear``,
  ``ConvNd``, ``Softmax``, ``Reshape``, ``LSTMSequence``, ...) is one ``Function``; when one runs on
  a tensor that descends from the inputs, its translation (``chainrule/onnx/_translate.py``) appends
  the equivalent ONNX nodes.  An op without a translation raises ``UnsupportedOperatorError`` naming
  it; an op whose inputs are all constants (parameters, buffers, tensors built in ``forward`` from
  numbers) is not recorded: its result becomes a constant of the graph (constant folding).
- ``Module.__call__``: a few layers are translated as a whole, where the op-by-op record would bake
  sizes of the example into the graph or where ONNX has a better operator: ``MultiheadAttention``
  (masks and runtime shapes), ``Conv1d/2d/3d`` and the max/average pooling layers (PyTorch's
  padding, so any input length works).  A subclass that overrides ``forward``, or a module with
  forward hooks, is traced op by op instead.
- a few functions whose chainrule code works on arrays directly: ``scaled_dot_product_attention``
  (the causal mask is built at run time), ``batch_norm`` in evaluation, ``adaptive_avg_pool2d``/
  ``3d``, adaptive max pooling (and its indices), max unpooling, ``embedding_bag``, the zero state
  of a projected LSTM, ``masked_fill``, ``gather``, ``topk``, ``argmax``/``argmin``, ``sign``,
  ``isnan``/``isinf``/``isfinite``, the comparisons, and (for sizes) ``reshape``, ``expand``,
  ``zeros``/``ones``/``full``/``arange`` and the ``*_like`` constructors.  Packed sequences,
  ``grid_sample`` and ``affine_grid`` are refused there (``UnsupportedOperatorError``).

Everything else a ``forward`` does (Python control flow, loops over layers, ``x.shape`` arithmetic)
runs in Python during the trace, so the graph holds the path the example input took.

The code: ``_graph.py`` holds the graph under construction (``Tracer``: value names, nodes,
constants, run-time sizes), ``_translate.py`` the translations, ``_export.py`` the hooks and
``export`` itself.

**Safety.**  A value that the graph could not reproduce raises instead of giving a silently wrong
graph: reading a traced tensor's value in Python (``.item()``, ``bool(t)``, ``.tolist()``,
``.numpy()``) raises, so does changing a traced tensor in place (``h += 1``), and so does any
tensor computed from a traced tensor outside the recorded ops when it is used later.

**Dynamic axes.**  With ``dynamic_axes`` the named input and output axes get symbolic sizes, and
the sizes the graph needs are read from the tensors at run time (``Shape``).  ``x.shape`` and
``x.size(d)`` of a traced tensor then give ints that carry the ONNX value computing them (``+ - *
//`` keep it), so ``x.view(B, T, h, -1)``, ``cls.expand(B, -1, -1)``, ``cr.zeros(B, d)``,
``cr.arange(T)`` and ``pe[:, :T]`` follow the input's sizes.  A reshape to plain numbers is matched
against its input dim by dim (merging and splitting groups of dims, a size-1 dim taken as
inserted), so ``flatten`` and ``unsqueeze`` carry dynamic axes too.  Limits: example sizes on
dynamic axes must be larger than 1; a size written as a plain number, or passed through ``int()``,
stays the example's; functional convolution and pooling (and ``ceil_mode`` pooling layers) take
their end padding from the example's spatial size.

Supported (the full list, and what is refused, is in docs/onnx.md): the arithmetic, reshaping,
indexing, reductions and concatenation of a user's ``forward``; every layer and activation of
``cr.nn`` (dense, convolution, ``Unfold``/``Fold``, pooling of every kind, padding, resampling,
normalization in evaluation, dropout as the identity, ``Embedding``/``EmbeddingBag``, distances);
``RNN``, ``LSTM`` and ``GRU`` (ONNX's recurrent operators with PyTorch's gates reordered; layers,
directions, ``batch_first`` and initial states; ``proj_size`` unrolled) and the cells;
``MultiheadAttention``, ``scaled_dot_product_attention``, ``TransformerEncoderLayer``/``DecoderLayer``
and the stacks built of them.

The ``onnx`` package (and ``onnxruntime`` to run the result) is an optional dependency:
``pip install 'chainrule[onnx]'``.  Importing chainrule never imports it.
"""

from __future__ import annotations

from typing import Any

DEFAULT_OPSET = 17
MIN_OPSET, MAX_OPSET = 13, 21

__all__ = ["export", "UnsupportedOperatorError", "DEFAULT_OPSET", "MIN_OPSET", "MAX_OPSET"]


class UnsupportedOperatorError(RuntimeError):
    """An op or module of the model has no ONNX translation (its name is in the message)."""


def export(
    model: Any,
    args: Any,
    f: Any,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_axes: dict[str, Any] | None = None,
    opset_version: int | None = None,
) -> None:
    """Write ``model`` as an ONNX model that onnxruntime runs with the same outputs.

    The model runs once on ``args`` (in evaluation mode; its mode is restored afterwards) and the
    ops it runs are recorded as ONNX nodes (see the module docstring for how, and what is
    supported).  Parameters and buffers become the graph's initializers.

    Args:
        model: a ``cr.nn.Module`` (or any callable of Tensors).
        args: the example input: a Tensor, or a tuple of positional arguments (Tensors, or other
            values such as ``None`` that are passed as they are); a dict as the tuple's last item
            gives keyword arguments.
        f: a file path (str or ``os.PathLike``) or a binary file object to write to.
        input_names: names of the graph inputs, one per Tensor in ``args`` (default ``input``, or
            ``input_0``, ``input_1``, ... when there are several).
        output_names: names of the graph outputs, one per Tensor the model returns (nested tuples
            are flattened in order; default ``output`` or ``output_0``, ...).
        dynamic_axes: for input or output names, the axes whose size may change: a dict
            ``{axis: "name"}`` or a list of axes, e.g. ``{"input": {0: "batch", 1: "seq"}}``.
        opset_version: the ONNX opset, from 13 to 21 (default 17).

    Raises:
        ImportError: the ``onnx`` package is not installed.
        UnsupportedOperatorError: an op or module has no ONNX translation (named in the message).
        ValueError: a bad ``opset_version``, or names / dynamic axes that do not match the inputs
            and outputs.
        RuntimeError: the model reads a traced tensor's value in Python, or computes a tensor from
            the input outside the recorded ops.

    Example:
        >>> import io
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU())
        >>> buf = io.BytesIO()
        >>> cr.onnx.export(model, cr.randn(2, 4), buf, dynamic_axes={"input": [0], "output": [0]})
        >>> import onnx
        >>> [node.op_type for node in onnx.load_from_string(buf.getvalue()).graph.node]
        ['Transpose', 'MatMul', 'Add', 'Relu', 'Identity']
    """
    try:
        import onnx  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "cr.onnx.export needs the 'onnx' package: pip install onnx (or pip install 'chainrule[onnx]'); "
            "onnxruntime runs the exported model"
        ) from e
    from chainrule.onnx import _export

    _export.export(model, args, f, input_names, output_names, dynamic_axes, opset_version)
