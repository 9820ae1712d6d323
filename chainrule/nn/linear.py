"""``Linear``: the dense (fully connected) layer y = x Wᵀ + b."""

from __future__ import annotations

import math

from chainrule import backend
from chainrule.backend import np
from chainrule.nn import init
from chainrule.nn.module import Module, Parameter
from chainrule.ops import _args
from chainrule.ops.linalg import linear
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
        dt = np.dtype(dtype or np.float32)
        dev = backend.normalize_device(device)
        self.weight = Parameter(backend.to_device(np.empty((out_features, in_features), dt), dev))
        if bias:
            self.bias = Parameter(backend.to_device(np.empty((out_features,), dt), dev))
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
