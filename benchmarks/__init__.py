"""chainrule's benchmark suite: ``chainrule bench`` (or ``python -m benchmarks.run``)."""
