"""Every optimizer, with several option combinations, follows PyTorch's trajectory step by step.

Same initial weights in both frameworks, 30 steps on a small float64 regression problem,
parameters compared after every step (rtol 1e-7).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.optim.problem import Pair, run_pair

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.005, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1, eps=1e-6)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-4, weight_decay=0.02)),
    ("Adadelta", dict(maximize=True, rho=0.3)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.9, weight_decay=0.1, alpha=0.3)),
    ("RMSprop", dict(lr=0.005, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.99), amsgrad=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.95))),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.02, betas=(0.7, 0.9), eps=1e-4, weight_decay=0.05)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.02, betas=(0.8, 0.95), momentum_decay=0.01, weight_decay=0.05)),
    ("NAdam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, maximize=True, betas=(0.4, 0.9))),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05)),
    ("RAdam", dict(lr=0.02, betas=(0.5, 0.7), weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.08))),
    ("Rprop", dict(lr=0.001, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.02)),
    ("ASGD", dict(lr=0.02, lambd=0.3, t0=0, maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


@pytest.mark.parametrize("name,kwargs", CASES, ids=[_ids(c) for c in CASES])
def test_trajectory_matches_torch(name, kwargs):
    run_pair(
        lambda ps: getattr(cr.optim, name)(ps, **kwargs),
        lambda ps: getattr(torch.optim, name)(ps, **kwargs, foreach=False),
    )


NAMES = [
    "SGD",
    "Adagrad",
    "Adadelta",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "ASGD",
]


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(name):
    """Same constructor defaults (the parameter groups hold every option with PyTorch's value)."""
    p = cr.zeros(2, requires_grad=True)
    kw = {"lr": 0.1} if name == "SGD" else {}
    ours = getattr(cr.optim, name)([p], **kw).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw).param_groups[0]
    for key, value in ours.items():
        if key != "params":
            assert theirs[key] == value, (key, value, theirs[key])


def test_param_groups_with_different_lrs():
    pair = Pair(1)
    cp, tp = pair.cr_params, pair.torch_params
    opt_cr = cr.optim.SGD(
        [{"params": cp[:2]}, {"params": cp[2:], "lr": 0.01, "momentum": 0.5}], lr=0.1, momentum=0.9
    )
    opt_t = torch.optim.SGD(
        [{"params": tp[:2]}, {"params": tp[2:], "lr": 0.01, "momentum": 0.5}], lr=0.1, momentum=0.9
    )
    assert [g["lr"] for g in opt_cr.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt_cr.param_groups] == [0.9, 0.5]
    for step in range(30):
        pair.train_step(opt_cr, opt_t)
        pair.assert_same(f"after step {step + 1}")
    pair.assert_moved()


def test_add_param_group_mid_training():
    pair = Pair(2)
    cp, tp = pair.cr_params, pair.torch_params
    opt_cr = cr.optim.Adam(cp[:2], lr=0.01)
    opt_t = torch.optim.Adam(tp[:2], lr=0.01, foreach=False)
    for _ in range(10):
        pair.train_step(opt_cr, opt_t, which={0, 1})
    opt_cr.add_param_group({"params": cp[2:], "lr": 0.05, "betas": (0.5, 0.9)})
    opt_t.add_param_group({"params": tp[2:], "lr": 0.05, "betas": (0.5, 0.9)})
    for step in range(10):
        pair.train_step(opt_cr, opt_t)
        pair.assert_same(f"after step {step + 11}")
    pair.assert_moved()


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_params_without_grad_are_skipped(name):
    """A parameter whose .grad is None is not moved and gets no state (as PyTorch, for its step count too)."""
    pair = Pair(3)
    kw = {"lr": 0.05, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.05}
    opt_cr = getattr(cr.optim, name)(pair.cr_params, **kw)
    opt_t = getattr(torch.optim, name)(pair.torch_params, **kw, foreach=False)
    for step in range(12):
        which = {0, 1, 2, 3} if step % 3 == 0 else {0, 2}  # params 1 and 3 only get a grad every 3rd step
        pair.train_step(opt_cr, opt_t, which=which)
        pair.assert_same(f"after step {step + 1}")
    frozen = pair.cr_params[3]
    before = frozen._data.copy()
    frozen.grad = None
    opt_cr.step()
    assert (frozen._data == before).all()


def test_frozen_parameter_never_moves():
    w = cr.tensor([[1.0, 2.0]], dtype=cr.float64, requires_grad=True)
    frozen = cr.tensor([3.0, 4.0], dtype=cr.float64)  # requires_grad False: never gets a grad
    opt = cr.optim.AdamW([w, frozen], lr=0.1, weight_decay=0.5)
    for _ in range(5):
        opt.zero_grad()
        (w * frozen).sum().backward()
        opt.step()
    assert frozen.tolist() == [3.0, 4.0] and frozen.grad is None
    assert len(opt.state[frozen]) == 0 and opt.state[w]["step"] == 5


def test_float32_matches_torch():
    """float32 parameters stay float32 (Python-float options don't upcast) and follow torch closely."""
    pair = Pair(4)
    cp = [cr.tensor(p._data.astype("float32"), requires_grad=True) for p in pair.cr_params]
    tp = [torch.tensor(p._data.astype("float32"), requires_grad=True) for p in pair.cr_params]
    pair.cr_params, pair.torch_params = cp, tp
    pair.cx, pair.cy = pair.cx.float(), pair.cy.float()
    pair.tx, pair.ty = pair.tx.float(), pair.ty.float()
    opt_cr = cr.optim.Adam(cp, lr=0.01, weight_decay=0.01)
    opt_t = torch.optim.Adam(tp, lr=0.01, weight_decay=0.01, foreach=False)
    for _ in range(30):
        pair.train_step(opt_cr, opt_t)
    for p in cp:
        assert p.dtype == cr.float32
    for st in opt_cr.state.values():
        assert st["exp_avg"].dtype == cr.float32 and st["exp_avg_sq"].dtype == cr.float32
    pair.assert_same(rtol=1e-4, atol=1e-5)


def test_closure_returns_loss_and_matches_torch():
    pair = Pair(5)
    opt_cr = cr.optim.NAdam(pair.cr_params, lr=0.01)
    opt_t = torch.optim.NAdam(pair.torch_params, lr=0.01, foreach=False)

    def closure_cr():
        opt_cr.zero_grad()
        loss = pair.loss_cr()
        loss.backward()
        return loss

    def closure_t():
        opt_t.zero_grad()
        loss = pair.loss_torch()
        loss.backward()
        return loss

    for _ in range(10):
        with cr.no_grad():  # the closure runs with grad recording on anyway
            lc = opt_cr.step(closure_cr)
        lt = opt_t.step(closure_t)
        assert abs(lc.item() - lt.item()) <= 1e-7 * abs(lt.item())
        pair.assert_same()


def test_zero_grad_set_to_none_false():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and g.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_step_bumps_version_of_updated_params():
    """A tensor saved for backward and then updated by step() is detected (in-place modification)."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    y = (w * w).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize(
    "name,kwargs",
    [("Adam", dict(lr=0.01)), ("SGD", dict(lr=0.1, momentum=0.9)), ("RMSprop", dict(lr=0.01, centered=True))],
)
def test_nn_model_matches_torch(name, kwargs):
    """With cr.nn modules (weights copied from torch.nn), 30 steps of classification follow torch."""
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    model = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.Tanh(), cr.nn.Linear(8, 3)).double()
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        p._data[...] = tp.detach().numpy()
    x = torch.randn(20, 2, dtype=torch.float64)
    y = torch.randint(0, 3, (20,))
    cx, cy = cr.tensor(x.numpy()), cr.tensor(y.numpy())
    opt = getattr(cr.optim, name)(model.parameters(), **kwargs)
    opt_t = getattr(torch.optim, name)(tmodel.parameters(), **kwargs, foreach=False)
    for step in range(30):
        opt.zero_grad()
        opt_t.zero_grad()
        cr.nn.functional.cross_entropy(model(cx), cy).backward()
        torch.nn.functional.cross_entropy(tmodel(x), y).backward()
        opt.step()
        opt_t.step()
        for p, tp in zip(model.parameters(), tmodel.parameters()):
            np.testing.assert_allclose(
                p._data, tp.detach().numpy(), rtol=1e-7, atol=1e-12, err_msg=f"step {step + 1}"
            )
