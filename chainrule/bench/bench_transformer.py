"""Transformer encoder language model: one training step, chainrule vs PyTorch, same weights.

Embedding(1000, 256) -> 2 x TransformerEncoderLayer(d 256, 4 heads, feed-forward 1024, dropout
0.1, batch first, causal mask) -> Linear(256, 1000); sequences of 64 tokens, batch 32,
cross-entropy over all positions, Adam.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.bench import limit
from chainrule.bench.timing import interleaved, row, torch_or_none

V, D, HEADS, FF, LAYERS, T, B = 1000, 256, 4, 1024, 2, 64, 32
LR = 1e-3


def _model(lib):
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, D)
            layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.1, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
            self.head = nn.Linear(D, V)

        def forward(self, tokens, mask):
            return self.head(self.encoder(self.embed(tokens), mask=mask)).reshape(-1, V)

    return LM()


def step_flops() -> float:
    """Product FLOPs of one training step (projections, attention scores and sums, feed-forward, head)."""
    rows = B * T
    per_layer = (
        limit.linear_flops(rows, D, 3 * D)  # q, k, v
        + 2 * 2.0 * B * T * T * D  # scores q kᵀ and the weighted sum of values, all heads
        + limit.linear_flops(rows, D, D)  # output projection
        + limit.linear_flops(rows, D, FF)
        + limit.linear_flops(rows, FF, D)
    )
    return limit.train_flops(LAYERS * per_layer + limit.linear_flops(rows, D, V))


def _steps(torch) -> dict:
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, V, (B, T)).astype(np.int64)
    targets = rng.integers(0, V, B * T).astype(np.int64)
    mask = np.triu(np.full((T, T), -np.inf, np.float32), 1)
    cr.manual_seed(0)
    model = _model(cr)
    opt = cr.optim.Adam(model.parameters(), lr=LR)
    loss_fn = cr.nn.CrossEntropyLoss()
    x, y, m = cr.tensor(tokens), cr.tensor(targets), cr.tensor(mask)

    def cr_step():
        opt.zero_grad()
        loss = loss_fn(model(x, m), y)
        loss.backward()
        opt.step()
        return loss

    steps = {"chainrule": cr_step}
    if torch is not None:
        tmodel = _model(torch)
        tmodel.load_state_dict(
            {k: torch.from_numpy(np.array(v._data)) for k, v in model.state_dict().items()}
        )
        topt = torch.optim.Adam(tmodel.parameters(), lr=LR)
        tloss_fn = torch.nn.CrossEntropyLoss()
        tx, ty, tm = torch.from_numpy(tokens), torch.from_numpy(targets), torch.from_numpy(mask)

        def torch_step():
            topt.zero_grad()
            loss = tloss_fn(tmodel(tx, tm), ty)
            loss.backward()
            topt.step()
            return loss

        steps["torch"] = torch_step
    return steps


def run(samples: int = 20) -> list[dict]:
    """One row: medians of ``samples`` interleaved training steps and the distance to the limit."""
    r = row(
        f"transformer_lm d {D}, {HEADS} heads, {LAYERS} layers, T={T} B={B}, Adam",
        interleaved(_steps(torch_or_none()), samples),
    )
    return [limit.annotate(r, step_flops())]
