"""ASGD: averaged stochastic gradient descent."""

from __future__ import annotations

from typing import Any

from chainrule.backend import np, xp_of
from chainrule.optim.optimizer import Optimizer, Tensor, _number


class ASGD(Optimizer):
    r"""Averaged SGD, as ``torch.optim.ASGD``.

    With gradient g (+ λ_w θ with ``weight_decay`` λ_w), step t = 1, 2, ..., a decaying step
    size η_t (``eta``, η₁ = η) and an averaging weight μ_t (``mu``, μ₁ = 1):

    $$
    \begin{aligned}
    \theta &\leftarrow \theta\,(1 - \lambda \eta_t) - \eta_t\, g \\
    \bar\theta &\leftarrow \bar\theta + \mu_t (\theta - \bar\theta) \\
    \eta_{t+1} &= \frac{\eta}{(1 + \lambda \eta t)^{\alpha}}, \qquad
    \mu_{t+1} = \frac{1}{\max(1,\ t - t_0)}
    \end{aligned}
    $$

    The parameters follow plain SGD (with a decay λ and a step size shrinking as t^-α); the
    running average θ̄ (state ``ax``) starts averaging after step t₀ and is what the method
    returns in theory: copy it into the model for evaluation if you want the averaged weights.

    When to use: convex or nearly convex problems with noisy gradients, where averaging the
    iterates reaches the optimum at the best rate.

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (default 1e-2).
        lambd: decay term λ (default 1e-4).
        alpha: power α of the step-size decay (default 0.75).
        t0: the step after which averaging starts (default 1e6).
        weight_decay: L2 penalty λ_w (default 0).
        maximize: maximize the objective.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.ASGD([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.64, -1.28], requires_grad=True)
        >>> opt.state[w]["ax"]
        tensor([ 0.64, -1.28])
    """

    _name = "ASGD"
    _scalar_state = ("step", "eta", "mu")

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "weight_decay", "lambd")
        for name in ("alpha", "t0"):
            if name in group:
                _number("ASGD", name, group[name])

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        st["step"] = 0
        st["eta"] = float(np.float32(group["lr"]))  # PyTorch keeps eta and mu in float32 tensors
        st["mu"] = 1.0
        self._zeros(st, pd, "ax")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, lambd = float(group["lr"]), float(group["lambd"])
        alpha, t0 = float(group["alpha"]), float(group["t0"])
        for pd, g, st in self._prepared(group, params, grads):
            ax = st["ax"]._data
            eta, mu, step = st["eta"], st["mu"], st["step"]
            pd *= 1 - lambd * eta  # decay
            pd += g * -eta  # θ + (−η_t)·g, PyTorch's add_(g, alpha=−η_t)
            if mu != 1:
                ax += (pd - ax) * mu
            else:
                xp_of(pd).copyto(ax, pd)
            st["eta"] = float(np.float32(lr / ((1 + lambd * lr * step) ** alpha)))
            st["mu"] = float(np.float32(1 / max(1, step - t0)))
