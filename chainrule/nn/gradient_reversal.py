"""``GradientReversal``: identity in the forward pass, gradient × (-alpha) in the backward pass.

For domain adaptation (DANN): put it between the feature extractor and the domain
classifier, so minimising the domain loss trains the features to *hide* the domain.

Example::

    domain_head = nn.Sequential(nn.GradientReversal(alpha=1.0), nn.Linear(64, 2))
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops.gradient_reversal import gradient_reversal
from chainrule.tensor import Tensor


class GradientReversal(Module):
    r"""Gradient reversal: the identity forward, the gradient times −α backward (Ganin & Lempitsky, 2015).

    $$
    y = x, \qquad \frac{\partial L}{\partial x} = -\alpha\, \frac{\partial L}{\partial y}
    $$

    Placed between a feature extractor and a domain classifier, it makes the features learn to
    fool the classifier (domain-adversarial training). ``alpha`` may be changed between steps.

    Args:
        alpha: the factor α of the reversed gradient (default 1).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the input's values.

    Example:
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> cr.nn.GradientReversal(alpha=0.5)(x).sum().backward()
        >>> x.grad
        tensor([-0.5, -0.5])
    """

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return gradient_reversal(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
