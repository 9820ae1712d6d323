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


def _gen(generator) -> np.random.Generator:
    """The NumPy generator behind a ``cr.Generator`` (or the global one for None)."""
    if generator is None:
        return _generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator: expected a cr.Generator, got {type(generator).__name__}")
    return generator._rng


def uniform(
    shape, dtype=np.float32, device: str = "cpu", low: float = 0.0, high: float = 1.0, generator=None
):
    """An array of U(low, high) draws."""
    return _finish(_gen(generator).uniform(low, high, size=shape), dtype, device)


def normal(shape, dtype=np.float32, device: str = "cpu", mean: float = 0.0, std: float = 1.0, generator=None):
    """An array of N(mean, std²) draws."""
    return _finish(_gen(generator).normal(mean, std, size=shape), dtype, device)


def integers(low: int, high: int, shape, dtype=np.int64, device: str = "cpu", generator=None):
    """An array of integers drawn uniformly from [low, high)."""
    return _finish(_gen(generator).integers(low, high, size=shape), dtype, device)


def bernoulli(p: float, shape, device: str = "cpu"):
    """A bool array, each entry True with probability p."""
    mask = _generator.random(size=shape) < p
    return backend.to_device(mask, device) if device != "cpu" else mask


def permutation(n: int, generator=None):
    """A random permutation of 0..n-1 (a NumPy int64 array)."""
    return _gen(generator).permutation(n)


class Generator:
    """A random number generator of its own.

    A random number generator of its own, as ``torch.Generator``: pass it as ``generator=`` to the
    random factories (``cr.rand``, ``cr.randn``, ``cr.randint``, ``cr.randperm``, ``cr.bernoulli``,
    ``cr.multinomial``, ``cr.normal``, the ``*_like`` ones) for draws independent of ``cr.manual_seed``.

    >>> g = cr.Generator().manual_seed(0)
    >>> a = cr.rand(2, generator=g); b = cr.rand(2, generator=g.manual_seed(0)); cr.equal(a, b)
    True
    """

    def __init__(self, device: str = "cpu") -> None:
        self.device = backend.normalize_device(device)
        self._seed = 67280421310721  # PyTorch's default seed
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed; returns the generator."""
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"Generator.manual_seed: seed must be a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        import secrets

        return self.manual_seed(secrets.randbits(63)).initial_seed()

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with."""
        return self._seed

    def get_state(self) -> dict:
        """The generator's state (for ``set_state``)."""
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        """Restore a state from ``get_state``."""
        self._rng.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"<chainrule.Generator device={self.device!r} initial_seed={self._seed}>"
