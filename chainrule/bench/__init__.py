"""chainrule's benchmark suite, shipped with the package.

chainrule's benchmark suite, shipped with the package: ``chainrule bench`` (or
``python -m chainrule.bench.run``), side by side with PyTorch when it is installed.
"""
