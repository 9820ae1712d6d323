"""``detect_anomaly``: find the first op whose forward or backward produces NaN or inf."""

from __future__ import annotations

from chainrule.autograd.grad_mode import State


class detect_anomaly:
    """Check every op's outputs and gradients for NaN/inf while active.

    Context manager: while active, every op checks its outputs (and, in backward, the gradients
    it produces) for NaN/inf and raises ``RuntimeError`` naming the op and the source line that
    created it.  Slow: use it for debugging.

    Example::

        with cr.autograd.detect_anomaly():
            loss = model(x).log().sum()
            loss.backward()
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = State.anomaly
        State.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        State.anomaly = self._prev
        return False


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return State.anomaly
