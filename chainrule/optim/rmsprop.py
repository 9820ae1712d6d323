"""RMSprop: divide the gradient by a running RMS of recent gradients."""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp_of
from chainrule.kernels.optim import lerp_
from chainrule.optim.optimizer import Optimizer, Tensor


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    With gradient g (+ λθ with ``weight_decay`` λ), decay α and a leaky cache of squared
    gradients (``state[p]['square_avg']``):

    - cache ← α·cache + (1 − α)·g²
    - centered: ḡ ← α·ḡ + (1 − α)·g and the cache is replaced by cache − ḡ² (a variance estimate)
    - without momentum:   θ ← θ − η·g / (√cache + ε)
    - with momentum μ:    v ← μ·v + g / (√cache + ε),   θ ← θ − η·v

    $$
    s_t = \alpha\, s_{t-1} + (1 - \alpha)\, g_t^2, \qquad
    \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{s_t} + \epsilon}
    $$

    (plain RMSprop; s is the cache).

    When to use: Adagrad's per-coordinate steps without its ever-shrinking learning rate, since
    old gradients are forgotten; a good choice for recurrent networks and non-stationary
    objectives (reinforcement learning).

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.RMSprop([w], lr=0.01)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.8329, -1.8309], requires_grad=True)

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (default 1e-2).
        alpha: smoothing constant α of the cache (default 0.99).
        eps: ε (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        momentum: momentum μ (default 0).
        centered: normalise by the estimated variance of the gradient instead of its second moment.
        maximize: maximize the objective.
    """

    _name = "RMSprop"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        st["step"] = 0
        self._zeros(st, pd, "square_avg")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        for pd, g, st in self._prepared(group, params, grads):
            xp = xp_of(pd)
            # (created when first needed: a schedule such as OneCycleLR may turn momentum on later)
            if momentum > 0:
                self._zeros(st, pd, "momentum_buffer")
            if centered:
                self._zeros(st, pd, "grad_avg")
            cache = st["square_avg"]._data
            cache *= alpha  # cache ← α·cache + (1 − α)·g²
            tmp, avg = xp.empty_like(pd), xp.empty_like(pd)
            xp.multiply(g, 1 - alpha, out=tmp)
            tmp *= g
            cache += tmp
            if centered:
                grad_avg = st["grad_avg"]._data
                lerp_(grad_avg, g, 1 - alpha, tmp)  # ḡ ← α·ḡ + (1 − α)·g
                xp.multiply(grad_avg, -1.0, out=tmp)
                tmp *= grad_avg
                xp.add(cache, tmp, out=avg)  # √(cache − ḡ²)
                xp.sqrt(avg, out=avg)
            else:
                xp.sqrt(cache, out=avg)
            avg += eps
            if momentum > 0:
                buf = st["momentum_buffer"]._data
                buf *= momentum  # v ← μ·v + g / (√cache + ε)
                xp.divide(g, avg, out=tmp)
                buf += tmp
                xp.multiply(buf, -lr, out=tmp)  # θ ← θ − η·v
                pd += tmp
            else:
                xp.multiply(g, -lr, out=tmp)  # θ ← θ − η·g / (√cache + ε)
                tmp /= avg
                pd += tmp
