"""Learning-rate schedules, as ``torch.optim.lr_scheduler`` (same sequences of learning rates).

A scheduler rewrites ``group['lr']`` of its optimizer's parameter groups; call its ``step()``
once per epoch (OneCycleLR: once per batch), after ``optimizer.step()``::

    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    for epoch in range(50):
        train_one_epoch(model, opt)
        sched.step()
        print(sched.get_last_lr())

``ReduceLROnPlateau`` instead watches a metric: ``sched.step(val_loss)``.

Why schedule: a large learning rate makes fast progress early but bounces around a minimum; decaying
it late in training lets the parameters settle (step decay, exponential, cosine).  A short warm-up
then a long anneal (OneCycleLR) also allows larger peak rates.
"""

from __future__ import annotations

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from typing import Any

from chainrule.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
    "OneCycleLR",
    "MultiplicativeLR",
    "ConstantLR",
    "LinearLR",
    "PolynomialLR",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "SequentialLR",
    "ChainedScheduler",
]


_EPOCH_DEPRECATED = "The epoch parameter in `scheduler.step()` is deprecated; call step() without it"


def _check_optimizer(name: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: {type(optimizer).__name__} is not a cr.optim Optimizer")


def _per_group(name: str, what: str, optimizer: Optimizer, value: Any) -> list:
    """One value per parameter group: a scalar is repeated, a list must have one per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name}: {what} must have one value per parameter group: got {len(value)} values for "
                f"{len(optimizer.param_groups)} groups"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


def _set_momentum(group: dict, use_beta1: bool, value: float) -> None:
    """Write a cycled momentum into a group: β₁ (``betas[0]``) for the Adam family, else ``momentum``."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _init_momentum(
    name: str, optimizer: Optimizer, base_momentum: Any, max_momentum: Any, last_epoch: int
) -> tuple[bool, list, list]:
    """Prepare momentum cycling.

    Check the optimizer has a momentum, and at the start set every group's momentum to its maximum and record
    ``max_momentum``/``base_momentum`` in it.

    Returns (use_beta1, base_momentums, max_momentums).
    """
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"{name}: cycle_momentum=True needs an optimizer with momentum or betas, "
            f"{type(optimizer).__name__} has neither; pass cycle_momentum=False"
        )
    use_beta1 = "betas" in optimizer.defaults
    base_momentums = _per_group(name, "base_momentum", optimizer, base_momentum)
    max_momentums = _per_group(name, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for mm, bm, group in zip(max_momentums, base_momentums, optimizer.param_groups):
            _set_momentum(group, use_beta1, mm)
            group["max_momentum"] = mm
            group["base_momentum"] = bm
    return use_beta1, base_momentums, max_momentums


class LRScheduler:
    """Base class of the schedules: subclasses implement ``get_lr()`` (the next learning rates).

    Constructing a scheduler records each group's ``initial_lr`` (``base_lrs``) and sets epoch 0
    (``last_epoch = 0`` after construction).  Each ``step()`` advances ``last_epoch`` and writes
    ``get_lr()`` into the groups.  ``last_epoch`` > -1 resumes a schedule (the groups must then
    have ``initial_lr``).
    """

    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: param 'initial_lr' is not specified in param_groups[{i}] when resuming a "
                        f"schedule with last_epoch={last_epoch}; load the optimizer's state first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the learning rates of epoch 0 (the first ``step``, in initial mode)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for ``self.last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates this scheduler set last, one per parameter group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, deprecated, with the closed form where there is one)."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`: call them in the "
                "opposite order, or the first value of the schedule is skipped",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        self._set_lrs(values)

    def _set_lrs(self, values: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (as PyTorch)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict()``."""
        self.__dict__.update(state_dict)


class _LambdaSchedule(LRScheduler):
    """The machinery of ``LambdaLR`` and ``MultiplicativeLR``: one function of the epoch per group.

    ``state_dict`` saves no function or lambda (None), but the ``__dict__`` of callable objects.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(
                    f"{name}: expected {len(optimizer.param_groups)} lr_lambdas (one per parameter group), "
                    f"got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"{name}: lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        """The state; functions/lambdas are not saved (None), callable objects save their ``__dict__``."""
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        sd["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in self.lr_lambdas
        ]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by ``state_dict()`` (callable objects get their ``__dict__`` back)."""
        state_dict = dict(state_dict)
        lr_lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        for fn, saved in zip(self.lr_lambdas, lr_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaSchedule):
    r"""η_t = η₀ · λ(t): the initial learning rate times a function of the epoch.

    Example:
        The learning rate after each epoch's ``step()``:

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
        >>> lrs = []
        >>> for epoch in range(3):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.05, 0.0333, 0.025]

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the epoch (an int) giving a multiplicative factor, or a list of
            such functions, one per parameter group.  E.g. linear warm-up:
            ``lambda epoch: min(1.0, (epoch + 1) / 5)``.
        last_epoch: the index of the last epoch (default -1: start).
    """

    def get_lr(self) -> list[float]:
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    r"""Step decay: multiply the learning rate by γ every ``step_size`` epochs (η_t = η₀·γ^⌊t/step_size⌋).

    Example:
        The learning rate after each epoch's ``step()``:

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.1, 0.05, 0.05, 0.025]

    Args:
        optimizer: the optimizer.
        step_size: period of the decay, in epochs.
        gamma: factor γ (default 0.1).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not step_size > 0:
            raise ValueError(f"StepLR: invalid step_size={step_size!r}; expected a positive number of epochs")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply the learning rate by γ at each epoch listed in ``milestones`` (e.g. ``[30, 80]``).

    Example:
        The learning rate after each epoch's ``step()``:

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.1)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.01, 0.01, 0.001, 0.001]

    Args:
        optimizer: the optimizer.
        milestones: epoch indices (a milestone listed n times decays by γⁿ).
        gamma: factor γ (default 0.1).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(self, optimizer: Optimizer, milestones: Any, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [
            group["lr"] * self.gamma ** self.milestones[self.last_epoch]
            for group in self.optimizer.param_groups
        ]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [
            base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    r"""Exponential decay: η_t = η₀·γᵗ (the learning rate is multiplied by γ every epoch).

    Example:
        The learning rate after each epoch's ``step()``:

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(3):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.05, 0.025, 0.0125]

    Args:
        optimizer: the optimizer.
        gamma: factor γ.
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing of the learning rate.

    Cosine annealing from η₀ down to η_min over ``T_max`` epochs:

    η_t = η_min + ½(η₀ − η_min)(1 + cos(π·t / T_max))

    computed, as PyTorch does, by the recursion
    η_{t+1} = η_min + (η_t − η_min)·(1 + cos(π(t+1)/T_max)) / (1 + cos(π t/T_max))
    (so a learning rate changed by someone else is annealed from its new value). Past T_max the
    rate rises again along the cosine (no restarts).

    Example:
        The learning rate after each epoch's ``step()``:

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.0854, 0.05, 0.0146, 0.0]

    Args:
        optimizer: the optimizer.
        T_max: number of epochs of the descent.
        eta_min: the final learning rate η_min (default 0).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: invalid T_max={T_max!r}; expected a positive number")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and self.last_epoch > 0:
            return [
                self.eta_min
                + (base_lr - self.eta_min) * (1 + math.cos((self.last_epoch) * math.pi / self.T_max)) / 2
                for base_lr in self.base_lrs
            ]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [
                group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups)
            ]
        return [
            (1 + math.cos(math.pi * self.last_epoch / self.T_max))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
            * (group["lr"] - self.eta_min)
            + self.eta_min
            for group in self.optimizer.param_groups
        ]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]


class ReduceLROnPlateau(LRScheduler):
    r"""Reduce the learning rate by ``factor`` when a metric has stopped improving.

    Call ``step(metric)`` once per epoch (e.g. with the validation loss).  A value is an
    improvement when it beats the best so far by more than ``threshold`` (``mode='min'``:
    < best·(1 − threshold) in ``'rel'`` mode, < best − threshold in ``'abs'`` mode; reversed for
    ``'max'``).  After more than ``patience`` epochs without improvement, every group's lr becomes
    max(lr·factor, min_lr) (changes smaller than ``eps`` are skipped), then ``cooldown`` epochs
    pass before bad epochs count again.

    Example:
        ``patience=1``: the second epoch in a row without improvement halves the rate:

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
        >>> lrs = []
        >>> for val_loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
        ...     opt.step()
        ...     sched.step(val_loss)
        ...     lrs.append(opt.param_groups[0]["lr"])
        >>> lrs
        [0.1, 0.1, 0.1, 0.05, 0.05]

    Args:
        optimizer: the optimizer.
        mode: ``'min'`` (loss) or ``'max'`` (accuracy).
        factor: multiplicative factor, < 1 (default 0.1).
        patience: bad epochs tolerated before reducing (default 10).
        threshold: minimal improvement (default 1e-4).
        threshold_mode: ``'rel'`` or ``'abs'``.
        cooldown: epochs to wait after a reduction (default 0).
        min_lr: lower bound, one value or one per group (default 0).
        eps: minimal change of the lr (default 1e-8).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: invalid factor={factor!r}; expected factor < 1.0")
        _check_optimizer("ReduceLROnPlateau", optimizer)
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _per_group("ReduceLROnPlateau", "min_lr", optimizer, min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or a one-element tensor) and maybe reduce the lr."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown don't count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(self.optimizer.param_groups)} parameter "
                    f"groups but min_lr has {len(self.min_lrs)} values (a group was added); update `min_lrs`"
                )
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for i, group in enumerate(self.optimizer.param_groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self) -> bool:
        """Whether the rule is waiting out its cooldown after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: invalid mode={mode!r}; expected 'min' or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: invalid threshold_mode={threshold_mode!r}; expected 'rel' or 'abs'"
            )
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)


class OneCycleLR(LRScheduler):
    r"""The 1cycle learning-rate policy.

    The 1cycle policy (Smith, "Super-Convergence"): warm up to ``max_lr``, then anneal far below
    the start.  Step it after every **batch**.

    - phase 1 (``pct_start`` of the steps): lr from max_lr/div_factor up to max_lr, momentum
      from ``max_momentum`` down to ``base_momentum``;
    - phase 2: lr down to initial_lr/final_div_factor, momentum back up to max_momentum.

    ``three_phase=True`` follows the paper instead: up, back down to the initial lr
    (symmetrically), then a final anneal to the minimum.  ``anneal_strategy`` is ``'cos'`` or
    ``'linear'``.  With ``cycle_momentum`` (default), the optimizer's ``momentum`` (SGD, RMSprop)
    or β₁ (``betas[0]``, Adam family) is cycled inversely to the learning rate.

    Example:
        The learning rate after each epoch's ``step()``:

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.9505, 0.6113, 0.1883, 0.0]

    Args:
        optimizer: the optimizer.
        max_lr: peak learning rate (one value or one per group).
        total_steps: number of steps of the cycle; or give ``epochs`` and ``steps_per_epoch``.
        pct_start: fraction of the cycle spent increasing the lr (default 0.3).
        anneal_strategy: ``'cos'`` (default) or ``'linear'``.
        cycle_momentum: cycle the momentum too (default True).
        base_momentum: the lowest momentum (default 0.85).
        max_momentum: the highest momentum (default 0.95).
        div_factor: initial_lr = max_lr / div_factor (default 25).
        final_div_factor: min_lr = initial_lr / final_div_factor (default 1e4).
        three_phase: use the three-phase schedule.
        last_epoch: the index of the last batch (default -1: start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer("OneCycleLR", optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer total_steps, got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for what, n in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
                    raise ValueError(f"OneCycleLR: expected a positive integer {what}, got {n!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: you must give either total_steps or (epochs and steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: invalid pct_start={pct_start!r}; expected a float between 0 and 1")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: invalid anneal_strategy={anneal_strategy!r}; expected 'cos' or 'linear'"
            )
        if three_phase:
            self._schedule_phases = [
                {
                    "end_step": float(pct_start * self.total_steps) - 1,
                    "start_lr": "initial_lr",
                    "end_lr": "max_lr",
                    "start_momentum": "max_momentum",
                    "end_momentum": "base_momentum",
                },
                {
                    "end_step": float(2 * pct_start * self.total_steps) - 2,
                    "start_lr": "max_lr",
                    "end_lr": "initial_lr",
                    "start_momentum": "base_momentum",
                    "end_momentum": "max_momentum",
                },
                {
                    "end_step": self.total_steps - 1,
                    "start_lr": "initial_lr",
                    "end_lr": "min_lr",
                    "start_momentum": "max_momentum",
                    "end_momentum": "max_momentum",
                },
            ]
        else:
            self._schedule_phases = [
                {
                    "end_step": float(pct_start * self.total_steps) - 1,
                    "start_lr": "initial_lr",
                    "end_lr": "max_lr",
                    "start_momentum": "max_momentum",
                    "end_momentum": "base_momentum",
                },
                {
                    "end_step": self.total_steps - 1,
                    "start_lr": "max_lr",
                    "end_lr": "min_lr",
                    "start_momentum": "base_momentum",
                    "end_momentum": "max_momentum",
                },
            ]
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, mlr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = mlr / div_factor
                group["max_lr"] = mlr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _init_momentum("OneCycleLR", optimizer, base_momentum, max_momentum, last_epoch)[
                0
            ]
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        lrs = []
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step_num} times; the specified number of total steps is "
                f"{self.total_steps}"
            )
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    computed_lr = self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        computed_momentum = self._anneal_func(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                    break
                start_step = phase["end_step"]
            lrs.append(computed_lr)
            if self.cycle_momentum:
                _set_momentum(group, self.use_beta1, computed_momentum)
        return lrs


class MultiplicativeLR(_LambdaSchedule):
    r"""Multiply the learning rate by a function of the epoch at every step: η_t = η_{t-1}·λ(t).

    Example (the learning rate after each epoch's ``step()``)::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.5)
        >>> lrs = []
        >>> for epoch in range(3):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.05, 0.025, 0.0125]

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the epoch (an int) giving the factor of this step, or a list of
            such functions, one per parameter group.
        last_epoch: the index of the last epoch (default -1: start).
    """

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [
            group["lr"] * lmbda(self.last_epoch)
            for lmbda, group in zip(self.lr_lambdas, self.optimizer.param_groups)
        ]


def _check_total_iters(name: str, total_iters: Any) -> None:
    if isinstance(total_iters, bool) or not isinstance(total_iters, numbers.Real) or not total_iters >= 0:
        raise ValueError(f"{name}: invalid total_iters={total_iters!r}; expected a number of epochs >= 0")


class ConstantLR(LRScheduler):
    r"""Scale the learning rate by a constant ``factor`` for the first ``total_iters`` epochs.

    Then restore it: η_t = η₀·factor for t < total_iters, η₀ afterwards (a simple warm-up).

    Example (the learning rate after each epoch's ``step()``)::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
        >>> lrs = []
        >>> for epoch in range(3):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.05, 0.1, 0.1]

    Args:
        optimizer: the optimizer.
        factor: the factor applied until ``total_iters``, in [0, 1] (default 1/3).
        total_iters: the number of epochs it lasts (default 5).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        if not 0 <= factor <= 1.0:
            raise ValueError(f"ConstantLR: invalid factor={factor!r}; expected a number between 0 and 1")
        _check_total_iters("ConstantLR", total_iters)
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
            for base_lr in self.base_lrs
        ]


class LinearLR(LRScheduler):
    r"""Change the learning rate linearly, then keep it (a linear warm-up, or a linear decay).

    From η₀·``start_factor`` to η₀·``end_factor`` over ``total_iters`` epochs:

    $$
    \eta_t = \eta_0 \Big(s + (e - s)\,\frac{\min(t, T)}{T}\Big)
    $$

    computed, as PyTorch does, step by step from the current rate.

    Example (the learning rate after each epoch's ``step()``)::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.05, 0.075, 0.1, 0.1]

    Args:
        optimizer: the optimizer.
        start_factor: the factor s at epoch 0, in (0, 1] (default 1/3).
        end_factor: the factor e reached at ``total_iters``, in [0, 1] (default 1).
        total_iters: the number of epochs T of the ramp (default 5).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1.0:
            raise ValueError(
                f"LinearLR: invalid start_factor={start_factor!r}; expected 0 < start_factor <= 1"
            )
        if not 0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR: invalid end_factor={end_factor!r}; expected 0 <= end_factor <= 1")
        _check_total_iters("LinearLR", total_iters)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        delta = self.end_factor - self.start_factor
        factor = 1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta)
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        delta = self.end_factor - self.start_factor
        return [
            base_lr * (self.start_factor + delta * min(self.total_iters, self.last_epoch) / self.total_iters)
            for base_lr in self.base_lrs
        ]


class PolynomialLR(LRScheduler):
    r"""Polynomial decay to 0 over ``total_iters`` epochs, then 0.

    $$
    \eta_t = \eta_0 \Big(1 - \frac{\min(t, T)}{T}\Big)^{p}
    $$

    computed, as PyTorch does, step by step from the current rate.

    Example (the learning rate after each epoch's ``step()``)::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.0563, 0.025, 0.0062, 0.0]

    Args:
        optimizer: the optimizer.
        total_iters: the number of epochs T of the decay (default 5).
        power: the power p (default 1: linear).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        _check_total_iters("PolynomialLR", total_iters)
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        decay_factor = (
            (1.0 - self.last_epoch / self.total_iters) / (1.0 - (self.last_epoch - 1) / self.total_iters)
        ) ** self.power
        return [group["lr"] * decay_factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
            for base_lr in self.base_lrs
        ]


class CyclicLR(LRScheduler):
    r"""The cyclical learning rate policy: back and forth between ``base_lr`` and ``max_lr``.

    From Smith, "Cyclical Learning Rates for Training Neural Networks".  Step it after every
    **batch**.

    A cycle lasts ``step_size_up + step_size_down`` steps; with x the position in it (rising over
    the first ``step_size_up`` steps, falling over the rest) as a fraction of the peak, c the cycle
    number (from 1) and t the step:

    $$
    \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, x \cdot \text{scale}(c \text{ or } t)
    $$

    ``mode``: ``'triangular'`` (scale 1), ``'triangular2'`` (the amplitude halves every cycle,
    1/2^(c−1)), ``'exp_range'`` (γ^t, per step); or your own ``scale_fn`` with ``scale_mode``
    ``'cycle'`` or ``'iterations'``.  With ``cycle_momentum`` (default), the optimizer's momentum
    (or β₁) moves the opposite way, between ``max_momentum`` and ``base_momentum``.

    Example (four steps up, four down)::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> sched = cr.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.05, step_size_up=4)
        >>> lrs = []
        >>> for batch in range(8):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.02, 0.03, 0.04, 0.05, 0.04, 0.03, 0.02, 0.01]

    Args:
        optimizer: the optimizer.
        base_lr: the lower bound of the rate (one value or one per group); it replaces the
            groups' ``lr`` at the start.
        max_lr: the upper bound (one value or one per group).
        step_size_up: steps in the rising half of a cycle (default 2000).
        step_size_down: steps in the falling half (default: ``step_size_up``).
        mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'`` (ignored with ``scale_fn``).
        gamma: γ of ``'exp_range'`` (default 1).
        scale_fn: a function of the cycle number or of the step returning the amplitude's scale.
        scale_mode: ``'cycle'`` or ``'iterations'``: what ``scale_fn`` receives.
        cycle_momentum: cycle the momentum too (default True).
        base_momentum: the lower momentum bound (default 0.8).
        max_momentum: the upper momentum bound (default 0.9).
        last_epoch: the index of the last batch (default -1: start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer("CyclicLR", optimizer)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"CyclicLR: invalid mode={mode!r}; expected 'triangular', 'triangular2' or 'exp_range', "
                "or a scale_fn"
            )
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: invalid scale_mode={scale_mode!r}; expected 'cycle' or 'iterations'")
        for what, n in (("step_size_up", step_size_up), ("step_size_down", step_size_down)):
            if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Real) or not n > 0):
                raise ValueError(f"CyclicLR: invalid {what}={n!r}; expected a positive number of steps")
        self.optimizer = optimizer
        base_lrs = _per_group("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("CyclicLR", "max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _init_momentum(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) ``x``: the ``scale_fn`` given, or the mode's."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base_lr + (max_lr - base_lr) * scale_factor * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, base_m, max_m in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                _set_momentum(group, self.use_beta1, max_m - (max_m - base_m) * scale_factor * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """The state; a function ``scale_fn`` is saved as None, a callable object as its ``__dict__``."""
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by ``state_dict()`` (keeping this scheduler's ``scale_fn``)."""
        state_dict = dict(state_dict)
        fn = state_dict.pop("_scale_fn_custom")
        super().load_state_dict(state_dict)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter).

    Anneal from η₀ to η_min over T_i epochs, then restart at η₀ with T_{i+1} = T_i·``T_mult``:

    $$
    \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\Big(1 + \cos\frac{\pi T_{cur}}{T_i}\Big)
    $$

    T_cur counts the epochs since the last restart.  ``step(epoch)`` accepts a fractional epoch,
    so you can step after every batch: ``sched.step(epoch + i / iters_per_epoch)``.

    Example (restarts after 2 epochs, then after 4 more)::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = cr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
        >>> lrs = []
        >>> for epoch in range(6):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.05, 0.1, 0.0854, 0.05, 0.0146, 0.1]

    Args:
        optimizer: the optimizer.
        T_0: the length of the first period, in epochs (a positive int).
        T_mult: the factor by which periods grow after each restart (an int >= 1, default 1).
        eta_min: the lowest learning rate η_min (default 0).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive integer T_0, got {T_0!r}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, got {T_mult!r}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (float, int)):
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected a number eta_min, got {eta_min!r} "
                f"({type(eta_min).__name__})"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base_lr in self.base_lrs
        ]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to ``epoch`` (may be fractional: step every batch with it)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got {epoch!r}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult ** (n)
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())


class _Composite(LRScheduler):
    """The machinery of ``SequentialLR`` and ``ChainedScheduler``.

    Schedulers of one optimizer, saved and restored together.
    """

    def _adopt(self, optimizer: Any, schedulers: Any) -> None:
        name = type(self).__name__
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{name}: expected at least one scheduler, got none")
        for i, sched in enumerate(schedulers):
            if not isinstance(sched, LRScheduler):
                raise TypeError(f"{name}: schedulers[{i}] is a {type(sched).__name__}, not a scheduler")
            if isinstance(sched, ReduceLROnPlateau):
                raise ValueError(
                    f"{name}: schedulers[{i}] is a ReduceLROnPlateau, which needs a metric in step(); "
                    "it cannot be combined"
                )
            if sched.optimizer is not optimizer:
                raise ValueError(
                    f"{name}: every scheduler must belong to the same optimizer, but schedulers[{i}] "
                    f"({type(sched).__name__}) drives another {type(sched.optimizer).__name__}"
                )
        self._schedulers = schedulers
        self.optimizer = optimizer

    def state_dict(self) -> dict[str, Any]:
        """The state, with each inner scheduler's ``state_dict()`` under ``'_schedulers'``."""
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by ``state_dict()``, the inner schedulers' included."""
        state_dict = dict(state_dict)
        inner = state_dict.pop("_schedulers")
        if len(inner) != len(self._schedulers):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state holds {len(inner)} schedulers, "
                f"this one has {len(self._schedulers)}"
            )
        self.__dict__.update(state_dict)
        for sched, sd in zip(self._schedulers, inner):
            sched.load_state_dict(sd)


class SequentialLR(_Composite):
    r"""Run schedulers one after the other, switching at the ``milestones`` epochs.

    E.g. a warm-up then a decay; each scheduler starts from its own epoch 0 when its turn comes.

    Example (two epochs of linear warm-up, then exponential decay)::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> warmup = cr.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> sched = cr.optim.lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[2])
        >>> lrs = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.075, 0.1, 0.05, 0.025]

    Args:
        optimizer: the optimizer every scheduler drives.
        schedulers: the schedulers, in order (not ``ReduceLROnPlateau``).
        milestones: the epochs at which the next scheduler takes over (one fewer than schedulers).
        last_epoch: the index of the last epoch (default -1: start).
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int], last_epoch: int = -1
    ) -> None:
        _check_optimizer("SequentialLR", optimizer)
        self._adopt(optimizer, schedulers)
        milestones = list(milestones)
        if len(milestones) != len(self._schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected one milestone fewer than schedulers, got {len(self._schedulers)} "
                f"schedulers and {len(milestones)} milestones"
            )
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_constructor_steps(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def _undo_constructor_steps(self, sched: Any) -> None:
        """Take back the epoch each inner scheduler counted when it was built (recursively)."""
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo_constructor_steps(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        """Advance one epoch: the current scheduler steps, or the next one starts at its epoch 0."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()


class ChainedScheduler(_Composite):
    r"""Step several schedulers together.

    Each ``step()`` steps all of them, in order, so their effects compose (e.g. a constant warm-up factor on
    top of an exponential decay).

    Example::

        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
        >>> warmup = cr.optim.lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=2)
        >>> decay = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        >>> sched = cr.optim.lr_scheduler.ChainedScheduler([warmup, decay])
        >>> lrs = []
        >>> for epoch in range(3):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        >>> lrs
        [0.09, 0.81, 0.729]

    Args:
        schedulers: the schedulers (not ``ReduceLROnPlateau``), all of one optimizer.
        optimizer: that optimizer (default: the first scheduler's).
    """

    def __init__(self, schedulers: list[LRScheduler], optimizer: Optimizer | None = None) -> None:
        schedulers = list(schedulers)
        if optimizer is None and schedulers:
            optimizer = getattr(schedulers[0], "optimizer", None)
        self._adopt(optimizer, schedulers)
        self._last_lr = self._current_lrs()

    def step(self) -> None:  # type: ignore[override]
        """Step every scheduler, in order."""
        for sched in self._schedulers:
            sched.step()
        self._last_lr = self._current_lrs()
