"""``cr.onnx.export``: write a model as an ONNX graph that onnxruntime runs.

**How it works (tracing).**  ``export`` puts the model in evaluation mode and runs it once on the
example ``args`` with a tracer switched on.  The tracer listens at three places:

- ``Function.apply``: every differentiable op of chainrule (``Add``, ``MatMul``, ``Linear``,
  ``ConvNd``, ``Softmax``, ``Reshape``, ``LSTMSequence``, ...) is one ``Function``; when one runs on a
  tensor that descends from the inputs, its translation (``chainrule/onnx/_export.py``) appends the
  equivalent ONNX nodes.  An op without a translation raises ``UnsupportedOperatorError`` naming
  it; an op whose inputs are all constants (parameters, buffers, tensors built in ``forward`` from
  numbers) is not recorded: its result becomes a constant of the graph (constant folding).
- ``Module.__call__``: a few layers are translated as a whole, where the op-by-op record would bake
  sizes of the example into the graph or where ONNX has a better operator: ``MultiheadAttention``
  (masks and runtime shapes), ``Conv1d/2d/3d`` (PyTorch's padding, so any input length works) and
  ``BatchNorm*`` in evaluation (running statistics folded into a scale and a shift).  A subclass
  that overrides ``forward``, or a module with forward hooks, is traced op by op instead.
- a few functions: ``scaled_dot_product_attention`` (the causal mask is built at run time) and the
  element-wise comparisons.

Everything else a ``forward`` does (Python control flow, loops over layers, ``x.shape`` arithmetic)
runs in Python during the trace, so the graph holds the path the example input took.

**Safety.**  A value that the graph could not reproduce raises instead of giving a silently wrong
graph: reading a traced tensor's value in Python (``.item()``, ``bool(t)``, ``.tolist()``,
``.numpy()``) raises, and so does any tensor computed from a traced tensor outside the recorded ops
(for example ``cr.tensor(x.numpy())``) when it is used later.

**Dynamic axes.**  With ``dynamic_axes`` the named input and output axes get symbolic sizes, and
every size the graph needs (reshape targets, attention masks, the number of elements of a
variance) is read from the tensors at run time (``Shape``), so the model runs on other batch sizes
and sequence lengths.  A reshape is matched against its input dim by dim (merging and splitting
groups of dims); a dimension inserted or removed with size 1 is taken as a constant.  Two limits
follow: give example sizes larger than 1 on the dynamic axes, and a reshape that splits one
dynamic axis into several (``(B*T, E) -> (B, T, E)``) keeps all but the first piece at their
example sizes.  Tensors created inside ``forward`` from Python numbers (``cr.zeros(x.shape[0], h)``)
are constants of the example's size: pass them as inputs instead when their size is dynamic.

Supported: ``Linear``, ``Flatten``, ``Sequential`` and the arithmetic, reshaping, indexing,
reductions and concatenation of a user's ``forward``; ``Conv1d/2d/3d``, ``ConvTranspose1d/2d``;
max, average and adaptive average pooling; ``BatchNorm1d/2d`` (evaluation), ``LayerNorm``,
``GroupNorm``; ReLU, Sigmoid, Tanh, Softmax, LogSoftmax, GELU, LeakyReLU, ELU, SiLU, Softplus,
PReLU, Hardtanh/ReLU6 (clamp); dropout (identity in evaluation); ``Embedding``; ``RNN``, ``LSTM``
and ``GRU`` (ONNX's recurrent operators with PyTorch's gates reordered; layers, directions,
``batch_first`` and initial states); ``MultiheadAttention``, ``scaled_dot_product_attention``,
``TransformerEncoderLayer``/``DecoderLayer`` and the stacks built of them.

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
