"""Element-wise ops: arithmetic, math functions, comparisons, ``where``, dtype casts.

Each op is a ``Function`` with its forward (on arrays) and backward (the local
derivative times the upstream gradient ``grad``, written with Tensor ops so
it is itself differentiable) side by side.

Broadcasting follows NumPy; in backward, ``unbroadcast`` sums the gradient
back to the shape of the operand it belongs to (an operand broadcast along a
dimension was used many times, so its gradient is the sum over those uses).
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function
from chainrule.backend import get_default_dtype, np, xp_of
from chainrule.kernels import activation as K
from chainrule.ops import bmath as bm
from chainrule.tensor import Tensor

# ----------------------------------------------------------------------------- helpers


def _data(x):
    """The array (or Python scalar) behind an operand."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, np.generic):  # a NumPy scalar would upcast float32 arrays (NEP 50)
        return x.item()
    return x


def _check_operand(op: str, x) -> None:
    if not isinstance(x, (Tensor, int, float, bool, np.generic, np.ndarray)):
        raise TypeError(
            f"{op}: unsupported operand of type {type(x).__name__}; expected a Tensor or a number"
        )


def promote(op: str, out, a, b):
    """Give NumPy's result ``out`` of ``a <op> b`` the dtype PyTorch would (see ``result_type``).

    NumPy differs for int / int and int * 2.5 (float64; PyTorch: float32, its default dtype),
    int32 * float16 (float64; PyTorch float16), and 0-d tensors, which PyTorch lets decide the
    dtype only when they are of a higher category (bool < int < float) than the other operand.
    """
    da = getattr(a, "dtype", None)  # Python numbers have no dtype
    db = getattr(b, "dtype", None)
    # the common cases, nothing to fix: same-dtype tensors, or a tensor and a number keeping its dtype
    # (``is not None`` first: NumPy reads ``dtype == None`` as ``dtype == float64``)
    if da is not None and out.dtype == da and (db is None or db == da):
        return out
    if db is not None and da is None and out.dtype == db:
        return out
    target = result_type(a, b)
    if op == "div" and target.kind in "biu":  # true division of integers
        target = get_default_dtype()
    return out if out.dtype == target else out.astype(target)


def _promote_types(x, y):
    """PyTorch's promote_types: an integer with a float gives that float (NumPy would widen it)."""
    if x is None or y is None:
        return x if y is None else y
    fx, fy = x.kind in "fc", y.kind in "fc"
    if fx != fy:
        return x if fx else y
    return np.promote_types(x, y)


def result_type(a, b):
    """PyTorch's result dtype for two operands (arrays of tensors, or Python numbers).

    Dimensioned tensors decide; 0-d tensors and then Python numbers only count when they are of a
    higher category (bool < int < float), Python floats counting as float32 (the default dtype).
    """
    dim = zero = wrapped = None
    for x in (a, b):
        if isinstance(x, bool):
            wrapped = _promote_types(wrapped, np.dtype(np.bool_))
        elif isinstance(x, int):
            wrapped = _promote_types(wrapped, np.dtype(np.int64))
        elif isinstance(x, float):
            wrapped = _promote_types(wrapped, get_default_dtype())
        elif x.ndim:
            dim = _promote_types(dim, x.dtype)
        else:
            zero = _promote_types(zero, x.dtype)
    return _combine_categories(dim, _combine_categories(zero, wrapped))


def _combine_categories(higher, lower):
    if higher is None:
        return lower
    if lower is None or higher.kind in "fc":
        return higher
    if higher.kind == "b" or lower.kind in "fc":
        return _promote_types(higher, lower)
    return higher


def unbroadcast(grad: Tensor, shape: tuple) -> Tensor:
    """Sum ``grad`` over the dimensions that broadcasting added or stretched, giving ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, s in enumerate(shape) if s == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axes)
    return grad.reshape(shape) if grad.shape != shape else grad


def _scalars(a, b) -> tuple:
    """The non-tensor operands of a binary op (kept on ctx; tensors go through save_for_backward)."""
    return (None if isinstance(a, Tensor) else a, None if isinstance(b, Tensor) else b)


def _tensor_or_none(x, needed: bool):
    """``x`` to save for backward when ``needed`` and a Tensor (scalars go through ``_scalars``)."""
    return x if needed and isinstance(x, Tensor) else None


def _binary_grads(ctx, ga, gb):
    """Return the gradients of a binary op's two operands, reduced to their shapes."""
    a, b = ctx.inputs
    return (
        unbroadcast(ga, a.shape) if a is not None and ctx.needs_input_grad[0] else None,
        unbroadcast(gb, b.shape) if b is not None and ctx.needs_input_grad[1] else None,
    )


def _check_broadcast(op: str, a, b) -> None:
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(
                f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together "
                "(trailing dimensions must be equal or 1)"
            ) from None


# ----------------------------------------------------------------------------- arithmetic


class Add(Function):
    """out = a + b;  da = grad, db = grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ad, bd = _data(a), _data(b)
        return promote("add", ad + bd, ad, bd)

    @staticmethod
    def backward(ctx, grad):
        return _binary_grads(ctx, grad, grad)


class Sub(Function):
    """out = a - b;  da = grad, db = -grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ad, bd = _data(a), _data(b)
        return promote("sub", ad - bd, ad, bd)

    @staticmethod
    def backward(ctx, grad):
        return _binary_grads(ctx, grad, -grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """out = a · b;  da = grad · b, db = grad · a."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        # as PyTorch, keep an operand only when the other's gradient needs it: changing x in
        # place after y = x * 2.0 is no error, since backward never reads x
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(_tensor_or_none(a, need_b), _tensor_or_none(b, need_a))
        ctx.scalars = _scalars(a, b)
        ad, bd = _data(a), _data(b)
        return promote("mul", ad * bd, ad, bd)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a = ctx.scalars[0] if a is None else a
        b = ctx.scalars[1] if b is None else b
        need_a, need_b = ctx.needs_input_grad
        return _binary_grads(ctx, grad * b if need_a else None, grad * a if need_b else None)


class Div(Function):
    """out = a / b;  da = grad / b, db = -grad · a / b²."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad  # da needs b; db needs a and b
        ctx.save_for_backward(_tensor_or_none(a, need_b), _tensor_or_none(b, need_a or need_b))
        ctx.scalars = _scalars(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            ad, bd = _data(a), _data(b)
            return promote("div", ad / bd, ad, bd)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a = ctx.scalars[0] if a is None else a
        b = ctx.scalars[1] if b is None else b
        ga = grad / b
        gb = -ga * a / b if ctx.needs_input_grad[1] else None
        return _binary_grads(ctx, ga if ctx.needs_input_grad[0] else None, gb)


class Pow(Function):
    """out = a ** b;  da = grad · b · a^(b-1), db = grad · out · ln(a)."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
        ctx.scalars = _scalars(a, b)
        ctx.save_output()
        with np.errstate(divide="ignore", invalid="ignore"):
            return promote("pow", _data(a) ** _data(b), _data(a), _data(b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors  # None for an operand that was a Python number
        a_is_tensor, b_is_tensor = a is not None, b is not None
        a = ctx.scalars[0] if a is None else a
        b = ctx.scalars[1] if b is None else b
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if b_is_tensor:  # 0 where b == 0 (even at a == 0, where a^(b-1) is inf), as PyTorch
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = bm.where(b == 0, 0.0, grad * b * a ** (b - 1))
            elif b == 0:
                ga = grad * 0.0
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = grad * b * a ** (b - 1) if b != 2 else grad * 2.0 * a
        if ctx.needs_input_grad[1]:
            # db = grad · out · ln(a); where a == 0 and b >= 0 it is 0 (out is 0 or 1), as PyTorch
            (out,) = ctx.outputs
            with np.errstate(divide="ignore", invalid="ignore"):
                if a_is_tensor:
                    gb = bm.where((a == 0) & (b >= 0), 0.0, grad * out * bm.log(a))
                elif a > 0:
                    gb = grad * out * math.log(a)
                elif a == 0:
                    gb = bm.where(b >= 0, 0.0, grad * out * float("-inf"))
                else:
                    gb = grad * out * float("nan")
        return _binary_grads(ctx, ga, gb)


class Neg(Function):
    """out = -x;  dx = -grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return -x._data

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Function):
    """out = |x|;  dx = grad · sign(x)  (0 at x = 0, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x._data).abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * bm.sign(x)


# ----------------------------------------------------------------------------- math functions


class Exp(Function):
    """out = eˣ;  dx = grad · out."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        with np.errstate(over="ignore"):
            return xp_of(x._data).exp(x._data)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.outputs
        return grad * out


class Log(Function):
    """out = ln x;  dx = grad / x."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp_of(x._data).log(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """out = √x;  dx = grad / (2 · out)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        with np.errstate(invalid="ignore"):
            return xp_of(x._data).sqrt(x._data)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.outputs
        with np.errstate(divide="ignore"):
            return grad / (out * 2.0)


class Sin(Function):
    """out = sin x;  dx = grad · cos x."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x._data).sin(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * bm.cos(x)


class Cos(Function):
    """out = cos x;  dx = -grad · sin x."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x._data).cos(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * bm.sin(x)


class Tanh(Function):
    """out = tanh x;  dx = grad · (1 - out²)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return xp_of(x._data).tanh(x._data)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.outputs
        return grad * (1.0 - out * out)


class Sigmoid(Function):
    """out = σ(x) = 1 / (1 + e⁻ˣ);  dx = grad · out · (1 - out).

    Computed as e^-|x| based fractions so that x = ±1000 never overflows.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return stable_sigmoid(x._data)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.outputs
        return grad * (out * (1.0 - out))


def stable_sigmoid(a):
    """σ(a) on an array without overflow: 1/(1+e^-a) for a ≥ 0, eᵃ/(1+eᵃ) for a < 0."""
    xp = xp_of(a)
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


class ReLU(Function):
    """out = max(x, 0);  dx = grad where x > 0 (or x is NaN, as PyTorch), else 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return K.relu(x._data)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.outputs
        return bm.apply(ReLUGrad, grad, out)


class ReLUGrad(Function):
    """The gradient of relu, as an op.

    out = grad where y != 0 (y: relu's output), else 0: linear in grad, so d(grad) is the same map;
    y only selects (no gradient).
    """

    array_backward = True
    kernel = staticmethod(K.relu_backward)

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(y)
        return K.relu_backward(grad._data, y._data)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        return bm.apply(ReLUGrad, gg, y), None


class Clamp(Function):
    """out = min(max(x, lo), hi);  dx = grad where lo ≤ x ≤ hi, else 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        out = xp_of(x._data).clip(x._data, lo, hi)
        return promote(
            "clamp", out, x._data, lo if lo is not None else hi
        )  # int tensor, float bound: float32

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        x = x._data if isinstance(x, Tensor) else x  # an array on the fast path
        lo, hi = ctx.bounds
        mask = xp_of(x).ones(x.shape, bool)
        if lo is not None:
            mask &= x >= lo
        if hi is not None:
            mask &= x <= hi
        return grad * mask, None, None


class Maximum(Function):
    """out = max(a, b) element-wise; the gradient is split evenly where a == b (as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote("maximum", xp_of(a._data).maximum(a._data, b._data), a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b = (t._data if isinstance(t, Tensor) else t for t in ctx.saved_tensors)
        return _select_grads(ctx, grad, a < b, a > b, a == b)


class Minimum(Function):
    """out = min(a, b) element-wise; the gradient is split evenly where a == b (as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote("minimum", xp_of(a._data).minimum(a._data, b._data), a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b = (t._data if isinstance(t, Tensor) else t for t in ctx.saved_tensors)
        return _select_grads(ctx, grad, a > b, a < b, a == b)


def _select_grads(ctx, grad, a_loses, b_loses, tie):
    """Gradient to the winner, split evenly on ties; with NaN (no order) both get it, as PyTorch."""
    dtype = grad.dtype
    half_tie = tie.astype(dtype) * 0.5
    wa = (~a_loses & ~tie).astype(dtype) + half_tie
    wb = (~b_loses & ~tie).astype(dtype) + half_tie
    return _binary_grads(ctx, grad * wa, grad * wb)


class Where(Function):
    """out = a where cond else b;  da = grad where cond, db = grad where not cond."""

    array_backward = True

    @staticmethod
    def forward(ctx, cond, a, b):
        # saved, so changing the condition in place before backward raises (as PyTorch)
        ctx.save_for_backward(cond if isinstance(cond, Tensor) else Tensor._make(xp_of(cond).array(cond)))
        c = _data(cond)
        return promote("where", xp_of(c).where(c, _data(a), _data(b)), _data(a), _data(b))

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        _, a, b = ctx.inputs
        ga = bm.unbroadcast(bm.where(cond, grad, 0.0), a.shape) if ctx.needs_input_grad[1] else None
        gb = bm.unbroadcast(bm.where(cond, 0.0, grad), b.shape) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class To(Function):
    """Cast to another dtype and/or move to another device; the gradient goes back the same way."""

    @staticmethod
    def forward(ctx, x, dtype, device):
        from chainrule import backend

        ctx.src = (x.dtype, x.device)
        out = x._data
        if device is not None:
            out = backend.to_device(out, device)
        if dtype is not None and out.dtype != dtype:
            out = out.astype(dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        dtype, device = ctx.src
        return to(grad, dtype, device), None, None


class Clone(Function):
    """out = a copy of x;  dx = grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


# ----------------------------------------------------------------------------- functional API


def _tensor_operand(op: str, x):
    """Arrays and lists in a binary op become tensors; Python numbers stay scalars."""
    _check_operand(op, x)
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    return x


def _binary(cls, op: str, a, b):
    if not isinstance(a, Tensor):
        a = _tensor_operand(op, a)
    if not isinstance(b, Tensor):
        b = _tensor_operand(op, b)
    try:
        return cls.apply(a, b)
    except ValueError:
        _check_broadcast(op, a, b)  # raises the clear message when shapes don't broadcast
        raise


def add(a, b) -> Tensor:
    """a + b with broadcasting."""
    return _binary(Add, "add", a, b)


def sub(a, b) -> Tensor:
    """a - b with broadcasting (not for bool tensors, as PyTorch)."""
    for t in (a, b):
        if isinstance(t, Tensor) and t.dtype == np.bool_:
            raise RuntimeError(
                f"sub: subtraction with a bool tensor (shape {tuple(t.shape)}) is not supported; "
                "use ~ or logical_not() to invert a mask"
            )
    return _binary(Sub, "sub", a, b)


def mul(a, b) -> Tensor:
    """a · b element-wise, with broadcasting."""
    return _binary(Mul, "mul", a, b)


def div(a, b) -> Tensor:
    """a / b element-wise (true division), with broadcasting."""
    return _binary(Div, "div", a, b)


def pow(a, b) -> Tensor:  # noqa: A001 - the op's name
    """a ** b element-wise, with broadcasting."""
    return _binary(Pow, "pow", a, b)


def _floating(x: Tensor, op: str) -> Tensor:
    """Integer and bool inputs of float-valued math (exp, log, ...) are computed in float32, as PyTorch."""
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{op}: expected a Tensor, got {type(x).__name__}; convert it with cr.tensor(x) (a copy) "
            "or cr.from_numpy(x) (shared memory)"
        )
    if x._data.dtype.kind in "biu":
        return Tensor._make(x._data.astype(get_default_dtype()))
    return x


def neg(x: Tensor) -> Tensor:
    """-x."""
    return Neg.apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001
    """|x|."""
    return Abs.apply(x)


def exp(x: Tensor) -> Tensor:
    """eˣ element-wise."""
    return Exp.apply(_floating(x, "exp"))


def log(x: Tensor) -> Tensor:
    """Natural logarithm element-wise (-inf at 0, nan below)."""
    return Log.apply(_floating(x, "log"))


def sqrt(x: Tensor) -> Tensor:
    """√x element-wise."""
    return Sqrt.apply(_floating(x, "sqrt"))


def sin(x: Tensor) -> Tensor:
    """sin x element-wise."""
    return Sin.apply(_floating(x, "sin"))


def cos(x: Tensor) -> Tensor:
    """cos x element-wise."""
    return Cos.apply(_floating(x, "cos"))


def tanh(x: Tensor) -> Tensor:
    r"""Hyperbolic tangent, element-wise.

    $$
    \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}
    $$

    Args:
        x: the tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.tanh(cr.tensor([0.0, 1.0]))
        tensor([0.    , 0.7616])
    """
    return Tanh.apply(_floating(x, "tanh"))


def sigmoid(x: Tensor) -> Tensor:
    r"""Logistic sigmoid, element-wise, stable for large |x|.

    $$
    \sigma(x) = \frac{1}{1 + e^{-x}}
    $$

    Args:
        x: the tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.sigmoid(cr.tensor([0.0, 100.0]))
        tensor([0.5, 1. ])
    """
    return Sigmoid.apply(_floating(x, "sigmoid"))


def relu(x: Tensor) -> Tensor:
    """max(x, 0) element-wise."""
    if isinstance(x, Tensor) and x.dtype == "bool":
        raise TypeError(
            "relu: boolean inputs are not supported (as PyTorch); got a bool tensor "
            f"of shape {tuple(x.shape)}, expected a number dtype"
        )
    return ReLU.apply(x)


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's argument names
    """Limit x to [min, max] (either may be None)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    min = _data(min)
    max = _data(max)
    return Clamp.apply(x, min, max)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """Element-wise maximum of two tensors (broadcast)."""
    a, b = _as_tensor(a, b), _as_tensor(b, a)
    _check_broadcast("maximum", a, b)
    return Maximum.apply(a, b)


def minimum(a: Tensor, b: Tensor) -> Tensor:
    """Element-wise minimum of two tensors (broadcast)."""
    a, b = _as_tensor(a, b), _as_tensor(b, a)
    _check_broadcast("minimum", a, b)
    return Minimum.apply(a, b)


def _as_tensor(x, like) -> Tensor:
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if isinstance(like, Tensor) else None
    return Tensor._make(xp_of(like._data if isinstance(like, Tensor) else None).asarray(x, dtype=dtype))


def where(cond, a=None, b=None) -> Tensor:
    r"""Pick from ``a`` where ``cond`` holds, else from ``b``, element-wise (broadcast), as ``torch.where``.

    $$
    \text{out}_i = \begin{cases} a_i & \text{cond}_i \\ b_i & \text{otherwise} \end{cases}
    $$

    The gradient flows to ``a`` where the condition holds and to ``b`` elsewhere; ``cond`` gets
    none. ``where(cond)`` alone is ``nonzero(cond, as_tuple=True)``, as PyTorch.

    Args:
        cond: a bool tensor (or array).
        a: the values where ``cond`` is True (a tensor or a number).
        b: the values elsewhere (a tensor or a number).

    Returns:
        A tensor of the broadcast shape of ``cond``, ``a`` and ``b``.

    Raises:
        TypeError: when only one of ``a`` and ``b`` is given.

    Example:
        >>> x = cr.tensor([-1.0, 2.0, -3.0], requires_grad=True)
        >>> y = cr.where(x > 0, x, 0.1 * x)
        >>> y
        tensor([-0.1,  2. , -0.3], grad_fn=<WhereBackward>)
        >>> y.sum().backward()
        >>> x.grad
        tensor([0.1, 1. , 0.1])
    """
    if a is None and b is None:
        from chainrule.ops.indexing import nonzero

        return nonzero(cond, as_tuple=True)
    if a is None or b is None:
        raise TypeError("where: expected where(condition, input, other) or where(condition)")
    a = _tensor_operand("where", a) if not isinstance(a, Tensor) else a
    b = _tensor_operand("where", b) if not isinstance(b, Tensor) else b
    shapes = [tuple(t.shape) for t in (cond, a, b) if isinstance(t, (Tensor, np.ndarray))]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"where: condition, x and y of shapes {', '.join(map(str, shapes))} cannot be broadcast together"
        ) from None
    return Where.apply(cond, a, b)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 element-wise (no gradient); 0 for NaN, as PyTorch."""
    xp = xp_of(x._data)
    out = xp.sign(x._data)
    if out.dtype.kind == "f":
        out = xp.where(xp.isnan(out), 0, out).astype(out.dtype, copy=False)
    return Tensor._make(out)


def to(x: Tensor, dtype=None, device=None) -> Tensor:
    """Cast ``x`` to ``dtype`` and/or move it to ``device``; returns x itself when nothing changes."""
    if (dtype is None or dtype == x.dtype) and (device is None or device == x.device):
        return x
    return To.apply(x, dtype, device)


def clone(x: Tensor) -> Tensor:
    """A copy of x with its own memory."""
    return Clone.apply(x)


def floor_divide(a, b) -> Tensor:
    """a // b (no gradient, as PyTorch)."""
    return Tensor._make(promote("floor_divide", _data(a) // _data(b), _data(a), _data(b)))


def remainder(a, b) -> Tensor:
    """a mod b with the sign of b (no gradient here)."""
    return Tensor._make(promote("remainder", _data(a) % _data(b), _data(a), _data(b)))


_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
}


def compare(op: str, a, b) -> Tensor:
    """Element-wise comparison or logical op; a bool tensor without gradient."""
    if not isinstance(b, (Tensor, int, float, bool, np.generic, np.ndarray)):
        return NotImplemented
    _check_broadcast(op, a, b)
    return Tensor._make(xp_of(_data(a)).asarray(_COMPARE[op](_data(a), _data(b))))


def logical_not(x: Tensor) -> Tensor:
    """~x for bool (or integer) tensors."""
    return Tensor._make(~x._data)
