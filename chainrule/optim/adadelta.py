"""Adadelta: RMSprop whose step size is itself a running RMS of past updates (no learning rate needed)."""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp_of
from chainrule.optim.optimizer import Optimizer, Tensor


class Adadelta(Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    With gradient g (+ λθ with ``weight_decay`` λ), decay ρ, a cache of squared gradients
    (``square_avg``) and a running average of squared updates Δ (``acc_delta``):

    - cache ← ρ·cache + (1 − ρ)·g²
    - Δ = √(acc_delta + ε) / √(cache + ε) · g
    - acc_delta ← ρ·acc_delta + (1 − ρ)·Δ²
    - θ ← θ − η·Δ

    $$
    \begin{aligned}
    s_t &= \rho\, s_{t-1} + (1 - \rho)\, g_t^2, \qquad
    \Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{s_t + \epsilon}}\, g_t \\
    u_t &= \rho\, u_{t-1} + (1 - \rho)\, \Delta_t^2, \qquad
    \theta_t = \theta_{t-1} - \eta\, \Delta_t
    \end{aligned}
    $$

    (s the cache ``square_avg``, u the average of squared updates ``acc_delta``).

    The ratio of the two RMS values gives each coordinate a step with the units of θ, so the
    default η = 1.0 usually works.

    When to use: when you don't want to tune a learning rate; it fixes Adagrad's decaying steps.
    In practice Adam is more common.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.Adadelta([w])
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.9936, -1.9936], requires_grad=True)

    Args:
        params: parameters or parameter groups.
        lr: scale η applied to Δ (default 1.0).
        rho: decay ρ of the running averages (default 0.9).
        eps: ε inside the square roots (default 1e-6).
        weight_decay: L2 penalty λ (default 0).
        maximize: maximize the objective.
    """

    _name = "Adadelta"

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "eps", "weight_decay")
        if "rho" in group:
            rho = group["rho"]
            if not 0.0 <= float(rho) <= 1.0:
                raise ValueError(f"Adadelta: invalid rho={rho!r}; expected 0 <= rho <= 1")

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        st["step"] = 0
        self._zeros(st, pd, "square_avg", "acc_delta")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        for pd, g, st in self._prepared(group, params, grads):
            xp = xp_of(pd)
            cache, acc_delta = st["square_avg"]._data, st["acc_delta"]._data
            cache *= rho  # cache ← ρ·cache + (1 − ρ)·g²
            tmp, std, delta = xp.empty_like(pd), xp.empty_like(pd), xp.empty_like(pd)
            xp.multiply(g, 1 - rho, out=tmp)
            tmp *= g
            cache += tmp
            xp.add(cache, eps, out=std)
            xp.sqrt(std, out=std)
            xp.add(acc_delta, eps, out=delta)  # Δ = √(acc_delta + ε) / √(cache + ε) · g
            xp.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            acc_delta *= rho  # acc_delta ← ρ·acc_delta + (1 − ρ)·Δ²
            xp.multiply(delta, 1 - rho, out=tmp)
            tmp *= delta
            acc_delta += tmp
            delta *= -lr  # θ ← θ − η·Δ
            pd += delta
