"""Every differentiable op, one file per family, forward and backward side by side.

- ``elementwise``: + - * / ** neg abs exp log sqrt sin cos tanh sigmoid relu clamp maximum minimum where
- ``reduce``: sum mean var std max min amax amin argmax argmin logsumexp
- ``shape``: reshape flatten squeeze unsqueeze transpose permute expand repeat indexing cat stack pad
- ``linalg``: matmul linear
"""
