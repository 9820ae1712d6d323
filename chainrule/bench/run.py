"""``chainrule bench``: every benchmark, side by side with PyTorch (when installed) and NumPy.

    chainrule bench                 # all
    chainrule bench mlp cnn         # some
    python -m chainrule.bench.run --quick

Reports medians (ms per step) and the ratios chainrule/PyTorch and chainrule/NumPy
(< 1 means chainrule is faster), and the distance to the machine's limit: ``limit ms`` is the
step's matrix-product FLOPs over the rate of one big float32 GEMM measured here, and ``at
limit`` is that over each framework's step time (1.0 = nothing but products at full speed;
see ``chainrule/bench/limit.py``).  Compare ratios from one run, never absolute times
across runs: machines are noisy.

The benchmarks turn on one opt-in setting, as a training script would: ``cr.backend.tune_malloc()``
(freed memory stays in the process; see docs/performance.md).  ``--no-tune-malloc`` leaves the
allocator as ``import chainrule`` does.  Optimizers run with their defaults (no subnormal flush:
a benchmark's few hundred steps never reach the subnormal range).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

SUITES = {
    "mlp": "chainrule.bench.bench_mlp",
    "cnn": "chainrule.bench.bench_cnn",
    "lstm": "chainrule.bench.bench_lstm",
    "resnet": "chainrule.bench.bench_resnet",
    "transformer": "chainrule.bench.bench_transformer",
    "linear": "chainrule.bench.bench_linear",
    "memory": "chainrule.bench.bench_memory",
}


def format_rows(rows: list[dict], limits: bool = True) -> str:
    """The rows as an aligned text table; ``limits=False`` leaves out the distance-to-the-limit columns."""
    cols = [
        ("name", "benchmark", "{}"),
        ("chainrule_ms", "chainrule ms", "{:.3f}"),
        ("torch_ms", "torch ms", "{:.3f}"),
        ("numpy_ms", "numpy ms", "{:.3f}"),
        ("ratio_torch", "cr/torch", "{:.2f}"),
        ("ratio_numpy", "cr/numpy", "{:.2f}"),
        ("limit_ms", "limit ms", "{:.3g}"),
        ("limit_chainrule", "cr at limit", "{:.2g}"),
        ("limit_torch", "torch at limit", "{:.2g}"),
    ]
    if not limits:
        cols = cols[:6]
    table = [[title for _, title, _ in cols]]
    for r in rows:
        unit = f" {r['unit']}" if r.get("unit") else ""  # rows in other units than ms say so
        table.append([fmt.format(r[k]) + unit if r.get(k) is not None else "-" for k, _, fmt in cols])
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        for row in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(
    names: list[str] | None = None,
    samples: int = 30,
    quick: bool = False,
    json_path: str | None = None,
    tune_malloc: bool = True,
) -> int:
    """Run the named benchmarks (all by default), print the table and optionally write it."""
    names = list(names or SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"chainrule bench: unknown benchmark(s) {unknown}; choose from {list(SUITES)}", file=sys.stderr)
        return 2
    if quick:
        samples = 3
    if tune_malloc:
        from chainrule import backend

        tuned = backend.tune_malloc()
        print(f"cr.backend.tune_malloc(): {'on' if tuned else 'not available here'} (--no-tune-malloc: off)")
    from chainrule.bench import limit

    limit.gemm_rate()
    rows: list[dict] = []
    for name in names:
        try:
            module = importlib.import_module(SUITES[name])
        except ImportError as e:
            print(f"{name}: not available ({e})", file=sys.stderr)
            continue
        for row in module.run(samples):
            rows.append(row)
            print(format_rows([row], limits=False).splitlines()[-1], flush=True)
        limit.gemm_rate(refresh=True)
    limit.add_limits(rows)
    print()
    print(f"float32 GEMM rate here (best seen): {limit.gemm_rate() / 1e9:.1f} GFLOP/s, the limit of each row")
    print(format_rows(rows))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*")
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--no-tune-malloc", action="store_true", help="leave glibc's allocator settings alone")
    a = p.parse_args()
    sys.exit(main(a.names, a.samples, a.quick, a.json, tune_malloc=not a.no_tune_malloc))
