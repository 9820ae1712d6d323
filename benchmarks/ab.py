"""Before/after in one process: this checkout's chainrule against an older commit's, and PyTorch.

    python -m benchmarks.ab 7761cf6                       # every workload, 12 samples
    python -m benchmarks.ab 7761cf6 tiny resnet --samples 16

The commit's ``chainrule/`` is extracted with ``git archive`` into a temporary folder as a package
named ``chainrule_old`` (its imports renamed), with this checkout's ``chainrule/bench/`` copied in, so
both versions build the same step functions (those of ``chainrule/bench/bench_*.py``). The steps
run interleaved, the order alternating between samples; per workload it prints the medians of
thread CPU time (``time.thread_time``: waiting for a busy core does not count) and of wall time,
as ratios new/old, new/PyTorch and old/PyTorch. PyTorch is optional.
"""

from __future__ import annotations

import argparse
import importlib
import io
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
REPS = {"tiny": 20, "mlp_sgd": 3, "mlp_adam": 3}
WORKLOADS = ["tiny", "mlp_sgd", "mlp_adam", "cnn_train", "cnn_infer", "lstm_lm", "resnet", "transformer"]


def old_package(commit: str, where: pathlib.Path) -> None:
    """``chainrule`` of ``commit`` as ``where/chainrule_old``, with this checkout's bench modules."""
    tar = subprocess.run(["git", "archive", commit, "chainrule"], cwd=ROOT, capture_output=True, check=True)
    tarfile.open(fileobj=io.BytesIO(tar.stdout)).extractall(where, filter="data")
    pkg = where / "chainrule_old"
    (where / "chainrule").rename(pkg)
    shutil.rmtree(pkg / "bench")
    shutil.copytree(ROOT / "chainrule" / "bench", pkg / "bench")
    for path in pkg.rglob("*.py"):
        text = re.sub(r"\b(from|import) chainrule(\.| )", r"\1 chainrule_old\2", path.read_text())
        path.write_text(text.replace('"chainrule.', '"chainrule_old.'))


def steps(pkg: str, lib=None) -> dict:
    """Step builders of each workload for package ``pkg`` (or, with ``lib`` given, for PyTorch)."""
    cr = importlib.import_module(pkg)
    bench = {s: importlib.import_module(f"{pkg}.bench.bench_{s}") for s in ("mlp", "cnn", "lstm")}
    mlp, cnn, lstm = bench["mlp"], bench["cnn"], bench["lstm"]
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((32, 2)).astype(np.float32), rng.standard_normal((32, 1)).astype(np.float32)
    rng = np.random.default_rng(2)
    xb, lb = rng.standard_normal((128, 784)).astype(np.float32), rng.integers(0, 10, 128).astype(np.int64)
    tok, tgt = lstm._data()
    which = "chainrule" if lib is None else "torch"
    target = cr if lib is None else lib

    def lm():
        if lib is None:
            return lstm._lm_chainrule(None, tok, tgt)
        lib.manual_seed(0)
        return lstm._lm_torch(lib, lstm._torch_model(lib), tok, tgt)

    return {
        "tiny": lambda: mlp._tiny_step(target, mlp._weights([2, 8, 8, 1]), x, y),
        "mlp_sgd": lambda: mlp._big_step(target, mlp._weights([784, 512, 256, 10]), xb, lb),
        "mlp_adam": lambda: mlp._big_adam(target, mlp._weights([784, 512, 256, 10]), xb, lb),
        "cnn_train": lambda: cnn._train_steps(lib)[which],
        "cnn_infer": lambda: cnn._infer_steps(lib)[which],
        "lstm_lm": lm,
        "resnet": lambda: importlib.import_module(f"{pkg}.bench.bench_resnet")._steps(lib)[0][which],
        "transformer": lambda: importlib.import_module(f"{pkg}.bench.bench_transformer")._steps(lib)[which],
    }


def compare(fns: dict, samples: int, reps: int) -> tuple[dict, dict]:
    """Medians (ms) of thread CPU time and wall time per step, steps interleaved."""
    cpu: dict = {k: [] for k in fns}
    wall: dict = {k: [] for k in fns}
    for f in fns.values():
        f()
    order = list(fns)
    for i in range(samples):
        for k in order if i % 2 == 0 else order[::-1]:
            f = fns[k]
            time.sleep(0.05)
            f()
            w0, t0 = time.perf_counter(), time.thread_time()
            for _ in range(reps):
                f()
            cpu[k].append((time.thread_time() - t0) / reps * 1e3)
            wall[k].append((time.perf_counter() - w0) / reps * 1e3)
    return {k: statistics.median(v) for k, v in cpu.items()}, {
        k: statistics.median(v) for k, v in wall.items()
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("commit")
    p.add_argument("workloads", nargs="*", help=f"some of {WORKLOADS} (default: all)")
    p.add_argument("--samples", type=int, default=12)
    a = p.parse_args()
    unknown = set(a.workloads) - set(WORKLOADS)
    if unknown:
        p.error(f"unknown workloads {sorted(unknown)}; choose from {WORKLOADS}")
    tmp = pathlib.Path(tempfile.mkdtemp())
    old_package(a.commit, tmp)
    sys.path.insert(0, str(tmp))
    import chainrule

    chainrule.backend.tune_malloc()
    try:
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))
    except ImportError:
        torch = None
    builders = {"old": steps("chainrule_old"), "new": steps("chainrule")}
    if torch is not None:
        builders["torch"] = steps("chainrule", torch)
    for name in a.workloads or WORKLOADS:
        cpu, wall = compare({k: b[name]() for k, b in builders.items()}, a.samples, REPS.get(name, 1))
        line = f"{name:12s} new/old cpu {cpu['new'] / cpu['old']:.3f} wall {wall['new'] / wall['old']:.3f}"
        if torch is not None:
            line += (
                f" | new/torch cpu {cpu['new'] / cpu['torch']:.3f} wall {wall['new'] / wall['torch']:.3f}"
                f" | old/torch cpu {cpu['old'] / cpu['torch']:.3f} wall {wall['old'] / wall['torch']:.3f}"
            )
        print(f"{line}  (new {cpu['new']:.3f} ms cpu)", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
