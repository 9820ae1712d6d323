"""Learning-rate schedules: the same sequence of learning rates (and momenta) as PyTorch over 50 epochs."""

from __future__ import annotations

import pytest
import torch

import chainrule as cr
from chainrule.optim import lr_scheduler as crs

EPOCHS = 50


def _two_groups(lib, opt_name="SGD", **kw):
    """An optimizer of ``lib`` (cr or torch) with two groups (lr 0.1 and 0.03)."""
    zeros = cr.zeros if lib is cr else torch.zeros
    a, b = zeros(3, requires_grad=True), zeros(2, requires_grad=True)
    return getattr(lib.optim, opt_name)([{"params": [a]}, {"params": [b], "lr": 0.03}], lr=0.1, **kw)


def _sequence(opt, sched, epochs=EPOCHS, metrics=None, keys=("lr",)):
    seq = []
    for epoch in range(epochs):
        opt.step()  # no gradients: moves nothing, but keeps the "optimizer.step() first" order
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        options = [tuple(g[k]) if isinstance(g[k], tuple) else g[k] for g in opt.param_groups for k in keys]
        seq.append((list(sched.get_last_lr()), options))
    return seq


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    # past T_max the lr rises again
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=20, eta_min=0.001),
    "CosineAnnealingLR-long": lambda m, o: m.CosineAnnealingLR(o, T_max=60),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95**e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(
        o, lr_lambda=[lambda e: 1 / (1 + e), lambda e: min(1.0, (e + 1) / 8)]
    ),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=EPOCHS),
    "OneCycleLR-linear-3phase": lambda m, o: m.OneCycleLR(
        o,
        max_lr=[0.5, 0.2],
        epochs=5,
        steps_per_epoch=10,
        anneal_strategy="linear",
        three_phase=True,
        pct_start=0.25,
        div_factor=10.0,
        final_div_factor=100.0,
        base_momentum=0.8,
        max_momentum=0.9,
    ),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=EPOCHS + 10, cycle_momentum=False, three_phase=True
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_sequence_matches_torch(name):
    opt, opt_t = _two_groups(cr, momentum=0.9), _two_groups(torch, momentum=0.9)
    ours = _sequence(opt, SCHEDULES[name](crs, opt), keys=("lr", "momentum"))
    theirs = _sequence(opt_t, SCHEDULES[name](torch.optim.lr_scheduler, opt_t), keys=("lr", "momentum"))
    assert ours == theirs  # exactly: the same float operations in the same order
    assert len({tuple(lrs) for lrs, _ in ours}) > 3  # the schedule does change the lr


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_cycles_adam_beta1(anneal):
    opt, opt_t = _two_groups(cr, "Adam", betas=(0.9, 0.99)), _two_groups(torch, "Adam", betas=(0.9, 0.99))
    ours = _sequence(
        opt,
        crs.OneCycleLR(opt, max_lr=0.01, total_steps=EPOCHS, anneal_strategy=anneal),
        keys=("lr", "betas"),
    )
    sched_t = torch.optim.lr_scheduler.OneCycleLR(
        opt_t, max_lr=0.01, total_steps=EPOCHS, anneal_strategy=anneal
    )
    theirs = _sequence(opt_t, sched_t, keys=("lr", "betas"))
    assert ours == theirs
    assert opt.param_groups[0]["betas"][1] == 0.99


LOSSES = [1.0, 0.9, 0.85, 0.86, 0.86, 0.87, 0.8, 0.8, 0.8, 0.8, 0.81, 0.82, 0.79999, 0.78, 0.9] * 4


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(patience=2),
        dict(patience=1, factor=0.5, cooldown=2),
        dict(patience=0, factor=0.5, min_lr=0.02),
        dict(patience=1, factor=0.3, min_lr=[0.001, 0.01], threshold=0.05),
        dict(patience=1, threshold_mode="abs", threshold=0.01, eps=0.05),
        dict(mode="max", patience=1, factor=0.5),
        dict(mode="max", patience=0, threshold_mode="abs", threshold=0.02, cooldown=1),
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults",
)
def test_reduce_on_plateau_matches_torch(kwargs):
    opt, opt_t = _two_groups(cr), _two_groups(torch)
    metrics = [cr.tensor(v) if i % 2 else v for i, v in enumerate(LOSSES)]  # numbers or 1-element tensors
    ours = _sequence(opt, crs.ReduceLROnPlateau(opt, **kwargs), metrics=metrics)
    theirs = _sequence(opt_t, torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kwargs), metrics=LOSSES)
    assert ours == theirs


def test_initial_lr_and_base_lrs():
    opt = _two_groups(cr)
    sched = crs.StepLR(opt, step_size=2)
    assert sched.base_lrs == [0.1, 0.03] and sched.get_last_lr() == [0.1, 0.03] and sched.last_epoch == 0
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.03]


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "LambdaLR"])
def test_scheduler_state_dict_round_trip(name):
    """Save optimizer + scheduler after 10 epochs, restore into fresh ones: the rest is unchanged."""
    opt = _two_groups(cr, momentum=0.9)
    sched = SCHEDULES[name](crs, opt)
    first = _sequence(opt, sched, epochs=10, keys=("lr", "momentum"))
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    rest = _sequence(opt, sched, epochs=20, keys=("lr", "momentum"))

    opt2 = _two_groups(cr, momentum=0.9)
    sched2 = SCHEDULES[name](crs, opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    assert first and _sequence(opt2, sched2, epochs=20, keys=("lr", "momentum")) == rest


def test_reduce_on_plateau_state_dict_round_trip():
    opt = _two_groups(cr)
    sched = crs.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    _sequence(opt, sched, epochs=20, metrics=LOSSES)
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    rest = _sequence(opt, sched, epochs=30, metrics=LOSSES[20:])
    opt2 = _two_groups(cr)
    sched2 = crs.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    assert _sequence(opt2, sched2, epochs=30, metrics=LOSSES[20:]) == rest


def test_scheduler_drives_the_optimizer():
    """The scheduled lr is the one the next optimizer step uses (same trajectory as torch)."""
    from tests.optim.problem import Pair

    pair = Pair(0)
    opt = cr.optim.SGD(pair.cr_params, lr=0.2, momentum=0.9)
    opt_t = torch.optim.SGD(pair.torch_params, lr=0.2, momentum=0.9)
    sched, sched_t = crs.ExponentialLR(opt, 0.8), torch.optim.lr_scheduler.ExponentialLR(opt_t, 0.8)
    for _ in range(15):
        pair.train_step(opt, opt_t)
        sched.step()
        sched_t.step()
        pair.assert_same()
    assert sched.get_last_lr() == sched_t.get_last_lr()


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _two_groups(cr)
    sched = crs.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_scheduler_errors():
    opt = _two_groups(cr, momentum=0.9)
    with pytest.raises(TypeError, match="not a cr.optim Optimizer"):
        crs.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="factor"):
        crs.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode='best'"):
        crs.ReduceLROnPlateau(opt, mode="best")
    with pytest.raises(ValueError, match="threshold_mode"):
        crs.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="min_lr"):
        crs.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="total_steps"):
        crs.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        crs.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="cosine")
    with pytest.raises(ValueError, match="pct_start"):
        crs.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="max_lr"):
        crs.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="lr_lambdas"):
        crs.LambdaLR(opt, lr_lambda=[lambda e: 1.0])
    with pytest.raises(ValueError, match="momentum or betas"):
        crs.OneCycleLR(cr.optim.Adagrad([cr.zeros(2, requires_grad=True)]), max_lr=0.1, total_steps=10)
    with pytest.raises(KeyError, match="initial_lr"):
        crs.StepLR(_two_groups(cr), step_size=2, last_epoch=5)
    sched = crs.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="total steps is 3"):
        sched.step()
