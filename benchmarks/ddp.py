"""Data-parallel throughput: ``mpiexec -n P python -m benchmarks.ddp [cnn|lstm]``, one thread per rank.

Trains the workload for ``--steps`` timed steps (after 3 untimed ones) with ``batch`` samples per
rank and prints, from rank 0, the samples per second of the whole job, the median step time and
the median time of the gradient all-reduce per step (``DistributedDataParallel._reduce_gradients``:
packing, ``Iallreduce`` of the ~25 MB buckets, unpacking), with the bytes it moves.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn


def workload(name: str):
    """(model, inputs, targets of one rank's batch): the MNIST CNN of examples/mnist_cnn.py or an LSTM."""
    rng = np.random.default_rng(0)
    if name == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
        )  # fmt: skip
        x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 64)
    else:

        class LSTMNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm, self.head = nn.LSTM(32, 128, batch_first=True), nn.Linear(128, 10)

            def forward(self, x):
                return self.head(self.lstm(x)[0][:, -1])

        model = LSTMNet()
        x = rng.standard_normal((32, 35, 32)).astype(np.float32)
        y = rng.integers(0, 10, 32)
    return model, cr.tensor(x), cr.tensor(y)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("workload", nargs="?", default="cnn", choices=["cnn", "lstm"])
    p.add_argument("--steps", type=int, default=30)
    args = p.parse_args()
    dist.init()
    cr.set_num_threads(1)
    cr.manual_seed(0)
    model, x, y = workload(args.workload)
    ddp = dist.DistributedDataParallel(model)
    reduce_times: list[float] = []
    if dist.world_size() > 1:
        inner = ddp._reduce_gradients

        def timed():
            t0 = time.perf_counter()
            inner()
            reduce_times.append(time.perf_counter() - t0)

        ddp._reduce_gradients = timed
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    steps = []
    for i in range(args.steps + 3):
        dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()
        if i >= 3:
            steps.append(time.perf_counter() - t0)
    step = float(np.median(steps))
    nbytes = sum(q._data.nbytes for q in model.parameters())
    if dist.rank() == 0:
        ar = float(np.median(reduce_times[3:])) if reduce_times else 0.0
        print(
            f"{args.workload}: {dist.world_size()} rank(s), batch {len(y)}/rank, "
            f"{dist.world_size() * len(y) / step:.1f} samples/s, step {step * 1e3:.1f} ms, "
            f"all-reduce {ar * 1e3:.2f} ms/step for {nbytes / 2**20:.2f} MB of gradients"
        )
    if dist.world_size() > 1:  # the collective alone, ranks lined up by a barrier first
        for mb in (nbytes / 2**20, 16.0):
            buf = cr.zeros(int(mb * 2**20) // 4)
            times = []
            for _ in range(15):
                dist.barrier()
                t0 = time.perf_counter()
                dist.all_reduce(buf)
                times.append(time.perf_counter() - t0)
            if dist.rank() == 0:
                print(f"  all_reduce alone, {mb:.2f} MB float32: {np.median(times) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
