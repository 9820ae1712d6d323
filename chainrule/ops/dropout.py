"""``dropout``: randomly zero activations while training (inverted dropout).

Each element is kept with probability 1 - p and scaled by 1/(1 - p), so the expected
value of every activation is unchanged and evaluation needs no rescaling:

    out = x · m / (1 - p),   m ~ Bernoulli(1 - p);    dx = grad · m / (1 - p).

The mask comes from ``chainrule.random`` (reproducible with ``cr.manual_seed``).
"""

from __future__ import annotations

from chainrule import random as _random
from chainrule.ops.elementwise import Mul
from chainrule.tensor import Tensor


def _check_p(op: str, p: float) -> None:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Dropout.

    Zero each element with probability ``p`` and scale the rest by 1/(1 - p) when ``training``;
    identity otherwise.  ``inplace`` is accepted for compatibility (the result is always new).

    Shapes: any -> same.  Example: ``F.dropout(cr.ones(4), 0.5)`` -> e.g. ``[2., 0., 2., 2.]``.
    """
    _check_p("dropout", p)
    if not training or p == 0.0:
        return input
    xp_mask = _random.bernoulli(1.0 - p, input.shape, input.device)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = xp_mask.astype(input.dtype) * input.dtype.type(scale)
    return Mul.apply(input, Tensor._make(mask))
