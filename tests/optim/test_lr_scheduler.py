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
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.97 if e % 3 else 1.01),
    "MultiplicativeLR-per-group": lambda m, o: m.MultiplicativeLR(
        o, lr_lambda=[lambda e: 0.95, lambda e: 1.0 - 0.01 * (e % 5)]
    ),
    "ConstantLR": lambda m, o: m.ConstantLR(o),
    "ConstantLR-options": lambda m, o: m.ConstantLR(o, factor=0.3, total_iters=12),
    "LinearLR": lambda m, o: m.LinearLR(o),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=30),
    "LinearLR-warmup": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=17),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=30),
    "PolynomialLR-power": lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.5),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=3, step_size_down=5, mode="triangular2"
    ),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.2, step_size_up=6, mode="exp_range", gamma=0.97, base_momentum=0.7
    ),
    "CyclicLR-scale_fn-cycle": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=5, scale_fn=lambda c: 1 / c, max_momentum=[0.95, 0.9]
    ),
    "CyclicLR-scale_fn-iterations": lambda m, o: m.CyclicLR(
        o,
        0.01,
        0.1,
        step_size_up=4,
        scale_fn=lambda t: 0.99**t,
        scale_mode="iterations",
        cycle_momentum=False,
    ),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001
    ),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=5), m.ExponentialLR(o, gamma=0.9)], milestones=[5]
    ),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o,
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.CosineAnnealingLR(o, T_max=10), m.StepLR(o, 5, 0.5)],
        milestones=[3, 20],
    ),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=4), m.ExponentialLR(o, gamma=0.9)]
    ),
    "ChainedScheduler-nested": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.5, total_iters=6), m.CosineAnnealingWarmRestarts(o, T_0=9)], optimizer=o
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_sequence_matches_torch(name):
    opt, opt_t = _two_groups(cr, momentum=0.9), _two_groups(torch, momentum=0.9)
    ours = _sequence(opt, SCHEDULES[name](crs, opt), keys=("lr", "momentum"))
    theirs = _sequence(opt_t, SCHEDULES[name](torch.optim.lr_scheduler, opt_t), keys=("lr", "momentum"))
    assert ours == theirs  # exactly: the same float operations in the same order
    changes = 1 if name.startswith("ConstantLR") else 3  # ConstantLR has two values by design
    assert len({tuple(lrs) for lrs, _ in ours}) > changes  # the schedule does change the lr


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


@pytest.mark.parametrize(
    "name",
    [
        "StepLR",
        "CosineAnnealingLR",
        "OneCycleLR",
        "LambdaLR",
        "MultiplicativeLR",
        "ConstantLR-options",
        "LinearLR-warmup",
        "PolynomialLR-power",
        "CyclicLR-triangular2",
        "CyclicLR-scale_fn-cycle",
        "CosineAnnealingWarmRestarts-mult",
        "SequentialLR-three",
        "ChainedScheduler",
    ],
)
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


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs_match_torch(T_mult):
    """step(epoch) with fractional epochs (one step per batch), going back in time included."""
    opt, opt_t = _two_groups(cr), _two_groups(torch)
    sched = crs.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=T_mult, eta_min=0.005)
    sched_t = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt_t, T_0=2, T_mult=T_mult, eta_min=0.005)
    epochs = [e + i / 7 for e in range(12) for i in range(7)] + [3.5, 0.25, 40.0, 1.0]
    for epoch in epochs:
        opt.step()
        opt_t.step()
        sched.step(epoch)
        sched_t.step(epoch)
        assert sched.get_last_lr() == sched_t.get_last_lr(), epoch
        assert (sched.T_cur, sched.T_i, sched.last_epoch) == (sched_t.T_cur, sched_t.T_i, sched_t.last_epoch)


def test_cyclic_lr_cycles_adam_beta1():
    opt, opt_t = _two_groups(cr, "Adam", betas=(0.9, 0.99)), _two_groups(torch, "Adam", betas=(0.9, 0.99))
    kw = dict(base_lr=0.001, max_lr=0.01, step_size_up=5, base_momentum=0.8, max_momentum=0.95)
    ours = _sequence(opt, crs.CyclicLR(opt, **kw), keys=("lr", "betas"))
    theirs = _sequence(opt_t, torch.optim.lr_scheduler.CyclicLR(opt_t, **kw), keys=("lr", "betas"))
    assert ours == theirs
    assert len({b for _, opts in ours for b in opts[1::2]}) > 3  # betas change too


def test_deprecated_epoch_argument_uses_the_closed_form():
    for name in ("ConstantLR-options", "LinearLR-warmup", "PolynomialLR-power"):
        opt, opt_t = _two_groups(cr), _two_groups(torch)
        sched, sched_t = SCHEDULES[name](crs, opt), SCHEDULES[name](torch.optim.lr_scheduler, opt_t)
        for epoch in (3, 9, 17, 45, 2):
            opt.step()
            opt_t.step()
            with pytest.warns(UserWarning, match="deprecated"):
                sched.step(epoch)
            with pytest.warns(UserWarning):
                sched_t.step(epoch)
            assert sched.get_last_lr() == sched_t.get_last_lr(), (name, epoch)


def test_new_scheduler_errors():
    opt = _two_groups(cr, momentum=0.9)
    other = _two_groups(cr)
    with pytest.raises(ValueError, match=r"ConstantLR: invalid factor=1\.5"):
        crs.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match=r"LinearLR: invalid start_factor=0"):
        crs.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match=r"LinearLR: invalid end_factor=2"):
        crs.LinearLR(opt, end_factor=2)
    with pytest.raises(ValueError, match=r"PolynomialLR: invalid total_iters=-1"):
        crs.PolynomialLR(opt, total_iters=-1)
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda must be callable"):
        crs.MultiplicativeLR(opt, lr_lambda=0.9)
    with pytest.raises(ValueError, match="MultiplicativeLR: expected 2 lr_lambdas"):
        crs.MultiplicativeLR(opt, lr_lambda=[lambda e: 0.9])
    with pytest.raises(ValueError, match="CyclicLR: invalid mode='triangle'"):
        crs.CyclicLR(opt, 0.01, 0.1, mode="triangle")
    with pytest.raises(ValueError, match="CyclicLR: invalid scale_mode='epochs'"):
        crs.CyclicLR(opt, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="epochs")
    with pytest.raises(ValueError, match="CyclicLR: invalid step_size_up=0"):
        crs.CyclicLR(opt, 0.01, 0.1, step_size_up=0)
    with pytest.raises(ValueError, match="max_lr must have one value per parameter group"):
        crs.CyclicLR(opt, 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="CyclicLR: cycle_momentum=True needs an optimizer with momentum"):
        crs.CyclicLR(cr.optim.Adagrad([cr.zeros(2, requires_grad=True)]), 0.01, 0.1)
    for bad in (0, 2.5, -3):
        with pytest.raises(ValueError, match="positive integer T_0"):
            crs.CosineAnnealingWarmRestarts(opt, T_0=bad)
    with pytest.raises(ValueError, match="integer T_mult >= 1"):
        crs.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="non-negative epoch"):
        crs.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)
    a, b = crs.StepLR(opt, 3), crs.StepLR(other, 3)
    with pytest.raises(ValueError, match=r"same optimizer, but schedulers\[1\]"):
        crs.SequentialLR(opt, [a, b], milestones=[2])
    with pytest.raises(ValueError, match=r"same optimizer, but schedulers\[1\]"):
        crs.ChainedScheduler([a, b])
    with pytest.raises(ValueError, match="one milestone fewer than schedulers"):
        crs.SequentialLR(opt, [a, crs.ExponentialLR(opt, 0.9)], milestones=[2, 4])
    with pytest.raises(ValueError, match="at least one scheduler"):
        crs.ChainedScheduler([])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        crs.SequentialLR(opt, [a, crs.ReduceLROnPlateau(opt)], milestones=[2])
    with pytest.raises(TypeError, match=r"schedulers\[0\] is a str"):
        crs.ChainedScheduler(["StepLR"], optimizer=opt)
