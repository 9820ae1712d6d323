"""``cr.optim.flush_subnormals``: off by default (optimizer state is PyTorch's, subnormals included);
when switched on, a dead unit's momentum, which decays toward 0 and would stick at the smallest
subnormals (where every later op runs many times slower), is flushed to 0, and parameters still
follow PyTorch, which keeps the subnormals (their effect is far below rounding)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

TINY = np.finfo(np.float32).tiny
SUB = np.float32(TINY / 8)  # a subnormal float32


@pytest.fixture
def flushing():
    previous = cr.optim.flush_subnormals(True)
    yield
    cr.optim.flush_subnormals(previous)


def _stuck_state(rng):
    w0 = rng.standard_normal((80, 64)).astype(np.float32)  # big enough to be checked (>= 4096)
    m0 = (rng.standard_normal((80, 64)) * 1e-3).astype(np.float32)
    m0[:3] = SUB  # rows 0-2: dead units, their momentum already decayed to a subnormal
    return w0, m0


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "Adamax", "RMSprop", "SGD"])
def test_dead_units_momentum_is_flushed_and_parameters_follow_torch(name, rng, flushing):
    w0, m0 = _stuck_state(rng)
    special = {"SGD": dict(lr=0.1, momentum=0.9), "RMSprop": dict(lr=0.01, centered=True)}
    kwargs = special.get(name, dict(lr=0.01))
    w, tw = cr.tensor(w0.copy(), requires_grad=True), torch.tensor(w0.copy(), requires_grad=True)
    opt, topt = getattr(cr.optim, name)([w], **kwargs), getattr(torch.optim, name)([tw], **kwargs)
    g0 = rng.standard_normal(w0.shape).astype(np.float32)
    w.grad, tw.grad = cr.tensor(g0), torch.from_numpy(g0.copy())
    opt.step()
    topt.step()  # creates the state; now plant the same subnormal momentum in both
    key = {"SGD": "momentum_buffer", "RMSprop": "grad_avg"}.get(name, "exp_avg")
    opt.state[w][key]._data[...] = m0
    topt.state[tw][key].copy_(torch.from_numpy(m0))
    g = rng.standard_normal(w0.shape).astype(np.float32)
    g[:3] = 0  # dead units: no gradient
    for _ in range(16):  # optimizers check their state on steps 1, 17, 33, ...
        w.grad, tw.grad = cr.tensor(g), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    m = opt.state[w][key]._data
    assert np.all(m[:3] == 0), m[:3]  # flushed, not stuck at subnormals
    assert not np.any((m != 0) & (np.abs(m) < TINY))
    assert np.all(np.abs(topt.state[tw][key].numpy()[:3]) > 0)  # PyTorch keeps them (the test can fail)
    np.testing.assert_allclose(m[3:], topt.state[tw][key].numpy()[3:], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=1e-5, atol=1e-6)  # 16 steps of rounding


def test_adam_second_moment_is_flushed_too(flushing):
    w = cr.tensor(np.ones((80, 64), np.float32), requires_grad=True)
    opt = cr.optim.Adam([w], lr=0.01)
    w.grad = cr.tensor(np.ones((80, 64), np.float32))
    opt.step()
    opt.state[w]["exp_avg_sq"]._data[...] = SUB
    w.grad = cr.tensor(np.zeros((80, 64), np.float32))
    for _ in range(15):  # steps 2-16: not yet checked
        opt.step()
    assert np.all(opt.state[w]["exp_avg_sq"]._data > 0)
    opt.step()  # step 17
    assert np.all(opt.state[w]["exp_avg_sq"]._data == 0)


def test_small_states_are_left_alone(flushing):
    """Under 4096 elements a subnormal costs nanoseconds and the check microseconds: no flush."""
    w = cr.tensor(np.ones((6, 5), np.float32), requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = cr.tensor(np.ones((6, 5), np.float32))
    opt.step()
    opt.state[w]["momentum_buffer"]._data[...] = SUB
    w.grad = cr.tensor(np.zeros((6, 5), np.float32))
    opt.step()
    assert np.all(opt.state[w]["momentum_buffer"]._data > 0)


@pytest.mark.parametrize("name", ["Adam", "SGD"])
def test_by_default_state_keeps_subnormals_as_torch(name, rng):
    assert cr.optim.flush_subnormals(False) is False  # the default
    w0, m0 = _stuck_state(rng)
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    w, tw = cr.tensor(w0.copy(), requires_grad=True), torch.tensor(w0.copy(), requires_grad=True)
    opt, topt = getattr(cr.optim, name)([w], **kwargs), getattr(torch.optim, name)([tw], **kwargs)
    key = "momentum_buffer" if name == "SGD" else "exp_avg"
    g = rng.standard_normal(w0.shape).astype(np.float32)
    w.grad, tw.grad = cr.tensor(g), torch.from_numpy(g.copy())
    opt.step()
    topt.step()
    opt.state[w][key]._data[...] = m0
    topt.state[tw][key].copy_(torch.from_numpy(m0))
    g[:3] = 0
    for _ in range(17):  # past step 17, where a flush would have happened
        w.grad, tw.grad = cr.tensor(g), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    m, tm = opt.state[w][key]._data, topt.state[tw][key].numpy()
    assert np.all(np.abs(m[:3]) > 0)  # still subnormal, as in PyTorch
    np.testing.assert_array_equal(m[:3], tm[:3])
    np.testing.assert_allclose(m, tm, rtol=1e-6, atol=0)
    np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_flush_subnormals_returns_the_previous_setting_and_checks_its_argument():
    assert cr.optim.flush_subnormals(True) is False
    assert cr.optim.flush_subnormals(False) is True
    with pytest.raises(TypeError, match="flush_subnormals: expected True or False, got 1"):
        cr.optim.flush_subnormals(1)
    assert cr.optim.flush_subnormals(False) is False  # the failed call changed nothing
