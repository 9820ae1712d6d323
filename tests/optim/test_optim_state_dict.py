"""state_dict / load_state_dict: PyTorch's layout, and a save/load round trip that resumes exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.optim.problem import Pair

CONFIGS = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.02)),
    ("Adamax", dict(lr=0.02)),
    ("NAdam", dict(lr=0.02, weight_decay=0.01)),
    ("RAdam", dict(lr=0.02, weight_decay=0.01, decoupled_weight_decay=True)),
    ("Rprop", dict(lr=0.02, etas=(0.4, 1.3))),
    ("ASGD", dict(lr=0.02, t0=3, lambd=0.01)),
]
IDS = [c[0] for c in CONFIGS]


def _train(params, opt, loss_fn, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_round_trip_resumes_exactly(name, kwargs):
    """Save after 10 steps, load into a fresh optimizer: 10 more steps equal an uninterrupted run."""
    full = Pair(0)
    opt = getattr(cr.optim, name)(full.cr_params, **kwargs)
    _train(full.cr_params, opt, full.loss_cr, 10)
    saved = opt.state_dict()
    weights = [p._data.copy() for p in full.cr_params]
    _train(full.cr_params, opt, full.loss_cr, 10)  # uninterrupted run; must not change `saved`

    resumed = Pair(0)
    for p, w in zip(resumed.cr_params, weights):
        p._data[...] = w
    fresh = getattr(cr.optim, name)(resumed.cr_params, lr=0.5)  # options come back from the state dict
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    _train(resumed.cr_params, fresh, resumed.loss_cr, 10)
    for a, b in zip(full.cr_params, resumed.cr_params):
        np.testing.assert_array_equal(a._data, b._data)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_layout_and_values_match_torch(name, kwargs):
    """Same keys, same per-parameter state values, same group options as torch's state_dict."""
    pair = Pair(1)
    opt = getattr(cr.optim, name)(pair.cr_params, **kwargs)
    opt_t = getattr(torch.optim, name)(pair.torch_params, **kwargs, foreach=False)
    for _ in range(5):
        pair.train_step(opt, opt_t)
    ours, theirs = opt.state_dict(), opt_t.state_dict()
    assert set(ours) == {"state", "param_groups"}
    assert sorted(ours["state"]) == sorted(theirs["state"]) == [0, 1, 2, 3]
    for i, entry in ours["state"].items():
        assert set(entry) == set(theirs["state"][i])
        for key, value in entry.items():
            assert isinstance(value, cr.Tensor)
            if key in ("step", "mu_product", "eta", "mu"):
                assert value.dtype == cr.float32 and value.shape == ()
            np.testing.assert_allclose(value.numpy(), theirs["state"][i][key].numpy(), rtol=1e-7, atol=1e-14)
    for g, gt in zip(ours["param_groups"], theirs["param_groups"]):
        for key, value in g.items():
            assert gt[key] == value, key


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_load_torch_state_dict_and_continue(name, kwargs):
    """A state dict saved by torch (its tensors as NumPy arrays) resumes on torch's trajectory."""
    pair = Pair(2)
    opt_t = getattr(torch.optim, name)(pair.torch_params, **kwargs, foreach=False)
    for _ in range(7):
        opt_t.zero_grad()
        pair.loss_torch().backward()
        opt_t.step()
    sd = opt_t.state_dict()
    exported = {
        "state": {i: {k: v.numpy().copy() for k, v in s.items()} for i, s in sd["state"].items()},
        "param_groups": copy.deepcopy(sd["param_groups"]),
    }
    for pc, pt in zip(pair.cr_params, pair.torch_params):
        pc._data[...] = pt.detach().numpy()
    opt = getattr(cr.optim, name)(pair.cr_params, lr=1.0)
    opt.load_state_dict(exported)
    for step in range(10):
        pair.train_step(opt, opt_t)
        pair.assert_same(f"{step + 1} steps after loading")


def test_state_dict_indices_across_groups_and_casting():
    a = cr.zeros(2, 3, requires_grad=True)
    b = cr.zeros(3, requires_grad=True)
    c = cr.zeros(4, requires_grad=True)
    opt = cr.optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}])
    for p in (a, b, c):
        p.grad = cr.ones(*p.shape)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["state"][0]["exp_avg"].shape == (2, 3) and sd["state"][2]["exp_avg"].shape == (4,)
    # loaded buffers take their parameter's dtype
    a64, b64, c64 = (cr.zeros(*p.shape, dtype=cr.float64, requires_grad=True) for p in (a, b, c))
    opt64 = cr.optim.Adam([{"params": [a64, b64]}, {"params": [c64]}])
    opt64.load_state_dict(sd)
    assert opt64.state[a64]["exp_avg"].dtype == cr.float64
    assert opt64.state[c64]["step"] == 1
    assert opt64.param_groups[1]["lr"] == 0.1 and opt64.param_groups[1]["params"][0] is c64


def test_load_state_dict_mismatch_changes_nothing():
    p, q = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    opt = cr.optim.SGD([p, q], lr=0.1, momentum=0.9)
    p.grad, q.grad = cr.ones(2), cr.ones(3)
    opt.step()
    before = opt.state_dict()
    other = cr.optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match="1 parameters in the loaded state dict but 2"):
        opt.load_state_dict(other.state_dict())
    two_groups = cr.optim.SGD(
        [{"params": [cr.zeros(2, requires_grad=True)]}, {"params": [cr.zeros(3, requires_grad=True)]}], lr=0.5
    )
    with pytest.raises(ValueError, match="2 parameter groups"):
        opt.load_state_dict(two_groups.state_dict())
    bad_shape = copy.deepcopy(before)
    bad_shape["state"][1]["momentum_buffer"] = cr.zeros(5)
    bad_shape["param_groups"][0]["lr"] = 0.7
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad_shape)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in (0, 1):
        np.testing.assert_array_equal(
            after["state"][i]["momentum_buffer"].numpy(), before["state"][i]["momentum_buffer"].numpy()
        )


def test_checkpoint_through_cr_save(tmp_path):
    """The state dict survives cr.save / cr.load (safetensors) and resumes exactly."""
    pair = Pair(3)
    opt = cr.optim.NAdam(pair.cr_params, lr=0.02, betas=(0.8, 0.95))
    _train(pair.cr_params, opt, pair.loss_cr, 5)
    cr.save({"optimizer": opt.state_dict(), "weights": [p.detach() for p in pair.cr_params]}, tmp_path / "ck")
    _train(pair.cr_params, opt, pair.loss_cr, 5)

    resumed = Pair(3)
    checkpoint = cr.load(tmp_path / "ck")
    for p, w in zip(resumed.cr_params, checkpoint["weights"]):
        p._data[...] = w.numpy()
    fresh = cr.optim.NAdam(resumed.cr_params)
    fresh.load_state_dict(checkpoint["optimizer"])
    assert fresh.param_groups[0]["betas"] == (0.8, 0.95)
    _train(resumed.cr_params, fresh, resumed.loss_cr, 5)
    for a, b in zip(pair.cr_params, resumed.cr_params):
        np.testing.assert_array_equal(a._data, b._data)
