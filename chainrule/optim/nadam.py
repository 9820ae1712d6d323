"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from typing import Any

from chainrule.backend import np, xp_of
from chainrule.kernels.optim import adam_moments_
from chainrule.optim.optimizer import Optimizer, Tensor


class NAdam(Optimizer):
    r"""NAdam (Nesterov-accelerated Adam), as ``torch.optim.NAdam``.

    With gradient g (+ λθ with ``weight_decay`` λ), step t = 1, 2, ..., a momentum schedule
    μ_t = β₁·(1 − ½·0.96^(t·ψ)) (ψ = ``momentum_decay``) and Π_t = μ₁·μ₂···μ_t (``mu_product``):

    - m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
    - v̂ = v / (1 − β₂ᵗ)
    - θ ← θ − η·(1 − μ_t)/(1 − Π_t) · g / (√v̂ + ε) − η·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m / (√v̂ + ε)

    $$
    \begin{aligned}
    \mu_t &= \beta_1 \left(1 - \tfrac{1}{2}\, 0.96^{t \psi}\right), \qquad \Pi_t = \prod_{i \le t} \mu_i,
    \qquad
    \hat v_t = \frac{v_t}{1 - \beta_2^t} \\
    \theta_t &= \theta_{t-1} - \eta\, \frac{1 - \mu_t}{1 - \Pi_t}\, \frac{g_t}{\sqrt{\hat v_t} + \epsilon}
    - \eta\, \frac{\mu_{t+1}}{1 - \Pi_t\, \mu_{t+1}}\, \frac{m_t}{\sqrt{\hat v_t} + \epsilon}
    \end{aligned}
    $$

    i.e. Adam whose momentum term "looks ahead" (Nesterov): the current gradient enters the step
    directly, and the momentum part uses the next step's coefficient.

    When to use: as Adam; often converges slightly faster. ``decoupled_weight_decay=True`` decays
    weights directly as in AdamW.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.NAdam([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.82  , -1.8179], requires_grad=True)

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (default 2e-3).
        betas: (β₁, β₂) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: weight decay λ (default 0).
        momentum_decay: ψ (default 4e-3).
        decoupled_weight_decay: θ ← θ·(1 − ηλ) instead of adding λθ to the gradient.
        maximize: maximize the objective.
    """

    _name = "NAdam"
    _scalar_state = ("step", "mu_product")

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "eps", "weight_decay", "momentum_decay")
        self._check_betas(group)

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        st["step"] = 0
        st["mu_product"] = 1.0
        self._zeros(st, pd, "exp_avg", "exp_avg_sq")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        momentum_decay = float(group["momentum_decay"])
        f32 = np.float32
        for pd, g, st in self._prepared(group, params, grads):
            xp = xp_of(pd)
            step = st["step"]
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            bias_correction2 = 1 - beta2**step
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            # PyTorch keeps Π_t in a float32 scalar tensor: multiply in float32, as it does
            mu_product = st["mu_product"] = float(f32(st["mu_product"]) * f32(mu))
            tmp = xp.empty_like(pd)
            adam_moments_(m, v, g, beta1, beta2, tmp)  # m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²
            denom = xp.empty_like(pd)  # √v̂ + ε
            xp.divide(v, bias_correction2, out=denom)
            xp.sqrt(denom, out=denom)
            mu_product_next = mu_product * mu_next
            denom += eps
            xp.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=tmp)
            tmp /= denom
            pd += tmp
            xp.multiply(m, (-lr * mu_next) / (1.0 - mu_product_next), out=tmp)
            tmp /= denom
            pd += tmp
