"""RAdam: Adam with a rectified (variance-corrected) adaptive learning rate."""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp_of
from chainrule.kernels.optim import adam_moments_
from chainrule.optim.optimizer import Optimizer, Tensor


class RAdam(Optimizer):
    r"""RAdam (rectified Adam), as ``torch.optim.RAdam``.

    With gradient g (+ λθ with ``weight_decay`` λ), step t = 1, 2, ..., ρ∞ = 2/(1 − β₂) − 1:

    $$
    \begin{aligned}
    m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
    \rho_t &= \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}, \qquad
    r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}} \\
    \theta &\leftarrow \theta - \eta \frac{m}{1-\beta_1^t} \cdot
        \begin{cases} r_t \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v}+\epsilon} & \rho_t > 5 \\
        1 & \text{otherwise} \end{cases}
    \end{aligned}
    $$

    i.e. plain momentum SGD for the first steps, while the estimate of v is too noisy to trust
    (ρ_t ≤ 5), then Adam scaled by the rectification r_t, which tends to 1.

    When to use: as Adam, without a learning-rate warmup (RAdam's rectification plays its
    role). ``decoupled_weight_decay=True`` decays weights directly as in AdamW.

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (default 1e-3).
        betas: (β₁, β₂) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: weight decay λ (default 0).
        decoupled_weight_decay: θ ← θ·(1 − ηλ) instead of adding λθ to the gradient.
        maximize: maximize the objective.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.RAdam([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.6211, -1.2421], requires_grad=True)
    """

    _name = "RAdam"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "eps", "weight_decay")
        self._check_betas(group)

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        st["step"] = 0
        self._zeros(st, pd, "exp_avg", "exp_avg_sq")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        rho_inf = 2 / (1 - beta2) - 1
        for pd, g, st in self._prepared(group, params, grads):
            xp = xp_of(pd)
            step = st["step"]
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            tmp = xp.empty_like(pd)
            adam_moments_(m, v, g, beta1, beta2, tmp)  # m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            xp.divide(m, bias_correction1, out=tmp)  # rounded in PyTorch's order: (m̂·η)·adaptive·r
            tmp *= lr
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = xp.sqrt(v)
                adaptive += eps
                xp.divide(bias_correction2**0.5, adaptive, out=adaptive)
                tmp *= adaptive
                tmp *= rect
            pd -= tmp
