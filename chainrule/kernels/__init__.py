"""``chainrule.kernels``: tuned array code, each kernel beside a plain reference of what it computes.

Kernels work on backend arrays (NumPy or CuPy) and import only ``chainrule.backend`` and NumPy;
ops and optimizers call them.  ``tests/kernels`` checks every tuned kernel against its reference.
"""
