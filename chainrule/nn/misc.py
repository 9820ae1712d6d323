"""``GroupNorm`` and ``SmoothL1Loss``, as ``torch.nn`` (the math is in ``chainrule/ops/misc.py``)."""

from __future__ import annotations

from typing import Any

from chainrule.nn import init
from chainrule.nn.loss import _Loss
from chainrule.nn.module import Module, new_parameter
from chainrule.ops import misc as M
from chainrule.tensor import Tensor


class GroupNorm(Module):
    r"""Group normalisation (Wu & He, 2018).

    The C channels are split into ``num_groups`` groups; each (sample, group) is standardised over
    its channels and positions, then scaled and shifted per channel:

    $$
    y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \cdot \gamma + \beta
    $$

    (biased variance). Unlike batch normalisation it uses no batch statistics, so it behaves the
    same in training and evaluation and for batches of one.

    Args:
        num_groups: the number of groups G (dividing ``num_channels``).
        num_channels: the number of channels C.
        eps: ε added to the variance (default 1e-5).
        affine: learn γ (``weight``, ones) and β (``bias``, zeros) of shape (C,) (default True).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Shape:
        - Input: (N, C, *).
        - Output: (N, C, *), the shape of the input.

    Example:
        >>> m = cr.nn.GroupNorm(2, 4)
        >>> y = m(cr.randn(3, 4, 5, 5))
        >>> y.shape
        (3, 4, 5, 5)
        >>> round(float(y[0, :2].mean()), 4), round(float(y[0, :2].std(correction=0)), 2)
        (0.0, 1.0)
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
            self.weight = new_parameter("GroupNorm", (num_channels,), device, dtype, 1.0)
            self.bias = new_parameter("GroupNorm", (num_channels,), device, dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Set γ to ones and β to zeros."""
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
    r"""Smooth L1 loss: Huber's loss divided by β.

    $$
    \ell_i = \begin{cases} \frac{1}{2} d_i^2 / \beta & \lvert d_i \rvert < \beta \\ \lvert d_i \rvert -
    \frac{1}{2}\beta & \text{otherwise} \end{cases}, \qquad d_i = x_i - y_i
    $$

    averaged (``'mean'``), summed or returned per element; ``beta=0`` is the L1 loss.

    Args:
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        beta: the threshold β ≥ 0 between the two regimes (default 1).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.SmoothL1Loss()
        >>> loss_fn(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return M.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)
