"""`chainrule demo`: the CNN on the bundled digits, end to end, as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args, tmp_path, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # the suite runs one worker per core
    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_demo_trains_cnn_to_97_percent_and_plots(tmp_path):
    proc = run_cli(["demo", "--plot", "curves.png"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "CNN" in out
    acc = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert acc >= 0.97, out
    epochs = re.findall(r"^epoch +(\d+)/(\d+) ", proc.stderr, flags=re.M)  # plain progress lines
    assert len(epochs) >= 5 and epochs[-1][0] == epochs[-1][1]
    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_short_run_no_progress(tmp_path):
    proc = run_cli(["demo", "--epochs", "1", "--no-progress", "--plot", "sub/c.png"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "epoch" not in proc.stderr and "test accuracy:" in proc.stdout
    assert (tmp_path / "sub" / "c.png").exists()
