"""Run under ``mpiexec -n 2``: DDP and the collectives against single-process references.

Writes ``rank{r}.npz`` into the directory given as argument; tests/distributed/test_ddp.py
checks them.
"""

from __future__ import annotations

import copy
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)
    )


class LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def bn_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    )  # fmt: skip


def sync_bn_cnn(norm=None):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), (norm or dist.SyncBatchNorm)(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
    )  # fmt: skip


MODELS = {
    "mlp": (mlp, (6,)),
    "cnn": (cnn, (1, 8, 8)),
    "lstm": (LSTMNet, (5, 4)),
    "bn_cnn": (bn_cnn, (1, 8, 8)),
    "sync_bn_cnn": (sync_bn_cnn, (1, 8, 8)),
}


def data(shape, n, seed=1):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.standard_normal((n, *shape))), cr.tensor(rng.integers(0, 3, n))


def train(model, x, y, steps, batch, offset, stride, accumulate=False, chunks=1):
    """SGD with momentum; step s uses rows ``s*stride + offset`` .. ``+ batch``, in ``chunks``
    forwards whose losses are averaged (BatchNorm's statistics then are those of each chunk)."""
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for s in range(steps):
        lo = s * stride + offset
        xb, yb = x[lo : lo + batch], y[lo : lo + batch]
        opt.zero_grad()
        if accumulate:  # two half batches, the first without the reduction
            h = batch // 2
            with model.no_sync():
                (loss_fn(model(xb[:h]), yb[:h]) * 0.5).backward()
            (loss_fn(model(xb[h:]), yb[h:]) * 0.5).backward()
        else:
            c = batch // chunks
            losses = [loss_fn(model(xb[i : i + c]), yb[i : i + c]) for i in range(0, batch, c)]
            (sum(losses[1:], losses[0]) / chunks if chunks > 1 else losses[0]).backward()
        opt.step()


def params(model):
    return {k: v._data.copy() for k, v in model.state_dict().items()}


def main(out_dir: str) -> None:
    dist.init()
    r, p = dist.rank(), dist.world_size()
    results = {}
    B, steps = 4, 20
    for name, (make, shape) in MODELS.items():
        cr.manual_seed(100 + r)  # each rank starts different: DDP must copy rank 0's values
        local = make().double()
        ddp = dist.DistributedDataParallel(local)
        cr.manual_seed(100)
        ref = (make(nn.BatchNorm2d) if name == "sync_bn_cnn" else make()).double()  # the reference: plain BN
        ref_acc = copy.deepcopy(ref)
        results[f"{name}/init_equal"] = np.array(
            all(np.array_equal(a, params(ref)[k]) for k, a in params(local).items())
        )
        x, y = data(shape, steps * p * B)
        acc = copy.deepcopy(ddp.module)
        train(ddp, x, y, steps, B, r * B, p * B)
        bn = name.startswith("bn")  # batch statistics per rank: the reference normalises per chunk
        train(ref, x, y, steps, p * B, 0, p * B, chunks=p if bn else 1)
        train(ref_acc, x, y, steps, p * B, 0, p * B, chunks=2 * p if bn else 1)
        acc_ddp = dist.DistributedDataParallel(acc, bucket_cap_mb=0.001)  # several buckets
        train(acc_ddp, x, y, steps, B, r * B, p * B, accumulate=True)
        for k, v in params(ddp.module).items():
            results[f"{name}/ddp/{k}"] = v
            results[f"{name}/ref/{k}"] = params(ref)[k]
            results[f"{name}/accumulate/{k}"] = params(acc)[k]
            results[f"{name}/ref_acc/{k}"] = params(ref_acc)[k]
        results[f"{name}/ddp_keys"] = np.array(sorted(ddp.state_dict()))
        if name == "sync_bn_cnn":  # global statistics: the running ones match the reference too
            results["sync_bn/running_mean"] = ddp.module[1].running_mean._data.copy()
            results["sync_bn/running_mean_ref"] = ref[1].running_mean._data.copy()
            results["sync_bn/running_var"] = ddp.module[1].running_var._data.copy()
            results["sync_bn/running_var_ref"] = ref[1].running_var._data.copy()
        if bn:  # buffers differing per rank: a training forward starts from rank 0's
            norm = ddp.module[1]
            norm.momentum = 0.0  # so the forward leaves the broadcast values as they are
            norm.running_mean._data[...] = 1.0 + r
            ddp(x[:B])
            results["bn_running_mean_after_forward"] = norm.running_mean._data.copy()

    # overlap: with one bucket per parameter, each bucket is sent during backward, as soon as its
    # gradient is complete, so all are on their way when the model's part of backward ends
    overlap = dist.DistributedDataParallel(mlp().double(), bucket_cap_mb=1e-6)
    sent_at_end = []
    finish = overlap._finish_reduction

    def spy():
        sent_at_end.append(len(overlap._sent))
        finish()

    object.__setattr__(overlap, "_finish_reduction", spy)
    x, y = data((6,), 8)
    nn.CrossEntropyLoss()(overlap(x), y).backward()
    results["overlap_sent_before_end"] = np.array([sent_at_end[0], len(overlap._buckets)])

    # collectives
    t = cr.tensor([1.0 + r, -2.0 * r])
    results["all_reduce_sum"] = dist.all_reduce(t.clone(), "sum")._data
    results["all_reduce_mean"] = dist.all_reduce(t.clone(), "mean")._data
    results["all_reduce_max"] = dist.all_reduce(t.clone(), "max")._data
    b = cr.tensor(np.full((2, 3), float(r)))
    results["broadcast_from_1"] = dist.broadcast(b, 1)._data
    gathered = [cr.zeros(2) for _ in range(p)]
    dist.all_gather(gathered, cr.tensor([float(r), 10.0 * r]))
    results["all_gather"] = np.stack([g._data for g in gathered])

    # misuse: the usual exception type naming the call, and the tensor left unchanged
    misuse = []
    for call, exc, words in [
        (lambda: dist.all_reduce(t, "min"), ValueError, "all_reduce: op must be one of"),
        (lambda: dist.all_reduce(cr.tensor([1, 2]), "mean"), TypeError, "op='mean' needs a float tensor"),
        (lambda: dist.all_reduce(np.ones(2)), TypeError, "expected a Tensor, got ndarray"),
        (lambda: dist.broadcast(t, 2), ValueError, "src must be a rank in [0, 2)"),
        (lambda: dist.all_gather([t], t), ValueError, "list of 2 Tensors"),
        (lambda: dist.DistributedDataParallel("model"), TypeError, "must be a cr.nn.Module"),
    ]:
        try:
            call()
            misuse.append(False)
        except exc as e:
            misuse.append(words in str(e))
    results["misuse_refused"] = np.array(misuse)
    results["misuse_tensor_unchanged"] = t._data

    # sampler shards (the torch comparison is in test_sampler.py; here each rank draws its own)
    sampler = dist.DistributedSampler(range(23), shuffle=True, seed=3)
    sampler.set_epoch(2)
    mine = cr.tensor(sampler.indices())
    shards = [cr.zeros(len(sampler), dtype=cr.int64) for _ in range(p)]
    dist.all_gather(shards, mine)
    results["sampler_shards"] = np.stack([s._data for s in shards])
    results["world_size"] = np.array(p)
    np.savez(f"{out_dir}/rank{r}.npz", **results)
    dist.barrier()


if __name__ == "__main__":
    main(sys.argv[1])
