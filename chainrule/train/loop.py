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

import copy
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
from chainrule.data.dataset import Dataset, IterableDataset, Subset, TensorDataset
from chainrule.tensor import Tensor
from chainrule.train.callbacks import Callback
from chainrule.train.checkpoint import load_checkpoint, restore_rng, training_state
from chainrule.train.history import History
from chainrule.train.metrics import Metric, get_metric
from chainrule.train.names import get_loss, get_optimizer

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
    if isinstance(data, IterableDataset):  # a stream is read in its own order
        return DataLoader(data, batch_size=batch_size)
    return DataLoader(_as_dataset(name, what, data), batch_size=batch_size, shuffle=shuffle)


def _batches_per_epoch(loader: DataLoader) -> int | None:
    """``len(loader)``, or None for a stream of unknown length."""
    try:
        return len(loader)
    except TypeError:
        return None


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


def _in_notebook() -> bool:
    """True under a Jupyter (IPython) kernel; IPython is not imported when nothing else did."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def _import_tqdm(notebook: bool):
    """The tqdm class to draw with, or None (tqdm, or for notebooks ipywidgets, not installed)."""
    try:
        if notebook:
            import ipywidgets  # noqa: F401  (tqdm's notebook bar is an ipywidgets widget)
            from tqdm.notebook import tqdm
        else:
            from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class _TextLine:
    """A notebook output line updated in place (the notebook bar without ipywidgets)."""

    def __init__(self, text: str):
        from IPython.display import Pretty, display

        self._pretty = Pretty
        self.handle = display(Pretty(text), display_id=True)
        self.last = 0.0

    def show(self, text: str, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self.last > 0.2:
            self.handle.update(self._pretty(text))
            self.last = now


class _Progress:
    """The progress display of ``fit``.

    What ``fit`` shows per epoch, by ``verbose``: 0 nothing; 2 one line per epoch; 1 a live bar
    (tqdm on a terminal, tqdm's notebook bar under a Jupyter kernel, or there an output line
    updated in place when ipywidgets is missing), one line per epoch when no bar can be drawn
    (output not a terminal, tqdm not installed).
    """

    def __init__(self, verbose: int, epochs: int, total: int | None, file: Any = None):
        self.file = file or sys.stderr
        self.enabled = verbose > 0
        self.kind = "off" if not self.enabled else "lines"
        self.tqdm = None
        if verbose == 1 and file is None and _in_notebook():
            self.tqdm = _import_tqdm(notebook=True)
            self.kind = "notebook" if self.tqdm is not None else "text"
        elif verbose == 1:
            isatty = getattr(self.file, "isatty", None)
            if bool(isatty and isatty()) and os.environ.get("TERM") != "dumb":
                self.tqdm = _import_tqdm(notebook=False)
                self.kind = "terminal" if self.tqdm is not None else "lines"
        self.epochs, self.total = epochs, total
        self.bar: Any = None
        self.line: _TextLine | None = None

    def _desc(self, epoch: int) -> str:
        width = len(str(self.epochs))
        return f"epoch {epoch + 1:>{width}}/{self.epochs}"

    def start(self, epoch: int) -> None:
        self.t0 = time.perf_counter()
        self.n = 0
        if self.kind == "terminal":
            self.bar = self.tqdm(
                total=self.total,
                desc=self._desc(epoch),
                unit="batch",
                file=self.file,
                leave=True,
                mininterval=0.1,
                bar_format=_BAR,
            )
        elif self.kind == "notebook":
            self.bar = self.tqdm(total=self.total, desc=self._desc(epoch), unit="batch", leave=True)
        elif self.kind == "text":
            self.epoch = epoch
            self.line = _TextLine(f"{self._desc(epoch)}  0/{self.total}")

    def update(self, logs: dict) -> None:
        self.n += 1
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt_logs(logs), refresh=False)
            self.bar.update(1)
        elif self.line is not None:
            self.line.show(f"{self._desc(self.epoch)}  {self.n}/{self.total}  {_fmt_logs(logs)}")

    def close(self) -> None:
        """Close a bar left open (training interrupted by an exception)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.line = None

    def end(self, epoch: int, logs: dict) -> None:
        if not self.enabled:
            return
        seconds = time.perf_counter() - self.t0
        summary = f"{self._desc(epoch)}  {seconds:.1f}s  {_fmt_logs(logs)}"
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt_logs(logs), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.line is not None:
            self.line.show(summary, force=True)
            self.line = None
        else:
            print(summary, file=self.file, flush=True)


# ----------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------


class _Record(Callback):
    """Records the epoch's logs in the History and ends the progress line.

    Callbacks with a lower ``order`` (the default 0) run before it and may add or change logs; ModelCheckpoint
    and CSVLogger run after it.
    """

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
        """Call the hook named ``hook`` (e.g. ``'on_epoch_end'``) of every callback, in order."""
        for cb in self.callbacks:
            getattr(cb, hook)(*args)


def _verbosity(verbose: Any, progress: bool) -> int:
    if verbose is None:
        return 1 if progress else 0
    if isinstance(verbose, bool) or verbose not in (0, 1, 2, "auto"):
        raise ValueError(
            f"fit: verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch), got {verbose!r}"
        )
    return 1 if verbose == "auto" else int(verbose)


def _class_weighted(loss: Callable, class_weight: Any) -> Callable:
    """Weight each sample's loss by its class.

    Keras' ``class_weight``: each sample's loss times the weight of its class, averaged over
    the batch (``sum(w[y_i] * l_i) / N``).
    """
    if not isinstance(class_weight, dict) or not class_weight:
        raise TypeError(f"fit: class_weight must be a dict {{class index: weight}}, got {class_weight!r}")
    if getattr(loss, "reduction", None) not in ("mean", "sum"):
        raise TypeError(
            "fit: class_weight needs a loss module with reduction='mean' or 'sum' (e.g. "
            f"nn.CrossEntropyLoss()), got {type(loss).__name__}"
        )
    per_sample = copy.copy(loss)
    object.__setattr__(per_sample, "reduction", "none")
    size = max(int(k) for k in class_weight) + 1
    table = np.ones(size, dtype=np.float64)
    for k, w in class_weight.items():
        table[int(k)] = float(w)

    def weighted(out: Tensor, target: Tensor) -> Tensor:
        values = per_sample(out, target)
        t = target._data.reshape(-1) if isinstance(target, Tensor) else np.asarray(target).reshape(-1)
        idx = backend.to_numpy(t).astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            bad = int(idx.max() if idx.max() >= size else idx.min())
            raise ValueError(
                f"fit: class_weight has no weight for class {bad} (weights given for {sorted(class_weight)})"
            )
        w = table[idx].astype(values.dtype)
        if values.shape != w.shape:
            raise ValueError(
                f"fit: class_weight needs one loss value per sample, got shape {tuple(values.shape)} "
                f"for {w.shape[0]} targets"
            )
        xp = backend.xp_of(values._data)
        total = (values * Tensor._make(xp.asarray(w))).sum()
        return total / len(idx) if loss.reduction == "mean" else total

    return weighted


class _Stream:
    """The batches of each epoch.

    The batches of each epoch: all of the loader's, or ``steps`` of them drawn from a stream
    that restarts the loader (reshuffled) whenever it runs out.
    """

    def __init__(self, loader: DataLoader, steps: int | None):
        self.loader, self.steps, self.it = loader, steps, None

    def epoch(self):
        if self.steps is None:
            yield from self.loader
            return
        for _ in range(self.steps):
            batch = next(self.it, None) if self.it is not None else None
            if batch is None:
                self.it = iter(self.loader)
                batch = next(self.it, None)
                if batch is None:
                    raise ValueError("fit: the training data has no batches")
            yield batch


def fit(
    model,
    train: Any,
    *,
    loss: Callable | str,
    optimizer: Any,
    epochs: int = 1,
    batch_size: int = 32,
    validation: Any = None,
    validation_split: float | None = None,
    metrics: Iterable = ("loss",),
    callbacks: Sequence = (),
    progress: bool = True,
    shuffle: bool = True,
    resume: Any = None,
    verbose: int | str | None = None,
    validation_data: Any = None,
    initial_epoch: int = 0,
    class_weight: dict | None = None,
    steps_per_epoch: int | None = None,
    lr: float | None = None,
    distributed: bool = False,
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs; returns the ``History`` of per-epoch values.

    Args:
        model: a ``cr.nn.Module`` (any callable with ``parameters()``, ``train()``, ``eval()``).
        train: a Dataset, a DataLoader, or an ``(x, y)`` pair of arrays/Tensors. Batches are
            ``(inputs..., target)``; the model is called as ``model(*inputs)``.
        loss: a loss module or callable ``(output, target) -> scalar Tensor``, or a name
            (``'cross_entropy'``, ``'mse'``, ``'bce'``, ``'bce_with_logits'``, ``'l1'``,
            ``'huber'``, ``'nll'``, ``'hinge'``) giving the ``cr.nn`` loss with its defaults.
        optimizer: a ``cr.optim`` optimizer over the model's parameters, or a name (``'sgd'``,
            ``'adam'``, ``'adamw'``, ``'rmsprop'``, ``'adagrad'``, ``'adadelta'``, ``'adamax'``,
            ``'nadam'``) with PyTorch's defaults; ``lr`` sets its learning rate.
        epochs: the last epoch to reach (counting those of a resumed checkpoint or
            ``initial_epoch``, as Keras).
        batch_size: the batch size, used when ``train`` is not already a DataLoader.
        shuffle: reshuffle every epoch, used when ``train`` is not already a DataLoader.
        validation: data in the same forms, evaluated after each epoch (``val_*`` values).
        validation_data: Keras's name for ``validation``.
        validation_split: instead, hold out this last fraction of ``train`` (before shuffling).
        metrics: names (``'accuracy'``, ``'top5_accuracy'``, ``'mse'``, ``'mae'``, ``'precision'``,
            ``'recall'``, ``'f1'``, ``'f1_micro'``, ``'auc'``, ...; see ``cr.train.metrics``),
            ``Metric`` objects, or callables ``(output, target) -> number``; the loss is always
            recorded.
        callbacks: ``cr.callbacks`` objects (early stopping, checkpoints, schedules, CSV log).
        verbose: 0 silent, 1 a live progress bar per epoch (in a notebook, a notebook bar; one
            plain line per epoch when the output is not a terminal), 2 one line per epoch.
            Default: 1, or 0 with ``progress=False``.
        progress: ``False`` turns the progress display off (the same as ``verbose=0``).
        resume: a checkpoint file from ``ModelCheckpoint`` (or its loaded dict): restores the
            model, optimizer, history, callback and RNG states and continues after its epoch,
            giving the same result as an uninterrupted run.
        initial_epoch: the epoch to start at (0-based), to continue a run by hand.
        class_weight: ``{class: weight}``: each training sample's loss is multiplied by the
            weight of its class (the loss module must have a ``reduction``; validation losses
            stay unweighted).
        steps_per_epoch: batches per epoch, drawn from the training data as a stream that
            restarts (reshuffled) when it runs out.
        lr: the learning rate of an optimizer given by name (``None``: its PyTorch default).
        distributed: data-parallel training in an MPI job (``mpirun -n P python script.py``):
            each rank trains on its shard (``batch_size`` per rank) through
            ``cr.distributed.DistributedDataParallel``, logs are averaged over ranks, and only
            rank 0 shows progress and writes checkpoints/CSV logs (see docs/distributed.md).

    A non-finite loss raises ``FloatingPointError`` before the step, unless a
    ``TerminateOnNaN`` callback is given: then training stops cleanly at that batch.

    Example:
        >>> x = cr.randn(64, 4)
        >>> y = (x[:, 0] > 0).long()           # the class: is the first feature positive?
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 16), cr.nn.ReLU(), cr.nn.Linear(16, 2))
        >>> history = cr.fit(model, (x, y), loss="cross_entropy", optimizer="adam", lr=1e-2,
        ...                  epochs=5, validation_data=(x, y), metrics=["accuracy"], progress=False)
        >>> history
        History(5 epochs: loss=0.5446, accuracy=0.8438, val_loss=0.5218, val_accuracy=0.8438)
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if validation_data is not None:
        if validation is not None:
            raise ValueError("fit: give validation or validation_data (the same thing), not both")
        validation = validation_data
    if validation is not None and validation_split is not None:
        raise ValueError("fit: give validation or validation_split, not both")
    if not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
        raise ValueError(f"fit: initial_epoch must be a non-negative integer, got {initial_epoch!r}")
    if steps_per_epoch is not None and (
        not isinstance(steps_per_epoch, (int, np.integer))
        or isinstance(steps_per_epoch, bool)
        or steps_per_epoch < 1
    ):
        raise ValueError(f"fit: steps_per_epoch must be a positive integer, got {steps_per_epoch!r}")
    level = _verbosity(verbose, progress)
    loss = get_loss(loss)
    optimizer = get_optimizer(optimizer, model.parameters(), lr)
    train_loss = _class_weighted(loss, class_weight) if class_weight is not None else loss
    if validation_split is not None:
        train, validation = _split_off_validation(train, validation_split)
    train_loader = _as_loader("fit", "train", train, batch_size, shuffle)
    val_loader = None
    if validation is not None:
        val_loader = _as_loader("fit", "validation", validation, batch_size, False)
    metric_fns = _metric_list(metrics)
    if any(getattr(fn, "name", None) == "confusion_matrix" for _, fn in metric_fns):
        raise ValueError(
            "fit: 'confusion_matrix' is an array, not a per-epoch number; use "
            "cr.evaluate(model, data, metrics=['confusion_matrix']) after training"
        )
    device = _device_of(model)
    forward = model
    any_rank = None
    if distributed:  # sharded data, gradients averaged over ranks, rank 0 writes: distributed/fit.py
        from chainrule.distributed.fit import any_rank, prepare

        forward, train_loader, val_loader, level, callbacks = prepare(
            model, train_loader, val_loader, level, callbacks
        )

    stream = _Stream(train_loader, steps_per_epoch)
    bar = _Progress(level, epochs, steps_per_epoch or _batches_per_epoch(train_loader))
    trainer = Trainer(model, optimizer, [*callbacks, _Record(bar)])
    for cb in trainer.callbacks:
        cb.set_trainer(trainer)
    start = trainer.restore(resume) if resume is not None else 0
    start = max(start, int(initial_epoch))
    handles_nan = any(getattr(cb, "handles_nan", False) for cb in trainer.callbacks)
    was_training = getattr(model, "training", True)

    trainer.call("on_train_begin", {})
    try:
        for epoch in range(start, epochs):
            logs: dict[str, Any] = {}
            trainer.call("on_epoch_begin", epoch, logs)
            model.train()
            bar.start(epoch)
            running = _Mean()
            stateful = _fresh(metric_fns)
            for i, batch in enumerate(stream.epoch()):
                trainer.call("on_batch_begin", i, {})
                inputs, target = _unpack("fit", batch, device)
                optimizer.zero_grad()
                out = forward(*inputs)
                value = train_loss(out, target)
                batch_logs = {"loss": _loss_value("fit", value)}
                nonfinite = not math.isfinite(batch_logs["loss"])
                if any_rank is not None and handles_nan and any_rank(nonfinite):
                    nonfinite, batch_logs["loss"] = True, float("nan")  # every rank stops here
                if nonfinite:
                    if not handles_nan:
                        raise FloatingPointError(
                            f"fit: the loss became {batch_logs['loss']} at epoch "
                            f"{epoch + 1}, batch {i + 1}; lower the learning rate or "
                            "check the data (or pass callbacks=[cr.callbacks.TerminateOnNaN()] "
                            "to stop training there instead)"
                        )
                    running.add(batch_logs, _batch_len(target))
                    trainer.call("on_batch_end", i, batch_logs)  # TerminateOnNaN stops training
                    break
                value.backward()
                optimizer.step()
                if metric_fns:
                    detached = Tensor._make(out._data)
                    for name, fn in metric_fns:
                        if name in stateful:
                            stateful[name].update(detached, target)
                        else:
                            batch_logs[name] = float(fn(detached, target))
                running.add(batch_logs, _batch_len(target))
                bar.update(running.means())
                trainer.call("on_batch_end", i, batch_logs)
                if trainer.stop_training:
                    break
            logs.update(running.means())
            logs.update({name: float(m.result()) for name, m in stateful.items()})
            if val_loader is not None and not trainer.stop_training:
                logs.update(
                    {
                        f"val_{k}": v
                        for k, v in _run_eval(model, val_loader, loss, metric_fns, device, "fit").items()
                    }
                )
            trainer.epoch = epoch
            # 'lr' (from a scheduler callback) last, so the bar shows the metrics first
            lr_now = logs.pop("lr", None)
            if lr_now is not None:
                logs["lr"] = lr_now
            trainer.call("on_epoch_end", epoch, logs)  # _Record (order 50) stores logs in the History
            if trainer.stop_training:
                break
    finally:
        bar.close()
        model.train(was_training)
    trainer.call("on_train_end", trainer.history.last())
    return trainer.history


def _fresh(metric_fns) -> dict:
    """The epoch-accumulated metrics of ``metric_fns``, reset."""
    out = {}
    for name, fn in metric_fns:
        if isinstance(fn, Metric):
            fn.reset()
            out[name] = fn
    return out


# ----------------------------------------------------------------------------------------
# evaluate / predict
# ----------------------------------------------------------------------------------------


def _run_eval(model, loader: DataLoader, loss: Callable | None, metric_fns, device: str, name: str) -> dict:
    was_training = getattr(model, "training", False)
    model.eval()
    running = _Mean()
    stateful = _fresh(metric_fns)
    try:
        with no_grad():
            for batch in loader:
                inputs, target = _unpack(name, batch, device)
                out = model(*inputs)
                values = {}
                if loss is not None:
                    values["loss"] = _loss_value(name, loss(out, target))
                for mname, fn in metric_fns:
                    if mname in stateful:
                        stateful[mname].update(out, target)
                    else:
                        values[mname] = float(fn(out, target))
                running.add(values, _batch_len(target))
    finally:
        model.train(was_training)
    out = running.means()
    for mname, m in stateful.items():
        result = m.result()
        out[mname] = float(result) if np.ndim(result) == 0 else result  # a confusion matrix stays an array
    return out


def evaluate(
    model, data: Any, *, loss: Callable | None = None, metrics: Iterable | None = None, batch_size: int = 256
) -> dict[str, float]:
    """Evaluate a model's mean loss and metrics.

    Mean loss and metrics of ``model`` over ``data`` (Dataset, DataLoader or ``(x, y)``), in
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
    """A model's outputs for all inputs.

    ``model``'s outputs for all inputs ``x`` (array, Tensor, Dataset or DataLoader), computed in
    batches in evaluation mode without a graph, concatenated into one Tensor. For datasets with
    targets, the last element of each batch (the target) is ignored.
    """
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
