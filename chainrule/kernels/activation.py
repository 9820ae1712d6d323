"""ReLU and its backward on arrays, in row blocks (``parallel_rows``: threads when switched on).

References: ``relu_reference`` = max(x, 0), ``relu_backward_reference`` = grad where the output is not 0.
"""

from __future__ import annotations

from chainrule.backend import np, xp_of
from chainrule.kernels.rows import parallel_rows


def relu(x):
    """max(x, 0) in a new array (NaN stays NaN), in row blocks."""
    xp = xp_of(x)
    out = xp.empty_like(x)
    parallel_rows(lambda o, a: xp.maximum(a, 0, out=o), out, x)
    return out


def relu_backward(grad, out):
    """The gradient of relu from its output.

    dL/dx of relu for dL/dout = ``grad`` and the output ``out``: grad where out != 0 (out is 0
    exactly where x <= 0; a NaN input passes its gradient, as PyTorch), in row blocks.
    """
    xp = xp_of(grad)
    dx = xp.empty_like(grad)
    parallel_rows(lambda d, g, y: xp.multiply(g, y != 0, out=d), dx, grad, out)
    return dx


def relu_reference(x):
    """max(x, 0)."""
    return np.maximum(x, 0)


def relu_backward_reference(grad, out):
    """grad where relu's output is not 0, else 0."""
    return np.where(out != 0, grad, 0).astype(grad.dtype)
