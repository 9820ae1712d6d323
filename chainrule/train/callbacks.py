"""Callbacks for ``cr.fit``, Keras-style: hooks called at the start/end of training, epochs and batches.

    cr.fit(model, (x, y), loss=..., optimizer=opt, epochs=50, validation=(xv, yv),
           callbacks=[cr.callbacks.EarlyStopping(patience=5, restore_best_weights=True),
                      cr.callbacks.ModelCheckpoint("best.safetensors", save_best_only=True),
                      cr.callbacks.CSVLogger("log.csv")])

A callback subclasses ``Callback`` and overrides any of ``on_train_begin(logs)``,
``on_epoch_begin(epoch, logs)``, ``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``,
``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``. During ``fit`` it can read ``self.model``,
``self.optimizer``, ``self.history`` and stop training with ``self.stop_training = True``
(``self.trainer`` is the running loop). Epochs are 0-based; ``logs`` maps metric names (``loss``,
``val_accuracy``, ...) to numbers. Callbacks run in the order given, sorted by their ``order``
attribute: those with the default 0 run before the epoch's logs are recorded in the History (at 50),
so they may add or change values; ``CSVLogger`` (90) and ``ModelCheckpoint`` (100) run last, so a
checkpoint sees the history, the scheduler's and early stopping's state after this epoch.
"""

from __future__ import annotations

import copy
import csv
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainrule.tensor import Tensor


class Callback:
    """Base class of the training callbacks: every hook does nothing until overridden.

    ``fit`` calls the hooks in this order: ``on_train_begin``, then per epoch ``on_epoch_begin``,
    ``on_batch_begin``/``on_batch_end`` around each batch, ``on_epoch_end``, and finally
    ``on_train_end``. Inside a hook, ``self.model``, ``self.optimizer`` and ``self.history`` are
    the run's; setting ``self.stop_training = True`` ends training after the current batch or epoch.

    Example:
        >>> class PrintLoss(cr.callbacks.Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, round(logs["loss"], 2) > 0)
        >>> model = cr.nn.Linear(2, 1)
        >>> x, y = cr.randn(16, 2), cr.randn(16, 1)
        >>> _ = cr.fit(model, (x, y), loss="mse", optimizer="sgd",
        ...            epochs=2, callbacks=[PrintLoss()], verbose=0)
        0 True
        1 True
    """

    order = 0

    def set_trainer(self, trainer: Any) -> None:
        """Attach the callback to the run (``fit`` calls it before ``on_train_begin``)."""
        self.trainer = trainer

    @property
    def model(self):
        """The model being trained."""
        return self.trainer.model

    @property
    def optimizer(self):
        """The optimizer of the run."""
        return self.trainer.optimizer

    @property
    def history(self):
        """The run's ``History`` (the values of the epochs so far)."""
        return self.trainer.history

    @property
    def stop_training(self) -> bool:
        """Whether training stops; set it to True to end the run after the current batch or epoch."""
        return self.trainer.stop_training

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self.trainer.stop_training = bool(value)

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once before the first epoch; ``logs`` is empty."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of each epoch (``epoch`` counts from 0); write to ``logs`` to add values."""

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each training batch (``batch`` counts from 0 within the epoch)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each training batch's step; ``logs['loss']`` is the batch's loss."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called after each epoch with its values (``loss``, metrics, ``val_*``); the History has them."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once after training ends (also when a callback stopped it)."""


def _mode_for(name: str, monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{name}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall", "f1")) else "min"


def _monitored(name: str, monitor: str, logs: dict | None) -> float | None:
    logs = logs or {}
    if monitor not in logs:
        raise KeyError(
            f"{name}: monitored metric {monitor!r} is not among this epoch's values "
            f"{sorted(logs)} "
            "(give validation data for 'val_*' metrics, or list the metric in metrics=)"
        )
    value = float(logs[monitor])
    return None if math.isnan(value) else value


def _copy_state(model) -> dict:
    return {k: Tensor._make(v._data.copy()) for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop training when a monitored value stops improving.

    Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
    in a row (as Keras; ``patience=0``: at the first epoch without improvement).

    With ``restore_best_weights=True`` the model gets back the weights of its best epoch when
    training ends (whenever the best epoch is not the last one). ``stopped_epoch`` (-1 if
    training was not stopped) and ``best_epoch`` (0-based) are recorded. ``mode``: 'min', 'max',
    or 'auto' (max for accuracies).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        mode: str = "auto",
        verbose: bool = False,
    ):
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = restore_best_weights
        self.mode = _mode_for("EarlyStopping", monitor, mode)
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.stopped_epoch = -1
        self.best_weights = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs=None) -> None:
        if not getattr(self.trainer, "resumed", False):
            self._reset()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        value = _monitored("EarlyStopping", self.monitor, logs)
        if value is not None and self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _copy_state(self.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.stop_training = True
            if self.verbose:
                print(
                    f"EarlyStopping: {self.monitor} has not improved for {self.wait} epochs; "
                    f"stopping after epoch {epoch + 1} "
                    f"(best {self.best:.6g} at epoch {self.best_epoch + 1})"
                )

    def on_train_end(self, logs=None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            last = self.trainer.epoch
            if self.best_epoch != last:
                self.model.load_state_dict(self.best_weights)
                if self.verbose:
                    print(f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1}")

    def state_dict(self) -> dict:
        """The callback's state (best value and epoch, patience counter, best weights), for checkpoints."""
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore the state ``state_dict`` returned (when resuming from a checkpoint)."""
        self.best, self.best_epoch = float(state["best"]), int(state["best_epoch"])
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        self.best_weights = state.get("best_weights")


class ModelCheckpoint(Callback):
    """Save a checkpoint at the end of each epoch (safetensors, via ``cr.save``; atomic writes).

    ``path`` may hold ``{epoch}`` (1-based) and metric fields, e.g.
    ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors"``. With ``save_best_only`` the file is
    written only when ``monitor`` improves. ``save_weights_only=True`` stores just
    ``model.state_dict()`` (load it with ``model.load_state_dict(cr.load(path))``); otherwise the
    file is a full training checkpoint (model, optimizer, epoch, RNG and callback states) that
    ``cr.fit(..., resume=path)`` continues from exactly, and ``cr.train.load_checkpoint`` reads.
    """

    order = 100

    def __init__(
        self,
        path: str | os.PathLike,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        verbose: bool = False,
    ):
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _mode_for("ModelCheckpoint", monitor, mode)
        self.verbose = verbose
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved: list[str] = []

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = _monitored("ModelCheckpoint", self.monitor, logs)
            better = value is not None and (value < self.best if self.mode == "min" else value > self.best)
            if not better:
                return
            self.best = value
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(
                f"ModelCheckpoint: cannot fill in the path {self.path!r} with epoch and {sorted(logs)}: {e}"
            ) from e
        from chainrule.train.checkpoint import save_checkpoint

        if self.save_weights_only:
            save_checkpoint(dict(self.model.state_dict()), path)
        else:
            save_checkpoint(self.trainer.checkpoint_state(epoch), path)
        self.saved.append(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")

    def state_dict(self) -> dict:
        """The callback's state (the best monitored value so far), for checkpoints."""
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        """Restore the state ``state_dict`` returned (when resuming from a checkpoint)."""
        self.best = float(state["best"])


class LearningRateScheduler(Callback):
    """Step a learning-rate schedule once per epoch, or once per batch with ``per_batch=True``.

    ``scheduler`` is a ``cr.optim.lr_scheduler`` scheduler (``step()`` at each epoch end, or after
    each optimizer step with ``per_batch=True``, as ``OneCycleLR`` and ``CyclicLR`` expect;
    ``ReduceLROnPlateau`` gets ``logs[monitor]`` at epoch ends), or a function ``fn(epoch, lr) -> lr``
    (Keras-style, 0-based epoch) whose value is set on every parameter group at each epoch start.
    The learning rate at the start of each epoch is logged as ``lr``.

    Example::

        sched = cr.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * len(loader))
        cr.fit(model, loader, ..., callbacks=[LearningRateScheduler(sched, per_batch=True)])
    """

    def __init__(self, scheduler: Any, monitor: str = "val_loss", per_batch: bool = False):
        self.scheduler = scheduler
        self.monitor = monitor
        self.per_batch = bool(per_batch)
        self._is_fn = not hasattr(scheduler, "step")
        if self._is_fn and not callable(scheduler):
            raise TypeError(
                "LearningRateScheduler: expected a cr.optim.lr_scheduler scheduler or a function "
                f"(epoch, lr) -> lr, got {type(scheduler).__name__}"
            )
        if self.per_batch and (self._is_fn or type(scheduler).__name__ == "ReduceLROnPlateau"):
            raise ValueError(
                "LearningRateScheduler: per_batch=True needs a scheduler stepped per batch (OneCycleLR, "
                f"CyclicLR, ...), not {getattr(scheduler, '__name__', type(scheduler).__name__)}"
            )

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if self._is_fn:
            lr = float(self.scheduler(epoch, self.optimizer.param_groups[0]["lr"]))
            for group in self.optimizer.param_groups:
                group["lr"] = lr
        if logs is not None:
            logs["lr"] = self.optimizer.param_groups[0]["lr"]

    def on_batch_end(self, batch: int, logs=None) -> None:
        if self.per_batch:
            self.scheduler.step()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self._is_fn or self.per_batch:
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            value = _monitored("LearningRateScheduler", self.monitor, logs)
            self.scheduler.step(value if value is not None else math.nan)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        """The scheduler's state (empty for a function schedule), for checkpoints."""
        if self._is_fn or not hasattr(self.scheduler, "state_dict"):
            return {}
        return {"scheduler": _plain(self.scheduler.state_dict())}

    def load_state_dict(self, state: dict) -> None:
        """Restore the state ``state_dict`` returned (when resuming from a checkpoint)."""
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])


def _plain(obj: Any) -> Any:
    """Drop what a checkpoint cannot hold (functions in LambdaLR's state)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items() if not callable(v) or isinstance(v, Tensor)}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj if not callable(v) or isinstance(v, Tensor))
    return copy.deepcopy(obj)


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then every logged value) to ``path``.

    ``append=True`` keeps an existing file (resuming a run); otherwise it is overwritten.
    """

    order = 90

    def __init__(self, path: str | os.PathLike, separator: str = ",", append: bool = False):
        self.path = Path(path)
        self.separator = separator
        self.append = append
        self._keys: list[str] | None = None

    def on_train_begin(self, logs=None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        resumed = getattr(self.trainer, "resumed", False)
        if (self.append or resumed) and self.path.exists() and self.path.stat().st_size:
            with self.path.open(newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self._keys = header[1:] if header else None
        else:
            self.path.write_text("")
            self._keys = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
            with self.path.open("a", newline="") as f:
                csv.writer(f, delimiter=self.separator).writerow(["epoch", *self._keys])
        row = [epoch] + [_fmt(logs.get(k, "")) for k in self._keys]
        with self.path.open("a", newline="") as f:
            csv.writer(f, delimiter=self.separator).writerow(row)


def _fmt(v: Any) -> Any:
    return repr(float(v)) if isinstance(v, float) else v


class LambdaCallback(Callback):
    """A callback from plain functions.

    A callback from plain functions, per batch or per epoch:
    ``LambdaCallback(on_batch_end=lambda batch, logs: losses.append(logs["loss"]))``
    (hooks: ``on_train_begin``, ``on_epoch_begin``, ``on_batch_begin``, ``on_batch_end``,
    ``on_epoch_end``, ``on_train_end``).
    """

    def __init__(self, **hooks: Callable):
        names = {
            "on_train_begin",
            "on_epoch_begin",
            "on_batch_begin",
            "on_batch_end",
            "on_epoch_end",
            "on_train_end",
        }
        bad = set(hooks) - names
        if bad:
            raise TypeError(f"LambdaCallback: unknown hooks {sorted(bad)}; known: {sorted(names)}")
        for name, fn in hooks.items():
            setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stop training at the first non-finite loss.

    Stop training at the first batch whose loss is NaN or infinite, before its optimizer step
    (the parameters stay finite); the epoch is recorded with its non-finite loss.

    Without it ``fit`` raises ``FloatingPointError`` there. ``stopped`` holds ``(epoch, batch)``
    (0-based) once it stopped training.
    """

    handles_nan = True

    def __init__(self, verbose: bool = True):
        self.verbose = verbose
        self.stopped: tuple[int, int] | None = None

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stopped = (self._epoch, batch)
            self.stop_training = True
            if self.verbose:
                print(f"TerminateOnNaN: loss {loss} at epoch {self._epoch + 1}, batch {batch + 1}; stopping")


class ReduceLROnPlateau(Callback):
    """Lower the learning rate when a monitored value stops improving.

    Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience``
    epochs (Keras' callback, with ``cr.optim.lr_scheduler.ReduceLROnPlateau``'s rule and PyTorch's
    defaults: ``factor=0.1``, ``patience=10``, relative ``threshold=1e-4``, ``cooldown=0``,
    ``min_lr=0``). ``mode``: 'min', 'max' or 'auto' (max for accuracies). The learning rate of
    each epoch is logged as ``lr``.

    Example::

        cr.fit(..., validation=(xv, yv), callbacks=[ReduceLROnPlateau(factor=0.5, patience=2)])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        mode: str = "auto",
        verbose: bool = False,
    ):
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        self.monitor = monitor
        self.mode = _mode_for("ReduceLROnPlateau", monitor, mode)
        self.kwargs = dict(
            factor=factor,
            patience=int(patience),
            threshold=threshold,
            threshold_mode=threshold_mode,
            cooldown=int(cooldown),
            min_lr=min_lr,
        )
        self.verbose = verbose
        self.scheduler: Any = None
        self._state: dict | None = None

    def on_train_begin(self, logs=None) -> None:
        from chainrule.optim.lr_scheduler import ReduceLROnPlateau as Rule

        if self.scheduler is None or self.scheduler.optimizer is not self.optimizer:
            self.scheduler = Rule(self.optimizer, mode=self.mode, **self.kwargs)
            if self._state is not None:
                self.scheduler.load_state_dict(self._state)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if logs is not None:
            logs["lr"] = self.optimizer.param_groups[0]["lr"]

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        value = _monitored("ReduceLROnPlateau", self.monitor, logs)
        before = self.optimizer.param_groups[0]["lr"]
        self.scheduler.step(value if value is not None else math.nan)
        after = self.optimizer.param_groups[0]["lr"]
        if self.verbose and after < before:
            print(f"ReduceLROnPlateau: {self.monitor} stalled; learning rate {before:.3g} -> {after:.3g}")

    def state_dict(self) -> dict:
        """The rule's state (best value, counters, current rates), for checkpoints."""
        return {"scheduler": _plain(self.scheduler.state_dict())} if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        """Restore the state ``state_dict`` returned (when resuming from a checkpoint)."""
        self._state = state.get("scheduler")
        if self.scheduler is not None and self._state is not None:
            self.scheduler.load_state_dict(self._state)


__all__ = [
    "Callback",
    "TerminateOnNaN",
    "ReduceLROnPlateau",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "CSVLogger",
    "LambdaCallback",
]
