"""examples/cnn_digits.py, shortened: the augmented CNN on the bundled 8x8 digits learns (the full
30-epoch run reaches ~98.6% test accuracy; 8 epochs already pass 90%)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cnn_digits_learns():
    # one BLAS thread: the suite runs two workers on two cores, and oversubscribed OpenBLAS threads
    # make small matrix products many times slower
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cnn_digits.py"), "--epochs", "8"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "1438 training / 359 test images" in out
    epochs = re.findall(r"epoch +(\d+) +train loss ([\d.]+) +test accuracy ([\d.]+)", out)
    assert [int(e) for e, _, _ in epochs] == list(range(1, 9))
    losses = [float(loss) for _, loss, _ in epochs]
    assert losses[-1] < 0.5 * losses[0]
    final = float(re.search(r"final test accuracy ([\d.]+)", out).group(1))
    assert final >= 0.9, out
