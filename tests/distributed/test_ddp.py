"""DistributedDataParallel and the collectives on 2 MPI ranks (``mpiexec -n 2``, see mpi.py)."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from tests.distributed import mpi


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """The results of worker_ddp.py on each of the 2 ranks."""
    out = tmp_path_factory.mktemp("ddp")
    proc = mpi.run("tests.distributed.worker_ddp", str(out), n=2, timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(2)]


def _keys(res, model, kind):
    """The parameters (BatchNorm's running statistics left out: they stay per rank)."""
    prefix = f"{model}/{kind}/"
    return {
        k[len(prefix) :]: v
        for k, v in res.items()
        if k.startswith(prefix) and "running_" not in k and "num_batches" not in k
    }


@pytest.mark.parametrize("model", ["mlp", "cnn", "lstm", "bn_cnn", "sync_bn_cnn"])
def test_two_ranks_of_batch_b_equal_one_process_of_batch_2b(ranks, model):
    for res in ranks:
        assert bool(res[f"{model}/init_equal"]), "DDP did not copy rank 0's initial parameters"
        ddp, ref = _keys(res, model, "ddp"), _keys(res, model, "ref")
        assert ddp.keys() == ref.keys() and ddp
        for k in ref:
            np.testing.assert_allclose(ddp[k], ref[k], rtol=1e-12, atol=1e-14, err_msg=f"{model} {k}")
    for k, v in _keys(ranks[0], model, "ddp").items():  # both ranks hold the very same model
        np.testing.assert_array_equal(v, _keys(ranks[1], model, "ddp")[k])


@pytest.mark.parametrize("model", ["mlp", "cnn", "lstm", "bn_cnn"])
def test_no_sync_accumulation_equals_one_big_batch(ranks, model):
    for res in ranks:
        acc, ref = _keys(res, model, "accumulate"), _keys(res, model, "ref_acc")
        for k in ref:
            np.testing.assert_allclose(acc[k], ref[k], rtol=1e-12, atol=1e-14, err_msg=f"{model} {k}")


def test_buckets_are_sent_during_backward_before_its_end(ranks):
    for res in ranks:
        sent, buckets = res["overlap_sent_before_end"].tolist()
        assert buckets == 4 and sent == buckets, (sent, buckets)


def test_sync_batchnorm_running_statistics_are_those_of_the_whole_batch(ranks):
    for res in ranks:
        for k in ("running_mean", "running_var"):
            np.testing.assert_allclose(res[f"sync_bn/{k}"], res[f"sync_bn/{k}_ref"], rtol=1e-12, atol=1e-14)


def test_buffers_are_broadcast_from_rank_0_before_a_training_forward(ranks):
    for res in ranks:
        np.testing.assert_array_equal(res["bn_running_mean_after_forward"], np.ones(4))


def test_state_dict_keys_carry_the_module_prefix(ranks):
    assert list(ranks[0]["mlp/ddp_keys"]) == [
        "module.0.bias",
        "module.0.weight",
        "module.2.bias",
        "module.2.weight",
    ]


def test_collectives(ranks):
    for res in ranks:
        np.testing.assert_array_equal(res["all_reduce_sum"], [3.0, -2.0])
        np.testing.assert_array_equal(res["all_reduce_mean"], [1.5, -1.0])
        np.testing.assert_array_equal(res["all_reduce_max"], [2.0, 0.0])
        np.testing.assert_array_equal(res["broadcast_from_1"], np.ones((2, 3)))
        np.testing.assert_array_equal(res["all_gather"], [[0.0, 0.0], [1.0, 10.0]])
        assert int(res["world_size"]) == 2


def test_misuse_raises_and_changes_nothing(ranks):
    for r, res in enumerate(ranks):
        assert res["misuse_refused"].all(), res["misuse_refused"]
        np.testing.assert_array_equal(res["misuse_tensor_unchanged"], [1.0 + r, -2.0 * r])


def test_sampler_shards_are_disjoint_and_cover_the_data(ranks):
    shards = ranks[0]["sampler_shards"]  # rank r's indices, gathered
    np.testing.assert_array_equal(shards, ranks[1]["sampler_shards"])
    assert shards.shape == (2, 12)  # 23 samples: 12 each, one padded
    flat = shards.ravel()
    assert set(flat.tolist()) == set(range(23))
    assert len(flat) - len(set(flat.tolist())) == 1  # the only repeat is the padding


def test_a_failing_rank_stops_every_rank_with_its_error():
    start = time.perf_counter()
    try:
        proc = mpi.run("tests.distributed.worker_fail", n=2, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the job hung: rank 1's exception did not stop rank 0 waiting in barrier()")
    assert proc.returncode != 0
    assert "ValueError: boom on rank 1" in proc.stdout + proc.stderr
    assert time.perf_counter() - start < 30
