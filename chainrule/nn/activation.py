"""Activation layers: ``ReLU``, ``Sigmoid``, ``Tanh``, ``Softplus``, ``LeakyReLU``, ``PReLU``,
``ELU``, ``GELU``, ``SiLU``, ``Softmax``, ``LogSoftmax``, ``Softmax2d``, ``SELU``, ``CELU``, ``Mish``,
``Hardtanh``, ``ReLU6``, ``Hardsigmoid``, ``Hardswish``, ``LogSigmoid``, ``Softsign``, ``Softmin``,
``Tanhshrink``, ``Threshold``, ``GLU``, ``Hardshrink``, ``Softshrink`` (as ``torch.nn``).

Each is a thin module around its op in ``chainrule/ops`` (``PReLU`` also owns its
learned slope).  Shapes: input (*) -> output (*), same shape.

Example::

    model = nn.Sequential(nn.Linear(2, 8), nn.GELU(), nn.Linear(8, 3), nn.LogSoftmax(dim=1))
"""

from __future__ import annotations

import warnings

from chainrule.nn.module import Module, new_parameter
from chainrule.ops import _args
from chainrule.ops import activation as A
from chainrule.ops.elementwise import relu, sigmoid, tanh
from chainrule.tensor import Tensor


class ReLU(Module):
    """max(x, 0).  ``inplace`` is accepted for compatibility; the result is always a new tensor."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return relu(input)


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return sigmoid(input)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return tanh(input)


class Softplus(Module):
    """(1/β) log(1 + e^{βx}), x where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        if _args.number("Softplus", "beta", beta) == 0:
            raise ValueError("Softplus: beta must be a nonzero number, got 0")
        _args.number("Softplus", "threshold", threshold)
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LeakyReLU(Module):
    """x if x > 0 else negative_slope · x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        _args.number("LeakyReLU", "negative_slope", negative_slope)
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """x if x > 0 else a · x, with the slope ``a`` learned: parameter ``weight`` of shape
    (num_parameters,), one per channel (dim 1 of the input) or one shared, initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        _args.integer("PReLU", "num_parameters", num_parameters, 1)
        _args.number("PReLU", "init", init)
        self.num_parameters, self.init = num_parameters, init
        self.weight = new_parameter("PReLU", (num_parameters,), device, dtype, fill=init)

    def reset_parameters(self) -> None:
        self.weight._data[...] = self.init

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x if x > 0 else α (eˣ - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        _args.number("ELU", "alpha", alpha)
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x Φ(x) (``approximate='none'``) or its tanh approximation (``'tanh'``)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        _args.choice("GELU", "approximate", approximate, ("none", "tanh"))
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x σ(x) (swish)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.silu(input)


class Softmax(Module):
    """e^{x_i} / Σ_j e^{x_j} along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim if dim is None else _args.integer("Softmax", "dim", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along ``dim`` (pair it with ``NLLLoss``, or use ``CrossEntropyLoss`` on logits)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim if dim is None else _args.integer("LogSoftmax", "dim", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    r"""Softmax over the channels at every spatial position, as ``torch.nn.Softmax2d``.

    $$ y_{c,h,w} = \frac{e^{x_{c,h,w}}}{\sum_{c'} e^{x_{c',h,w}}} $$

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: the input's shape

    Example:
        >>> y = cr.nn.Softmax2d()(cr.zeros(1, 4, 2, 2))
        >>> float(y[0, :, 1, 1].sum())
        1.0
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor) or input.ndim not in (3, 4):
            got = f"{input.ndim}D" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {got} instead")
        return A.softmax(input, -3)


class SELU(Module):
    r"""Scaled ELU, as ``torch.nn.SELU``.

    $$ \mathrm{SELU}(x) = \lambda_0 \left(\max(0, x) + \min(0, \alpha_0 (e^x - 1))\right) $$

    with $\alpha_0 \approx 1.6733$, $\lambda_0 \approx 1.0507$.

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Example:
        >>> cr.nn.SELU()(cr.tensor([1.0]))
        tensor([1.0507])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.selu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    r"""Continuously differentiable ELU, as ``torch.nn.CELU``.

    $$ \mathrm{CELU}(x) = \max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1)) $$

    Args:
        alpha: α, nonzero (checked when the layer is built; PyTorch fails at the first call).
        inplace: accepted for compatibility; the result is always a new tensor.

    Raises:
        ValueError: ``alpha`` is 0.

    Example:
        >>> cr.nn.CELU(alpha=2.0)(cr.tensor([-1.0]))
        tensor([-0.7869])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = _args.number("CELU", "alpha", alpha)
        if self.alpha == 0:
            raise ValueError("CELU: alpha must be nonzero (the input is divided by it), got 0")
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Mish(Module):
    r"""Mish, as ``torch.nn.Mish``: $x \tanh(\mathrm{softplus}(x))$.

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Example:
        >>> cr.nn.Mish()(cr.tensor([1.0]))
        tensor([0.8651])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.mish(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(Module):
    r"""Clamp to [min_val, max_val], as ``torch.nn.Hardtanh`` (gradient 0 at both ends).

    $$ \mathrm{Hardtanh}(x) = \min(\max(x, \text{min\_val}), \text{max\_val}) $$

    Args:
        min_val: the lower end.
        max_val: the upper end, greater than ``min_val``.
        inplace: accepted for compatibility; the result is always a new tensor.
        min_value: deprecated spelling of ``min_val`` (warns), as PyTorch.
        max_value: deprecated spelling of ``max_val`` (warns), as PyTorch.

    Raises:
        ValueError: ``max_val`` is not greater than ``min_val``.

    Example:
        >>> cr.nn.Hardtanh(-2.0, 2.0)(cr.tensor([-3.0, 1.0, 3.0]))
        tensor([-2.,  1.,  2.])
    """

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ):
        super().__init__()
        name = type(self).__name__
        for old, new, value in (("min_value", "min_val", min_value), ("max_value", "max_val", max_value)):
            if value is not None:  # PyTorch's deprecated spellings
                warnings.warn(
                    f"{name}: keyword argument {old} is deprecated and renamed to {new}", FutureWarning, 2
                )
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        self.min_val = _args.number(name, "min_val", min_val)
        self.max_val = _args.number(name, "max_val", max_val)
        if self.max_val <= self.min_val:
            raise ValueError(f"{name}: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace}"


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``, as ``torch.nn.ReLU6`` (a ``Hardtanh(0, 6)``).

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Example:
        >>> cr.nn.ReLU6()(cr.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(Module):
    r"""Piecewise linear sigmoid, as ``torch.nn.Hardsigmoid``: $\min(\max(x + 3, 0), 6) / 6$.

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Example:
        >>> cr.nn.Hardsigmoid()(cr.tensor([0.0]))
        tensor([0.5])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.hardsigmoid(input)


class Hardswish(Module):
    r"""Hard swish, as ``torch.nn.Hardswish``: $x \cdot \min(\max(x + 3, 0), 6) / 6$.

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Example:
        >>> cr.nn.Hardswish()(cr.tensor([1.0]))
        tensor([0.6667])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.hardswish(input)


class LogSigmoid(Module):
    r"""$\log \sigma(x)$, stable for large $|x|$, as ``torch.nn.LogSigmoid``.

    Example:
        >>> cr.nn.LogSigmoid()(cr.tensor([0.0]))
        tensor([-0.6931])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.logsigmoid(input)


class Softsign(Module):
    r"""$x / (1 + |x|)$, as ``torch.nn.Softsign``.

    Example:
        >>> cr.nn.Softsign()(cr.tensor([1.0]))
        tensor([0.5])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.softsign(input)


class Softmin(Module):
    r"""softmax(-x) along ``dim``, as ``torch.nn.Softmin``.

    $$ \mathrm{Softmin}(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}} $$

    Args:
        dim: the dimension that sums to 1.

    Example:
        >>> cr.nn.Softmin(dim=1)(cr.tensor([[0.0, 0.0]]))
        tensor([[0.5, 0.5]])
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim if dim is None else _args.integer("Softmin", "dim", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Tanhshrink(Module):
    r"""$x - \tanh(x)$, as ``torch.nn.Tanhshrink``.

    Example:
        >>> cr.nn.Tanhshrink()(cr.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.tanhshrink(input)


class Threshold(Module):
    r"""x where x > threshold, else ``value``, as ``torch.nn.Threshold``.

    $$ y = \begin{cases} x & x > \text{threshold} \\ \text{value} & \text{otherwise} \end{cases} $$

    Args:
        threshold: the cut (an input exactly at it becomes ``value``).
        value: the replacement.
        inplace: accepted for compatibility; the result is always a new tensor.

    Example:
        >>> cr.nn.Threshold(0.1, 20.0)(cr.tensor([0.0, 0.5]))
        tensor([20. ,  0.5])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = _args.number("Threshold", "threshold", threshold)
        self.value = _args.number("Threshold", "value", value)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace}"


class GLU(Module):
    r"""Gated linear unit, as ``torch.nn.GLU``: the input split in halves a, b along ``dim``.

    $$ \mathrm{GLU}(a, b) = a \otimes \sigma(b) $$

    Args:
        dim: the dimension that is halved (its size must be even).

    Shape:
        - Input: (*, 2M, *), the 2M at ``dim``
        - Output: (*, M, *)

    Example:
        >>> cr.nn.GLU()(cr.zeros(3, 8)).shape
        (3, 4)
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = _args.integer("GLU", "dim", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardshrink(Module):
    r"""x where |x| > λ, else 0, as ``torch.nn.Hardshrink``.

    Args:
        lambd: λ.

    Example:
        >>> cr.nn.Hardshrink()(cr.tensor([0.2, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = _args.number("Hardshrink", "lambd", lambd)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Module):
    r"""x - λ sign(x) where |x| > λ, else 0, as ``torch.nn.Softshrink``.

    Args:
        lambd: λ ≥ 0.

    Example:
        >>> cr.nn.Softshrink()(cr.tensor([0.2, 1.0]))
        tensor([0. , 0.5])
    """

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = _args.number("Softshrink", "lambd", lambd, minimum=0)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)
