"""ReLU and its backward on arrays, in row blocks (``parallel_rows``: threads when switched on).

References: ``relu_reference`` = max(x, 0), ``relu_backward_reference`` = grad where the output is not 0.
With the JIT on (``kernels.jit``), one compiled pass over the memory instead of NumPy's (the backward's
comparison and product fused), same bits.
"""

from __future__ import annotations

from chainrule.backend import np, xp_of
from chainrule.kernels import jit
from chainrule.kernels.rows import parallel_rows

# Below this many elements a compiled call's overhead is not worth it.
JIT_MIN_ELEMENTS = 4096


def flat_view(a):
    """The elements of ``a`` in memory order as a 1-D view, or ``None`` if its memory has gaps.

    Two arrays of equal strides list their elements in the same order this way (a channels-last
    convolution output seen as (N, C, H, W) included).

    >>> flat_view(np.arange(6.0).reshape(2, 3).T)
    array([0., 1., 2., 3., 4., 5.])
    """
    if a.flags.c_contiguous:
        return a.reshape(-1)
    t = a.transpose(sorted(range(a.ndim), key=lambda i: -a.strides[i]))
    return t.reshape(-1) if t.flags.c_contiguous else None


def _jit_flat(name: str, *arrays):
    """The compiled kernel ``name`` and flat views of ``arrays`` (NumPy, equal strides, large), or None."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < JIT_MIN_ELEMENTS or first.dtype.char not in "fd":
        return None
    for a in arrays[1:]:
        if type(a) is not np.ndarray or a.strides != first.strides or a.dtype != first.dtype:
            return None
    loop = jit.kernel(name)
    flats = [flat_view(a) for a in arrays] if loop is not None else None
    if flats is None or any(f is None for f in flats):
        return None
    return loop, flats


def relu(x):
    """max(x, 0) in a new array (NaN stays NaN), in row blocks."""
    xp = xp_of(x)
    out = xp.empty_like(x)
    compiled = _jit_flat("relu", out, x)
    if compiled is not None:
        compiled[0](*compiled[1])
        return out
    parallel_rows(lambda o, a: xp.maximum(a, 0, out=o), out, x)
    return out


def relu_backward(grad, out):
    """The gradient of relu from its output.

    dL/dx of relu for dL/dout = ``grad`` and the output ``out``: grad where out != 0 (out is 0
    exactly where x <= 0; a NaN input passes its gradient, as PyTorch), in row blocks.
    """
    xp = xp_of(grad)
    dx = xp.empty_like(grad)
    compiled = _jit_flat("relu_backward", dx, grad, out)
    if compiled is not None:
        compiled[0](*compiled[1])
        return dx
    parallel_rows(lambda d, g, y: xp.multiply(g, y != 0, out=d), dx, grad, out)
    return dx


def relu_reference(x):
    """max(x, 0)."""
    return np.maximum(x, 0)


def relu_backward_reference(grad, out):
    """grad where relu's output is not 0, else 0."""
    return np.where(out != 0, grad, 0).astype(grad.dtype)
