"""``Dropout``: randomly zero activations while training (a regulariser against co-adaptation).

Inverted dropout, as ``torch.nn.Dropout``: in ``train()`` mode each element is zeroed with
probability ``p`` and the survivors are scaled by 1/(1 - p); in ``eval()`` mode it is the identity.

Example::

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops.dropout import _check_p, dropout
from chainrule.tensor import Tensor


class Dropout(Module):
    r"""Dropout: zero each element with probability ``p`` while training.

    $$
    y_i = \frac{m_i\, x_i}{1 - p}, \qquad m_i \sim \operatorname{Bernoulli}(1 - p)
    $$

    in training mode (the scale keeps the expected value); the identity in evaluation mode
    (``model.eval()``). A regulariser: units cannot rely on particular others being present.

    Args:
        p: the probability of zeroing an element, in [0, 1] (default 0.5).
        inplace: accepted for compatibility with PyTorch; the result is always a new tensor.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the shape of the input.

    Example:
        >>> m = cr.nn.Dropout(p=0.5)
        >>> y = m(cr.ones(1000))
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
        >>> m.eval()(cr.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        _check_p("Dropout", p)
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
