"""Compare the optimizers of the lectures on one problem and plot their loss curves.

The same small network (2-32-32-3, tanh) starts from the same weights and sees the same
mini-batches of a toy 2-D classification problem (three interleaved spirals); only the optimizer
changes.  All of them use the same learning rate (``--lr``) except Adadelta, which is designed to
run with lr = 1.0.  Typical picture: plain SGD crawls, momentum and Nesterov speed it up, the
adaptive methods (RMSprop, Adam and friends) converge fastest, and Adagrad slows down as its cache
of squared gradients keeps growing.

    python examples/optimizers.py optimizers.png            # writes the plot
    python examples/optimizers.py out.png --epochs 50 --lr 0.01
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import datasets

# name -> (constructor, extra options); lr comes from the command line (Adadelta: its default 1.0)
OPTIMIZERS = {
    "SGD": (cr.optim.SGD, {}),
    "SGD + momentum": (cr.optim.SGD, {"momentum": 0.9}),
    "SGD + Nesterov": (cr.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "Adagrad": (cr.optim.Adagrad, {}),
    "Adadelta": (cr.optim.Adadelta, {"lr": 1.0}),
    "RMSprop": (cr.optim.RMSprop, {}),
    "Adam": (cr.optim.Adam, {}),
    "AdamW": (cr.optim.AdamW, {"weight_decay": 1e-2}),
    "Adamax": (cr.optim.Adamax, {}),
    "NAdam": (cr.optim.NAdam, {}),
}


def make_model(seed: int) -> nn.Module:
    """The network, initialised from ``seed`` (so every optimizer starts from the same weights)."""
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))


def train(
    make_optimizer, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, seed: int
) -> list[float]:
    """Train a fresh model with ``make_optimizer(params)``; the full training loss after each epoch."""
    model = make_model(seed)
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = cr.tensor(x), cr.tensor(y)
    order = np.random.default_rng(seed)  # the same mini-batches for every optimizer
    with cr.no_grad():
        losses = [loss_fn(model(xs), ys).item()]
    for _ in range(epochs):
        perm = order.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = perm[start : start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(cr.tensor(x[idx])), cr.tensor(y[idx])).backward()
            optimizer.step()
        with cr.no_grad():
            losses.append(loss_fn(model(xs), ys).item())
    return losses


def compare(
    epochs: int = 60,
    lr: float = 0.01,
    batch_size: int = 32,
    n: int = 300,
    seed: int = 0,
    names: list[str] | None = None,
) -> dict[str, list[float]]:
    """Loss curves ``{optimizer name: [loss at epoch 0, 1, ..., epochs]}``."""
    x, y = datasets.spiral(n, noise=0.1, seed=seed, classes=3)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    curves = {}
    for name in names or list(OPTIMIZERS):
        cls, options = OPTIMIZERS[name]
        options = {"lr": lr, **options}
        make = lambda ps, cls=cls, options=options: cls(ps, **options)  # noqa: E731
        curves[name] = train(make, x, y, epochs, batch_size, seed)
    return curves


def plot(curves: dict[str, list[float]], path: str, lr: float) -> None:
    """One plot with every optimizer's training loss against the epoch (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, losses in curves.items():
        label = name + (" (lr=1.0)" if name == "Adadelta" else "")
        ax.plot(range(len(losses)), losses, label=label, linewidth=1.6)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"Optimizers on the spiral problem (same network, data and start; lr={lr})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(ncol=2, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="where to write the plot (PNG, SVG, PDF...)")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (all optimizers but Adadelta)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n", type=int, default=300, help="number of training points")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    curves = compare(args.epochs, args.lr, args.batch_size, args.n, args.seed)
    plot(curves, args.output, args.lr)
    width = max(map(len, curves))
    for name, losses in sorted(curves.items(), key=lambda kv: kv[1][-1]):
        print(f"{name:<{width}}  final loss {losses[-1]:.4f}")
    print(f"plot written to {args.output}")
    return curves


if __name__ == "__main__":
    main(sys.argv[1:])
