"""What ``cr.fit(..., distributed=True)`` changes: sharded data, DDP, logs agreed by all ranks.

- each rank trains on its ``DistributedSampler`` shard of the training data (reshuffled every
  epoch with ``set_epoch``, as PyTorch; ``batch_size`` is per rank, so a step sees
  ``world_size * batch_size`` samples) and evaluates its shard of the validation data;
- the forward goes through ``DistributedDataParallel`` (gradients averaged over ranks);
- at the end of each epoch the numeric logs are averaged over ranks before any callback sees
  them, so every rank records the same history and takes the same ``EarlyStopping`` decision;
- only rank 0 shows progress and runs the callbacks that write files (``ModelCheckpoint``,
  ``CSVLogger``);
- with ``TerminateOnNaN`` the ranks agree after each batch's loss whether any of them is not
  finite, so all stop at the same batch (a rank stopping alone would leave the others waiting in
  the gradient reduction); the batch's loss is then recorded as NaN on every rank.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import np
from chainrule.data.dataloader import DataLoader
from chainrule.data.dataset import Subset
from chainrule.distributed import comm
from chainrule.distributed.ddp import DistributedDataParallel
from chainrule.distributed.sampler import DistributedSampler
from chainrule.tensor import Tensor
from chainrule.train.callbacks import Callback, CSVLogger, ModelCheckpoint

_WRITERS = (ModelCheckpoint, CSVLogger)


def _sharded(loader: DataLoader, shuffle: bool) -> tuple[DataLoader, DistributedSampler]:
    sampler = DistributedSampler(loader.dataset, shuffle=shuffle)
    shard = Subset(loader.dataset, sampler.indices())
    return (
        DataLoader(
            shard, loader.batch_size, shuffle=False, drop_last=loader.drop_last, collate_fn=loader.collate_fn
        ),
        sampler,
    )


class _AgreeAcrossRanks(Callback):
    """Reshuffles the shard each epoch and averages the epoch's numeric logs over ranks."""

    order = -1000  # before every other callback

    def __init__(self, loader: DataLoader, sampler: DistributedSampler):
        self.loader, self.sampler = loader, sampler

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.sampler.set_epoch(epoch)
        self.loader.dataset.indices = self.sampler.indices()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not logs:
            return
        keys = sorted(k for k, v in logs.items() if isinstance(v, (float, int, np.floating, np.integer)))
        values = Tensor._make(np.array([float(logs[k]) for k in keys], dtype=np.float64))
        comm.all_reduce(values, op="mean")
        logs.update(zip(keys, values._data.tolist()))


def any_rank(flag: bool) -> bool:
    """Whether ``flag`` is true on at least one rank (every rank gets the same answer)."""
    t = Tensor._make(np.array([1.0 if flag else 0.0]))
    comm.all_reduce(t, op="max")
    return bool(t._data[0] > 0)


def prepare(
    model: Any, train_loader: DataLoader, val_loader: DataLoader | None, level: int, callbacks: Any
) -> tuple[Any, DataLoader, DataLoader | None, int, list]:
    """(forward module, train loader, validation loader, verbosity, callbacks) for this rank."""
    if not comm.is_initialized():
        comm.init()
    forward = model if isinstance(model, DistributedDataParallel) else DistributedDataParallel(model)
    train_loader, sampler = _sharded(train_loader, train_loader.shuffle)
    if val_loader is not None:
        val_loader, _ = _sharded(val_loader, shuffle=False)
    callbacks = list(callbacks)
    if comm.rank() != 0:
        level = 0
        callbacks = [cb for cb in callbacks if not isinstance(cb, _WRITERS)]
    return forward, train_loader, val_loader, level, [_AgreeAcrossRanks(train_loader, sampler), *callbacks]
