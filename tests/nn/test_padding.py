"""Padding layers (zero, constant, reflection, replication, circular; 1-3 d) vs PyTorch."""

from __future__ import annotations

import pytest
import torch

import chainrule as cr
from tests.helpers import check, check_second_order, gradcheck_op

KINDS = ["Zero", "Constant", "Reflection", "Replication", "Circular"]
CASES = {  # nd: (padding, batched input shape)
    1: [(2, (2, 3, 5)), ((1, 3), (3, 4))],
    2: [(1, (2, 2, 4, 5)), ((1, 0, 2, 3), (2, 4, 5))],
    3: [(1, (1, 2, 3, 3, 4)), ((0, 1, 2, 1, 1, 0), (2, 3, 3, 4))],
}


def _pair(kind, nd, padding):
    name = f"{kind}Pad{nd}d"
    args = (padding, 1.5) if kind == "Constant" else (padding,)
    return getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_padding_layers_match_torch(kind, nd):
    for padding, shape in CASES[nd]:
        m, t = _pair(kind, nd, padding)
        assert repr(m) == repr(t) and m.padding == t.padding
        check(m, t, [shape])
    gradcheck_op(m, [shape])


def test_negative_constant_padding_crops():
    m, t = _pair("Zero", 2, (-1, 2, 0, -2))
    check(m, t, [(1, 2, 4, 5)])
    m, t = _pair("Constant", 1, (-2, 1))
    check(m, t, [(2, 3, 4)])


def test_padding_second_order():
    m, t = _pair("Reflection", 2, (1, 2, 2, 1))
    check_second_order(lambda x: m(x) ** 2, lambda x: t(x) ** 2, [(1, 1, 3, 4)])


def test_padding_errors():
    with pytest.raises(ValueError, match="ReflectionPad2d: padding must be an int >= 0 or a tuple of 4"):
        cr.nn.ReflectionPad2d(-1)
    with pytest.raises(TypeError, match="ZeroPad2d: padding must be an int or a tuple of 4 such ints"):
        cr.nn.ZeroPad2d((1, 2, 3))
    with pytest.raises(TypeError, match="ConstantPad1d: value must be a number"):
        cr.nn.ConstantPad1d(1, "a")
    with pytest.raises(RuntimeError, match="pad: reflect padding"):
        cr.nn.ReflectionPad1d(3)(cr.ones(1, 2, 3))
    with pytest.raises(NotImplementedError, match="pad: padding size 4 is not supported for 2D"):
        cr.nn.ReplicationPad2d(1)(cr.ones(3, 4))
    with pytest.raises(RuntimeError, match="pad: circular padding"):
        cr.nn.CircularPad1d(4)(cr.ones(1, 2, 3))
    with pytest.raises(TypeError, match="ZeroPad1d: input must be a Tensor"):
        cr.nn.ZeroPad1d(1)([1.0, 2.0])
