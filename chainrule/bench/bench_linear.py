"""``Linear`` on a 3-D input against the same product on the input reshaped to 2-D.

A sequence model's dense layers see (batch, time, features) inputs. Both rows time ``nn.Linear``
forward and backward (``out.backward(G)``, every gradient needed) on the same numbers: once as
(32·35, 256) → 1000 and once as (32, 35, 256) → 1000. chainrule runs the 3-D case as the 2-D
product, so the two rows' chainrule times should agree; the NumPy column is the hand-written 2-D
product and its three gradient products, the floor.

Run: ``chainrule bench linear``.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.bench import limit
from chainrule.bench.timing import interleaved, row, torch_or_none

B, T, F_IN, F_OUT = 32, 35, 256, 1000


def _layer_step(lib, weight, bias, x, g):
    """Forward and backward of ``lib.nn.Linear`` with the given weights, input and upstream gradient."""
    layer = lib.nn.Linear(F_IN, F_OUT)
    layer.load_state_dict({"weight": lib.tensor(weight), "bias": lib.tensor(bias)})
    xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(g)

    def step():
        layer.zero_grad()
        xt.grad = None
        layer(xt).backward(gt)

    return step


def _numpy_step(weight, bias, x, g):
    x2, g2 = x.reshape(-1, F_IN), g.reshape(-1, F_OUT)

    def step():
        out = x2 @ weight.T
        out += bias
        return g2 @ weight, g2.T @ x2, g2.sum(0)

    return step


def bench(samples: int, three_d: bool) -> dict:
    """Time Linear(256, 1000) forward + backward on a (32, 35, 256) input, or on it reshaped to 2-D."""
    rng = np.random.default_rng(3)
    shape = (B, T) if three_d else (B * T,)
    x = rng.standard_normal((*shape, F_IN)).astype(np.float32)
    g = rng.standard_normal((*shape, F_OUT)).astype(np.float32)
    bound = 1 / np.sqrt(F_IN)
    weight = rng.uniform(-bound, bound, (F_OUT, F_IN)).astype(np.float32)
    bias = rng.uniform(-bound, bound, F_OUT).astype(np.float32)
    steps = {"chainrule": _layer_step(cr, weight, bias, x, g), "numpy": _numpy_step(weight, bias, x, g)}
    torch = torch_or_none()
    if torch is not None:
        steps["torch"] = _layer_step(torch, weight, bias, x, g)
    name = f"linear {'(32, 35, 256)' if three_d else '(32·35, 256)'} -> 1000, fwd+bwd"
    r = row(name, interleaved(steps, samples, reps=3))
    return limit.annotate(r, 3 * limit.linear_flops(B * T, F_IN, F_OUT))


def run(samples: int = 30) -> list[dict]:
    """The 2-D row, then the 3-D row (compare their chainrule times)."""
    return [bench(samples, three_d=False), bench(samples, three_d=True)]


if __name__ == "__main__":
    import sys

    from chainrule.bench.run import format_rows

    print(format_rows(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
