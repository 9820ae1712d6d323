"""Real PyTorch-style training scripts (tests/compat/scripts/), each run twice: under PyTorch and under
``chainrule torch``, from the same initial state dict (the torch run saves it, the chainrule run loads
it) on the same data; the final losses must agree.

Runs are deterministic: no dropout, no shuffling, noise drawn from NumPy with a fixed seed. Under real
PyTorch, ``torchvision`` comes from tests/compat/standin when the real one is not importable.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"


@functools.cache
def _real_torchvision() -> bool:
    if importlib.util.find_spec("torchvision") is None:
        return False
    probe = subprocess.run([sys.executable, "-c", "import torchvision"], capture_output=True, timeout=120)
    return probe.returncode == 0


def _run(cmd: list[str], torch_side: bool) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if torch_side and not _real_torchvision():
        env["PYTHONPATH"] = os.pathsep.join([str(HERE / "standin"), env.get("PYTHONPATH", "")])
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    side = "torch" if torch_side else "chainrule"
    assert out.returncode == 0, f"{side} run failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("FINAL "), f"{side} run printed {last!r} last"
    return float(last.split()[1])


def twin(script: str, args: list[str], tmp_path: Path) -> tuple[float, float]:
    """(final loss under torch, under chainrule), both from the torch run's initial weights."""
    init = str(tmp_path / f"{script}-init.npz")
    path = str(SCRIPTS / f"{script}.py")
    ref = _run([sys.executable, path, *args, "--save-init", init], torch_side=True)
    ours = _run(
        [sys.executable, "-m", "chainrule.cli", "torch", path, *args, "--load-init", init], torch_side=False
    )
    return ref, ours


def _mnist_like(root: Path) -> None:
    """MNIST-format IDX files in torchvision's layout: 10 classes of noisy blobs at class-dependent places."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 96), ("t10k", 50)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 60, (n, 28, 28))
        for k, c in enumerate(labels):
            r, q = 4 + 2 * (c // 5) * 5, 3 + 5 * (c % 5)
            images[k, r : r + 8, q : q + 6] = 255
        for name, arr in ((f"{split}-images-idx3-ubyte", images), (f"{split}-labels-idx1-ubyte", labels)):
            arr = np.ascontiguousarray(arr.astype(np.uint8))
            head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
            (raw / name).write_bytes(head + arr.tobytes())


def test_cnn_on_mnist_with_torchvision_data_and_steplr(tmp_path):
    _mnist_like(tmp_path / "data")
    ref, ours = twin("cnn_mnist", ["--root", str(tmp_path / "data")], tmp_path)
    assert ref < 2.0  # it learned something (chance is ln 10 = 2.30)
    assert ours == pytest.approx(ref, rel=2e-4, abs=1e-5)


@pytest.mark.parametrize("model", ["LSTM", "GRU", "Transformer"])
def test_word_language_model(model, tmp_path):
    ref, ours = twin("word_lm", ["--model", model, "--lr", "2" if model == "Transformer" else "5"], tmp_path)
    assert ref < np.log(50)  # below a uniform guess over the 50 words
    assert ours == pytest.approx(ref, rel=2e-5)


def test_polynomial_regression_with_manual_sgd_on_p_data(tmp_path):
    ref, ours = twin("poly_regression", [], tmp_path)
    assert ref < 0.05
    assert ours == pytest.approx(ref, rel=1e-3, abs=1e-6)


def test_vae_with_kl_divergence(tmp_path):
    ref, ours = twin("vae", [], tmp_path)
    assert ours == pytest.approx(ref, rel=1e-4)


@pytest.mark.parametrize("line_search", ["", "strong_wolfe"])
def test_time_series_lstm_with_lbfgs(line_search, tmp_path):
    ref, ours = twin("timeseries_lbfgs", ["--line-search", line_search] if line_search else [], tmp_path)
    assert ref < 0.25  # from about 0.5 (predicting zeros for a sine)
    assert ours == pytest.approx(ref, rel=1e-6)


def test_siamese_network_on_a_small_resnet(tmp_path):
    ref, ours = twin("siamese_resnet", [], tmp_path)
    assert ours == pytest.approx(ref, rel=1e-3)
