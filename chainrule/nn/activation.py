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
    r"""Rectified linear unit, element-wise.

    $$
    \operatorname{ReLU}(x) = \max(0, x)
    $$

    Its gradient is 1 where x > 0 and 0 elsewhere (0 at x = 0, as PyTorch).

    Args:
        inplace: accepted for compatibility with PyTorch; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> m = cr.nn.ReLU()
        >>> m(cr.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return relu(input)


class Sigmoid(Module):
    r"""Logistic sigmoid, element-wise.

    $$
    \sigma(x) = \frac{1}{1 + e^{-x}}
    $$

    Its derivative is σ(x)(1 − σ(x)), at most 1/4, which is why deep sigmoid networks see their
    gradients vanish.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input, values in (0, 1).

    Example:
        >>> m = cr.nn.Sigmoid()
        >>> m(cr.tensor([-2.0, 0.0, 2.0]))
        tensor([0.1192, 0.5   , 0.8808])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return sigmoid(input)


class Tanh(Module):
    r"""Hyperbolic tangent, element-wise.

    $$
    \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}
    $$

    Its derivative is 1 − tanh²(x); zero-centred, unlike the sigmoid.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input, values in (−1, 1).

    Example:
        >>> m = cr.nn.Tanh()
        >>> m(cr.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.7616,  0.    ,  0.7616])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return tanh(input)


class Softplus(Module):
    r"""Softplus, a smooth ReLU, element-wise.

    $$
    \operatorname{Softplus}(x) = \frac{1}{\beta} \log\left(1 + e^{\beta x}\right)
    $$

    Where βx > ``threshold`` the result is x itself (as PyTorch), so large inputs never overflow.
    Its derivative is σ(βx).

    Args:
        beta: the sharpness β (nonzero; default 1).
        threshold: above this value of βx the function is the identity (default 20).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> m = cr.nn.Softplus()
        >>> m(cr.tensor([-1.0, 0.0, 30.0]))
        tensor([ 0.3133,  0.6931, 30.    ])
    """

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
    r"""Leaky ReLU: a small slope for negative inputs instead of zero, element-wise.

    $$
    \operatorname{LeakyReLU}(x) = \begin{cases} x & x > 0 \\ a\,x & x \le 0 \end{cases}
    $$

    with a = ``negative_slope``; the gradient never vanishes completely, so units cannot die.

    Args:
        negative_slope: the slope a for x ≤ 0 (default 0.01).
        inplace: accepted for compatibility with PyTorch; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> m = cr.nn.LeakyReLU(0.1)
        >>> m(cr.tensor([-2.0, 0.0, 3.0]))
        tensor([-0.2,  0. ,  3. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        _args.number("LeakyReLU", "negative_slope", negative_slope)
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    r"""Leaky ReLU with a learned slope.

    $$
    \operatorname{PReLU}(x) = \begin{cases} x & x > 0 \\ a_c\,x & x \le 0 \end{cases}
    $$

    The slopes a are the parameter ``weight`` of shape (num_parameters,): one shared by all
    channels (``num_parameters=1``) or one per channel c (dim 1 of the input), initialised to
    ``init``.

    Args:
        num_parameters: 1, or the number of channels C (default 1).
        init: the initial slope (default 0.25).
        device: where the parameter lives (``'cpu'`` or ``'cuda'``).
        dtype: the parameter's dtype (default float32).

    Shape:
        - Input: (N, C, *) or (*) with one shared slope.
        - Output: the shape of the input.

    Example:
        >>> m = cr.nn.PReLU()
        >>> m(cr.tensor([-4.0, 2.0]))
        tensor([-1.,  2.], grad_fn=<PReLUBackward>)
        >>> m.weight.shape
        (1,)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        _args.integer("PReLU", "num_parameters", num_parameters, 1)
        _args.number("PReLU", "init", init)
        self.num_parameters, self.init = num_parameters, init
        arr = np.full((num_parameters,), init, np.dtype(dtype or np.float32))
        self.weight = Parameter(backend.to_device(arr, backend.normalize_device(device)))

    def reset_parameters(self) -> None:
        """Set every slope back to ``init``."""
        self.weight._data[...] = self.init

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    r"""Exponential linear unit, element-wise.

    $$
    \operatorname{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}
    $$

    Smooth at 0 for α = 1, with negative outputs that push the mean activation towards zero.

    Args:
        alpha: the scale α of the negative part (default 1).
        inplace: accepted for compatibility with PyTorch; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> m = cr.nn.ELU()
        >>> m(cr.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.6321,  0.    ,  2.    ])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        _args.number("ELU", "alpha", alpha)
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    r"""Gaussian error linear unit, element-wise.

    $$
    \operatorname{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 +
    \operatorname{erf}\left(\frac{x}{\sqrt{2}}\right)\right)
    $$

    where Φ is the standard normal CDF; with ``approximate='tanh'``:

    $$
    \operatorname{GELU}(x) \approx \frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x +
    0.044715\,x^{3})\right)\right)
    $$

    Args:
        approximate: ``'none'`` (exact, default) or ``'tanh'``.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> m = cr.nn.GELU()
        >>> m(cr.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.    ,  0.8413])
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        _args.choice("GELU", "approximate", approximate, ("none", "tanh"))
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    r"""Sigmoid linear unit (swish), element-wise.

    $$
    \operatorname{SiLU}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}
    $$

    Args:
        inplace: accepted for compatibility with PyTorch; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> m = cr.nn.SiLU()
        >>> m(cr.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.2689,  0.    ,  0.7311])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.silu(input)


class Softmax(Module):
    r"""Softmax along ``dim``: scores to probabilities that sum to 1.

    $$
    \operatorname{Softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}
    $$

    Computed as e^{x_i − m} / Σ_j e^{x_j − m} with m the maximum, so nothing overflows.

    Args:
        dim: the dimension the probabilities sum over (``None``: PyTorch's implicit choice, 0 for
            0-, 1- and 3-D inputs, else 1).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input, values in [0, 1] summing to 1 along ``dim``.

    Example:
        >>> m = cr.nn.Softmax(dim=1)
        >>> m(cr.tensor([[1.0, 2.0, 3.0]]))
        tensor([[0.09  , 0.2447, 0.6652]])
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim if dim is None else _args.integer("Softmax", "dim", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    r"""Logarithm of the softmax along ``dim``, computed stably.

    $$
    \operatorname{LogSoftmax}(x)_i = x_i - \log \sum_j e^{x_j}
    $$

    Pair it with ``NLLLoss``, or give the logits to ``CrossEntropyLoss``, which does both.

    Args:
        dim: the dimension of the classes (``None``: PyTorch's implicit choice, as ``Softmax``).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input, values ≤ 0.

    Example:
        >>> m = cr.nn.LogSoftmax(dim=1)
        >>> m(cr.tensor([[1.0, 2.0, 3.0]]))
        tensor([[-2.4076, -1.4076, -0.4076]])
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim if dim is None else _args.integer("LogSoftmax", "dim", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
