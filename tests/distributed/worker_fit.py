"""Run under ``mpiexec -n 2``: ``cr.fit(..., distributed=True)`` against one process's ``fit``."""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn


def model():
    cr.manual_seed(7)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def main(out_dir: str) -> None:
    dist.init()
    r = dist.rank()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((48, 5)), rng.integers(0, 3, 48)
    xv, yv = rng.standard_normal((16, 5)), rng.integers(0, 3, 16)
    common = dict(loss="cross_entropy", epochs=3, shuffle=False, validation=(xv, yv), metrics=["accuracy"])
    net = model()
    hist = cr.fit(
        net,
        (x, y),
        optimizer=cr.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
        batch_size=4,
        verbose=2,
        distributed=True,
        callbacks=[cr.callbacks.CSVLogger(f"{out_dir}/log.csv")],
        **common,
    )
    ref = model()
    ref_hist = cr.fit(
        ref,
        (x, y),
        optimizer=cr.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9),
        batch_size=8,
        verbose=0,
        **common,
    )
    out = {f"param/{k}": v._data for k, v in net.state_dict().items()}
    out.update({f"ref/{k}": v._data for k, v in ref.state_dict().items()})
    for k in ("loss", "val_loss", "accuracy", "val_accuracy"):
        out[f"hist/{k}"] = np.array(hist.history[k])
        out[f"ref_hist/{k}"] = np.array(ref_hist.history[k])

    # a checkpoint written by rank 0 after 2 of 4 epochs resumes on both ranks as if never stopped
    shuffled = dict(loss="cross_entropy", shuffle=True, batch_size=4, verbose=0, distributed=True)
    runs = {}
    for name, epochs, extra in [
        ("straight", 4, {}),
        ("first_half", 2, {"callbacks": [cr.callbacks.ModelCheckpoint(f"{out_dir}/ckpt.safetensors")]}),
        ("resumed", 4, {"resume": f"{out_dir}/ckpt.safetensors"}),
    ]:
        dist.barrier()  # the checkpoint is on disk before any rank reads it
        net = model()
        cr.manual_seed(3 if name != "resumed" else 99)  # the checkpoint's RNG state must win
        cr.fit(
            net,
            (x, y),
            optimizer=cr.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
            epochs=epochs,
            **extra,
            **shuffled,
        )
        runs[name] = net
    for k, v in runs["straight"].state_dict().items():
        out[f"straight/{k}"] = v._data
        out[f"resumed/{k}"] = runs["resumed"].state_dict()[k]._data
    # TerminateOnNaN: a loss that is NaN on rank 1 only (at its 4th batch) stops both ranks there
    calls = [0]

    def loss_nan_on_rank_1(out_, target):
        calls[0] += 1
        value = nn.functional.cross_entropy(out_, target)
        return value * float("nan") if r == 1 and calls[0] == 4 else value

    net = model()
    stop = cr.callbacks.TerminateOnNaN(verbose=False)
    hist = cr.fit(
        net, (x, y), loss=loss_nan_on_rank_1, optimizer=cr.optim.SGD(net.parameters(), lr=0.1),
        epochs=2, batch_size=4, verbose=0, distributed=True, callbacks=[stop],
    )  # fmt: skip
    out["nan/stopped"] = np.array(stop.stopped)
    out["nan/loss"] = np.array(hist.history["loss"])
    for k, v in net.state_dict().items():
        out[f"nan/{k}"] = v._data
    np.savez(f"{out_dir}/fit{r}.npz", **out)
    dist.barrier()


if __name__ == "__main__":
    main(sys.argv[1])
