"""Adam and AdamW: momentum plus a per-coordinate adaptive step (RMSprop), bias-corrected."""

from __future__ import annotations

from typing import Any

from chainrule.kernels.optim import adam_, adam_many_
from chainrule.optim.optimizer import Optimizer, Tensor


class Adam(Optimizer):
    r"""Adam (adaptive moment estimation), as ``torch.optim.Adam``.

    With gradient g (+ λθ with ``weight_decay`` λ), learning rate η, step t = 1, 2, ...:

    - first moment (velocity):    m ← β₁·m + (1 − β₁)·g
    - second moment (cache):      v ← β₂·v + (1 − β₂)·g²
    - bias correction:            m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
    - update:                     θ ← θ − η·m̂ / (√v̂ + ε)

    $$
    \begin{aligned}
    m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
    \hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
    \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
    \end{aligned}
    $$

    ``chainrule.kernels.optim.adam_reference`` is these four lines in NumPy; the step runs its tuned
    twin ``adam_`` (PyTorch's rounding, cache-sized blocks).

    With ``amsgrad=True`` the cache never shrinks: v_max ← max(v_max, v) replaces v in the update.
    ``maximize=True`` ascends.  State per parameter: ``step``, ``exp_avg`` (m),
    ``exp_avg_sq`` (v) and ``max_exp_avg_sq`` (amsgrad).

    When to use: the default choice for most networks (MLPs, RNNs, transformers); it works well
    out of the box with lr ≈ 1e-3, since each coordinate's step is normalised by its own gradient
    scale.  Use AdamW instead when you want weight decay.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.Adam([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.8004, -1.8002], requires_grad=True)

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (default 1e-3).
        betas: (β₁, β₂), decay rates of the two moments (default (0.9, 0.999)).
        eps: ε added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        amsgrad: use the AMSGrad variant.
        maximize: maximize the objective.
        decoupled_weight_decay: decay the weights directly (AdamW) instead of through the gradient.
    """

    _name = "Adam"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
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
        amsgrad = group["amsgrad"]
        if not amsgrad:  # the whole group in one kernel call (the same update, parameter by parameter)
            ps, gs, ms, vs, steps = [], [], [], [], []
            for pd, g, st in self._prepared(group, params, grads):
                ps.append(pd)
                gs.append(g)
                ms.append(st["exp_avg"]._data)
                vs.append(st["exp_avg_sq"]._data)
                steps.append(st["step"])
            adam_many_(ps, gs, ms, vs, lr=lr, beta1=beta1, beta2=beta2, eps=eps, steps=steps)
            return
        for pd, g, st in self._prepared(group, params, grads):
            self._zeros(st, pd, "max_exp_avg_sq")
            adam_(
                pd,
                g,
                st["exp_avg"]._data,
                st["exp_avg_sq"]._data,
                st["max_exp_avg_sq"]._data,
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                eps=eps,
                step=st["step"],
            )


class AdamW(Adam):
    r"""Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    The weights decay directly, separately from the adaptive gradient step:

    - θ ← θ − η·λ·θ
    - m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
    - θ ← θ − η·m̂ / (√v̂ + ε)   (m̂, v̂ bias-corrected as in Adam)

    $$
    \theta_t = \theta_{t-1}\,(1 - \eta \lambda) - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
    $$

    When to use: whenever you want weight decay with Adam (transformers, fine-tuning). In plain
    Adam an L2 term in the gradient is divided by √v̂ too, so parameters with large gradients are
    barely regularised; AdamW decays every weight at the same rate ηλ.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.AdamW([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.7985, -1.7963], requires_grad=True)

    Args: as Adam, with ``weight_decay`` λ defaulting to 1e-2.
    """

    _name = "AdamW"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
