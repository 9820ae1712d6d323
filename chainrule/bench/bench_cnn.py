"""LeNet-style CNN: chainrule vs PyTorch, training step and inference, interleaved in one process.

Model (both frameworks, same weights)::

    Conv2d(1, 32, 3, padding=1) - ReLU - MaxPool2d(2)
    Conv2d(32, 64, 3, padding=1) - ReLU - MaxPool2d(2)
    Flatten - Linear(3136, 128) - ReLU - Linear(128, 10)

1. ``cnn_train``: forward + cross-entropy + backward + Adam step, batch 64 of 1x28x28.
2. ``cnn_infer``: forward only under no_grad / eval, batch 256.

Figures: BENCHMARKS.md.  Run::

    python -m chainrule.bench.bench_cnn [samples]
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.bench import limit
from chainrule.bench.timing import interleaved, row, torch_or_none

LR = 1e-3


def _lenet(nn):
    """The benchmark CNN from ``nn`` (``cr.nn`` or ``torch.nn``: same names and parameter layout)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def build_models(torch=None, seed: int = 0):
    """The same CNN in chainrule and (when ``torch`` is given) PyTorch, with identical weights."""
    cr.manual_seed(seed)
    model = _lenet(cr.nn)
    if torch is None:
        return model, None
    tmodel = _lenet(torch.nn)
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(model.named_parameters(), tmodel.named_parameters()):
            assert name == tname and tuple(p.shape) == tuple(tp.shape), (name, tname)
            tp.copy_(torch.from_numpy(np.array(p._data)))
    return model, tmodel


def _data(batch: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    return x, y


def _train_steps(torch, batch: int = 64) -> dict:
    model, tmodel = build_models(torch)
    x, y = _data(batch)
    xc, yc = cr.tensor(x), cr.tensor(y)
    opt = cr.optim.Adam(model.parameters(), lr=LR)
    loss_fn = cr.nn.CrossEntropyLoss()

    def cr_step():
        opt.zero_grad()
        loss = loss_fn(model(xc), yc)
        loss.backward()
        opt.step()
        return loss

    steps = {"chainrule": cr_step}
    if tmodel is not None:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        topt = torch.optim.Adam(tmodel.parameters(), lr=LR)
        tloss_fn = torch.nn.CrossEntropyLoss()

        def torch_step():
            topt.zero_grad()
            loss = tloss_fn(tmodel(xt), yt)
            loss.backward()
            topt.step()
            return loss

        steps["torch"] = torch_step
    return steps


def _infer_steps(torch, batch: int = 256) -> dict:
    model, tmodel = build_models(torch)
    model.eval()
    x, _ = _data(batch)
    xc = cr.tensor(x)

    def cr_infer():
        with cr.no_grad():
            return model(xc)

    steps = {"chainrule": cr_infer}
    if tmodel is not None:
        tmodel.eval()
        xt = torch.from_numpy(x)

        def torch_infer():
            with torch.no_grad():
                return tmodel(xt)

        steps["torch"] = torch_infer
    return steps


def run(samples: int = 20) -> list[dict]:
    """Rows {"name", "chainrule_ms", "torch_ms", "ratio", ...}: medians of ``samples`` interleaved runs."""
    torch = torch_or_none()
    rows = [
        row("cnn_train LeNet-style, batch 64, Adam", interleaved(_train_steps(torch), samples)),
        row("cnn_infer LeNet-style, batch 256", interleaved(_infer_steps(torch), samples)),
    ]
    model, _ = build_models()
    fwd64 = limit.module_flops(model, cr.tensor(_data(64)[0]), cr.nn)
    limit.annotate(rows[0], limit.train_flops(fwd64, limit.conv_flops(64, (28, 28), 1, 32, 3)))
    limit.annotate(rows[1], 4 * fwd64)  # batch 256, forward only
    for r in rows:
        r["ratio"] = r.get("ratio_torch")
    return rows


if __name__ == "__main__":
    import sys

    from chainrule.bench.run import format_rows

    print(format_rows(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
