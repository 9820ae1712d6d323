"""``dropout``: randomly zero activations while training (inverted dropout).

Each element is kept with probability 1 - p and scaled by 1/(1 - p), so the expected
value of every activation is unchanged and evaluation needs no rescaling:

    out = x · m / (1 - p),   m ~ Bernoulli(1 - p);    dx = grad · m / (1 - p).

The mask comes from ``chainrule.random`` (reproducible with ``cr.manual_seed``).
"""

from __future__ import annotations

from chainrule import random as _random
from chainrule.ops import _args
from chainrule.ops.elementwise import Mul
from chainrule.tensor import Tensor


def drop(input: Tensor, p: float, shape: tuple) -> Tensor:  # noqa: A002
    """The one dropout primitive: ``input · m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` drawn over
    ``shape`` (the input's shape, or a shape that broadcasts against it to drop whole channels),
    the mask divided by (1 - p) in the input's dtype as PyTorch does; all zeros when p = 1."""
    keep = _random.bernoulli(1.0 - p, shape, input.device)
    if p == 1.0:
        noise = keep.astype(input.dtype) * input.dtype.type(0.0)
    else:
        noise = keep.astype(input.dtype) / input.dtype.type(1.0 - p)
    return Mul.apply(input, Tensor._make(noise))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by 1/(1 - p) when ``training``;
    identity otherwise.  ``inplace`` is accepted for compatibility (the result is always new).

    Shapes: any -> same.  Example: ``F.dropout(cr.ones(4), 0.5)`` -> e.g. ``[2., 0., 2., 2.]``.
    """
    _args.probability("dropout", "dropout probability", p)
    if not training or p == 0.0:
        return input
    return drop(input, p, input.shape)
