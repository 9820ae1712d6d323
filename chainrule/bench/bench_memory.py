"""Memory: what a training loop that keeps its losses holds, chainrule next to PyTorch.

``losses.append(loss)`` is the everyday pattern (a list for a plot).  After ``backward()``
without ``retain_graph`` both frameworks free the values the graph saved, so each kept loss
should cost bytes, not the step's activations.  Each framework runs in a fresh process (so
one's allocator never hides the other's), trains a small CNN for ``STEPS`` steps keeping every
loss, and reports the resident memory it gained per step and its peak above the start.
"""

from __future__ import annotations

import json
import subprocess
import sys

STEPS = 60


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(lib_name: str, steps: int = STEPS) -> dict:
    """Run the loop in this process with ``lib_name`` ('chainrule' or 'torch'); memory in MB."""
    if lib_name == "torch":
        import torch as lib

        lib.set_num_threads(1)
    else:
        import chainrule as lib
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 14 * 14, 10)
    )
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x, y = lib.randn(64, 1, 28, 28), lib.randint(0, 10, (64,))
    losses = []

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss)

    for _ in range(3):  # warm up: buffers, allocator pools
        step()
    start = _rss_mb("VmRSS")
    for _ in range(steps):
        step()
    end = _rss_mb("VmRSS")
    return {"held_per_step_mb": (end - start) / steps, "peak_above_start_mb": _rss_mb("VmHWM") - start}


def _measure(lib_name: str) -> dict | None:
    code = (
        f"import json; from chainrule.bench.bench_memory import child; print(json.dumps(child({lib_name!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        if lib_name == "torch":
            return None  # PyTorch not installed: chainrule alone
        raise RuntimeError(f"bench_memory: the {lib_name} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(samples: int = 30) -> list[dict]:
    """Measure both frameworks, each in a fresh process; one row per measure."""
    ours, theirs = _measure("chainrule"), _measure("torch")
    rows = []
    for key, label in (
        ("held_per_step_mb", "kept losses: MB held per step"),
        ("peak_above_start_mb", "peak MB"),
    ):
        t = theirs[key] if theirs else None
        rows.append(
            {
                "name": f"memory: {label}",
                "chainrule_ms": ours[key],
                "torch_ms": t,
                "ratio_torch": None,
                "unit": "MB",
            }
        )
    return rows
