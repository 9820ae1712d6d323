"""BatchNorm3d, InstanceNorm1d/2d/3d, LocalResponseNorm and their functional forms vs PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import assert_close, check, check_module, check_second_order, gradcheck_op, to_torch

rng = np.random.default_rng(0)


def _copy_params(m, t):
    with torch.no_grad():
        for name, p in m.named_parameters():
            getattr(t, name).copy_(to_torch(p))


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 4, 3), (2, 2, 2, 3, 2)])
def test_instance_norm_functional(shape):
    c = shape[1]
    check(lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), [shape])
    check(
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
        lambda x, w, b: TF.instance_norm(x, weight=w, bias=b, eps=1e-3),
        [shape, (c,), (c,)],
    )
    rm, rv = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)
    check(
        lambda x, m, v: F.instance_norm(x, m, v, use_input_stats=False),
        lambda x, m, v: TF.instance_norm(x, m, v, use_input_stats=False),
        [shape, rm, rv],
        grad=False,
    )


def test_instance_norm_gradcheck_and_second_order():
    gradcheck_op(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [(2, 3, 5), (3,), (3,)])
    check_second_order(
        lambda x, w: F.instance_norm(x, weight=w),
        lambda x, w: TF.instance_norm(x, weight=w),
        [(2, 3, 4), (3,)],
    )


@pytest.mark.parametrize(
    "name,shape",
    [("InstanceNorm1d", (3, 4, 5)), ("InstanceNorm1d", (4, 6)), ("InstanceNorm2d", (2, 4, 3, 3))],
)
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (False, True), (True, True)])
def test_instance_norm_modules(name, shape, affine, track):
    m = getattr(cr.nn, name)(4, affine=affine, track_running_stats=track, momentum=0.2)
    t = getattr(torch.nn, name)(4, affine=affine, track_running_stats=track, momentum=0.2)
    assert list(m.state_dict()) == list(t.state_dict())
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]
    if affine:  # move off the default init so the affine part is tested
        with cr.no_grad():
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-1, 1)
        _copy_params(m, t)
    for step in range(2):
        check_module(m, t, [shape], seed=step)
    for key, value in t.state_dict().items():
        assert_close(m.state_dict()[key], value, what=key)
    m.eval()
    t.eval()
    check(m, t, [shape], seed=5)


def test_instance_norm_defaults_and_errors():
    m, t = cr.nn.InstanceNorm2d(3), torch.nn.InstanceNorm2d(3)
    assert (m.affine, m.track_running_stats, m.momentum, m.eps) == (False, False, 0.1, 1e-5)
    assert m.weight is None and m.running_mean is None and list(m.state_dict()) == list(t.state_dict())
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D or 4D input, got 2D"):
        m(cr.ones(3, 4))
    with pytest.warns(UserWarning, match="InstanceNorm2d: input's size at dim=1 does not match num_features"):
        m(cr.randn(1, 2, 3, 3))
    with pytest.raises(
        ValueError, match="InstanceNorm1d: expected input's size at dim=1 to match num_features"
    ):
        cr.nn.InstanceNorm1d(3, affine=True)(cr.ones(2, 4, 5))
    with pytest.raises(ValueError, match="instance_norm: expected more than 1 spatial element"):
        F.instance_norm(cr.ones(2, 3, 1))
    with pytest.raises(ValueError, match=r"instance_norm: weight should have shape \(3,\)"):
        F.instance_norm(cr.ones(2, 3, 4), weight=cr.ones(4))
    with pytest.raises(ValueError, match="instance_norm: running_mean and running_var are needed"):
        F.instance_norm(cr.ones(2, 3, 4), use_input_stats=False)


def test_batch_norm3d():
    m, t = cr.nn.BatchNorm3d(3, momentum=0.3), torch.nn.BatchNorm3d(3, momentum=0.3)
    assert list(m.state_dict()) == list(t.state_dict())
    check_module(m, t, [(2, 3, 2, 3, 2)])
    for key, value in t.state_dict().items():
        assert_close(m.state_dict()[key], value, what=key)
    m.eval()
    t.eval()
    check(m, t, [(2, 3, 2, 3, 2)], seed=2)
    with pytest.raises(ValueError, match="BatchNorm3d: expected 5D input, got 4D"):
        m(cr.ones(2, 3, 2, 2))
    with pytest.raises(ValueError, match="BatchNorm3d: expected 3 channels in dim 1"):
        m(cr.ones(2, 4, 2, 2, 2))


@pytest.mark.parametrize(
    "shape,args",
    [((2, 5, 4), (3,)), ((2, 5, 4, 3), (2, 0.1, 0.5, 2.0)), ((1, 4, 2, 2, 2), (4,)), ((2, 3, 6), (1,))],
)
def test_local_response_norm(shape, args):
    check(lambda x: F.local_response_norm(x, *args), lambda x: TF.local_response_norm(x, *args), [shape])
    m, t = cr.nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args)
    assert repr(m) == repr(t)
    check(m, t, [shape], seed=1)


def test_local_response_norm_gradients_and_errors():
    gradcheck_op(lambda x: F.local_response_norm(x, 3, alpha=0.5), [(2, 4, 3)])
    check_second_order(
        lambda x: F.local_response_norm(x, 3, alpha=0.5),
        lambda x: TF.local_response_norm(x, 3, alpha=0.5),
        [(1, 4, 3)],
    )
    with pytest.raises(ValueError, match="local_response_norm: expected 3D or higher"):
        F.local_response_norm(cr.ones(2, 3), 2)
    with pytest.raises(ValueError, match="LocalResponseNorm: size must be an int >= 1"):
        cr.nn.LocalResponseNorm(0)
