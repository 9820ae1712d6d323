"""Small synthetic problems (those of the playground): 2-D classification and 1-D regression.

Each takes ``n`` (number of points), ``noise`` and ``seed`` (its own generator: the global
``cr.manual_seed`` does not affect them) and returns ``(x, y)``: x float32 (n, 2), y int64
class labels 0..classes-1, points in random order. ``sine`` returns float32 (n, 1) and (n, 1).
"""

from __future__ import annotations

from chainrule.backend import np
from chainrule.ops import _args


def _rng(seed: int):
    return np.random.default_rng(seed)


def _check_n(name: str, n: int, noise: float, classes: int = 1) -> None:
    if not isinstance(n, (int, np.integer)) or n < classes:
        raise ValueError(f"{name}: n must be an integer >= {classes}, got {n!r}")
    _args.number(name, "noise", noise, minimum=0)


def _finish(rng, x, y):
    order = rng.permutation(len(y))
    return x[order].astype(np.float32), y[order].astype(np.int64)


def _split(n: int, classes: int) -> list[int]:
    """n points shared out as evenly as possible among the classes."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple:
    """Points uniform in [-1, 1]², class 1 where x0·x1 < 0 (opposite quadrants), plus N(0, noise²)."""
    _check_n("xor", n, noise)
    rng = _rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = (x[:, 0] * x[:, 1] < 0).astype(np.int64)
    x = x + rng.normal(0, noise, size=x.shape)
    return _finish(rng, x, y)


def circles(n: int = 200, noise: float = 0.1, seed: int = 0, factor: float = 0.5) -> tuple:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``, plus N(0, noise²)."""
    _check_n("circles", n, noise, 2)
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor}")
    rng = _rng(seed)
    n0, n1 = _split(n, 2)
    t = rng.uniform(0, 2 * np.pi, size=n)
    r = np.concatenate([np.ones(n0), np.full(n1, factor)])
    x = np.stack([r * np.cos(t), r * np.sin(t)], 1) + rng.normal(0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return _finish(rng, x, y)


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple:
    """Two interleaving half circles (as scikit-learn's make_moons), plus N(0, noise²)."""
    _check_n("moons", n, noise, 2)
    rng = _rng(seed)
    n0, n1 = _split(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], 1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)
    x = np.concatenate([upper, lower]) + rng.normal(0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return _finish(rng, x, y)


def spiral(n: int = 200, noise: float = 0.1, seed: int = 0, classes: int = 2, turns: float = 1.0) -> tuple:
    """``classes`` interleaved spiral arms of ``turns`` turns each, radius 0..1, plus N(0, noise²)."""
    _check_n("spiral", n, noise, classes)
    rng = _rng(seed)
    xs, ys = [], []
    for k, m in enumerate(_split(n, classes)):
        r = np.linspace(0.05, 1.0, m)
        t = 2 * np.pi * (turns * r + k / classes)
        xs.append(np.stack([r * np.cos(t), r * np.sin(t)], 1))
        ys.append(np.full(m, k))
    x = np.concatenate(xs) + rng.normal(0, noise, size=(n, 2))
    return _finish(rng, x, np.concatenate(ys))


def gaussians(n: int = 200, noise: float = 0.5, seed: int = 0, classes: int = 2) -> tuple:
    """Gaussian blobs around the unit circle, one per class.

    ``classes`` round Gaussian blobs of standard deviation ``noise``, centred on the unit circle
    at evenly spaced angles (for 2 classes: (1, 1)/√2 and (-1, -1)/√2).
    """
    _check_n("gaussians", n, noise, classes)
    rng = _rng(seed)
    xs, ys = [], []
    for k, m in enumerate(_split(n, classes)):
        angle = np.pi / 4 + 2 * np.pi * k / classes
        centre = np.array([np.cos(angle), np.sin(angle)])
        xs.append(centre + rng.normal(0, noise, size=(m, 2)))
        ys.append(np.full(m, k))
    return _finish(rng, np.concatenate(xs), np.concatenate(ys))


def sine(n: int = 100, noise: float = 0.1, seed: int = 0, low: float = -np.pi, high: float = np.pi) -> tuple:
    """1-D regression: x uniform in [low, high] (sorted), y = sin(x) + N(0, noise²); both float32 (n, 1)."""
    _check_n("sine", n, noise)
    rng = _rng(seed)
    x = np.sort(rng.uniform(low, high, size=n))
    y = np.sin(x) + rng.normal(0, noise, size=n)
    return x[:, None].astype(np.float32), y[:, None].astype(np.float32)
