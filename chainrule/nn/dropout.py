"""``Dropout``: randomly zero activations while training (a regulariser against co-adaptation).

Inverted dropout, as ``torch.nn.Dropout``: in ``train()`` mode each element is zeroed with
probability ``p`` and the survivors are scaled by 1/(1 - p); in ``eval()`` mode it is the identity.

Example::

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops.dropout import dropout
from chainrule.tensor import Tensor


class Dropout(Module):
    """Zero each element with probability ``p`` while training (scaling the rest by 1/(1 - p))."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        _args.probability("Dropout", "dropout probability", p)
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
