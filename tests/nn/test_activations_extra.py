"""The activations added for the contract (SELU ... Softshrink) against PyTorch: values and
gradients on random inputs of several shapes, exactly at every breakpoint, float64 gradchecks,
second derivatives, stability at ±1000, the modules and the misuse errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests.helpers import assert_close, check, gradcheck_op, to_torch

TF = torch.nn.functional

# (chainrule function, torch function)
FUNCS = {
    "selu": (F.selu, TF.selu),
    "celu": (lambda x: F.celu(x), lambda x: TF.celu(x)),
    "celu_alpha": (lambda x: F.celu(x, alpha=0.7), lambda x: TF.celu(x, alpha=0.7)),
    "mish": (F.mish, TF.mish),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_args": (lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
    "relu6": (F.relu6, TF.relu6),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "softsign": (F.softsign, TF.softsign),
    "softmin0": (lambda x: F.softmin(x, 0), lambda x: TF.softmin(x, 0)),
    "softmin_last": (lambda x: F.softmin(x, dim=-1), lambda x: TF.softmin(x, dim=-1)),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "threshold": (lambda x: F.threshold(x, 0.3, -1.5), lambda x: TF.threshold(x, 0.3, -1.5)),
    "glu": (F.glu, TF.glu),
    "glu_dim0": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
    "hardshrink": (F.hardshrink, TF.hardshrink),
    "hardshrink_lambd": (lambda x: F.hardshrink(x, 1.2), lambda x: TF.hardshrink(x, 1.2)),
    "softshrink": (F.softshrink, TF.softshrink),
    "softshrink_lambd": (lambda x: F.softshrink(x, 1.2), lambda x: TF.softshrink(x, 1.2)),
}


@pytest.mark.parametrize("shape", [(4, 6, 2), (8,), (2, 4)])
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_against_torch(name, shape):
    f_cr, f_t = FUNCS[name]
    check(f_cr, f_t, [shape], low=-5, high=5)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float64_against_torch(name):
    f_cr, f_t = FUNCS[name]
    check(f_cr, f_t, [(6, 4)], dtype=np.float64, low=-5, high=5, rtol=1e-10, atol=1e-12)


# every breakpoint of every piecewise function, and points around it
EDGES = np.array(
    [-1000.0, -6.0, -3.0, -2.9, -1.2, -1.0, -0.5, -0.3, 0.0, 0.3, 0.5, 1.0, 1.2, 2.0, 2.9, 3.0, 6.0, 1000.0]
)


@pytest.mark.parametrize("name", sorted(n for n in FUNCS if not n.startswith(("glu", "softmin"))))
def test_values_and_gradients_exactly_at_the_kinks(name):
    f_cr, f_t = FUNCS[name]
    x = EDGES.astype(np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    out, out_t = f_cr(xc), f_t(xt)
    assert_close(out, out_t, rtol=1e-6, atol=1e-6)
    assert np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    out_t.sum().backward()
    assert_close(xc.grad, xt.grad, rtol=1e-6, atol=1e-7)  # PyTorch's choice at each kink


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradcheck_float64(name):
    f_cr, _ = FUNCS[name]
    gradcheck_op(f_cr, [(4, 4)], low=-4, high=4, seed=3)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_second_derivatives_like_torch(name):
    f_cr, f_t = FUNCS[name]
    r = np.random.default_rng(2)
    x = r.uniform(-4, 4, (4, 4))
    w = r.standard_normal(f_t(torch.tensor(x)).shape)
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    (g,) = cr.autograd.grad((f_cr(xc) * cr.tensor(w)).sum(), [xc], create_graph=True)
    (gt,) = torch.autograd.grad((f_t(xt) * to_torch(w)).sum(), [xt], create_graph=True)
    assert_close(g, gt, rtol=1e-10, atol=1e-12)
    (gg,) = cr.autograd.grad((g * g * xc).sum(), [xc])
    if name == "hardsigmoid":  # torch has no double backward here; the derivative is piecewise constant
        np.testing.assert_allclose(gg.numpy(), (g * g).detach().numpy(), rtol=1e-12)
        return
    (ggt,) = torch.autograd.grad((gt * gt * xt).sum(), [xt])
    assert_close(gg, ggt, rtol=1e-8, atol=1e-10)


def test_selu_and_celu_are_scaled_elus():
    x = cr.linspace(-3, 3, 13)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    expected = scale * np.where(x.numpy() > 0, x.numpy(), alpha * np.expm1(x.numpy()))
    np.testing.assert_allclose(F.selu(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(F.celu(x, 2.0).numpy(), F.elu(x / 2.0).numpy() * 2.0, rtol=1e-6, atol=1e-7)


def test_softmin_and_softmax2d():
    check(lambda x: nn.Softmax2d()(x), lambda x: torch.nn.Softmax2d()(x), [(2, 3, 4, 5)])
    check(lambda x: nn.Softmax2d()(x), lambda x: torch.nn.Softmax2d()(x), [(3, 4, 5)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = F.softmin(cr.tensor([[1.0, 2.0]]))
    assert any("implicit dimension" in str(w.message) for w in caught)
    assert_close(out, TF.softmin(torch.tensor([[1.0, 2.0]]), dim=1))
    assert F.softmin(cr.tensor([1.0, 2.0], dtype=cr.float32), 0, dtype=cr.float64).dtype == cr.float64


# (chainrule module, torch module): constructor arguments and defaults as PyTorch
MODULES = [
    (lambda m: m.SELU(), None),
    (lambda m: m.SELU(inplace=True), None),
    (lambda m: m.CELU(), None),
    (lambda m: m.CELU(alpha=1.7), None),
    (lambda m: m.Mish(), None),
    (lambda m: m.Hardtanh(), None),
    (lambda m: m.Hardtanh(-2.0, 0.5), None),
    (lambda m: m.Hardtanh(min_val=-0.1, max_val=0.1, inplace=False), None),
    (lambda m: m.ReLU6(), None),
    (lambda m: m.Hardsigmoid(), None),
    (lambda m: m.Hardswish(), None),
    (lambda m: m.LogSigmoid(), None),
    (lambda m: m.Softsign(), None),
    (lambda m: m.Softmin(dim=1), None),
    (lambda m: m.Tanhshrink(), None),
    (lambda m: m.Threshold(0.1, 20.0), None),
    (lambda m: m.Threshold(threshold=-1.0, value=0.0, inplace=True), None),
    (lambda m: m.GLU(), None),
    (lambda m: m.GLU(dim=1), None),
    (lambda m: m.Hardshrink(), None),
    (lambda m: m.Hardshrink(lambd=1.5), None),
    (lambda m: m.Softshrink(), None),
    (lambda m: m.Softshrink(0.25), None),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_modules_against_torch(i):
    make, _ = MODULES[i]
    m, mt = make(nn), make(torch.nn)
    check(
        lambda x: m(x), lambda x: mt(x * 1), [(4, 6)], low=-4, high=4
    )  # * 1: torch's inplace= needs a non-leaf
    assert repr(m) == repr(mt)
    assert m.inplace == mt.inplace if hasattr(mt, "inplace") else True


def test_hardtanh_deprecated_keywords():
    with pytest.warns(FutureWarning, match="Hardtanh: keyword argument m(in|ax)_value is deprecated"):
        m = nn.Hardtanh(min_value=-0.5, max_value=0.5)
    with pytest.warns(FutureWarning):
        mt = torch.nn.Hardtanh(min_value=-0.5, max_value=0.5)
    assert (m.min_val, m.max_val) == (mt.min_val, mt.max_val)


def test_inplace_is_accepted_and_the_input_kept():
    x = cr.tensor([-2.0, 0.5, 8.0])
    for f in (F.relu6, F.selu, F.hardsigmoid, F.hardswish, F.mish, F.hardtanh, F.celu):
        assert_close(f(x, inplace=True), f(x))
    assert_close(
        F.threshold(x, 1.0, 0.0, inplace=True), TF.threshold(torch.tensor([-2.0, 0.5, 8.0]), 1.0, 0.0)
    )
    np.testing.assert_array_equal(x.numpy(), [-2.0, 0.5, 8.0])


def test_errors():
    x = cr.randn(3, 5)
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(RuntimeError, match="celu: alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="CELU: alpha must be nonzero"):
        nn.CELU(alpha=0.0)
    with pytest.raises(RuntimeError, match="softshrink: lambd must be at least 0, but found -1"):
        F.softshrink(x, -1.0)
    with pytest.raises(ValueError, match="Softshrink: lambd must be a number >= 0"):
        nn.Softshrink(-0.5)
    with pytest.raises(RuntimeError, match=r"glu: halving dimension must be even, but dimension 1 is size 5"):
        F.glu(x)
    with pytest.raises(RuntimeError, match="glu: does not support scalars"):
        F.glu(cr.tensor(1.0))
    with pytest.raises(IndexError, match="glu: dimension out of range"):
        F.glu(x, 2)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(x)
    with pytest.raises(TypeError, match="mish: input must be a floating point Tensor, got dtype int64"):
        F.mish(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match="selu: input must be a Tensor, got list"):
        F.selu([1.0])
    with pytest.raises(TypeError, match="threshold: value must be a number"):
        F.threshold(x, 0.5, "zero")
    with pytest.raises(TypeError, match="Threshold: threshold must be a number"):
        nn.Threshold(None, 0.0)
    with pytest.raises(TypeError, match="GLU: dim must be an int"):
        nn.GLU(1.5)
