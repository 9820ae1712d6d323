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
    """out = x;  dL/dx = -alpha · dL/dout.  ``alpha`` may be changed between steps (e.g. a schedule)."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return gradient_reversal(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
