"""``History``: the per-epoch values recorded by ``cr.fit``, and their plot."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any


class History:
    """Per-epoch metrics: ``history['loss']``, ``history['val_accuracy']`` (lists, one value per epoch).

    ``history.history`` is the underlying dict, ``history.epoch`` the epoch numbers (0-based),
    ``history.plot()`` returns the training curves as a matplotlib Figure (``plot(path)`` also
    writes them to a file).
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
        """The names of the recorded values (``'loss'``, metrics, ``'val_*'``, ``'lr'``)."""
        return self.history.keys()

    def items(self):
        """The (name, list of per-epoch values) pairs."""
        return self.history.items()

    def __len__(self) -> int:
        return len(self.epoch)

    def last(self) -> dict[str, float]:
        """The values of the last epoch."""
        return {k: v[-1] for k, v in self.history.items()} if self.epoch else {}

    def state_dict(self) -> dict:
        """The recorded values and epochs as plain lists, for checkpoints."""
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned."""
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items())
        return f"History({len(self)} epochs{': ' + last if last else ''})"

    def plot(self, path: str | os.PathLike | None = None, title: str | None = None) -> Any:
        """Plot the training curves.

        The training curves as a matplotlib ``Figure``: one panel per metric, the training value
        and its ``val_`` counterpart together. In a Jupyter notebook the returned figure shows
        inline; with ``path`` it is also written there (PNG, SVG, PDF: from the extension), and
        only then is a file written.

        Example:
            >>> from chainrule.train.history import History
            >>> history = History()                  # cr.fit returns one, filled
            >>> history.append(0, {"loss": 0.9, "val_loss": 1.0, "accuracy": 0.6})
            >>> history.append(1, {"loss": 0.5, "val_loss": 0.7, "accuracy": 0.8})
            >>> fig = history.plot()                 # history.plot("curves.png") also writes a file
            >>> [ax.get_title() for ax in fig.axes]  # one panel per metric, validation beside training
            ['loss', 'accuracy']
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
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=110)
        _show_inline(Figure)
        return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _show_inline(figure_class: type) -> None:
    """Let a Figure display inline under IPython.

    Under IPython, let a pyplot-less Figure display as a PNG (the inline backend registers
    this only once pyplot is imported).
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        formatter.lookup_by_type(figure_class)
    except KeyError:
        formatter.for_type(figure_class, _png)
