"""``dropout``: randomly zero activations while training (inverted dropout).

Each element is kept with probability 1 - p and scaled by 1/(1 - p), so the expected
value of every activation is unchanged and evaluation needs no rescaling:

    out = x · m / (1 - p),   m ~ Bernoulli(1 - p);    dx = grad · m / (1 - p).

The mask comes from ``chainrule.random`` (reproducible with ``cr.manual_seed``).
"""

from __future__ import annotations

import math

from chainrule import random as _random
from chainrule.ops import _args
from chainrule.ops.elementwise import Mul
from chainrule.tensor import Tensor


def drop(input: Tensor, p: float, shape: tuple) -> Tensor:  # noqa: A002
    """The one dropout primitive: ``input · m / (1 - p)`` with ``m ~ Bernoulli(1 - p)``.

    The mask is drawn over ``shape`` (the input's shape, or a shape that broadcasts against it to drop whole
    channels), the mask divided by (1 - p) in the input's dtype as PyTorch does; all zeros when p = 1.
    """
    keep = _random.bernoulli(1.0 - p, shape, input.device)
    if p == 1.0:
        noise = keep.astype(input.dtype) * input.dtype.type(0.0)
    else:
        noise = keep.astype(input.dtype) / input.dtype.type(1.0 - p)
    return Mul.apply(input, Tensor._make(noise))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Dropout.

    Zero each element with probability ``p`` and scale the rest by 1/(1 - p) when ``training``;
    identity otherwise.  ``inplace`` is accepted for compatibility (the result is always new).

    Shapes: any -> same.  Example: ``F.dropout(cr.ones(4), 0.5)`` -> e.g. ``[2., 0., 2., 2.]``.
    """
    _args.probability("dropout", "dropout probability", p)
    if not training or p == 0.0:
        return input
    return drop(input, p, input.shape)


SELU_ALPHA_PRIME = 1.7580993408473766  # -λα of SELU: the value a dropped unit is set to before the affine fix


def _alpha_dropout(op: str, input: Tensor, p: float, training: bool, feature: bool) -> Tensor:  # noqa: A002
    _args.probability(op, "dropout probability", p)
    _args.tensor(op, "input", input)
    if feature and input.ndim < 2:
        raise RuntimeError(
            f"{op}: feature dropout needs an input of at least 2 dims, got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    a = 1.0 / math.sqrt((SELU_ALPHA_PRIME**2 * p + 1.0) * (1.0 - p))
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else tuple(input.shape)
    keep = _random.bernoulli(1.0 - p, shape, input.device).astype(input.dtype)
    shift = (keep - 1.0) * (SELU_ALPHA_PRIME * a) + SELU_ALPHA_PRIME * a * p
    return input * Tensor._make(keep * input.dtype.type(a)) + Tensor._make(
        shift.astype(input.dtype, copy=False)
    )


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Dropout that keeps a SELU network's mean 0 and variance 1, as ``torch.nn.functional.alpha_dropout``.

    With m ~ Bernoulli(1 - p) per element, α' = 1.7580993408473766 and
    a = ((α'² p + 1)(1 - p))^{-1/2}:

    $$
    \text{out} = a\,(m\,x + (1 - m)(-\alpha')) + a\,\alpha' p
    $$

    so a dropped unit takes SELU's negative saturation value instead of 0, and the affine map
    restores the input's mean and variance.  Identity when not ``training`` (the default, as
    PyTorch) or p = 0; zeros for p = 1.  The draws come from ``chainrule.random`` (``cr.manual_seed``).

    Args:
        input: any shape.
        p: the probability of dropping an element.
        training: apply dropout (else return input).
        inplace: accepted for compatibility (the result is always a new tensor).

    Returns:
        A tensor of input's shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.alpha_dropout(cr.ones(3), 0.5)  # training=False: the identity
        tensor([1., 1., 1.])
    """
    return _alpha_dropout("alpha_dropout", input, p, training, feature=False)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:  # noqa: A002
    r"""Alpha dropout of whole channels, as ``torch.nn.functional.feature_alpha_dropout``.

    As ``alpha_dropout``, with one draw m per (sample, channel) of an (N, C, *) input:

    $$
    \text{out} = a\,(m\,x + (1 - m)(-\alpha')) + a\,\alpha' p
    $$

    Args:
        input: (N, C, *).
        p: the probability of dropping a channel.
        training: apply dropout (else return input).
        inplace: accepted for compatibility (the result is always a new tensor).

    Returns:
        A tensor of input's shape.

    Example:
        >>> F = cr.nn.functional
        >>> F.feature_alpha_dropout(cr.ones(2, 3, 4), 0.2, training=False).shape
        (2, 3, 4)
    """
    return _alpha_dropout("feature_alpha_dropout", input, p, training, feature=True)
