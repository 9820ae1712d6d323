"""Rprop: resilient backpropagation, a per-weight step size driven by the sign of the gradient."""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp_of
from chainrule.optim.optimizer import Optimizer, Tensor, _number


class Rprop(Optimizer):
    r"""Rprop (resilient backpropagation), as ``torch.optim.Rprop``.

    Each weight has its own step size s (``step_size``, starting at η) and remembers its previous
    gradient g' (``prev``).  With gradient g and ``etas`` (η₋, η₊):

    $$
    s \leftarrow \operatorname{clamp}\Big(s \cdot
    \begin{cases} \eta_+ & g g' > 0 \\ \eta_- & g g' < 0 \\ 1 & g g' = 0 \end{cases},\;
    s_{\min}, s_{\max}\Big), \qquad
    g \leftarrow 0 \text{ where } g g' < 0, \qquad
    \theta \leftarrow \theta - \operatorname{sign}(g)\, s, \qquad g' \leftarrow g
    $$

    Only the sign of the gradient is used: a step grows while the sign stays, shrinks when it
    flips (and that weight then skips one update).

    When to use: full-batch training of small networks; it is ill-suited to mini-batches, whose
    noisy gradient signs keep shrinking the steps.

    Args:
        params: parameters or parameter groups.
        lr: the initial step size η of every weight (default 1e-2).
        etas: (η₋, η₊), the factors that shrink and grow a step, 0 < η₋ < 1 < η₊ (default (0.5, 1.2)).
        step_sizes: (s_min, s_max), the bounds of a step size (default (1e-6, 50)).
        maximize: maximize the objective.

    Example:
        Two steps on L = Σw², whose gradient is 2w:

        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.Rprop([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.78, -1.78], requires_grad=True)
    """

    _name = "Rprop"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            etas=tuple(etas) if isinstance(etas, list) else etas,
            step_sizes=tuple(step_sizes) if isinstance(step_sizes, list) else step_sizes,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _pair(self, group: dict[str, Any], name: str) -> tuple[float, float] | None:
        if name not in group:
            return None
        pair = group[name]
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"Rprop: invalid {name}={pair!r}; expected a pair of numbers")
        return _number("Rprop", f"{name}[0]", pair[0]), _number("Rprop", f"{name}[1]", pair[1])

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr")
        etas = self._pair(group, "etas")
        if etas is not None and not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: invalid etas={group['etas']!r}; expected 0 < etaminus < 1 < etaplus")
        sizes = self._pair(group, "step_sizes")
        if sizes is not None and not 0.0 <= sizes[0] <= sizes[1]:
            raise ValueError(
                f"Rprop: invalid step_sizes={group['step_sizes']!r}; "
                "expected 0 <= step_size_min <= step_size_max"
            )

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        xp = xp_of(pd)
        st["step"] = 0
        self._zeros(st, pd, "prev")
        st["step_size"] = Tensor._make(xp.full_like(pd, float(group["lr"])))

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        etaminus, etaplus = (float(e) for e in group["etas"])
        step_min, step_max = (float(s) for s in group["step_sizes"])
        for pd, g, st in self._prepared(group, params, grads):
            xp = xp_of(pd)
            prev, step_size = st["prev"]._data, st["step_size"]._data
            sign = xp.sign(g * prev)
            flipped = sign < 0
            step_size *= xp.where(sign > 0, etaplus, xp.where(flipped, etaminus, 1.0)).astype(pd.dtype)
            xp.clip(step_size, step_min, step_max, out=step_size)
            g = xp.where(flipped, 0, g).astype(pd.dtype)  # the sign flipped: skip this weight once
            pd -= xp.sign(g) * step_size
            prev[...] = g
