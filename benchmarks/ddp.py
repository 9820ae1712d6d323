"""Data-parallel throughput: ``mpiexec -n P python -m benchmarks.ddp [cnn|lstm]``, one thread per rank.

Trains the workload for ``--steps`` timed steps (after 3 untimed ones) with ``batch`` samples per
rank, with the buckets sent during backward (overlap) and, interleaved, all at its end, and prints
from rank 0 the samples per second of the whole job, the median step times, and the median time
per step that backward's end waits for the reduction (``_finish_reduction``: the buckets not yet
sent, waiting for all, unpacking the mean); the fraction of it that overlap hides.
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


def run(ddp, model, x, y, steps: int) -> tuple[float, float]:
    """(median step time, median time per step spent waiting in the end-of-backward reduction)."""
    waits: list[float] = []
    if dist.world_size() > 1:
        finish = ddp._finish_reduction

        def timed():
            t0 = time.perf_counter()
            finish()
            waits.append(time.perf_counter() - t0)

        object.__setattr__(ddp, "_finish_reduction", timed)
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(steps + 3):
        dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.median(waits[3:])) if waits else 0.0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("workload", nargs="?", default="cnn", choices=["cnn", "lstm"])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--bucket-mb", type=float, default=25.0, help="bucket_cap_mb of DistributedDataParallel")
    args = p.parse_args()
    dist.init()
    cr.set_num_threads(1)
    cr.manual_seed(0)
    model, x, y = workload(args.workload)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=args.bucket_mb)
    nbytes = sum(q._data.nbytes for q in model.parameters())
    results = {}
    for overlap in (True, False, False, True):  # interleaved, the better of two runs each
        object.__setattr__(ddp, "_overlap", overlap)
        step, wait = run(ddp, model, x, y, args.steps)
        best = results.get(overlap)
        results[overlap] = (step, wait) if best is None or step < best[0] else best
    if dist.rank() == 0:
        (step, wait), (step0, wait0) = results[True], results[False]
        print(
            f"{args.workload}: {dist.world_size()} rank(s), batch {len(y)}/rank, "
            f"{dist.world_size() * len(y) / step:.1f} samples/s, step {step * 1e3:.1f} ms "
            f"({step0 * 1e3:.1f} ms without overlap), {nbytes / 2**20:.2f} MB of gradients"
        )
        if dist.world_size() > 1:
            hidden = 1 - wait / wait0 if wait0 > 0 else 0.0
            print(
                f"  reduction waited for at the end of backward: {wait * 1e3:.2f} ms/step with overlap, "
                f"{wait0 * 1e3:.2f} ms/step without: {hidden:.0%} hidden"
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
