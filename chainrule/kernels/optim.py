"""Optimizer row updates: the tuned in-place kernels, each beside a plain reference.

The references say what an update computes, the way a textbook (or PyTorch's
``_single_tensor_adam``) writes it.  The tuned kernels compute the same thing in place, with
no temporaries but one scratch array, in cache-sized row blocks (``backend.parallel_rows``) and
rounding as PyTorch does, so that trajectories match ``torch.optim`` to the last bits.
``tests/kernels/test_optim.py`` checks each tuned kernel against its reference.

Every function takes backend arrays (NumPy or CuPy) and Python floats, and writes into its
arguments.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from chainrule.backend import np, xp_of
from chainrule.kernels import jit
from chainrule.kernels.rows import parallel_rows

# ---------------------------------------------------------------------------------------- lerp


def lerp_reference(m: Any, g: Any, w: float) -> None:
    """``m ← m + w·(g − m)``, in place: an exponential moving average ``(1 − w)·m + w·g``."""
    m[...] = m + w * (g - m)


def lerp_(m: Any, g: Any, w: float, tmp: Any) -> None:
    """``m ← m + w·(g − m)`` in place, rounded as PyTorch's ``lerp_`` (which has two branches).

    For ``w < 0.5`` PyTorch computes ``m + w·(g − m)``, otherwise ``g − (1 − w)·(g − m)``; the
    two differ in the last bit, which compounds over a trajectory.  ``tmp`` is a scratch array
    of ``m``'s shape and dtype.

    >>> m, g = np.zeros(3, np.float32), np.ones(3, np.float32)
    >>> lerp_(m, g, 0.1, np.empty_like(m))
    >>> m
    array([0.1, 0.1, 0.1], dtype=float32)
    """
    xp = xp_of(m)
    xp.subtract(g, m, out=tmp)
    if w < 0.5:
        tmp *= w
        m += tmp
    else:
        tmp *= 1.0 - w
        xp.subtract(g, tmp, out=m)


# ---------------------------------------------------------------------------------------- Adam


def adam_moments_(m: Any, v: Any, g: Any, beta1: float, beta2: float, tmp: Any) -> None:
    """The moment updates of the Adam family, in place, rounded as PyTorch.

    ``m ← β₁·m + (1 − β₁)·g`` (through ``lerp_``) and ``v ← β₂·v + (1 − β₂)·g²``; ``tmp`` is scratch.

    >>> m, v, g = np.zeros(2, np.float32), np.zeros(2, np.float32), np.array([1, -2], np.float32)
    >>> adam_moments_(m, v, g, 0.9, 0.99, np.empty_like(m))
    >>> m, v
    (array([ 0.1, -0.2], dtype=float32), array([0.01, 0.04], dtype=float32))
    """
    xp = xp_of(m)
    lerp_(m, g, 1 - beta1, tmp)
    v *= beta2
    xp.multiply(g, 1 - beta2, out=tmp)
    tmp *= g
    v += tmp


def adam_reference(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any = None,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    step: int,
) -> None:
    """One Adam step on ``param`` in place, as the four lines of ``cr.optim.Adam``'s docstring.

    ``step`` is t = 1, 2, ...; with ``max_exp_avg_sq`` (AMSGrad) the running maximum of v
    replaces v in the update.
    """
    xp = xp_of(param)
    exp_avg[...] = beta1 * exp_avg + (1 - beta1) * grad  # m ← β₁·m + (1 − β₁)·g
    exp_avg_sq[...] = beta2 * exp_avg_sq + (1 - beta2) * grad * grad  # v ← β₂·v + (1 − β₂)·g²
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    m_hat, v_hat = exp_avg / (1 - beta1**step), v / (1 - beta2**step)  # bias correction
    param -= lr * m_hat / (xp.sqrt(v_hat) + eps)  # θ ← θ − η·m̂ / (√v̂ + ε)


def adam_(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any = None,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    step: int,
) -> None:
    """``adam_reference``, tuned: PyTorch's rounding, one scratch array, cache-sized row blocks.

    Rounds as ``torch.optim.Adam(foreach=False)``: m through ``lerp_``, and the denominator as
    √v / √(1 − β₂ᵗ) + ε.  The 13 in-place NumPy calls run on blocks of rows small enough that
    a block's five operands stay in the core's cache between calls.  With the JIT on
    (``kernels.jit``), one compiled loop does the same float operations in one pass.
    """
    if (
        max_exp_avg_sq is None
        and _flat_alike(param, grad, exp_avg, exp_avg_sq)
        and (loop := jit.kernel("adam"))
    ):
        scalars = _adam_loop_scalars(lr, beta1, beta2, eps, step, param.dtype)
        loop(param, grad, exp_avg, exp_avg_sq, scalars, 1 - beta1 < 0.5)
        return
    xp = xp_of(param)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    update = partial(
        _adam_rows,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        step_size=lr / bias_correction1,
        sqrt_bc2=bias_correction2**0.5,
    )
    arrays: tuple[Any, ...] = (param, grad, exp_avg, exp_avg_sq, xp.empty_like(param))
    if max_exp_avg_sq is not None:
        arrays += (max_exp_avg_sq,)
    parallel_rows(update, *arrays, cache_blocks=True)


def adam_many_(
    params: list,
    grads: list,
    exp_avgs: list,
    exp_avg_sqs: list,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    steps: list,
) -> None:
    """``adam_`` on every parameter of a group (no AMSGrad), as PyTorch's multi-tensor Adam.

    The same bits as one ``adam_`` call per parameter; what it saves is per-call Python work on
    models of many small tensors: the compiled loop is looked up once and called directly, not
    through ``adam_``'s keyword call and checks for each parameter.
    """
    loop = jit.kernel("adam")
    lerp_low = 1 - beta1 < 0.5
    for p, g, m, v, step in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        if loop is not None and _flat_alike(p, g, m, v):
            loop(p, g, m, v, _adam_loop_scalars(lr, beta1, beta2, eps, step, p.dtype), lerp_low)
        else:
            adam_(p, g, m, v, lr=lr, beta1=beta1, beta2=beta2, eps=eps, step=step)


_adam_scalars: dict = {}  # (lr, β₁, β₂, ε, step, dtype) -> the loop's scalars, for the step running now


def _adam_loop_scalars(lr: float, beta1: float, beta2: float, eps: float, step: int, dtype: Any) -> Any:
    """The compiled Adam loop's scalars, in the arrays' precision as NumPy's in-place calls use them.

    The same for every parameter of a step: made once and kept until the step or a setting changes.
    """
    key = (lr, beta1, beta2, eps, step, dtype.char)
    scalars = _adam_scalars.get(key)
    if scalars is not None:
        return scalars
    w = 1 - beta1  # lerp_'s weight, and its two branches
    scalars = (
        w if w < 0.5 else 1.0 - w,
        beta2,
        1 - beta2,
        -(lr / (1 - beta1**step)),
        (1 - beta2**step) ** 0.5,
        eps,
    )
    _adam_scalars.clear()
    _adam_scalars[key] = np.array(scalars, dtype)
    return _adam_scalars[key]


def _flat_alike(first: Any, *arrays: Any) -> bool:
    """Whether the arrays are C-contiguous NumPy float32/64 arrays of one dtype and shape (for a JIT loop)."""
    if type(first) is not np.ndarray or first.dtype.char not in "fd" or not first.flags.c_contiguous:
        return False
    dtype, shape = first.dtype, first.shape
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or a.shape != shape or not a.flags.c_contiguous:
            return False
    return True


def _adam_rows(
    pd: Any,
    g: Any,
    m: Any,
    v: Any,
    tmp: Any,
    vmax: Any = None,
    *,
    beta1: float,
    beta2: float,
    eps: float,
    step_size: float,
    sqrt_bc2: float,
) -> None:
    """``adam_`` on one block of rows; ``tmp`` is scratch."""
    xp = xp_of(pd)
    adam_moments_(m, v, g, beta1, beta2, tmp)
    if vmax is not None:  # amsgrad
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    denom = xp.sqrt(v)  # √v̂ + ε = √v / √(1 − β₂ᵗ) + ε
    denom /= sqrt_bc2
    denom += eps
    xp.multiply(m, -step_size, out=tmp)  # θ ← θ − η/(1 − β₁ᵗ) · m / denom
    tmp /= denom
    pd += tmp


# ------------------------------------------------------------------------------ subnormal flush


def flush_subnormals_(a: Any) -> None:
    """Set the subnormal entries of ``a`` (0 < |x| < the smallest normal float) to 0, in place.

    >>> a = np.array([1.0, 1e-40, -1e-45, 0.0], np.float32)
    >>> flush_subnormals_(a)
    >>> a
    array([1., 0., 0., 0.], dtype=float32)
    """
    xp = xp_of(a)
    xp.copyto(a, 0, where=xp.abs(a) < xp.finfo(a.dtype).tiny)
