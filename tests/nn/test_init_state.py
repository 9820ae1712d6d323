"""Default initialisation (distributions like PyTorch's), cr.nn.init against torch.nn.init, and
state_dict round trips with PyTorch; load_state_dict rejects wrong keys/shapes and changes nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import init
from tests.helpers import assert_close, to_cr


def _stats(a):
    a = np.asarray(a, np.float64)
    return a.mean(), a.std(), np.abs(a).max()


@pytest.mark.parametrize("fan_in,fan_out", [(400, 300), (64, 1000)])
def test_linear_default_init_like_torch(fan_in, fan_out):
    m, mt = nn.Linear(fan_in, fan_out), torch.nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    for name in ("weight", "bias"):
        ours, theirs = getattr(m, name).detach().numpy(), getattr(mt, name).detach().numpy()
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        mean, std, mx = _stats(ours)
        _, std_t, mx_t = _stats(theirs)
        assert mx <= bound and mx_t <= bound
        n = ours.size
        assert abs(mean) < 4 * bound / math.sqrt(3 * n)
        tol = 5 * math.sqrt(0.2 / n)  # 5 sigma of a uniform sample's std (relative)
        assert std == pytest.approx(bound / math.sqrt(3), rel=tol)
        assert std == pytest.approx(std_t, rel=1.5 * tol)


def test_default_init_of_other_layers_like_torch():
    pairs = [
        (nn.Embedding(300, 50), torch.nn.Embedding(300, 50)),
        (nn.BatchNorm1d(7), torch.nn.BatchNorm1d(7)),
        (nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))),
        (nn.PReLU(5), torch.nn.PReLU(5)),
    ]
    for m, mt in pairs:
        sd, sdt = m.state_dict(), mt.state_dict()
        assert list(sd) == list(sdt)
        for k in sd:
            a, b = sd[k].numpy(), sdt[k].numpy()
            assert a.shape == b.shape and a.dtype == b.dtype, k
            if isinstance(m, nn.Embedding):
                assert abs(a.mean()) < 0.05 and a.std() == pytest.approx(1.0, rel=0.03)
                assert a.std() == pytest.approx(b.std(), rel=0.05)
            else:
                np.testing.assert_array_equal(a, b, err_msg=f"{type(m).__name__}.{k}")


def test_init_seeded():
    cr.manual_seed(3)
    a = nn.Linear(4, 4).weight.detach().numpy()
    cr.manual_seed(3)
    b = nn.Linear(4, 4).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"])
def test_calculate_gain(name):
    assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    )


@pytest.mark.parametrize(
    "fn,kwargs,expected_std",
    [
        ("xavier_uniform_", {}, math.sqrt(2 / (200 + 300))),
        ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (200 + 300))),
        ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(2 / 300)),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 200)),
        ("uniform_", {"a": -2.0, "b": 2.0}, 4 / math.sqrt(12)),
        ("normal_", {"mean": 1.0, "std": 0.5}, 0.5),
    ],
)
def test_init_functions_like_torch(fn, kwargs, expected_std):
    w = cr.zeros(200, 300)
    wt = torch.zeros(200, 300)
    assert getattr(init, fn)(w, **kwargs) is w
    getattr(torch.nn.init, fn)(wt, **kwargs)
    a, b = w.numpy(), wt.numpy()
    assert a.std() == pytest.approx(expected_std, rel=0.02)
    assert a.std() == pytest.approx(b.std(), rel=0.03)
    assert a.mean() == pytest.approx(b.mean(), abs=0.04)
    if "uniform" in fn:
        assert np.abs(a - a.mean()).max() <= np.abs(b - b.mean()).max() * 1.01 + 1e-6


def test_orthogonal_constant_eye_and_conv_fans():
    for shape in ((6, 4), (4, 6), (3, 2, 2)):
        w = init.orthogonal_(cr.zeros(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        prod = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(prod, 4 * np.eye(prod.shape[0]), atol=1e-5)
    np.testing.assert_array_equal(init.constant_(cr.zeros(2, 2), 3.0).numpy(), np.full((2, 2), 3.0))
    np.testing.assert_array_equal(init.eye_(cr.zeros(2, 3)).numpy(), np.eye(2, 3))
    w, wt = cr.zeros(16, 8, 3, 3), torch.zeros(16, 8, 3, 3)
    init.kaiming_uniform_(w, a=math.sqrt(5))
    torch.nn.init.kaiming_uniform_(wt, a=math.sqrt(5))
    assert np.abs(w.numpy()).max() <= np.abs(wt.numpy()).max() * 1.01 and w.numpy().std() == pytest.approx(
        wt.numpy().std(), rel=0.05
    )
    assert init.kaiming_uniform_(cr.zeros(0, 3)).shape == (0, 3)  # empty: nothing to fill, no error
    with pytest.raises(ValueError, match="fan in and fan out can not be computed"):
        init.xavier_uniform_(cr.zeros(5))


# ----------------------------------------------------------------------------- state dicts


class Net(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.emb = lib.Embedding(10, 4, padding_idx=0)
        self.body = lib.Sequential(
            lib.Linear(4, 8), lib.BatchNorm1d(8), lib.ReLU(), lib.Dropout(0.2), lib.Linear(8, 3)
        )
        self.norm = lib.LayerNorm(3)
        self.act = lib.PReLU()

    def forward(self, idx):
        return self.act(self.norm(self.body(self.emb(idx).mean(1))))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        lib = torch.nn
        self.emb = lib.Embedding(10, 4, padding_idx=0)
        self.body = lib.Sequential(
            lib.Linear(4, 8), lib.BatchNorm1d(8), lib.ReLU(), lib.Dropout(0.2), lib.Linear(8, 3)
        )
        self.norm = lib.LayerNorm(3)
        self.act = lib.PReLU()

    def forward(self, idx):
        return self.act(self.norm(self.body(self.emb(idx).mean(1))))


def test_state_dict_round_trip_with_torch():
    m, mt = Net(nn), TorchNet()
    assert list(m.state_dict()) == list(mt.state_dict())
    for k, v in m.state_dict().items():
        assert tuple(v.shape) == tuple(mt.state_dict()[k].shape), k
    m.load_state_dict({k: to_cr(v) for k, v in mt.state_dict().items()})
    m.eval()
    mt.eval()
    idx = np.array([[1, 2, 0], [4, 4, 9]])
    assert_close(m(cr.tensor(idx)), mt(torch.tensor(idx)))
    # and back: our state dict loads into torch and gives the same outputs
    m2, mt2 = Net(nn), TorchNet()
    m2.train()
    m2.body[1](cr.randn(4, 8))  # move the running statistics away from their defaults
    mt2.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in m2.state_dict().items()})
    m2.eval()
    mt2.eval()
    assert_close(m2(cr.tensor(idx)), mt2(torch.tensor(idx)))
    # and ours to ours
    m3 = Net(nn).eval()
    m3.load_state_dict(m2.state_dict())
    assert_close(m3(cr.tensor(idx)), mt2(torch.tensor(idx)))


def test_state_dict_is_a_detached_copy_of_values():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    m2 = nn.Linear(2, 2)
    m2.load_state_dict(sd)
    with cr.no_grad():
        m2.weight.add_(1.0)
    assert not np.allclose(m2.weight.detach().numpy(), m.weight.detach().numpy())


def test_load_state_dict_rejects_wrong_keys_and_shapes_and_changes_nothing():
    m = Net(nn)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    good = {k: cr.zeros(*v.shape, dtype=v.dtype) for k, v in m.state_dict().items()}

    bad = dict(good)
    bad["body.9.weight"] = cr.zeros(2)
    del bad["norm.bias"]
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(bad)
    assert "unexpected key(s) in state_dict: 'body.9.weight'" in str(e.value)
    assert "missing key(s) in state_dict: 'norm.bias'" in str(e.value)

    bad = dict(good)
    bad["body.0.weight"] = cr.zeros(8, 5)
    with pytest.raises(RuntimeError, match=r"size mismatch for 'body.0.weight'.*\(8, 5\).*\(8, 4\)"):
        m.load_state_dict(bad)
    with pytest.raises(RuntimeError, match="size mismatch for 'body.0.weight'"):
        m.load_state_dict(bad, strict=False)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=f"{k} changed by a failed load")

    partial = {"norm.weight": cr.full((3,), 2.0), "extra": cr.zeros(1)}
    missing, unexpected = m.load_state_dict(partial, strict=False)
    assert unexpected == ["extra"] and "norm.bias" in missing
    np.testing.assert_array_equal(m.norm.weight.detach().numpy(), [2.0, 2.0, 2.0])


def test_trunc_normal_like_torch():
    w, wt = cr.zeros(300, 300), torch.zeros(300, 300)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=1.5)
    torch.nn.init.trunc_normal_(wt, mean=0.5, std=1.0, a=-1.0, b=1.5)
    a, b = w.numpy(), wt.numpy()
    assert a.min() >= -1.0 and a.max() <= 1.5
    assert a.mean() == pytest.approx(b.mean(), abs=0.02) and a.std() == pytest.approx(b.std(), rel=0.03)
    with pytest.raises(ValueError, match="trunc_normal_: expected a < b"):
        init.trunc_normal_(w, a=1.0, b=0.0)
