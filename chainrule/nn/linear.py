"""``Linear``: the dense (fully connected) layer y = x Wᵀ + b."""

from __future__ import annotations

import math

from chainrule.nn import init
from chainrule.nn.module import Module, new_parameter
from chainrule.ops import _args
from chainrule.ops.linalg import bilinear, linear
from chainrule.tensor import Tensor


class Linear(Module):
    r"""Fully connected (dense) layer, as ``torch.nn.Linear``.

    $$
    y = x W^{\top} + b
    $$

    applied to the last dimension of x. Initialised as PyTorch: W and b drawn from
    U(−1/√in_features, 1/√in_features).

    Args:
        in_features: the size of each input sample.
        out_features: the size of each output sample.
        bias: learn the bias b (default True).
        device: where the parameters live (``'cpu'`` or ``'cuda'``).
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (*, in_features).
        - Output: (*, out_features).
        - ``weight``: (out_features, in_features); ``bias``: (out_features,).

    Example:
        >>> layer = cr.nn.Linear(784, 10)
        >>> layer(cr.randn(32, 784)).shape
        (32, 10)
        >>> layer.weight.shape, layer.bias.shape
        ((10, 784), (10,))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        in_features = _args.integer("Linear", "in_features", in_features, 0)
        out_features = _args.integer("Linear", "out_features", out_features, 0)
        self.in_features, self.out_features = in_features, out_features
        self.weight = new_parameter("Linear", (out_features, in_features), device, dtype)
        if bias:
            self.bias = new_parameter("Linear", (out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight and bias as at construction (PyTorch's initialisation)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = init.default_bounds(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Bilinear(Module):
    r"""y = x₁ᵀ A x₂ + b, one bilinear form per output feature, as ``torch.nn.Bilinear``.

    $$
    y_o = \sum_{i,j} x_{1,i}\, A_{o i j}\, x_{2,j} + b_o
    $$

    Parameters ``weight`` A (out_features, in1_features, in2_features) and ``bias`` (out_features,),
    both initialised U(-1/√in1_features, 1/√in1_features) as PyTorch.

    Args:
        in1_features: the size of x₁.
        in2_features: the size of x₂.
        out_features: the size of y.
        bias: learn b.

    Shape:
        - Input: (*, in1_features) and (*, in2_features)
        - Output: (*, out_features)

    Example:
        >>> m = cr.nn.Bilinear(3, 4, 5)
        >>> m(cr.randn(8, 3), cr.randn(8, 4)).shape
        (8, 5)
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        in1 = _args.integer("Bilinear", "in1_features", in1_features, 0)
        in2 = _args.integer("Bilinear", "in2_features", in2_features, 0)
        out = _args.integer("Bilinear", "out_features", out_features, 0)
        self.in1_features, self.in2_features, self.out_features = in1, in2, out
        self.weight = new_parameter("Bilinear", (out, in1, in2), device, dtype)
        if bias:
            self.bias = new_parameter("Bilinear", (out,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight and bias from U(-1/√in1, 1/√in1), PyTorch's initialisation."""
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
