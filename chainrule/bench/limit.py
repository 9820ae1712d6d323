"""Distance to the machine's limit: a step's matrix-product FLOPs over the measured GEMM rate.

``limit_ms = flops / gemm_rate``: how long the step would take if it did nothing but its
matrix products (forward, and for training the input and weight gradients) at the speed of one
big float32 GEMM on this machine. ``row["limit_ms"]`` and, per framework, ``limit / step time``
(1.0 = at the limit; 0.25 = four times slower than its products alone) go into each result row.
Element-wise work (activations, normalisation, the optimizer) is not counted: it is what a
framework spends above the limit.
"""

from __future__ import annotations

import time

import numpy as np

_RATE: list[float] = []


def gemm_rate(n: int = 1024, repeats: int = 10, refresh: bool = False) -> float:
    """FLOP/s of a float32 ``(n, n) @ (n, n)`` product in NumPy here: the best time seen.

    The first call measures (the best of ``repeats``); later calls return the best so far, or
    with ``refresh=True`` measure again and keep the faster (on a shared machine, any one
    measurement may land in a busy moment).
    """
    if _RATE and not refresh:
        return _RATE[0]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    a @ b  # first call: BLAS threads, page faults
    rate = 2.0 * n**3 / min(_timed(lambda: a @ b) for _ in range(repeats))
    _RATE[:] = [max(_RATE + [rate])]
    return _RATE[0]


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def linear_flops(rows: int, fan_in: int, fan_out: int) -> float:
    """Forward FLOPs of ``(rows, fan_in) @ (fan_in, fan_out)``."""
    return 2.0 * rows * fan_in * fan_out


def conv_flops(n: int, out_hw: tuple[int, int], c_in: int, c_out: int, k: int, groups: int = 1) -> float:
    """Forward FLOPs of a k x k convolution giving (n, c_out, *out_hw)."""
    return 2.0 * n * out_hw[0] * out_hw[1] * c_out * (c_in // groups) * k * k


def module_flops(model, x, nn) -> float:
    """Forward FLOPs of the ``Linear`` and ``Conv2d`` layers of ``model`` (a chainrule Module) on ``x``."""
    total = [0.0]

    def hook(m, inputs, out):
        if isinstance(m, nn.Linear):
            rows = int(np.prod(out.shape[:-1]))
            total[0] += linear_flops(rows, m.in_features, m.out_features)
        else:
            k = m.kernel_size[0] * m.kernel_size[1]
            total[0] += 2.0 * int(np.prod(out.shape)) * (m.in_channels // m.groups) * k

    handles = [
        m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))
    ]
    try:
        import chainrule as cr

        with cr.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def train_flops(forward: float, first_layer: float = 0.0) -> float:
    """A training step's product FLOPs.

    Forward, weight gradients and input gradients (3x forward), less the input gradient of the
    first layer (``first_layer``: its forward FLOPs), which no one needs.
    """
    return 3.0 * forward - first_layer


def annotate(r: dict, flops: float) -> dict:
    """Record the step's product FLOPs in row ``r`` (``chainrule bench`` adds the limit at the end)."""
    r["gflop"] = flops / 1e9
    return r


def add_limits(rows: list[dict]) -> None:
    """Add ``limit_ms`` and, per framework, ``limit / step time`` to every row that has ``gflop``."""
    rate = gemm_rate(refresh=True)
    for r in rows:
        if "gflop" not in r:
            continue
        limit_ms = r["gflop"] * 1e9 / rate * 1000.0
        r["limit_ms"] = limit_ms
        for k in ("chainrule", "torch", "numpy"):
            ms = r.get(f"{k}_ms")
            if ms:
                r[f"limit_{k}"] = limit_ms / ms
