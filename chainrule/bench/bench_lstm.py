"""LSTM benchmarks: chainrule vs PyTorch, same weights, interleaved samples.

1. ``lstm_lm``: one training step of a word-level language model —
   Embedding(1000, 128) -> LSTM(128, 256) -> Linear(256, 1000), sequence 35, batch 32
   (time-major), cross-entropy over all 35·32 positions, Adam.
2. ``lstm_layer``: the LSTM layer alone, forward + backward (loss = Σ output · G).

Run: ``python -m chainrule.bench.run lstm`` (or ``chainrule bench lstm``).

Figures, and where the time goes: BENCHMARKS.md and docs/performance.md.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.bench import limit
from chainrule.bench.timing import interleaved, row, torch_or_none

V, E, H, T, B = 1000, 128, 256, 35, 32
LR = 1e-3


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, V, (T, B)).astype(np.int64)
    targets = rng.integers(0, V, (T, B)).astype(np.int64)
    return tokens, targets


class _CrModel(cr.nn.Module):
    def __init__(self):
        super().__init__()
        nn = cr.nn
        self.embed = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H)
        self.head = nn.Linear(H, V)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.head(out.reshape(T * B, H))


def _lm_chainrule(torch_model, tokens, targets):
    model = _CrModel()
    if torch_model is not None:
        model.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})
    opt = cr.optim.Adam(model.parameters(), lr=LR)
    loss_fn = cr.nn.CrossEntropyLoss()
    x, y = cr.tensor(tokens), cr.tensor(targets.reshape(-1))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _torch_model(torch):
    nn = torch.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, E)
            self.lstm = nn.LSTM(E, H)
            self.head = nn.Linear(H, V)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out.reshape(T * B, H))

    return Model()


def _lm_torch(torch, model, tokens, targets):
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(tokens), torch.from_numpy(targets.reshape(-1))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def bench_lm(samples: int) -> dict:
    """Time one training step of the LSTM language model, chainrule and PyTorch."""
    tokens, targets = _data()
    torch = torch_or_none()
    tm = None
    if torch is not None:
        torch.manual_seed(0)
        tm = _torch_model(torch)
    steps = {"chainrule": _lm_chainrule(tm, tokens, targets)}
    if torch is not None:
        steps["torch"] = _lm_torch(torch, tm, tokens, targets)
    name = f"lstm_lm Embedding({V},{E})-LSTM({E},{H})-Linear, T={T} B={B}, Adam"
    lstm = limit.linear_flops(T * B, E, 4 * H) + limit.linear_flops(T * B, H, 4 * H)
    return limit.annotate(
        row(name, interleaved(steps, samples)), limit.train_flops(lstm + limit.linear_flops(T * B, H, V))
    )


def bench_layer(samples: int) -> dict:
    """Time the LSTM layer alone (forward and backward), chainrule and PyTorch."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, E)).astype(np.float32)
    g = rng.standard_normal((T, B, H)).astype(np.float32)
    lstm = cr.nn.LSTM(E, H)
    cx, cg = cr.tensor(x, requires_grad=True), cr.tensor(g)

    def cr_step():
        lstm.zero_grad()
        cx.grad = None
        out, _ = lstm(cx)
        (out * cg).sum().backward()

    steps = {"chainrule": cr_step}
    torch = torch_or_none()
    if torch is not None:
        tl = torch.nn.LSTM(E, H)
        lstm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tl.state_dict().items()})
        tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

        def torch_step():
            tl.zero_grad()
            tx.grad = None
            out, _ = tl(tx)
            (out * tg).sum().backward()

        steps["torch"] = torch_step
    r = row(f"lstm_layer LSTM({E},{H}) fwd+bwd, T={T} B={B}", interleaved(steps, samples))
    return limit.annotate(
        r, limit.train_flops(limit.linear_flops(T * B, E, 4 * H) + limit.linear_flops(T * B, H, 4 * H))
    )


def run(samples: int) -> list[dict]:
    """Rows {"name", "chainrule_ms", "torch_ms", "ratio", ...} (medians over ``samples``)."""
    rows = [bench_lm(samples), bench_layer(samples)]
    for r in rows:
        r["ratio"] = r.get("ratio_torch")
    return rows


if __name__ == "__main__":
    import sys

    from chainrule.bench.run import format_rows

    print(format_rows(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
