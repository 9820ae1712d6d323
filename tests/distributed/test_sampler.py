"""DistributedSampler gives torch's shards (no MPI needed: num_replicas and rank given)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.distributed import DistributedSampler
from chainrule.distributed.sampler import torch_randperm


@pytest.mark.parametrize("n", [0, 1, 7, 10, 23, 100])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_same_indices_as_torch(n, replicas, drop_last, shuffle):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=5, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(
            range(n), replicas, rank, shuffle=shuffle, seed=5, drop_last=drop_last
        )
        for epoch in (0, 3):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**32 + 7])
def test_randperm_matches_torch(seed):
    g = torch.Generator().manual_seed(seed)
    np.testing.assert_array_equal(torch_randperm(1000, seed), torch.randperm(1000, generator=g).numpy())


def test_epochs_reshuffle_and_shards_cover():
    s = [DistributedSampler(range(50), 2, r, seed=0) for r in range(2)]
    first = [s_.indices() for s_ in s]
    assert sorted(np.concatenate(first).tolist()) == list(range(50))
    for s_ in s:
        s_.set_epoch(1)
    assert not np.array_equal(first[0], s[0].indices())


def test_misuse_is_refused():
    with pytest.raises(ValueError, match="rank should be in the interval"):
        DistributedSampler(range(5), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="__len__"):
        DistributedSampler(object(), num_replicas=1, rank=0)
    with pytest.raises(RuntimeError, match="init"):
        DistributedSampler(range(5))  # no process group in the test process


def test_collectives_need_init():
    with pytest.raises(RuntimeError, match=r"cr.distributed.all_reduce: call cr.distributed.init\(\) first"):
        cr.distributed.all_reduce(cr.ones(2))
    assert not cr.distributed.is_initialized()


def test_init_without_mpi4py_names_the_dist_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if it were not installed
    with pytest.raises(RuntimeError, match=r"mpi4py is not installed; install the 'dist' extra"):
        cr.distributed.init()
    assert not cr.distributed.is_initialized()


def test_ddp_needs_init():
    with pytest.raises(RuntimeError, match=r"DistributedDataParallel: call cr.distributed.init\(\) first"):
        cr.distributed.DistributedDataParallel(cr.nn.Linear(2, 2))


def test_sync_batchnorm_without_a_job_is_batchnorm():
    torch_bn = torch.nn.BatchNorm2d(3).double()
    bn = cr.distributed.SyncBatchNorm(3).double()
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (bn(xc) ** 2).sum().backward()
    (torch_bn(xt) ** 2).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), torch_bn.running_var.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="SyncBatchNorm: expected 4 channels"):
        cr.distributed.SyncBatchNorm(4)(cr.tensor(x))
