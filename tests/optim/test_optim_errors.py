"""Bad options raise ValueError naming the option and value; a failed step changes nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr

ALL = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"]
WITH_BETAS = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]
WITH_EPS = ["Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


def _params():
    return [cr.zeros(2, 3, requires_grad=True), cr.zeros(3, requires_grad=True)]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf")])
def test_bad_lr(name, lr):
    with pytest.raises(ValueError, match=rf"{name}: invalid lr={lr!r}"):
        getattr(cr.optim, name)(_params(), lr=lr)


@pytest.mark.parametrize("name", [n for n in ALL if n != "Rprop"])
def test_negative_weight_decay_and_eps(name):
    with pytest.raises(ValueError, match=r"invalid weight_decay=-0\.01"):
        getattr(cr.optim, name)(_params(), lr=0.1, weight_decay=-0.01)
    if name in WITH_EPS:
        with pytest.raises(ValueError, match=r"invalid eps=-1e-08"):
            getattr(cr.optim, name)(_params(), eps=-1e-8)
        with pytest.raises(ValueError, match=r"invalid eps=nan"):
            getattr(cr.optim, name)(_params(), eps=math.nan)


@pytest.mark.parametrize("name", WITH_BETAS)
@pytest.mark.parametrize(
    "betas,bad",
    [
        ((1.0, 0.999), r"betas\[0\]=1\.0"),
        ((0.9, -0.1), r"betas\[1\]=-0\.1"),
        ((0.9, float("nan")), r"betas\[1\]=nan"),
        ((1.5, 0.9), r"betas\[0\]=1\.5"),
    ],
)
def test_bad_betas(name, betas, bad):
    with pytest.raises(ValueError, match=rf"{name}: invalid {bad}"):
        getattr(cr.optim, name)(_params(), betas=betas)


def test_other_bad_options():
    with pytest.raises(ValueError, match=r"SGD: invalid momentum=-0\.5"):
        cr.optim.SGD(_params(), lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match=r"RMSprop: invalid momentum=-0\.5"):
        cr.optim.RMSprop(_params(), momentum=-0.5)
    with pytest.raises(ValueError, match=r"RMSprop: invalid alpha=-0\.9"):
        cr.optim.RMSprop(_params(), alpha=-0.9)
    with pytest.raises(ValueError, match=r"nesterov=True requires a momentum > 0.*momentum=0"):
        cr.optim.SGD(_params(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"nesterov=True requires .*dampening=0\.1"):
        cr.optim.SGD(_params(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adadelta: invalid rho=1\.5"):
        cr.optim.Adadelta(_params(), rho=1.5)
    with pytest.raises(ValueError, match=r"Adagrad: invalid lr_decay=-1"):
        cr.optim.Adagrad(_params(), lr_decay=-1)
    with pytest.raises(ValueError, match=r"Adagrad: invalid initial_accumulator_value=-0\.1"):
        cr.optim.Adagrad(_params(), initial_accumulator_value=-0.1)
    with pytest.raises(ValueError, match=r"NAdam: invalid momentum_decay=-0\.004"):
        cr.optim.NAdam(_params(), momentum_decay=-0.004)
    with pytest.raises(TypeError, match="lr must be a real number"):
        cr.optim.Adam(_params(), lr="0.1")
    for etas in [(1.0, 1.2), (0.0, 1.2), (0.5, 1.0), (0.5,)]:
        with pytest.raises(ValueError, match=r"Rprop: invalid etas="):
            cr.optim.Rprop(_params(), etas=etas)
    with pytest.raises(ValueError, match=r"Rprop: invalid step_sizes=\(1, 0\.1\)"):
        cr.optim.Rprop(_params(), step_sizes=(1, 0.1))
    with pytest.raises(TypeError, match=r"Rprop: step_sizes\[1\] must be a real number"):
        cr.optim.Rprop(_params(), step_sizes=(1e-6, "50"))
    with pytest.raises(ValueError, match=r"ASGD: invalid lambd=-0\.1"):
        cr.optim.ASGD(_params(), lambd=-0.1)
    with pytest.raises(TypeError, match=r"ASGD: t0 must be a real number"):
        cr.optim.ASGD(_params(), t0=None)


def test_bad_params():
    with pytest.raises(ValueError, match="empty parameter list"):
        cr.optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        cr.optim.Adam(cr.zeros(2, requires_grad=True))
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        cr.optim.Adam([w * 2])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        cr.optim.Adam([w, np.zeros(2)])
    with pytest.raises(TypeError, match="not a set"):
        cr.optim.Adam([{"params": {w}}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        cr.optim.Adam([{"params": [w]}, {"params": [w], "lr": 0.1}])


def test_bad_param_group_is_not_added():
    a, b = _params()
    opt = cr.optim.Adam([a], lr=0.01)
    group = {"params": [b], "lr": -1.0}
    with pytest.raises(ValueError, match=r"invalid lr=-1\.0"):
        opt.add_param_group(group)
    with pytest.raises(ValueError, match=r"invalid betas\[0\]=1\.2"):
        opt.add_param_group({"params": [b], "betas": (1.2, 0.9)})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.9, 0.999)


def _snapshot(opt, params):
    sd = opt.state_dict()
    return (
        [p._data.copy() for p in params],
        {i: {k: np.array(v.numpy()) for k, v in s.items()} for i, s in sd["state"].items()},
    )


def _assert_same_snapshot(a, b):
    assert len(a[0]) == len(b[0]) and a[1].keys() == b[1].keys()
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    for i in a[1]:
        assert a[1][i].keys() == b[1][i].keys()
        for k in a[1][i]:
            np.testing.assert_array_equal(a[1][i][k], b[1][i][k])


def _trained(name):
    params = [
        cr.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True),
        cr.tensor([0.5, -0.5, 0.25], requires_grad=True),
        cr.tensor([1.0, 2.0], requires_grad=True),
    ]
    kw = {"lr": 0.1, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.1}
    opt = getattr(cr.optim, name)(params, **kw)
    for _ in range(3):
        opt.zero_grad()
        ((params[0] * params[1]).sum() ** 2 + (params[2] ** 3).sum()).backward()
        opt.step()
    return params, opt


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", ["shape", "dtype", "not a tensor"])
def test_bad_grad_changes_nothing(name, bad):
    """Every grad is checked before anything moves: parameters and state stay as they were."""
    params, opt = _trained(name)
    for p in params:
        p.grad = cr.ones(*p.shape)  # valid grads for the first parameters...
    if bad == "shape":
        params[2].grad = cr.ones(3)  # ...and a bad one for the last
        match = r"parameter 2 of group 0 has shape \(3,\) but the parameter has shape \(2,\)"
    elif bad == "dtype":
        params[2].grad = cr.ones(2, dtype=cr.float64)
        match = "has dtype float64 but the parameter has dtype float32"
    else:
        params[2].grad = np.ones(2, np.float32)
        match = "is a ndarray, expected a Tensor"
    before = _snapshot(opt, params)
    with pytest.raises((RuntimeError, TypeError), match=match):
        opt.step()
    _assert_same_snapshot(before, _snapshot(opt, params))


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam"])
def test_failing_closure_changes_nothing(name):
    """A closure that raises (here: anomaly mode catching a NaN) leaves parameters and state unchanged."""
    params, opt = _trained(name)
    before = _snapshot(opt, params)

    def closure():
        opt.zero_grad()
        loss = (params[2] * float("nan")).sum()
        loss.backward()
        return loss

    with cr.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="(?i)nan"):
        opt.step(closure)
    _assert_same_snapshot(before, _snapshot(opt, params))


def test_grads_are_not_modified_by_step():
    """maximize / weight decay work on copies: p.grad is left as backward wrote it."""
    for name in ALL:
        p = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
        decay = {} if name == "Rprop" else {"weight_decay": 0.5}  # Rprop has no weight decay
        opt = getattr(cr.optim, name)([p], lr=0.1, maximize=True, **decay)
        p.grad = cr.tensor([0.5, 0.25, -1.0])
        for _ in range(3):
            opt.step()
        assert p.grad.tolist() == [0.5, 0.25, -1.0], name


@pytest.mark.parametrize("name", ALL)
def test_zero_dim_parameter(name):
    """A 0-d parameter (whose gradient may come back as a NumPy scalar) is updated in place, as in torch."""
    import torch

    x = cr.tensor(1.5, requires_grad=True)
    y = cr.tensor([1.0, -2.0, 0.5])
    xt = torch.tensor(1.5, requires_grad=True)
    kw = {"lr": 0.1, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.1}
    kw.update(maximize=True, **({} if name == "Rprop" else {"weight_decay": 0.1}))
    opt, opt_t = getattr(cr.optim, name)([x], **kw), getattr(torch.optim, name)([xt], **kw)
    for _ in range(5):
        opt.zero_grad()
        opt_t.zero_grad()
        ((x * y).sum() * x).backward()
        ((xt * torch.tensor([1.0, -2.0, 0.5])).sum() * xt).backward()
        opt.step()
        opt_t.step()
        assert x.item() == pytest.approx(xt.item(), rel=1e-5)
    assert x.item() != 1.5


def test_read_only_parameter_and_grad_memory():
    """A parameter on read-only memory (a broadcast view) gets its own copy; zero_grad copes with one."""
    base = np.ones(3, np.float32)
    w = cr.nn.Parameter(cr.Tensor._make(np.broadcast_to(base, (2, 3))))
    w.grad = cr.Tensor._make(np.broadcast_to(np.float32(0.5), (2, 3)))
    opt = cr.optim.SGD([w], lr=0.1)
    opt.step()
    assert np.allclose(w._data, 0.95) and base.tolist() == [1.0] * 3
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [[0.0] * 3] * 2
