"""``Dropout``: randomly zero activations while training (a regulariser against co-adaptation).

Inverted dropout, as ``torch.nn.Dropout``: in ``train()`` mode each element is zeroed with
probability ``p`` and the survivors are scaled by 1/(1 - p); in ``eval()`` mode it is the identity.

Example::

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops.dropout import alpha_dropout, dropout, feature_alpha_dropout
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
        _args.probability("Dropout", "dropout probability", p)
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class AlphaDropout(Module):
    r"""Dropout keeping the mean and variance of a SELU network, as ``torch.nn.AlphaDropout``.

    In ``train()`` mode, with m ~ Bernoulli(1 - p), α' = 1.7580993408473766 and
    a = ((α'² p + 1)(1 - p))^{-1/2}:

    $$
    \text{out} = a\,(m\,x + (1 - m)(-\alpha')) + a\,\alpha' p
    $$

    In ``eval()`` mode it is the identity.

    Args:
        p: the probability of dropping an element.
        inplace: accepted for compatibility.

    Shape:
        - Input: any
        - Output: the same

    Example:
        >>> m = cr.nn.AlphaDropout(0.2)
        >>> m.eval()(cr.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        _args.probability("AlphaDropout", "dropout probability", p)
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return alpha_dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class FeatureAlphaDropout(AlphaDropout):
    r"""Alpha dropout of whole channels of (N, C, *) inputs, as ``torch.nn.FeatureAlphaDropout``.

    As ``AlphaDropout`` with one draw m per (sample, channel):

    $$
    \text{out} = a\,(m\,x + (1 - m)(-\alpha')) + a\,\alpha' p
    $$

    Args:
        p: the probability of dropping a channel.
        inplace: accepted for compatibility.

    Shape:
        - Input: (N, C, *)
        - Output: the same

    Example:
        >>> m = cr.nn.FeatureAlphaDropout(0.2)
        >>> m(cr.ones(2, 3, 4)).shape
        (2, 3, 4)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return feature_alpha_dropout(input, self.p, self.training)
