"""Activation ops and layers against PyTorch: values and gradients, float64 gradchecks,
stability at ±1000, PReLU's learned slope."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.ops.activation import erf_array
from tests.helpers import assert_close, check, gradcheck_op, to_cr, to_torch

TF = torch.nn.functional

# (chainrule function, torch function)
ELEMENTWISE = {
    "softplus": (lambda x: F.softplus(x), lambda x: TF.softplus(x)),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: TF.softplus(x, beta=2.0, threshold=3.0),
    ),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (lambda x: F.elu(x, alpha=1.5), lambda x: TF.elu(x, alpha=1.5)),
    "gelu": (lambda x: F.gelu(x), lambda x: TF.gelu(x)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (lambda x: F.silu(x), lambda x: TF.silu(x)),
    "relu": (lambda x: F.relu(x), lambda x: TF.relu(x)),
    "sigmoid": (lambda x: F.sigmoid(x), lambda x: torch.sigmoid(x)),
    "tanh": (lambda x: F.tanh(x), lambda x: torch.tanh(x)),
    "softmax0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
    "softmax1": (lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    "softmax_last": (lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1)),
    "log_softmax1": (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1)),
    "log_softmax_last": (lambda x: F.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1)),
    "erf": (lambda x: F.erf(x), lambda x: torch.erf(x)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_against_torch(name):
    f_cr, f_t = ELEMENTWISE[name]
    check(f_cr, f_t, [(4, 5, 3)], low=-4, high=4)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_gradcheck_float64(name):
    f_cr, _ = ELEMENTWISE[name]
    gradcheck_op(f_cr, [(3, 4)], low=-3, high=3, seed=1)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_stable_at_1000(name):
    f_cr, f_t = ELEMENTWISE[name]
    x = np.array([[1000.0, -1000.0, 0.0, 3.0], [-1000.0, -1000.0, 1000.0, 1000.0]], np.float32)
    xc = cr.tensor(x, requires_grad=True)
    xt = to_torch(x, requires_grad=True)
    out, out_t = f_cr(xc), f_t(xt)
    assert np.isfinite(out.detach().numpy()).all(), out
    assert_close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    assert np.isfinite(xc.grad.numpy()).all(), xc.grad
    assert_close(xc.grad, xt.grad)


def test_gelu_float64_matches_torch_closely():
    x = np.linspace(-9, 9, 2001)
    check(lambda a: F.gelu(a), lambda a: TF.gelu(a), [x], rtol=1e-7, atol=1e-12)


def test_erf_accuracy():
    x = np.linspace(-7, 7, 4001)
    expected = torch.special.erf(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(erf_array(x), expected, rtol=2e-15, atol=2e-15)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(erf_array(x32), torch.special.erf(torch.from_numpy(x32)).numpy(), atol=5e-7)
    assert erf_array(x32).dtype == np.float32
    assert np.isnan(erf_array(np.array([np.nan])))[0]


def test_second_derivatives():
    # create_graph through the hand-written backwards: d²/dx² of sum(f(x)) as torch
    for name in (
        "softplus",
        "gelu",
        "gelu_tanh",
        "silu",
        "elu",
        "log_softmax1",
        "softmax1",
        "erf",
    ):
        f_cr, f_t = ELEMENTWISE[name]
        x = np.random.default_rng(3).uniform(-2, 2, (3, 4))
        xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
        w = np.random.default_rng(4).standard_normal((3, 4))
        (g,) = cr.autograd.grad((f_cr(xc) * cr.tensor(w)).sum(), [xc], create_graph=True)
        (gt,) = torch.autograd.grad((f_t(xt) * to_torch(w)).sum(), [xt], create_graph=True)
        (gg,) = cr.autograd.grad((g * g).sum(), [xc])
        (ggt,) = torch.autograd.grad((gt * gt).sum(), [xt])
        assert_close(gg, ggt, rtol=1e-6, atol=1e-8, what=name)


MODULES = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(beta=0.5, threshold=2), lambda: torch.nn.Softplus(beta=0.5, threshold=2)),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.3), lambda: torch.nn.LeakyReLU(0.3)),
    (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_modules_against_torch(i, mode):
    make_cr, make_t = MODULES[i]
    m, mt = make_cr(), make_t()
    getattr(m, mode)()
    getattr(mt, mode)()
    check(m, mt, [(6, 4)], low=-5, high=5)
    assert list(m.parameters()) == []


@pytest.mark.parametrize("shape,num", [((5, 3), 3), ((2, 3, 4, 4), 3), ((2, 3, 7), 1), ((6,), 1)])
def test_prelu_against_torch(shape, num):
    m, mt = nn.PReLU(num), torch.nn.PReLU(num)
    assert tuple(m.weight.shape) == (num,)
    assert np.allclose(m.weight.numpy() if not m.weight.requires_grad else m.weight.detach().numpy(), 0.25)
    with torch.no_grad():
        mt.weight.copy_(torch.linspace(-0.5, 0.5, num))
    m.load_state_dict({"weight": to_cr(mt.weight.detach())})
    x = np.random.default_rng(0).uniform(-2, 2, shape).astype(np.float32)
    check(m, mt, [x])
    xc, xt = cr.tensor(x), to_torch(x)
    m(xc).sum().backward()
    mt(xt).sum().backward()
    assert_close(m.weight.grad, mt.weight.grad, what="slope gradient")


def test_prelu_slope_is_learned_like_torch():
    m, mt = nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    opt = cr.optim.SGD(m.parameters(), lr=0.5)
    opt_t = torch.optim.SGD(mt.parameters(), lr=0.5)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((8, 3)).astype(np.float32)
        y = rng.standard_normal((8, 3)).astype(np.float32)
        opt.zero_grad()
        opt_t.zero_grad()
        F.mse_loss(m(cr.tensor(x)), cr.tensor(y)).backward()
        TF.mse_loss(mt(torch.tensor(x)), torch.tensor(y)).backward()
        opt.step()
        opt_t.step()
    assert not np.allclose(m.weight.detach().numpy(), 0.1)  # it moved
    assert_close(m.weight.detach(), mt.weight.detach(), rtol=1e-5, atol=1e-6)


def test_prelu_gradcheck():
    w = cr.tensor([0.2, -0.3, 0.5], dtype=cr.float64, requires_grad=True)
    x = cr.tensor(np.random.default_rng(0).uniform(-1, 1, (4, 3, 2)), requires_grad=True)
    assert cr.autograd.gradcheck(F.prelu, (x, w))


def test_prelu_errors():
    with pytest.raises(ValueError, match=r"prelu: weight has 4 elements.*3 channels"):
        nn.PReLU(4)(cr.randn(2, 3))
    with pytest.raises(ValueError, match="PReLU: num_parameters"):
        nn.PReLU(0)


def test_softmax_implicit_dim_warns_like_torch():
    x = cr.randn(3, 4)
    with pytest.warns(UserWarning, match="implicit dimension"):
        out = F.softmax(x)
    assert_close(out, TF.softmax(to_torch(x), dim=1))
    assert_close(F.softmax(cr.tensor(2.0), 0), torch.tensor(1.0))


def test_errors_name_the_op():
    with pytest.raises(IndexError, match="softmax: dimension out of range"):
        F.softmax(cr.randn(2, 3), dim=2)
    with pytest.raises(ValueError, match="gelu: approximate must be"):
        F.gelu(cr.randn(2), approximate="fast")
    with pytest.raises(TypeError, match="elu: input must be a floating point Tensor"):
        F.elu(cr.tensor([1, 2]))
    with pytest.raises(ValueError, match="GELU"):
        nn.GELU("erf")


def test_softmax_rows_sum_to_one_and_dtype():
    x = cr.randn(5, 7, dtype=cr.float64)
    s = F.softmax(x, dim=1)
    assert s.dtype == np.float64
    np.testing.assert_allclose(s.numpy().sum(1), 1.0, rtol=1e-12)
    assert F.log_softmax(cr.randn(2, 3), 1, dtype=cr.float64).dtype == np.float64


def test_repr():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"


def test_prelu_create_graph_path():
    x = np.random.default_rng(0).uniform(-2, 2, (4, 3))
    w = np.array([0.1, -0.2, 0.3])
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    wc, wt = cr.tensor(w, requires_grad=True), to_torch(w, requires_grad=True)
    gs = cr.autograd.grad((F.prelu(xc, wc) ** 2).sum(), [xc, wc], create_graph=True)
    gts = torch.autograd.grad((TF.prelu(xt, wt) ** 2).sum(), [xt, wt], create_graph=True)
    for a, e in zip(gs, gts):
        assert_close(a, e, rtol=1e-10)
    second = cr.autograd.grad(gs[0].sum() + gs[1].sum(), [xc, wc])
    second_t = torch.autograd.grad(gts[0].sum() + gts[1].sum(), [xt, wt])
    for a, e in zip(second, second_t):
        assert_close(a, e, rtol=1e-10)
