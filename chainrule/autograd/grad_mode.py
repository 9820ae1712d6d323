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


def set_grad_enabled(mode: bool) -> None:
    """Turn graph recording on or off for the whole process."""
    State.grad_enabled = bool(mode)


class _GradMode:
    mode = True

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
