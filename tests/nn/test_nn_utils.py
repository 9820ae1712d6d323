"""cr.nn.utils against torch.nn.utils: gradient clipping, weight_norm, parameter vectors; and our
penalty (value, gradient, what it skips)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import utils
from tests.helpers import assert_close, to_cr


def twin_mlps():
    """The same small MLP in both frameworks, with gradients from one backward pass."""
    mt = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    m = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    m.load_state_dict({k: to_cr(v) for k, v in mt.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32) * 3
    (m(cr.tensor(x)) ** 2).sum().backward()
    (mt(torch.tensor(x)) ** 2).sum().backward()
    return m, mt


@pytest.mark.parametrize(
    "max_norm,norm_type", [(0.5, 2.0), (1e4, 2.0), (0.3, 1.0), (0.1, float("inf")), (0.7, 3.0)]
)
def test_clip_grad_norm_like_torch(max_norm, norm_type):
    m, mt = twin_mlps()
    total = utils.clip_grad_norm_(m.parameters(), max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(mt.parameters(), max_norm, norm_type)
    assert isinstance(total, cr.Tensor) and total.shape == ()
    assert_close(total, total_t, rtol=1e-5)
    for p, pt in zip(m.parameters(), mt.parameters()):
        assert_close(p.grad, pt.grad, rtol=1e-5, atol=1e-7)
    if max_norm < 1:
        norm = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum() for p in m.parameters()))
        if norm_type == 2.0:
            assert norm == pytest.approx(max_norm, rel=1e-4)


def test_clip_grad_norm_single_tensor_none_grads_and_nonfinite():
    p = cr.tensor([3.0, 4.0], requires_grad=True)
    p.grad = cr.tensor([3.0, 4.0])
    q = cr.tensor([1.0], requires_grad=True)  # no grad: skipped
    assert utils.clip_grad_norm_([p, q], 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert utils.clip_grad_norm_(q, 1.0).item() == 0.0
    p.grad = cr.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of order 2.0 .* non-finite"):
        utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_like_torch():
    m, mt = twin_mlps()
    utils.clip_grad_value_(m.parameters(), 0.5)
    torch.nn.utils.clip_grad_value_(mt.parameters(), 0.5)
    for p, pt in zip(m.parameters(), mt.parameters()):
        assert_close(p.grad, pt.grad)
        assert np.abs(p.grad.numpy()).max() <= 0.5


def test_parameters_to_vector_and_back():
    m, mt = twin_mlps()
    v = utils.parameters_to_vector(m.parameters())
    assert_close(v, torch.nn.utils.parameters_to_vector(mt.parameters()))
    new = cr.arange(v.shape[0], dtype=cr.float32)
    utils.vector_to_parameters(new, m.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(v.shape[0], dtype=torch.float32), mt.parameters())
    for p, pt in zip(m.parameters(), mt.parameters()):
        assert_close(p.detach(), pt.detach())
    with pytest.raises(ValueError, match="vector_to_parameters: vec has shape"):
        utils.vector_to_parameters(cr.zeros(3), m.parameters())
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (utils.parameters_to_vector([w]) * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])


def torch_weight_norm(module, name="weight", dim=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torch.nn.utils.weight_norm(module, name, dim)


@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_weight_norm_like_torch(dim):
    lt = torch_weight_norm(torch.nn.Linear(5, 4), dim=dim)
    lc = utils.weight_norm(nn.Linear(5, 4), dim=dim)
    assert [n for n, _ in lc.named_parameters()] == [n for n, _ in lt.named_parameters()]
    assert list(lc.state_dict()) == list(lt.state_dict())
    assert tuple(lc.weight_g.shape) == tuple(lt.weight_g.shape)
    lc.load_state_dict({k: to_cr(v) for k, v in lt.state_dict().items()})
    opt, opt_t = cr.optim.SGD(lc.parameters(), lr=0.1), torch.optim.SGD(lt.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(3):  # the weight is recomputed from g and v before every forward
        x = rng.standard_normal((3, 5)).astype(np.float32)
        opt.zero_grad()
        opt_t.zero_grad()
        out, out_t = lc(cr.tensor(x)), lt(torch.tensor(x))
        assert_close(out, out_t, rtol=1e-5)
        (out**2).sum().backward()
        (out_t**2).sum().backward()
        for (n, p), (_, pt) in zip(lc.named_parameters(), lt.named_parameters()):
            assert_close(p.grad, pt.grad, rtol=1e-4, atol=1e-6, what=n)
        opt.step()
        opt_t.step()
    utils.remove_weight_norm(lc)
    torch.nn.utils.remove_weight_norm(lt)
    assert (
        [n for n, _ in lc.named_parameters()] == [n for n, _ in lt.named_parameters()] == ["bias", "weight"]
    )
    assert_close(lc.weight.detach(), lt.weight.detach(), rtol=1e-5)


def test_weight_norm_errors():
    layer = utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="weight_norm: cannot register two weight_norm hooks"):
        utils.weight_norm(layer)
    with pytest.raises(ValueError, match="weight_norm: Linear has no parameter 'kernel'"):
        utils.weight_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(ValueError, match="remove_weight_norm: weight_norm of 'weight' not found"):
        utils.remove_weight_norm(nn.Linear(2, 2))


class WithNorms(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.ln = nn.LayerNorm(4)
        self.emb = nn.Embedding(5, 4)
        self.rnn = nn.RNN(4, 2)
        self.scale = nn.Parameter(cr.tensor([2.0, -3.0]))
        self.bias_extra = nn.Parameter(cr.tensor([100.0]))


def test_penalty_value_and_what_it_skips():
    m = WithNorms()
    included = [m.fc.weight, m.emb.weight, m.rnn.weight_ih_l0, m.rnn.weight_hh_l0, m.scale]
    l1 = sum(np.abs(p.detach().numpy()).sum() for p in included)
    l2 = sum((p.detach().numpy() ** 2).sum() for p in included)
    value = utils.penalty(m, l1=0.01, l2=0.1)
    assert value.shape == ()
    assert value.item() == pytest.approx(0.01 * l1 + 0.5 * 0.1 * l2, rel=1e-5)
    value.backward()
    for p in included:
        expected = 0.01 * np.sign(p.detach().numpy()) + 0.1 * p.detach().numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-5, atol=1e-7)
    skipped = [
        m.fc.bias,
        m.bn.weight,
        m.bn.bias,
        m.ln.weight,
        m.ln.bias,
        m.rnn.bias_ih_l0,
        m.rnn.bias_hh_l0,
        m.bias_extra,
    ]
    assert all(p.grad is None for p in skipped)


def test_penalty_edge_cases():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    m[1].weight = m[0].weight  # shared: counted once
    w = m[0].weight.detach().numpy()
    assert utils.penalty(m, l2=2.0).item() == pytest.approx((w**2).sum(), rel=1e-5)
    assert utils.penalty(m).item() == 0.0
    assert utils.penalty(nn.BatchNorm1d(3), l1=1.0).item() == 0.0
    with pytest.raises(ValueError, match="penalty: l1 and l2 must be non-negative"):
        utils.penalty(m, l1=-1.0)
    assert utils.penalty(nn.Linear(2, 2, dtype=cr.float64), l1=1.0).dtype == np.float64


def test_penalty_as_weight_decay_matches_torch_sgd_weight_decay():
    # for plain SGD, adding ½·λ·Σw² to the loss is exactly weight_decay=λ on the weights
    lt = torch.nn.Linear(3, 1, bias=False)
    lc = nn.Linear(3, 1, bias=False)
    lc.load_state_dict({k: to_cr(v) for k, v in lt.state_dict().items()})
    opt, opt_t = (
        cr.optim.SGD(lc.parameters(), lr=0.1),
        torch.optim.SGD(lt.parameters(), lr=0.1, weight_decay=0.05),
    )
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    for _ in range(3):
        opt.zero_grad()
        opt_t.zero_grad()
        (lc(cr.tensor(x)).sum() + utils.penalty(lc, l2=0.05)).backward()
        lt(torch.tensor(x)).sum().backward()
        opt.step()
        opt_t.step()
    assert_close(lc.weight.detach(), lt.weight.detach(), rtol=1e-5)
