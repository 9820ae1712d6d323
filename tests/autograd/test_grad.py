"""cr.autograd.grad and higher-order derivatives vs torch.autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.ops.linalg import linear
from tests.helpers import assert_close, to_cr, to_torch


def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([3.0, -1.0], requires_grad=True)
    gx, gw = cr.autograd.grad((x * w).sum(), [x, w])
    assert gx.tolist() == [3.0, -1.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    (g,) = cr.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0]


def test_grad_outputs_and_several_outputs():
    a = np.array([0.3, -0.7, 1.1], np.float32)
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    v = np.array([1.0, 2.0, -1.0], np.float32)
    (g,) = cr.autograd.grad(x.tanh(), x, grad_outputs=cr.tensor(v))
    (tg,) = torch.autograd.grad(tx.tanh(), tx, grad_outputs=torch.tensor(v))
    assert_close(g, tg)
    (g,) = cr.autograd.grad([x.exp().sum(), (x * x).sum()], [x])
    (tg,) = torch.autograd.grad([tx.exp().sum(), (tx * tx).sum()], [tx])
    assert_close(g, tg)


def test_grad_wrt_non_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = cr.autograd.grad((h * h).sum(), h)
    assert gh.tolist() == [6.0, 12.0]


def test_grad_errors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    u = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad.*not used"):
        cr.autograd.grad((x * 2).sum(), [x, u])
    gx, gu = cr.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)
    assert gu is None and gx.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match=r"grad.*\(2,\)"):
        cr.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match="grad"):
        cr.autograd.grad((x * 2).sum(), cr.ones(2))
    y = (x * x).sum()
    cr.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match=r"(second time|freed)"):
        cr.autograd.grad(y, x)


def test_grad_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    (g1,) = cr.autograd.grad(y, x, retain_graph=True)
    (g2,) = cr.autograd.grad(y, x)
    assert g1.tolist() == g2.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("value", [-1.3, 0.0, 0.4, 2.0])
def test_second_derivative_of_tanh(value):
    x = cr.tensor(value, dtype=cr.float64, requires_grad=True)
    (d1,) = cr.autograd.grad(x.tanh(), x, create_graph=True)
    assert d1.requires_grad
    (d2,) = cr.autograd.grad(d1, x)
    tx = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    (td1,) = torch.autograd.grad(tx.tanh(), tx, create_graph=True)
    (td2,) = torch.autograd.grad(td1, tx)
    assert_close(d1, td1, rtol=1e-12, atol=1e-12)
    assert_close(d2, td2, rtol=1e-12, atol=1e-12)
    t = np.tanh(value)
    np.testing.assert_allclose(d2.item(), -2 * t * (1 - t * t), rtol=1e-12, atol=1e-15)


def _cat(x):
    return cr.cat([x, x * x]) if isinstance(x, cr.Tensor) else torch.cat([x, x * x])


@pytest.mark.parametrize(
    "name,fn,lo,hi",
    [
        ("exp", lambda x: x.exp(), -1, 1),
        ("log", lambda x: x.log(), 0.5, 2),
        ("sqrt", lambda x: x.sqrt(), 0.5, 2),
        ("sin", lambda x: x.sin(), -2, 2),
        ("cos", lambda x: x.cos(), -2, 2),
        ("sigmoid", lambda x: x.sigmoid(), -2, 2),
        ("pow3", lambda x: x**3, -2, 2),
        ("div", lambda x: 1.0 / x, 0.5, 2),
        ("softplus", lambda x: (x.exp() + 1).log(), -2, 2),
        ("logsumexp", lambda x: x.logsumexp(0), -2, 2),
        ("var", lambda x: x.var(0), -2, 2),
        ("std", lambda x: x.std(0), -2, 2),
        ("norm", lambda x: x.norm(), -2, 2),
        ("mean_sq", lambda x: (x * x).mean(0), -2, 2),
        ("relu_sq", lambda x: x.relu() ** 2, -2, 2),
        ("abs_x", lambda x: x.abs() * x, -2, 2),
        ("max_x", lambda x: x.max() * x, -2, 2),
        ("clamp_sq", lambda x: x.clamp(-0.5, 0.5) * x, -2, 2),
        ("matmul", lambda x: x.reshape(2, 2) @ x.reshape(2, 2), -2, 2),
        ("index", lambda x: x[np.array([0, 0, 3])] ** 2, -2, 2),
        ("cat", _cat, -2, 2),
        (
            "linear",
            lambda x: (
                F.linear(x.reshape(2, 2), x.reshape(2, 2) * 2, x[:2])
                if isinstance(x, torch.Tensor)
                else linear(x.reshape(2, 2), x.reshape(2, 2) * 2, x[:2])
            ),
            -2,
            2,
        ),
        ("max_dim", lambda x: x.reshape(2, 2).max(1)[0] * x[:2], -2, 2),
        ("amax", lambda x: x.reshape(2, 2).amax(0) * x[1:3], -2, 2),
        ("where", lambda x: (cr if isinstance(x, cr.Tensor) else torch).where(x > 0, x * x, x.exp()), -2, 2),
        ("maximum", lambda x: (cr if isinstance(x, cr.Tensor) else torch).maximum(x, x * x - 1) * x, -2, 2),
        ("expand_permute", lambda x: x.reshape(2, 2, 1).expand(2, 2, 3).permute(2, 0, 1) ** 3, -2, 2),
        ("repeat_T", lambda x: x.reshape(2, 2).repeat(2, 1).T @ x.reshape(2, 2).repeat(2, 1), -2, 2),
        ("mean_keepdim", lambda x: x.reshape(2, 2).mean(1, keepdim=True) * x.reshape(2, 2), -2, 2),
        ("pow_tensor", lambda x: x.abs() ** x, 0.5, 2),
        ("sub_div", lambda x: (x - 1.0) / (x * x + 1.0), -2, 2),
    ],
)
def test_hessian_diagonal_and_hvp_vs_torch(name, fn, lo, hi):
    a = np.random.default_rng(3).uniform(lo, hi, 4)
    v = np.random.default_rng(4).standard_normal(4)
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = fn(x), fn(tx)
    up = np.random.default_rng(5).standard_normal(tout.shape)
    (g,) = cr.autograd.grad(out, x, grad_outputs=cr.tensor(up), create_graph=True)
    (tg,) = torch.autograd.grad(tout, tx, grad_outputs=torch.tensor(up), create_graph=True)
    assert_close(g, tg, rtol=1e-10, atol=1e-12)
    (h,) = cr.autograd.grad((g * cr.tensor(v)).sum(), x, allow_unused=True)
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx, allow_unused=True)
    if th is None:
        assert h is None or not np.any(h.numpy())
    else:
        assert_close(h, th, rtol=1e-9, atol=1e-12)


def _mlp_loss(m, x, y, w1, b1, w2, b2):
    h = (x @ w1 + b1).tanh()
    logits = h @ w2 + b2
    if m is torch:
        lse = torch.logsumexp(logits, 1, keepdim=True)
    else:
        lse = logits.logsumexp(1, keepdim=True)
    logp = logits - lse
    return -(logp * y).sum() / x.shape[0] + 0.01 * (w1 * w1).sum()


def test_hessian_vector_product_of_mlp_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    y = np.eye(4)[rng.integers(0, 4, 5)]
    params = [
        rng.standard_normal((3, 6)) * 0.5,
        rng.standard_normal(6) * 0.1,
        rng.standard_normal((6, 4)) * 0.5,
        rng.standard_normal(4) * 0.1,
    ]
    vs = [rng.standard_normal(p.shape) for p in params]

    cp = [cr.tensor(p, requires_grad=True) for p in params]
    loss = _mlp_loss(cr, cr.tensor(x), cr.tensor(y), *cp)
    grads = cr.autograd.grad(loss, cp, create_graph=True)
    gv = sum((g * cr.tensor(v)).sum() for g, v in zip(grads, vs))
    hvp = cr.autograd.grad(gv, cp)

    tp = [torch.tensor(p, requires_grad=True) for p in params]
    tloss = _mlp_loss(torch, torch.tensor(x), torch.tensor(y), *tp)
    tgrads = torch.autograd.grad(tloss, tp, create_graph=True)
    tgv = sum((g * torch.tensor(v)).sum() for g, v in zip(tgrads, vs))
    thvp = torch.autograd.grad(tgv, tp)

    assert_close(loss, tloss, rtol=1e-12)
    for a, b in zip(grads, tgrads):
        assert_close(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(hvp, thvp):
        assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_backward_create_graph_accumulates_differentiable_grad():
    x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    tx = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    (tx**3).sum().backward(create_graph=True)
    tg = tx.grad
    tx.grad = None
    tg.sum().backward()
    assert_close(x.grad, tx.grad)


def test_third_derivative():
    x = cr.tensor(0.7, dtype=cr.float64, requires_grad=True)
    y = x.sin() * x
    (d1,) = cr.autograd.grad(y, x, create_graph=True)
    (d2,) = cr.autograd.grad(d1, x, create_graph=True)
    (d3,) = cr.autograd.grad(d2, x)
    tx = to_torch(x)
    ty = tx.sin() * tx
    (t1,) = torch.autograd.grad(ty, tx, create_graph=True)
    (t2,) = torch.autograd.grad(t1, tx, create_graph=True)
    (t3,) = torch.autograd.grad(t2, tx)
    assert_close(d3, t3, rtol=1e-12)
    assert_close(to_cr(t3), t3)
