"""Adamax: Adam with the infinity norm in place of the RMS of the gradients."""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp_of
from chainrule.kernels.optim import lerp_
from chainrule.optim.optimizer import Optimizer, Tensor


class Adamax(Optimizer):
    r"""Adamax, as ``torch.optim.Adamax``.

    With gradient g (+ λθ with ``weight_decay`` λ) and step t = 1, 2, ...:

    - m ← β₁·m + (1 − β₁)·g                     (``exp_avg``)
    - u ← max(β₂·u, |g| + ε)                     (``exp_inf``, an exponentially weighted ∞-norm)
    - θ ← θ − η / (1 − β₁ᵗ) · m / u

    $$
    m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
    u_t = \max\left(\beta_2 u_{t-1}, \lvert g_t \rvert + \epsilon\right), \qquad
    \theta_t = \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\, \frac{m_t}{u_t}
    $$

    When to use: a variant of Adam that is more robust to rare huge gradients (u grows no faster
    than |g|) and needs no bias correction of u; useful for embeddings and sparse updates.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.Adamax([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.8052, -1.8025], requires_grad=True)

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (default 2e-3).
        betas: (β₁, β₂) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        maximize: maximize the objective.
    """

    _name = "Adamax"

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "eps", "weight_decay")
        self._check_betas(group)

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        st["step"] = 0
        self._zeros(st, pd, "exp_avg", "exp_inf")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for pd, g, st in self._prepared(group, params, grads):
            xp = xp_of(pd)
            m, u = st["exp_avg"]._data, st["exp_inf"]._data
            tmp = xp.empty_like(pd)
            lerp_(m, g, 1 - beta1, tmp)  # m ← β₁m + (1 − β₁)g
            u *= beta2  # u ← max(β₂u, |g| + ε)
            xp.abs(g, out=tmp)
            tmp += eps
            xp.maximum(u, tmp, out=u)
            clr = lr / (1 - beta1 ** st["step"])  # θ ← θ − η/(1 − β₁ᵗ) · m / u
            xp.multiply(m, -clr, out=tmp)
            tmp /= u
            pd += tmp
