"""``python -m benchmarks.run [names] [--samples N] [--quick] [--json PATH]``: runs ``chainrule.bench.run``
(the benchmark code ships inside the package, so ``chainrule bench`` works from an install)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("chainrule.bench.run", run_name="__main__", alter_sys=True)
