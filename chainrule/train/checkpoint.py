"""Training checkpoints: model, optimizer, epoch, RNG state and callback states in one file.

The checkpoint is a nested dict written with ``cr.save`` (safetensors: tensors plus the
structure as JSON; loading never unpickles anything; writes are atomic)::

    {"format": "chainrule-fit-checkpoint-1", "epoch": 4, "model": {...}, "optimizer": {...},
     "rng": "<JSON of cr.get_rng_state()>", "history": {...}, "callbacks": {"0:EarlyStopping": {...}}}

``cr.fit(..., resume=path)`` restores all of it and continues after ``epoch``, so the result
equals an uninterrupted run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chainrule import random as _random


def save_checkpoint(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` (a state dict or a training checkpoint) to ``path`` with ``cr.save``."""
    from chainrule.serialization import save

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(obj, path)
    return path


def load_checkpoint(path: str | os.PathLike) -> Any:
    """Read a file written by ``save_checkpoint`` / ``cr.save``."""
    from chainrule.serialization import load

    return load(path)


def training_state(model, optimizer, epoch: int, history=None, callbacks=()) -> dict:
    """Everything needed to resume ``cr.fit`` exactly after ``epoch`` (0-based, completed)."""
    state = {
        "format": "chainrule-fit-checkpoint-1",
        "epoch": int(epoch),
        "model": dict(model.state_dict()),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "rng": _rng_state_json(),
        "history": history.state_dict() if history is not None else None,
        "callbacks": {},
    }
    for i, cb in enumerate(callbacks):
        if hasattr(cb, "state_dict"):
            state["callbacks"][f"{i}:{type(cb).__name__}"] = cb.state_dict()
    return state


def _rng_state_json() -> str:
    # PCG64's state holds 128-bit integers: kept as JSON text (safe for any reader).
    return json.dumps(_random.get_rng_state())


def restore_rng(state: str) -> None:
    """Put chainrule's random generator back to a state saved in a checkpoint."""
    _random.set_rng_state(json.loads(state))
