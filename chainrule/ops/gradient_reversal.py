"""``gradient_reversal``: identity forward, gradient multiplied by -α backward.

Used for domain-adversarial training (Ganin & Lempitsky, 2015): a feature extractor
followed by this layer and a domain classifier learns features that *confuse* the
domain classifier, because the gradient it receives is reversed.
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.tensor import Tensor


class GradientReversal(Function):
    """out = x;  dx = -α · grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x._data.view()

    @staticmethod
    def backward(ctx, grad):
        return grad * -ctx.alpha, None


def gradient_reversal(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """x unchanged, but its gradient becomes -alpha times the upstream gradient.

    Example: ``(F.gradient_reversal(x, 0.5) * 3).sum().backward()`` gives ``x.grad = -1.5``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient_reversal: expected a Tensor, got {type(input).__name__}")
    return GradientReversal.apply(input, float(alpha))
