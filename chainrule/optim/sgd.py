"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp_of
from chainrule.optim.optimizer import Optimizer, Tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    With gradient g = ∇L(θ) (+ λθ with ``weight_decay`` λ), learning rate η, momentum μ,
    dampening τ and velocity v (``state[p]['momentum_buffer']``, v = g at the first step):

    - plain SGD (μ = 0):   θ ← θ − η·g
    - momentum:            v ← μ·v + (1 − τ)·g,   θ ← θ − η·v
    - Nesterov momentum:   v ← μ·v + g,           θ ← θ − η·(g + μ·v)

    $$
    \begin{aligned}
    v_t &= \mu\, v_{t-1} + (1 - \tau)\, g_t \\
    \theta_t &= \theta_{t-1} - \eta\, v_t \qquad \text{(Nesterov: } \theta_t = \theta_{t-1} - \eta\,(g_t +
    \mu\, v_t)\text{)}
    \end{aligned}
    $$

    ``maximize=True`` ascends (g ← −g).

    When to use: the baseline. Plain SGD is noisy and slow in ravines (steep in one direction,
    flat in another); momentum accumulates a velocity along consistent directions and damps the
    oscillations, and with a tuned learning-rate schedule SGD + momentum (0.9) often generalises
    best (standard for CNNs). Nesterov evaluates the gradient "ahead" and usually converges a bit
    faster.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.46, -0.92], requires_grad=True)

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate η (default 1e-3).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ for the momentum (default 0).
        weight_decay: L2 penalty λ (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.
    """

    _name = "SGD"
    _scalar_state = ()

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "momentum", "weight_decay")
        momentum, dampening = group.get("momentum", 0), group.get("dampening", 0)
        nesterov = group.get("nesterov")
        if nesterov and (not float(momentum) > 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov=True requires a momentum > 0 and zero dampening, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening = float(group["dampening"])
        nesterov = group["nesterov"]
        for pd, g, st in self._prepared(group, params, grads, with_state=momentum != 0):
            if st is not None:  # momentum
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = xp_of(pd).array(g)  # v = g at the first step (a copy, never a NumPy scalar)
                    st["momentum_buffer"] = Tensor._make(buf)
                else:
                    buf = buf._data
                    buf *= momentum
                    if dampening == 0:
                        buf += g
                    else:
                        buf += (1 - dampening) * g
                if nesterov:
                    g = g + momentum * buf
                else:
                    g = buf
            pd += g * -lr  # θ + (−η)·g, PyTorch's add_(g, alpha=−η)
