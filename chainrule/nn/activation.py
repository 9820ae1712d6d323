"""Activation layers.

Activation layers: ``ReLU``, ``Sigmoid``, ``Tanh``, ``Softplus``, ``LeakyReLU``, ``PReLU``,
``ELU``, ``GELU``, ``SiLU``, ``Softmax``, ``LogSoftmax`` (as ``torch.nn``).

Each is a thin module around its op in ``chainrule/ops`` (``PReLU`` also owns its
learned slope).  Shapes: input (*) -> output (*), same shape.

Example::

    model = nn.Sequential(nn.Linear(2, 8), nn.GELU(), nn.Linear(8, 3), nn.LogSoftmax(dim=1))
"""

from __future__ import annotations

from chainrule import backend
from chainrule.backend import np
from chainrule.nn.module import Module, Parameter
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
    """Leaky ReLU with a learned slope.

    x if x > 0 else a · x, with the slope ``a`` learned: parameter ``weight`` of shape
    (num_parameters,), one per channel (dim 1 of the input) or one shared, initialised to ``init``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        _args.integer("PReLU", "num_parameters", num_parameters, 1)
        _args.number("PReLU", "init", init)
        self.num_parameters, self.init = num_parameters, init
        arr = np.full((num_parameters,), init, np.dtype(dtype or np.float32))
        self.weight = Parameter(backend.to_device(arr, backend.normalize_device(device)))

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
        return f"alpha={self.alpha}"


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
