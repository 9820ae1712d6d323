"""Autograd switches: whether ops record a graph, inference mode and anomaly mode.

Each thread has its own switches, as in PyTorch: a ``no_grad`` block in one thread (a data
loader, an evaluation thread) never turns recording off in another.

``no_grad`` and ``enable_grad`` work as context managers and as decorators,
as in PyTorch::

    with cr.no_grad():
        y = model(x)          # no graph is recorded, y.requires_grad is False

    @cr.no_grad()
    def evaluate(...): ...
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """Per-thread autograd flags, read on every op; class attributes are each thread's defaults."""

    grad_enabled = True
    anomaly = False
    inference = False


State = _State()


def is_grad_enabled() -> bool:
    """True when ops record the computational graph."""
    return State.grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off.

    Turn graph recording on or off, as PyTorch: a plain call sets it for the calling thread,
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


class inference_mode(_GradMode):
    """Context manager / decorator for inference: no graph is recorded (as ``no_grad``), as PyTorch's.

    ``inference_mode(False)`` leaves recording as it is.  Tensors made inside are ordinary
    tensors that carry no graph (PyTorch additionally forbids using them in autograd later).

    Example::

        with cr.inference_mode():
            predictions = model(x).argmax(1)
    """

    def __new__(cls, mode=True):
        if callable(mode):  # @cr.inference_mode without parentheses
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True):
        self.enabled = bool(mode)

    def __enter__(self):
        self._prev = (State.grad_enabled, State.inference)
        if self.enabled:
            State.grad_enabled, State.inference = False, True
        return self

    def __exit__(self, *exc):
        State.grad_enabled, State.inference = self._prev
        return False

    def __call__(self, fn):
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(enabled):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return State.inference
