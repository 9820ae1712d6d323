"""chainrule's benchmark suite: ``chainrule bench`` (or ``python -m benchmarks.run``)."""

import chainrule  # noqa: F401  (before NumPy, so OpenBLAS's idle threads sleep: see chainrule/backend.py)
