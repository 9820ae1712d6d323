"""Loss modules, as ``torch.nn``.

Loss modules, as ``torch.nn``: ``MSELoss``, ``L1Loss``, ``HuberLoss``, ``BCELoss``,
``BCEWithLogitsLoss``, ``CrossEntropyLoss``, ``NLLLoss``, ``MultiMarginLoss`` and our binary
``HingeLoss``.  Each is called as ``loss_fn(input, target)`` and forwards to its function in
``chainrule/ops/loss.py``; ``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``.

Class weights and ``pos_weight`` are kept as buffers (so ``.to(device)`` moves them).

Example::

    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    loss = loss_fn(model(x), y)        # x (N, features), y (N,) class indices
    loss.backward()
"""

from __future__ import annotations

from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops import loss as L
from chainrule.tensor import Tensor


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = L._reduction(type(self).__name__, reduction, size_average, reduce)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))


def _as_tensor(value) -> Tensor | None:
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class MSELoss(_Loss):
    """Mean squared error: mean of (x - y)²."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: mean of |x - y|."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """½ d² for |d| < delta, delta (|d| - ½ delta) beyond (d = x - y)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = _args.number("HuberLoss", "delta", delta, above=0)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1] (after a sigmoid); ``weight`` per element."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on raw scores, numerically stable; ``pos_weight`` weighs positives."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))
        self.register_buffer("pos_weight", _as_tensor(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or probabilities.

    Softmax + negative log-likelihood on raw scores (logits) (N, C, ...) against class indices
    (N, ...) or class probabilities (N, C, ...); ``ignore_index``, ``label_smoothing``.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        _args.integer("CrossEntropyLoss", "ignore_index", ignore_index)
        _args.number("CrossEntropyLoss", "label_smoothing", label_smoothing, minimum=0, maximum=1)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood on log-probabilities (after ``LogSoftmax``) and class indices."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _args.integer("NLLLoss", "ignore_index", ignore_index)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss: Σ_{j≠y} max(0, margin - x_y + x_j)ᵖ / C per sample."""

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got p={p}")
        _args.number("MultiMarginLoss", "margin", margin)
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.multi_margin_loss(
            input, target, p=self.p, margin=self.margin, weight=self.weight, reduction=self.reduction
        )


class HingeLoss(_Loss):
    """Binary hinge loss (linear SVM): mean of max(0, margin - y · f(x)), targets y in {-1, +1}.

    Ours (PyTorch has none).  Example::

        svm = nn.Linear(2, 1)
        loss = nn.HingeLoss()(svm(x).squeeze(1), y)     # y in {-1, +1}
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.margin = _args.number("HingeLoss", "margin", margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.hinge_loss(input, target, margin=self.margin, reduction=self.reduction)
