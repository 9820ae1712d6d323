"""``python -m benchmarks.run`` from a checkout: the suite itself ships in ``chainrule.bench``."""
