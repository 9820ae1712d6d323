"""The library's random number generator: ``cr.manual_seed(n)`` makes every draw reproducible.

All random draws (``cr.rand``, ``cr.randn``, initialisation, dropout, shuffling,
augmentation) come from one NumPy ``Generator``.  Numbers are drawn on the CPU
and moved to the device, so a seed gives the same values on ``'cpu'`` and ``'cuda'``.
"""

from __future__ import annotations

from chainrule import backend
from chainrule.backend import np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reseed the global generator (as ``torch.manual_seed``)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The global NumPy generator (use it for any new random draw in the library)."""
    return _generator


def get_rng_state() -> dict:
    """The generator's state, for checkpoints."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from ``get_rng_state``."""
    _generator.bit_generator.state = state


def _finish(arr, dtype, device):
    arr = arr.astype(dtype, copy=False)
    return backend.to_device(arr, device) if device != "cpu" else arr


def uniform(shape, dtype=np.float32, device: str = "cpu", low: float = 0.0, high: float = 1.0):
    """An array of U(low, high) draws."""
    return _finish(_generator.uniform(low, high, size=shape), dtype, device)


def normal(shape, dtype=np.float32, device: str = "cpu", mean: float = 0.0, std: float = 1.0):
    """An array of N(mean, std²) draws."""
    return _finish(_generator.normal(mean, std, size=shape), dtype, device)


def integers(low: int, high: int, shape, dtype=np.int64, device: str = "cpu"):
    """An array of integers drawn uniformly from [low, high)."""
    return _finish(_generator.integers(low, high, size=shape), dtype, device)


def bernoulli(p: float, shape, device: str = "cpu"):
    """A bool array, each entry True with probability p."""
    mask = _generator.random(size=shape) < p
    return backend.to_device(mask, device) if device != "cpu" else mask


def permutation(n: int):
    """A random permutation of 0..n-1 (a NumPy int64 array)."""
    return _generator.permutation(n)
