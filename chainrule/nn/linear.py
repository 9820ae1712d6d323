"""``Linear``: the dense (fully connected) layer y = x Wᵀ + b."""

from __future__ import annotations

import math

from chainrule.nn import init
from chainrule.nn.module import Module, new_parameter
from chainrule.ops import _args
from chainrule.ops.linalg import linear
from chainrule.tensor import Tensor


class Linear(Module):
    """y = x Wᵀ + b, as ``torch.nn.Linear``.

    Shapes: input (*, in_features) -> output (*, out_features);
    ``weight`` (out_features, in_features), ``bias`` (out_features,).
    Initialised as PyTorch: W, b ~ U(-1/√in_features, 1/√in_features).

    Example::

        layer = nn.Linear(784, 10)
        layer(cr.randn(32, 784)).shape   # (32, 10)
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
