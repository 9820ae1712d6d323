"""``GroupNorm`` and ``SmoothL1Loss``, as ``torch.nn`` (the math is in ``chainrule/ops/misc.py``)."""

from __future__ import annotations

from typing import Any

from chainrule.nn import init
from chainrule.nn.loss import _Loss
from chainrule.nn.module import Module, Parameter
from chainrule.nn.normalization import _empty
from chainrule.ops import misc as M
from chainrule.tensor import Tensor


class GroupNorm(Module):
    """Group normalisation.

    Group normalisation (Wu & He 2018): the C channels in ``num_groups`` groups, each (sample, group)
    standardised over its channels and positions; ``weight`` (ones) and ``bias`` (zeros) per channel.

    Unlike BatchNorm it uses no batch statistics, so it behaves the same in train and eval and for
    batches of one. Shapes: (N, C, *) -> same.

    Example: ``nn.GroupNorm(2, 4)(cr.randn(3, 4, 5, 5)).shape`` -> (3, 4, 5, 5).
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        if not isinstance(num_groups, int) or not isinstance(num_channels, int) or num_groups <= 0:
            raise ValueError(
                f"GroupNorm: num_groups and num_channels must be positive ints, "
                f"got {num_groups!r}, {num_channels!r}"
            )
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(_empty((num_channels,), device, dtype, 1.0))
            self.bias = Parameter(_empty((num_channels,), device, dtype, 0.0))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(
                f"GroupNorm: expected input (N, {self.num_channels}, *), got shape {tuple(input.shape)}"
            )
        return M.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class SmoothL1Loss(_Loss):
    """½ d²/β for |d| < β, |d| - ½β beyond (d = x - y): Huber's loss divided by β (``beta=1.0``)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return M.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)
