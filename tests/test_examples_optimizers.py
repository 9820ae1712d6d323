"""examples/optimizers.py, shortened: it trains every optimizer, writes the plot, and Adam beats plain SGD."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "optimizers.py"


def _load():
    spec = importlib.util.spec_from_file_location("example_optimizers", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_runs_and_adam_beats_sgd(tmp_path, capsys):
    example = _load()
    out = tmp_path / "curves.png"
    curves = example.main([str(out), "--epochs", "12", "--n", "150", "--batch-size", "16", "--lr", "0.01"])
    assert set(curves) == set(example.OPTIMIZERS)
    for name, losses in curves.items():
        assert len(losses) == 13 and np.isfinite(losses).all(), name
    assert len({losses[0] for losses in curves.values()}) == 1  # same start for every optimizer
    assert curves["Adam"][-1] < 0.9 * curves["SGD"][-1]  # same learning rate: adaptive steps win
    assert curves["SGD + momentum"][-1] < curves["SGD"][-1]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert "final loss" in capsys.readouterr().out
