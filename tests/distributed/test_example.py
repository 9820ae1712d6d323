"""examples/ddp_mnist.py runs on 2 ranks (synthetic data: no download) and only rank 0 prints."""

from __future__ import annotations

from tests.distributed import mpi


def test_ddp_mnist_example_on_two_ranks():
    proc = mpi.run_script("examples/ddp_mnist.py", "--synthetic", "256", "--epochs", "1", n=2, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("test accuracy") == 1
    assert "2 ranks, batch 64 per rank (128 per step)" in proc.stdout
