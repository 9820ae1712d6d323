"""Interleaved, side-by-side timing.

Each sample times ``reps`` consecutive steps of one implementation; implementations take
turns sample by sample, so a noisy moment hits them all alike.  Before each sample:
a short pause (idle BLAS threads spin ~0.1 s after a NumPy call and would slow the
next runner) and one untimed warm-up step.  We report medians and their ratios.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(
    steps: dict[str, Callable[[], object]], samples: int, reps: int = 1, pause: float = 0.2
) -> dict[str, float]:
    """Median milliseconds per step for each named step function."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for fn in steps.values():  # first call: allocations, caches
        fn()
    for _ in range(samples):
        for name, fn in steps.items():
            time.sleep(pause)
            fn()
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            times[name].append((time.perf_counter() - t0) * 1000 / reps)
    return {name: statistics.median(v) for name, v in times.items()}


def row(name: str, medians: dict[str, float]) -> dict:
    """A result row: medians in ms and the ratios chainrule/torch and chainrule/numpy."""
    r = {"name": name}
    for k, v in medians.items():
        r[f"{k}_ms"] = v
    cr = medians.get("chainrule")
    if cr is not None:
        if "torch" in medians:
            r["ratio_torch"] = cr / medians["torch"]
        if "numpy" in medians:
            r["ratio_numpy"] = cr / medians["numpy"]
    return r


def torch_or_none():
    """PyTorch when installed (the benchmarks run without it, chainrule and NumPy only)."""
    try:
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))
        return torch
    except ImportError:
        return None
