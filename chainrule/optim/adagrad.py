"""Adagrad: per-coordinate learning rates from the accumulated squared gradients."""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp_of
from chainrule.optim.optimizer import Optimizer, Tensor


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    With gradient g (+ λθ with ``weight_decay`` λ), step t = 1, 2, ... and a cache that sums every
    squared gradient seen so far (``state[p]['sum']``, starting at ``initial_accumulator_value``):

    - η_t = η / (1 + (t − 1)·lr_decay)
    - cache ← cache + g²
    - θ ← θ − η_t·g / (√cache + ε)

    $$
    \eta_t = \frac{\eta}{1 + (t - 1)\,\delta}, \qquad
    G_t = G_{t-1} + g_t^2, \qquad
    \theta_t = \theta_{t-1} - \eta_t\, \frac{g_t}{\sqrt{G_t} + \epsilon}
    $$

    (δ = ``lr_decay``, G the cache).

    Coordinates with large past gradients take small steps, rarely-updated ones (rare features)
    keep large steps.

    When to use: sparse features and convex problems (e.g. embeddings, linear models on text).
    For deep networks the ever-growing cache makes the effective step decay to zero and training
    stalls: RMSprop/Adam replace the sum by a moving average.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.Adagrad([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.8331, -1.8311], requires_grad=True)

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty λ (default 0).
        initial_accumulator_value: starting value of the cache (default 0; as PyTorch, the
            optimizer-wide value is used for every group).
        eps: ε (default 1e-10).
        maximize: maximize the objective.
    """

    _name = "Adagrad"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state eagerly, for every parameter given to the constructor
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p._data, group)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        st["step"] = 0
        initial = float(self.defaults["initial_accumulator_value"])  # optimizer-wide, as PyTorch
        st["sum"] = Tensor._make(xp_of(pd).full_like(pd, initial))

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        for pd, g, st in self._prepared(group, params, grads):
            xp = xp_of(pd)
            cache = st["sum"]._data
            clr = lr / (1 + (st["step"] - 1) * lr_decay)  # η_t
            cache += g * g  # cache ← cache + g²
            std = xp.sqrt(cache)
            std += eps
            tmp = g * -clr  # θ ← θ − η_t·g / (√cache + ε)
            tmp /= std
            pd += tmp
