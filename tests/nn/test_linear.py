"""Bilinear and F.bilinear vs PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import check, check_module, check_second_order, gradcheck_op, to_torch


@pytest.mark.parametrize("lead", [(4,), (2, 3), ()], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(lead, bias):
    shapes = [(*lead, 3), (*lead, 4), (5, 3, 4)] + ([(5,)] if bias else [])
    check(F.bilinear, TF.bilinear, shapes)
    gradcheck_op(F.bilinear, shapes)


def test_bilinear_second_order():
    check_second_order(
        lambda a, b, w: F.bilinear(a, b, w) ** 2,
        lambda a, b, w: TF.bilinear(a, b, w) ** 2,
        [(2, 3), (2, 2), (4, 3, 2)],
    )


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(bias):
    m, t = cr.nn.Bilinear(3, 4, 5, bias=bias), torch.nn.Bilinear(3, 4, 5, bias=bias)
    assert repr(m) == repr(t)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t.named_parameters()
    ]
    bound = 1 / np.sqrt(3)  # U(-1/√in1, 1/√in1), as PyTorch
    big = cr.nn.Bilinear(3, 40, 50)
    for p in big.parameters():
        v = p.detach().numpy()
        assert v.min() >= -bound and v.max() <= bound and v.max() - v.min() > 1.5 * bound
    with torch.no_grad():
        for n, p in m.named_parameters():
            t.get_parameter(n).copy_(to_torch(p))
    check_module(m, t, [(6, 3), (6, 4)])


def test_bilinear_errors():
    with pytest.raises(RuntimeError, match="bilinear: input1 .* must have the same leading"):
        F.bilinear(cr.ones(2, 3), cr.ones(3, 4), cr.ones(5, 3, 4))
    with pytest.raises(RuntimeError, match="bilinear: input1 .* do not match weight"):
        F.bilinear(cr.ones(2, 3), cr.ones(2, 4), cr.ones(5, 3, 3))
    with pytest.raises(RuntimeError, match="bilinear: bias of shape \\(4,\\) does not match weight"):
        F.bilinear(cr.ones(2, 3), cr.ones(2, 4), cr.ones(5, 3, 4), cr.ones(4))
    with pytest.raises(RuntimeError, match="bilinear: weight must be 3-D"):
        F.bilinear(cr.ones(2, 3), cr.ones(2, 4), cr.ones(3, 4))
    with pytest.raises(ValueError, match="Bilinear: in1_features must be an int >= 0"):
        cr.nn.Bilinear(-1, 2, 3)
