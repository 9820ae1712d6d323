"""A small convolutional network on the bundled 8x8 handwritten digits, with data augmentation.

    python examples/cnn_digits.py               # 30 epochs, ~98% test accuracy
    python examples/cnn_digits.py --epochs 5    # a quick look

What happens, step by step (the training loop is written out on purpose):

1. ``cr.data.datasets.digits()`` gives 1797 images of shape (1, 8, 8); a fixed 20% are held
   out as the test set and never trained on.
2. Every mini-batch is augmented afresh: small random rotations, zooms and 1-pixel shifts
   (``RandomCrop`` with padding), so the network sees a slightly different digit every epoch
   and learns what stays the same — the shape, not the exact pixels.
3. The network: two 3x3 convolutions (the filters look at 3x3 patches and are shared over the
   whole image), a 2x2 max-pool (keeps the strongest response of each 2x2 block: 8x8 -> 4x4),
   channel dropout, another convolution, global average pooling (one number per channel) and a
   linear classifier.  Cross-entropy loss, Adam, a cosine learning-rate schedule.
4. Each epoch prints the training loss and the test accuracy (in ``eval()`` mode: dropout off).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset, datasets, transforms


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),     # 32 x 8 x 8
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),    # 32 x 8 x 8
        nn.MaxPool2d(2),                               # 32 x 4 x 4
        nn.Dropout2d(0.1),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),    # 64 x 4 x 4
        nn.AdaptiveAvgPool2d(1),                       # 64 x 1 x 1
        nn.Flatten(),
        nn.Linear(64, 10),
    )  # fmt: skip


def load_split(seed: int = 0, test_fraction: float = 0.2):
    x, y = datasets.digits()  # x float32 (1797, 1, 8, 8) in [0, 1], y int64
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with cr.no_grad():
        pred = model(cr.tensor(x)).argmax(1).numpy()
    model.train()
    return float((pred == y).mean())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    cr.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_split(args.seed)
    mean, std = float(x_train.mean()), float(x_train.std())
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    background = -mean / std  # what a blank pixel became: fill value for augmentation
    augment = transforms.Compose(
        [
            transforms.RandomRotation(12, fill=background),
            transforms.RandomZoom((0.9, 1.1), fill=background),
            transforms.RandomCrop(8, padding=1, fill=background),
        ]
    )
    loader = DataLoader(
        TensorDataset(x_train, y_train, transform=augment), batch_size=args.batch_size, shuffle=True
    )

    model = build_model()
    optimizer = cr.optim.Adam(model.parameters(), lr=args.lr)
    schedule = cr.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(args.epochs, 1))
    loss_fn = nn.CrossEntropyLoss()
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"cnn_digits: {n_params:,} parameters, {len(y_train)} training / {len(y_test)} test images, "
        f"{args.epochs} epochs"
    )

    t0 = time.perf_counter()
    test_acc = accuracy(model, x_test, y_test)
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            count += len(yb)
        schedule.step()
        test_acc = accuracy(model, x_test, y_test)
        print(f"epoch {epoch:3d}  train loss {total / count:.4f}  test accuracy {test_acc:.4f}", flush=True)
    seconds = time.perf_counter() - t0
    print(f"final test accuracy {test_acc:.4f} ({seconds:.1f}s)")
    return {"test_accuracy": test_acc, "seconds": seconds}


if __name__ == "__main__":
    main()
