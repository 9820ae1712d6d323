"""``cr.fit``, ``cr.evaluate``, ``cr.predict``: the training loop, written out once.

One epoch of ``fit`` is, for each mini-batch ``(x, y)`` of the (shuffled) training data::

    optimizer.zero_grad()
    out = model(x)                 # forward, recording the graph
    l = loss(out, y)               # a scalar
    l.backward()                   # the chain rule, back to every parameter
    optimizer.step()               # update the parameters from their .grad

with the model in training mode (dropout on, batch-norm batch statistics), then a pass over the
validation data in evaluation mode without recording a graph. The mean loss and metrics of the
epoch (training values averaged over its batches, weighted by batch size) go into the returned
``History``; a progress bar shows them live.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from chainrule import backend
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import np
from chainrule.data.dataloader import DataLoader
from chainrule.data.dataset import Dataset, Subset, TensorDataset
from chainrule.tensor import Tensor
from chainrule.train.callbacks import Callback
from chainrule.train.checkpoint import load_checkpoint, restore_rng, training_state
from chainrule.train.history import History
from chainrule.train.metrics import get_metric

# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------


def _is_pair(data: Any) -> bool:
    return (
        isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], (Dataset, DataLoader))
    )


def _as_dataset(name: str, what: str, data: Any) -> Dataset:
    if isinstance(data, DataLoader):
        return data.dataset
    if _is_pair(data):
        x, y = data
        if len(x) != len(y):
            raise ValueError(f"{name}: {what} inputs and targets differ in length: {len(x)} vs {len(y)}")
        return TensorDataset(x, y)
    if hasattr(data, "__len__") and hasattr(data, "__getitem__") and not isinstance(data, (tuple, list)):
        return data
    raise TypeError(
        f"{name}: {what} must be a Dataset, a DataLoader or an (x, y) pair of arrays/Tensors, "
        f"got {type(data).__name__}"
    )


def _as_loader(name: str, what: str, data: Any, batch_size: int, shuffle: bool) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    return DataLoader(_as_dataset(name, what, data), batch_size=batch_size, shuffle=shuffle)


def _split_off_validation(train: Any, fraction: float) -> tuple[Dataset, Dataset]:
    """Keras' ``validation_split``: the last ``fraction`` of the training data (before shuffling)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {fraction}")
    if isinstance(train, DataLoader):
        raise ValueError("fit: validation_split needs an (x, y) pair or a Dataset, not a DataLoader")
    ds = _as_dataset("fit", "train", train)
    n = len(ds)
    split = int(n * (1 - fraction))
    if split == 0 or split == n:
        raise ValueError(f"fit: validation_split={fraction} of {n} samples leaves an empty part")
    return Subset(ds, np.arange(split)), Subset(ds, np.arange(split, n))


def _device_of(model) -> str:
    for p in model.parameters():
        return p.device
    return "cpu"


def _to_tensor(t: Any, device: str) -> Any:
    if not isinstance(t, Tensor):
        if isinstance(t, np.ndarray):
            t = Tensor._make(t)
        else:
            return t
    return t.to(device) if device != "cpu" and t.device != device else t


def _unpack(name: str, batch: Any, device: str) -> tuple[tuple, Any]:
    """(inputs, target) of a batch ``(x, y)`` / ``(x1, x2, ..., y)``."""
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise TypeError(
            f"{name}: each batch must be a tuple (inputs..., target), got {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        )
    return tuple(_to_tensor(b, device) for b in batch[:-1]), _to_tensor(batch[-1], device)


def _metric_list(metrics: Iterable) -> list[tuple[str, Callable]]:
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    return [get_metric(m) for m in metrics if m != "loss"]


def _batch_len(target: Any) -> int:
    return int(target.shape[0]) if hasattr(target, "shape") and len(target.shape) else 1


def _loss_value(name: str, value: Any) -> float:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"{name}: the loss must be a scalar, got a tensor of shape {tuple(value.shape)} "
                "(use reduction='mean' or 'sum')"
            )
        return float(value.item())
    return float(value)


class _Mean:
    """Running means weighted by batch size."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, values: dict, n: int) -> None:
        self.count += n
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + v * n

    def means(self) -> dict[str, float]:
        return {k: s / self.count for k, s in self.sums.items()} if self.count else {}


# ----------------------------------------------------------------------------------------
# Progress display
# ----------------------------------------------------------------------------------------


def _fmt_logs(logs: dict) -> str:
    def fmt(k: str, v: Any) -> str:
        if isinstance(v, float):
            return f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}"
        return f"{k} {v}"

    return "  ".join(fmt(k, v) for k, v in logs.items())


_BAR = "{desc} {percentage:3.0f}%|{bar:16}| {n_fmt}/{total_fmt} {elapsed}{postfix}"


class _Progress:
    """A tqdm bar per epoch on a terminal; one plain line per epoch otherwise; nothing when off."""

    def __init__(self, enabled: bool, epochs: int, total: int, file: Any = None):
        self.file = file or sys.stderr
        self.enabled = enabled
        isatty = getattr(self.file, "isatty", None)
        self.live = enabled and bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
        self.epochs, self.total = epochs, total
        self.bar = None

    def start(self, epoch: int) -> None:
        self.t0 = time.perf_counter()
        if self.live:
            from tqdm.auto import tqdm

            width = len(str(self.epochs))
            self.bar = tqdm(
                total=self.total,
                desc=f"epoch {epoch + 1:>{width}}/{self.epochs}",
                unit="batch",
                file=self.file,
                leave=True,
                mininterval=0.1,
                bar_format=_BAR,
            )

    def update(self, logs: dict) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt_logs(logs), refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        """Close a bar left open (training interrupted by an exception)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def end(self, epoch: int, logs: dict) -> None:
        if not self.enabled:
            return
        seconds = time.perf_counter() - self.t0
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt_logs(logs), refresh=False)
            self.bar.close()
            self.bar = None
        else:
            width = len(str(self.epochs))
            print(
                f"epoch {epoch + 1:>{width}}/{self.epochs}  {seconds:.1f}s  {_fmt_logs(logs)}",
                file=self.file,
                flush=True,
            )


# ----------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------


class _Record(Callback):
    """Records the epoch's logs in the History and ends the progress line. Callbacks with a lower
    ``order`` (the default 0) run before it and may add or change logs; ModelCheckpoint and
    CSVLogger run after it."""

    order = 50

    def __init__(self, bar: _Progress):
        self.bar = bar

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.history.append(epoch, logs or {})
        self.bar.end(epoch, logs or {})


class Trainer:
    """The state of one ``fit`` call (what callbacks see as ``self.trainer``)."""

    def __init__(self, model, optimizer, callbacks: Sequence) -> None:
        self.model = model
        self.optimizer = optimizer
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))  # (a stable sort)
        self.history = History()
        self.stop_training = False
        self.resumed = False
        self.epoch = -1

    def checkpoint_state(self, epoch: int) -> dict:
        """Everything needed to resume after ``epoch``, the RNG state included (taken now)."""
        return training_state(self.model, self.optimizer, epoch, self.history, self.callbacks)

    def restore(self, checkpoint: Any) -> int:
        """Load a training checkpoint (path or dict); returns the first epoch still to run."""
        ckpt = load_checkpoint(checkpoint) if isinstance(checkpoint, (str, os.PathLike)) else checkpoint
        if not isinstance(ckpt, dict) or ckpt.get("format") != "chainrule-fit-checkpoint-1":
            raise ValueError(
                "fit: resume= needs a full training checkpoint written by ModelCheckpoint "
                "(not save_weights_only) or cr.train.save_checkpoint(trainer state)"
            )
        # Check everything before applying anything: the model's values are converted first and
        # written last; the optimizer (whose own load is all-or-nothing) is put back if a later part fails.
        apply_model, _ = self.model._prepare_load(ckpt["model"])
        before = self.optimizer.state_dict()
        if ckpt.get("optimizer") is not None:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        try:
            if ckpt.get("history") is not None:
                self.history.load_state_dict(ckpt["history"])
            saved = ckpt.get("callbacks") or {}
            for i, cb in enumerate(self.callbacks):
                key = f"{i}:{type(cb).__name__}"
                if key in saved and hasattr(cb, "load_state_dict"):
                    cb.load_state_dict(saved[key])
            restore_rng(ckpt["rng"])
        except BaseException:
            self.optimizer.load_state_dict(before)
            raise
        apply_model()
        self.resumed = True
        self.epoch = int(ckpt["epoch"])
        return self.epoch + 1

    def call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)


def fit(
    model,
    train: Any,
    *,
    loss: Callable,
    optimizer,
    epochs: int = 1,
    batch_size: int = 32,
    validation: Any = None,
    validation_split: float | None = None,
    metrics: Iterable = ("loss",),
    callbacks: Sequence = (),
    progress: bool = True,
    shuffle: bool = True,
    resume: Any = None,
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs; returns the ``History`` of per-epoch values.

    Args:
        model: a ``cr.nn.Module`` (any callable with ``parameters()``, ``train()``, ``eval()``).
        train: a Dataset, a DataLoader, or an ``(x, y)`` pair of arrays/Tensors. Batches are
            ``(inputs..., target)``; the model is called as ``model(*inputs)``.
        loss: a loss module or callable ``(output, target) -> scalar Tensor``.
        optimizer: a ``cr.optim`` optimizer over the model's parameters.
        epochs: the total number of epochs (counting those of a resumed checkpoint).
        batch_size, shuffle: used when ``train`` is not already a DataLoader.
        validation: data in the same forms, evaluated after each epoch (``val_*`` values).
        validation_split: instead, hold out this last fraction of ``train`` (before shuffling).
        metrics: names (``'accuracy'``, ``'top5_accuracy'``, ``'mse'``, ``'mae'``) or callables
            ``(output, target) -> number``; the loss is always recorded.
        callbacks: ``cr.callbacks`` objects (early stopping, checkpoints, schedules, CSV log).
        progress: a live progress bar per epoch on a terminal (one plain line per epoch when the
            output is not a terminal); ``False`` prints nothing.
        resume: a checkpoint file from ``ModelCheckpoint`` (or its loaded dict): restores the
            model, optimizer, history, callback and RNG states and continues after its epoch,
            giving the same result as an uninterrupted run.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if validation is not None and validation_split is not None:
        raise ValueError("fit: give validation or validation_split, not both")
    if validation_split is not None:
        train, validation = _split_off_validation(train, validation_split)
    train_loader = _as_loader("fit", "train", train, batch_size, shuffle)
    val_loader = None
    if validation is not None:
        val_loader = _as_loader("fit", "validation", validation, batch_size, False)
    metric_fns = _metric_list(metrics)
    device = _device_of(model)

    bar = _Progress(progress, epochs, len(train_loader))
    trainer = Trainer(model, optimizer, [*callbacks, _Record(bar)])
    for cb in trainer.callbacks:
        cb.set_trainer(trainer)
    start = trainer.restore(resume) if resume is not None else 0
    was_training = getattr(model, "training", True)

    trainer.call("on_train_begin", {})
    try:
        for epoch in range(start, epochs):
            logs: dict[str, Any] = {}
            trainer.call("on_epoch_begin", epoch, logs)
            model.train()
            bar.start(epoch)
            running = _Mean()
            for i, batch in enumerate(train_loader):
                inputs, target = _unpack("fit", batch, device)
                optimizer.zero_grad()
                out = model(*inputs)
                value = loss(out, target)
                batch_logs = {"loss": _loss_value("fit", value)}
                if not math.isfinite(batch_logs["loss"]):
                    raise FloatingPointError(
                        f"fit: the loss became {batch_logs['loss']} at epoch "
                        f"{epoch + 1}, batch {i + 1}; lower the learning rate or "
                        "check the data"
                    )
                value.backward()
                optimizer.step()
                if metric_fns:
                    detached = Tensor._make(out._data)
                    for name, fn in metric_fns:
                        batch_logs[name] = float(fn(detached, target))
                running.add(batch_logs, _batch_len(target))
                bar.update(running.means())
                trainer.call("on_batch_end", i, batch_logs)
            logs.update(running.means())
            if val_loader is not None:
                logs.update(
                    {
                        f"val_{k}": v
                        for k, v in _run_eval(model, val_loader, loss, metric_fns, device, "fit").items()
                    }
                )
            trainer.epoch = epoch
            # 'lr' (from a scheduler callback) last, so the bar shows the metrics first
            lr = logs.pop("lr", None)
            if lr is not None:
                logs["lr"] = lr
            trainer.call("on_epoch_end", epoch, logs)  # _Record (order 50) stores logs in the History
            if trainer.stop_training:
                break
    finally:
        bar.close()
        model.train(was_training)
    trainer.call("on_train_end", trainer.history.last())
    return trainer.history


# ----------------------------------------------------------------------------------------
# evaluate / predict
# ----------------------------------------------------------------------------------------


def _run_eval(model, loader: DataLoader, loss: Callable | None, metric_fns, device: str, name: str) -> dict:
    was_training = getattr(model, "training", False)
    model.eval()
    running = _Mean()
    try:
        with no_grad():
            for batch in loader:
                inputs, target = _unpack(name, batch, device)
                out = model(*inputs)
                values = {}
                if loss is not None:
                    values["loss"] = _loss_value(name, loss(out, target))
                for mname, fn in metric_fns:
                    values[mname] = float(fn(out, target))
                running.add(values, _batch_len(target))
    finally:
        model.train(was_training)
    return running.means()


def evaluate(
    model, data: Any, *, loss: Callable | None = None, metrics: Iterable | None = None, batch_size: int = 256
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``data`` (Dataset, DataLoader or ``(x, y)``), in
    evaluation mode without recording a graph: e.g. ``{'loss': 0.08, 'accuracy': 0.975}``.

    ``metrics`` defaults to ``('loss',)`` when ``loss`` is given; ``'loss'`` needs ``loss=``.
    """
    if metrics is None:
        if loss is None:
            raise ValueError("evaluate: give loss= and/or metrics= (e.g. metrics=['accuracy'])")
        metrics = ("loss",)
    metrics = [metrics] if isinstance(metrics, str) or callable(metrics) else list(metrics)
    if "loss" in metrics and loss is None:
        raise ValueError("evaluate: metric 'loss' needs loss=")
    loader = _as_loader("evaluate", "data", data, batch_size, False)
    out = _run_eval(
        model,
        loader,
        loss if "loss" in metrics else None,
        _metric_list(metrics),
        _device_of(model),
        "evaluate",
    )
    order = ["loss"] + [name for name, _ in _metric_list(metrics)]
    return {k: out[k] for k in order if k in out}


def predict(model, x: Any, *, batch_size: int = 256) -> Tensor:
    """``model``'s outputs for all inputs ``x`` (array, Tensor, Dataset or DataLoader), computed in
    batches in evaluation mode without a graph, concatenated into one Tensor. For datasets with
    targets, the last element of each batch (the target) is ignored."""
    device = _device_of(model)
    if isinstance(x, (Tensor, np.ndarray)) or (hasattr(x, "__array__") and not hasattr(x, "__getitem__")):
        loader = DataLoader(TensorDataset(x), batch_size=batch_size)
    else:
        loader = _as_loader("predict", "x", x, batch_size, False)
    was_training = getattr(model, "training", False)
    model.eval()
    outs = []
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (tuple, list)):
                    inputs = batch if len(batch) == 1 else batch[:-1]
                else:
                    inputs = (batch,)
                out = model(*(_to_tensor(b, device) for b in inputs))
                outs.append(out._data)
    finally:
        model.train(was_training)
    if not outs:
        raise ValueError("predict: no inputs")
    xp = backend.xp_of(outs[0])
    return Tensor._make(xp.concatenate(outs))
