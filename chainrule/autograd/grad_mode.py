"""Global autograd switches: whether ops record a graph, and anomaly mode.

``no_grad`` and ``enable_grad`` work as context managers and as decorators,
as in PyTorch::

    with cr.no_grad():
        y = model(x)          # no graph is recorded, y.requires_grad is False

    @cr.no_grad()
    def evaluate(...): ...
"""

from __future__ import annotations

import functools


class State:
    """Process-wide autograd flags, read on every op (class attributes: fastest lookup)."""

    grad_enabled = True
    anomaly = False


def is_grad_enabled() -> bool:
    """True when ops record the computational graph."""
    return State.grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off, as PyTorch: a plain call sets it for the whole process,
    and as a context manager the previous mode comes back on exit::

        cr.set_grad_enabled(False)
        with cr.set_grad_enabled(is_training):
            out = model(x)
    """

    def __init__(self, mode: bool):
        self._prev = State.grad_enabled
        State.grad_enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        State.grad_enabled = self._prev
        return False


class _GradMode:
    mode = True

    def __new__(cls, fn=None):
        # ``@cr.no_grad`` without parentheses decorates ``fn`` directly, as PyTorch allows
        self = super().__new__(cls)
        return self if fn is None else self(fn)

    def __init__(self, fn=None):
        pass

    def __enter__(self):
        self._prev = State.grad_enabled
        State.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        State.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Context manager / decorator that disables graph recording.

    Example::

        with cr.no_grad():
            w -= 0.1 * w.grad
    """

    mode = False


class enable_grad(_GradMode):
    """Context manager / decorator that re-enables graph recording inside ``no_grad``."""

    mode = True
