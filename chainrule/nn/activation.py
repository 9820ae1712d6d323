"""Activation layers.

Activation layers: ``ReLU``, ``Sigmoid``, ``Tanh``, ``Softplus``, ``LeakyReLU``, ``PReLU``,
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
        self.weight = new_parameter("PReLU", (num_parameters,), device, dtype, fill=init)

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
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


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


class Softmax2d(Module):
    r"""Softmax over the channels at every spatial position, as ``torch.nn.Softmax2d``.

    $$
    y_{c,h,w} = \frac{e^{x_{c,h,w}}}{\sum_{c'} e^{x_{c',h,w}}}
    $$

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

    $$
    \mathrm{SELU}(x) = \lambda_0 \left(\max(0, x) + \min(0, \alpha_0 (e^x - 1))\right)
    $$

    with $\alpha_0 \approx 1.6733$, $\lambda_0 \approx 1.0507$.

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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

    $$
    \mathrm{CELU}(x) = \max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))
    $$

    Args:
        alpha: α, nonzero (checked when the layer is built; PyTorch fails at the first call).
        inplace: accepted for compatibility; the result is always a new tensor.

    Raises:
        ValueError: ``alpha`` is 0.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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
    r"""Mish, a smooth self-gated activation, as ``torch.nn.Mish``.

    $$
    \mathrm{Mish}(x) = x \tanh\left(\log(1 + e^{x})\right)
    $$

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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

    $$
    \mathrm{Hardtanh}(x) = \min(\max(x, \text{min\_val}), \text{max\_val})
    $$

    Args:
        min_val: the lower end.
        max_val: the upper end, greater than ``min_val``.
        inplace: accepted for compatibility; the result is always a new tensor.
        min_value: deprecated spelling of ``min_val`` (warns), as PyTorch.
        max_value: deprecated spelling of ``max_val`` (warns), as PyTorch.

    Raises:
        ValueError: ``max_val`` is not greater than ``min_val``.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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
    r"""ReLU capped at 6, as ``torch.nn.ReLU6`` (a ``Hardtanh(0, 6)``).

    $$
    \mathrm{ReLU6}(x) = \min(\max(x, 0), 6)
    $$

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.ReLU6()(cr.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(Module):
    r"""Piecewise linear sigmoid, as ``torch.nn.Hardsigmoid``.

    $$
    \mathrm{Hardsigmoid}(x) = \frac{\min(\max(x + 3, 0), 6)}{6}
    $$

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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
    r"""Hard swish, as ``torch.nn.Hardswish``.

    $$
    \mathrm{Hardswish}(x) = x \cdot \frac{\min(\max(x + 3, 0), 6)}{6}
    $$

    Args:
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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
    r"""Logarithm of the sigmoid, stable for large $|x|$, as ``torch.nn.LogSigmoid``.

    $$
    \mathrm{LogSigmoid}(x) = \log \frac{1}{1 + e^{-x}} = -\log(1 + e^{-x})
    $$

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.LogSigmoid()(cr.tensor([0.0]))
        tensor([-0.6931])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.logsigmoid(input)


class Softsign(Module):
    r"""Softsign, element-wise, as ``torch.nn.Softsign``.

    $$
    \mathrm{Softsign}(x) = \frac{x}{1 + |x|}
    $$

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.Softsign()(cr.tensor([1.0]))
        tensor([0.5])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.softsign(input)


class Softmin(Module):
    r"""softmax(-x) along ``dim``, as ``torch.nn.Softmin``.

    $$
    \mathrm{Softmin}(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}}
    $$

    Args:
        dim: the dimension that sums to 1.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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
    r"""Tanhshrink, element-wise, as ``torch.nn.Tanhshrink``.

    $$
    \mathrm{Tanhshrink}(x) = x - \tanh(x)
    $$

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> cr.nn.Tanhshrink()(cr.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return A.tanhshrink(input)


class Threshold(Module):
    r"""x where x > threshold, else ``value``, as ``torch.nn.Threshold``.

    $$
    y = \begin{cases} x & x > \text{threshold} \\ \text{value} & \text{otherwise} \end{cases}
    $$

    Args:
        threshold: the cut (an input exactly at it becomes ``value``).
        value: the replacement.
        inplace: accepted for compatibility; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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

    $$
    \mathrm{GLU}(a, b) = a \otimes \sigma(b)
    $$

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
    r"""Hard shrinkage: x where |x| > λ, else 0, as ``torch.nn.Hardshrink``.

    $$
    \mathrm{Hardshrink}(x) = \begin{cases} x & |x| > \lambda \\ 0 & \text{otherwise} \end{cases}
    $$

    Args:
        lambd: λ.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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
    r"""Soft shrinkage: x − λ sign(x) where |x| > λ, else 0, as ``torch.nn.Softshrink``.

    $$
    \mathrm{Softshrink}(x) = \begin{cases}
    x - \lambda & x > \lambda \\
    x + \lambda & x < -\lambda \\
    0 & \text{otherwise}
    \end{cases}
    $$

    Args:
        lambd: λ ≥ 0.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

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
