"""``chainrule demo``: train a small convolutional network on the bundled 8x8 digits.

Everything the library offers, end to end, in well under a minute on a laptop CPU:
the bundled data set, a held-out test split, augmentation (small rotations, zooms and shifts
drawn afresh for every batch), a CNN, Adam with a cosine learning-rate schedule, a live
progress bar, the test accuracy, and the training curves written to a PNG.
"""

from __future__ import annotations

import time

import chainrule as cr
from chainrule import nn
from chainrule.backend import np
from chainrule.data import DataLoader, TensorDataset, datasets, transforms
from chainrule.train import callbacks as cb
from chainrule.train.loop import evaluate, fit

DEFAULT_EPOCHS = 15


def build_model() -> nn.Module:
    """A small CNN for 1x8x8 inputs: two 3x3 convolutions, a 2x2 max-pool, two dense layers."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),  # 16 x 8 x 8
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),  # 32 x 8 x 8
        nn.MaxPool2d(2),  # 32 x 4 x 4
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def load_split(test_fraction: float = 0.2, seed: int = 0):
    """The digits, standardised with the training statistics, and a fixed held-out test split."""
    x, y = datasets.digits()
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


QUICK_TRAIN_IMAGES = 256


def main(
    epochs: int | None = None,
    plot: str | None = "chainrule-demo.png",
    progress: bool = True,
    seed: int = 0,
    quick: bool = False,
) -> int:
    """``chainrule demo``: train the digits CNN, print test accuracy, write the plot; returns 0.

    ``quick``: one epoch on the first 256 training images (a smoke test of an install, seconds).
    """
    epochs = (1 if quick else DEFAULT_EPOCHS) if epochs is None else epochs
    cr.manual_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_split(seed=seed)
    if quick:
        x_train, y_train = x_train[:QUICK_TRAIN_IMAGES], y_train[:QUICK_TRAIN_IMAGES]
    scale = transforms.Standardize(axis=(0, 1, 2, 3)).fit(x_train)  # one mean and std for all pixels
    augment = transforms.Compose(
        [
            transforms.RandomRotation(10),
            transforms.RandomZoom((0.9, 1.1)),
            transforms.RandomCrop(8, padding=1),
            scale,
        ]
    )
    train = DataLoader(TensorDataset(x_train, y_train, transform=augment), batch_size=64, shuffle=True)
    x_test = scale(x_test)

    model = build_model()
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    schedule = cr.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"chainrule demo: a CNN ({n_params:,} parameters) on the 8x8 digits: "
        f"{len(y_train)} training images (augmented), {len(y_test)} test images, {epochs} epochs"
    )

    t0 = time.perf_counter()
    history = fit(
        model,
        train,
        loss=nn.CrossEntropyLoss(),
        optimizer=optimizer,
        epochs=epochs,
        validation=(x_test, y_test),
        metrics=["accuracy"],
        progress=progress,
        callbacks=[cb.LearningRateScheduler(schedule)],
    )
    seconds = time.perf_counter() - t0
    result = evaluate(model, (x_test, y_test), loss=nn.CrossEntropyLoss(), metrics=["loss", "accuracy"])
    print(
        f"test accuracy: {result['accuracy']:.4f}  (test loss {result['loss']:.4f}, {seconds:.1f}s training)"
    )
    if plot:
        history.plot(plot, title=f"chainrule demo: 8x8 digits, test accuracy {result['accuracy']:.3f}")
        print(f"training curves: {plot}")
    return 0
