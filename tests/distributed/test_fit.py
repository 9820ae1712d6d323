"""``cr.fit(..., distributed=True)`` on 2 MPI ranks equals one process with twice the batch."""

from __future__ import annotations

import numpy as np
import pytest

from tests.distributed import mpi


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """(output directory, finished process) of worker_fit.py on 2 ranks."""
    out = tmp_path_factory.mktemp("fit")
    proc = mpi.run("tests.distributed.worker_fit", str(out), n=2, timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


def test_distributed_fit_equals_one_process_only_rank_0_writes_and_resumes(job):
    tmp_path, proc = job
    for r in range(2):
        res = np.load(tmp_path / f"fit{r}.npz")
        for k in res.files:
            if k.startswith(("param/", "hist/")):
                ref = res[k.replace("param/", "ref/").replace("hist/", "ref_hist/")]
                np.testing.assert_allclose(res[k], ref, rtol=1e-12, atol=1e-14, err_msg=f"rank {r} {k}")
    # verbose=2 prints one line per epoch, from rank 0 only; the CSV log is written once
    assert (proc.stdout + proc.stderr).count("epoch 2/3") == 1
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 1 + 3
    for r in range(2):
        res = np.load(tmp_path / f"fit{r}.npz")
        keys = [k for k in res.files if k.startswith("straight/")]
        assert keys
        for k in keys:  # resumed from rank 0's checkpoint after 2 of 4 epochs: the same model
            np.testing.assert_array_equal(
                res[k.replace("straight/", "resumed/")], res[k], err_msg=f"rank {r} {k}"
            )


def test_terminate_on_nan_on_one_rank_stops_every_rank_at_the_same_batch(job):
    tmp_path, _ = job
    res = [np.load(tmp_path / f"fit{r}.npz") for r in range(2)]
    for r in range(2):
        assert res[r]["nan/stopped"].tolist() == [0, 3], f"rank {r}"
        assert np.isnan(res[r]["nan/loss"]).all() and len(res[r]["nan/loss"]) == 1
    for k in (k for k in res[0].files if k.startswith("nan/") and k not in ("nan/stopped", "nan/loss")):
        assert np.isfinite(res[0][k]).all()
        np.testing.assert_array_equal(res[0][k], res[1][k], err_msg=k)
