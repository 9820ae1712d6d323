"""``History``: the per-epoch values recorded by ``cr.fit``, and their plot."""

from __future__ import annotations

import os
from pathlib import Path


class History:
    """Per-epoch metrics: ``history['loss']``, ``history['val_accuracy']`` (lists, one value per epoch).

    ``history.history`` is the underlying dict, ``history.epoch`` the epoch numbers (0-based),
    ``history.plot(path)`` writes the training curves as an image.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict) -> None:
        """Record one epoch's values (metrics absent before get NaN for the earlier epochs)."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, [float("nan")] * n).append(float(value))
        for values in self.history.values():
            if len(values) < n + 1:
                values.append(float("nan"))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History: no metric {key!r}; recorded: {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def items(self):
        return self.history.items()

    def __len__(self) -> int:
        return len(self.epoch)

    def last(self) -> dict[str, float]:
        """The values of the last epoch."""
        return {k: v[-1] for k, v in self.history.items()} if self.epoch else {}

    def state_dict(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state: dict) -> None:
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items())
        return f"History({len(self)} epochs{': ' + last if last else ''})"

    def plot(self, path: str | os.PathLike, title: str | None = None) -> Path:
        """Write the curves to ``path`` (PNG, SVG, PDF: from the extension) with matplotlib.

        One panel per metric, the training value and its ``val_`` counterpart together.
        """
        from matplotlib.figure import Figure  # no pyplot: renders with Agg, leaves global state alone

        names = [k for k in self.history if not k.startswith("val_") and not k == "lr"]
        names += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in names]
        if not names:
            raise ValueError("History.plot: nothing recorded yet")
        fig = Figure(figsize=(4.2 * len(names), 3.4), layout="constrained")
        epochs = [e + 1 for e in self.epoch]
        for i, name in enumerate(names):
            ax = fig.add_subplot(1, len(names), i + 1)
            if name in self.history:
                ax.plot(epochs, self.history[name], "o-", ms=3, label=f"train {name}")
            if f"val_{name}" in self.history:
                ax.plot(epochs, self.history[f"val_{name}"], "s-", ms=3, label=f"validation {name}")
            ax.set_xlabel("epoch")
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        return path
