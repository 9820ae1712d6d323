"""The PyTorch names scripts stop on, against PyTorch 2.13 (values and gradients) and float64 gradcheck:
mm, narrow, tril/triu, log1p, randn_like, new_*, smooth_l1_loss, GroupNorm, Dropout2d on 2-D input,
devices."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from tests.helpers import assert_close, check, gradcheck_op, to_cr, to_torch

F = nn.functional


def test_mm_matches_torch_and_rejects_non_matrices():
    check(lambda a, b: cr.mm(a, b), lambda a, b: torch.mm(a, b), [(3, 4), (4, 5)])
    check(lambda a, b: a.mm(b), None, [(2, 3), (3, 2)])
    gradcheck_op(lambda a, b: cr.mm(a, b), [(3, 4), (4, 2)])
    with pytest.raises(RuntimeError, match="mm: both arguments must be 2-D"):
        cr.mm(cr.ones(2, 3, 4), cr.ones(4, 2))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 4x2\)"):
        cr.mm(cr.ones(2, 3), cr.ones(4, 2))


@pytest.mark.parametrize("dim,start,length", [(0, 1, 2), (1, 0, 3), (-1, -3, 2), (1, 4, 0)])
def test_narrow_matches_torch(dim, start, length):
    check(lambda x: x.narrow(dim, start, length), None, [(3, 4)])
    gradcheck_op(lambda x: cr.narrow(x, dim, start, length), [(3, 4)])


def test_narrow_rejects_out_of_range():
    with pytest.raises(
        RuntimeError, match=r"narrow: start \(2\) \+ length \(3\) exceeds dimension size \(4\)"
    ):
        cr.ones(4).narrow(0, 2, 3)
    with pytest.raises(IndexError, match="out of range"):
        cr.ones(4).narrow(0, 5, 0)


@pytest.mark.parametrize("fn", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [0, 1, -1, 5])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (2, 4, 3)])
def test_tril_triu_match_torch(fn, diagonal, shape):
    check(lambda x: getattr(cr, fn)(x, diagonal), lambda x: getattr(torch, fn)(x, diagonal), [shape])
    check(lambda x: getattr(x, fn)(diagonal), None, [shape])
    gradcheck_op(lambda x: getattr(cr, fn)(x, diagonal), [shape])


def test_tril_rejects_1d_and_keeps_int_dtype():
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        cr.tril(cr.ones(3))
    out = cr.tril(cr.ones(3, 3, dtype=cr.int64))
    assert_close(out, torch.tril(torch.ones(3, 3, dtype=torch.int64)))


def test_tril_second_derivative():
    gradcheck_op(lambda x: (cr.tril(x) * cr.tril(x)).sum(), [(3, 3)])
    x = cr.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    (g,) = cr.autograd.grad((cr.tril(x) ** 2).sum(), x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)
    assert_close(gg, torch.tril(torch.full((3, 3), 2.0, dtype=torch.float64)))


def test_log1p_matches_torch_and_is_exact_near_zero():
    check(lambda x: cr.log1p(x), lambda x: torch.log1p(x), [(5, 3)], low=-0.9, high=3.0)
    check(lambda x: x.log1p(), None, [(4,)], low=-0.5, high=2.0)
    gradcheck_op(lambda x: cr.log1p(x), [(4,)], low=-0.5, high=2.0)
    tiny = cr.tensor([1e-10, -1e-12], dtype=cr.float64)
    assert_close(cr.log1p(tiny), torch.log1p(torch.tensor([1e-10, -1e-12], dtype=torch.float64)), 1e-12, 0)
    assert_close(cr.log1p(cr.tensor([0, 3])), torch.log1p(torch.tensor([0, 3])))


def test_randn_like_and_new_factories_keep_dtype_and_device():
    x = cr.zeros(2, 3, dtype=cr.float64)
    r = cr.randn_like(x)
    assert r.shape == (2, 3) and r.dtype == np.float64 and not r.requires_grad
    cr.manual_seed(3)
    a = cr.randn_like(cr.zeros(1000))
    assert abs(float(a.mean())) < 0.1 and abs(float(a.std()) - 1) < 0.1
    with pytest.raises(TypeError, match="randn_like: dtype must be floating point"):
        cr.randn_like(cr.zeros(2, dtype=cr.int64))
    t = torch.zeros(2, dtype=torch.float64)
    for name, args in [("new_zeros", (2, 3)), ("new_ones", ((4,),)), ("new_empty", (3,))]:
        ours, ref = getattr(x, name)(*args), getattr(t, name)(*args)
        assert ours.shape == tuple(ref.shape) and ours.dtype == np.float64
        if name != "new_empty":
            assert_close(ours, ref)
    assert_close(x.new_full((2, 2), 7.5), t.new_full((2, 2), 7.5))
    assert_close(x.new_tensor([1, 2]), t.new_tensor([1, 2]))
    assert x.new_zeros(2, dtype=cr.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="new_zeros: size must be non-negative ints"):
        x.new_zeros(-1)


@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_smooth_l1_loss_matches_torch(beta, reduction):
    check(
        lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        lambda x, y: torch.nn.functional.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        [(4, 3), (4, 3)],
    )
    check(
        lambda x, y: nn.SmoothL1Loss(reduction=reduction, beta=beta)(x, y),
        lambda x, y: torch.nn.SmoothL1Loss(reduction=reduction, beta=beta)(x, y),
        [(5,), (5,)],
    )
    if beta > 0:
        gradcheck_op(lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta), [(3, 2), (3, 2)])


def test_smooth_l1_loss_rejects_negative_beta():
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be a non-negative number"):
        F.smooth_l1_loss(cr.ones(2), cr.ones(2), beta=-1.0)


@pytest.mark.parametrize("groups,shape", [(2, (3, 4, 5)), (1, (2, 6, 3, 3)), (6, (2, 6, 4)), (3, (2, 6))])
def test_group_norm_matches_torch(groups, shape):
    c = shape[1]
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    check(
        lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-5),
        lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b, eps=1e-5),
        [shape, w, b],
        atol=1e-5,
        grad_rtol=1e-3,
        grad_atol=3e-4,  # float32: a group of two values cancels most digits of its gradient
    )
    gradcheck_op(lambda x, w, b: F.group_norm(x, groups, w, b), [shape, w, b])


def test_group_norm_module_as_torch():
    ours, ref = nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in ref.named_parameters()]
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    assert_close(ours(cr.tensor(x)), ref(torch.from_numpy(x)).detach(), 1e-5, 1e-5)
    assert_close(
        nn.GroupNorm(2, 4, affine=False)(cr.tensor(x)),
        torch.nn.GroupNorm(2, 4, affine=False)(torch.from_numpy(x)),
        1e-5,
        1e-5,
    )
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
        nn.GroupNorm(2, 5)
    with pytest.raises(RuntimeError, match=r"GroupNorm: expected input \(N, 4, \*\)"):
        ours(cr.ones(2, 3, 5))


def test_dropout2d_on_2d_input_warns_and_drops_elements():
    cr.manual_seed(0)
    with pytest.warns(UserWarning, match="2-D input"):
        y = nn.Dropout2d(0.5)(cr.ones(40, 50))
    vals = np.unique(y.numpy())
    assert set(vals.tolist()) <= {0.0, 2.0}
    rows_mixed = ((y.numpy() == 0).any(1) & (y.numpy() == 2).any(1)).sum()
    assert rows_mixed == 40  # one draw per element, not per row
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Dropout2d(0.5).eval()(cr.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match="dropout2d: expected 2-D, 3-D or 4-D input"):
        F.dropout2d(cr.ones(3))


def test_devices():
    d = cr.device("cpu:0")
    assert (d.type, d.index, str(d), repr(d)) == ("cpu", 0, "cpu:0", "device(type='cpu', index=0)")
    assert cr.device("cpu") == "cpu" and cr.device("cuda", 0) == cr.device("cuda:0")
    assert cr.device(d) is d
    x = cr.ones(2)
    assert x.to("cpu:0").device == "cpu" and x.to(cr.device("cpu")).device.type == "cpu"
    assert x.device == cr.device("cpu") and x.device.type == "cpu"
    assert cr.zeros(2, device=cr.device("cpu:0")).device == "cpu"
    with pytest.raises(RuntimeError, match="chainrule runs on 'cpu' and 'cuda' only"):
        cr.device("mps")
    with pytest.raises(RuntimeError, match="invalid device string"):
        cr.device("cpu:x")
    with pytest.raises(RuntimeError, match="one GPU"):
        cr.device("cuda:1")
    assert cr.cuda.is_available() == cr.accelerator.is_available()
    expect = cr.device("cuda") if cr.cuda.is_available() else None
    assert cr.accelerator.current_accelerator() == expect
    assert cr.cuda.device_count() == (1 if cr.cuda.is_available() else 0)


def test_to_cr_roundtrip_of_new_names():
    a = torch.randn(3, 3)
    assert_close(cr.triu(to_cr(a), 1), torch.triu(a, 1))
    assert to_torch(cr.tril(to_cr(a))).shape == (3, 3)
