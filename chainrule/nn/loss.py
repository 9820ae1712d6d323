"""Loss modules, as ``torch.nn``.

``MSELoss``, ``L1Loss``, ``HuberLoss``, ``BCELoss``,
``BCEWithLogitsLoss``, ``CrossEntropyLoss``, ``NLLLoss``, ``MultiMarginLoss``, ``KLDivLoss``,
``PoissonNLLLoss``, ``GaussianNLLLoss``, ``MarginRankingLoss``, ``HingeEmbeddingLoss``,
``CosineEmbeddingLoss``, ``SoftMarginLoss``, ``MultiLabelSoftMarginLoss``, ``MultiLabelMarginLoss``,
``TripletMarginLoss``, ``CTCLoss`` and our binary ``HingeLoss``.  Each is called as
``loss_fn(input, target)`` (some take three tensors, CTC four arguments) and forwards to its
function in ``chainrule/ops``; ``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``.

Class weights and ``pos_weight`` are kept as buffers (so ``.to(device)`` moves them).

Example::

    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    loss = loss_fn(model(x), y)        # x (N, features), y (N,) class indices
    loss.backward()
"""

from __future__ import annotations

from chainrule.nn.distance import PairwiseDistance
from chainrule.nn.module import Module
from chainrule.ops import _args
from chainrule.ops import loss as L
from chainrule.ops.ctc import ctc_loss
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
    r"""Mean squared error between the input and the target.

    $$
    \ell_i = (x_i - y_i)^2, \qquad L = \frac{1}{n} \sum_{i=1}^{n} \ell_i
    $$

    with ``reduction='mean'``; ``'sum'`` gives Σ ℓᵢ and ``'none'`` the ℓᵢ themselves. The input and
    the target must have the same shape (no silent broadcasting, unlike PyTorch's warning).

    Args:
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.MSELoss()
        >>> loss_fn(cr.tensor([1.0, 2.0, 4.0]), cr.tensor([1.0, 0.0, 1.0]))
        tensor(4.3333)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    r"""Mean absolute error between the input and the target.

    $$
    \ell_i = \lvert x_i - y_i \rvert, \qquad L = \frac{1}{n} \sum_{i=1}^{n} \ell_i
    $$

    with ``reduction='mean'``; ``'sum'`` gives Σ ℓᵢ and ``'none'`` the ℓᵢ themselves.

    Args:
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.L1Loss()
        >>> loss_fn(cr.tensor([1.0, 2.0, 4.0]), cr.tensor([1.0, 0.0, 1.0]))
        tensor(1.6667)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    r"""Huber loss: quadratic for small errors, linear for large ones.

    $$
    \ell_i = \begin{cases} \frac{1}{2} d_i^2 & \lvert d_i \rvert < \delta \\ \delta \left(\lvert d_i \rvert
    - \frac{1}{2}\delta\right) & \text{otherwise} \end{cases}, \qquad d_i = x_i - y_i
    $$

    averaged (``'mean'``), summed (``'sum'``) or returned per element (``'none'``). Less sensitive
    to outliers than ``MSELoss``, smooth at 0 unlike ``L1Loss``.

    Args:
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        delta: the threshold δ > 0 between the two regimes (default 1).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the shape of the input.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.HuberLoss(delta=1.0)
        >>> loss_fn(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = _args.number("HuberLoss", "delta", delta, above=0)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    r"""Binary cross-entropy on probabilities (the output of a sigmoid).

    $$
    \ell_i = -w_i \left[ y_i \log p_i + (1 - y_i) \log(1 - p_i) \right]
    $$

    averaged (``'mean'``), summed or returned per element. Each log is clamped at −100, as PyTorch,
    so a probability of exactly 0 or 1 gives a finite loss. ``BCEWithLogitsLoss`` on the raw
    scores is the numerically safer choice.

    Args:
        weight: a weight wᵢ per element, broadcast to the input (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*), probabilities in [0, 1].
        - Target: (*), the shape of the input, values in [0, 1].
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.BCELoss()
        >>> loss_fn(cr.tensor([0.9, 0.2]), cr.tensor([1.0, 0.0]))
        tensor(0.1643)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""Sigmoid and binary cross-entropy in one stable step, on raw scores (logits).

    $$
    \ell_i = -w_i \left[ p_w\, y_i \log \sigma(x_i) + (1 - y_i) \log\left(1 - \sigma(x_i)\right) \right]
    $$

    computed through softplus(−x) = max(−x, 0) + log(1 + e^{−|x|}), so logits of ±1000 never
    overflow. ``pos_weight`` (p_w) > 1 raises the cost of missed positives (recall), < 1 of false
    positives.

    Args:
        weight: a weight wᵢ per element, broadcast to the input (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        pos_weight: the weight p_w of positive examples, one per class (broadcast along the last
            dim; default 1).

    Shape:
        - Input: (*), logits.
        - Target: (*), the shape of the input, values in [0, 1].
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.BCEWithLogitsLoss()
        >>> loss_fn(cr.tensor([2.0, -1.0]), cr.tensor([1.0, 0.0]))
        tensor(0.2201)
    """

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
    r"""Cross-entropy of logits against class indices or class probabilities.

    Softmax and negative log-likelihood fused in one stable step (log-sum-exp). For logits x of
    sample n and its class yₙ:

    $$
    \ell_n = -w_{y_n} \log \frac{\exp(x_{n, y_n})}{\sum_{c=1}^{C} \exp(x_{n, c})}, \qquad
    L = \frac{\sum_n \ell_n}{\sum_n w_{y_n}}
    $$

    (``reduction='mean'``: a weighted mean; samples whose target is ``ignore_index`` count for
    nothing). With class probabilities as the target,
    $\ell_n = -\sum_c w_c\, y_{n,c} \log \operatorname{softmax}(x_n)_c$ and the mean is over N.
    ``label_smoothing`` ε replaces the target by (1 − ε)·target + ε/C.

    Args:
        weight: a weight per class, shape (C,) (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        ignore_index: a target class index that contributes neither loss nor gradient (default −100).
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        label_smoothing: ε in [0, 1] (default 0).

    Shape:
        - Input: (N, C) or (N, C, d₁, ..., d_K) logits, or (C,) for one sample.
        - Target: (N) or (N, d₁, ..., d_K) class indices in [0, C), or probabilities of the input's shape.
        - Output: a scalar, or (N) / (N, d₁, ..., d_K) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.CrossEntropyLoss()
        >>> logits = cr.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
        >>> loss = loss_fn(logits, cr.tensor([0, 2]))
        >>> loss
        tensor(0.1755, grad_fn=<CrossEntropyBackward>)
        >>> loss.backward()
        >>> logits.grad.shape
        (2, 3)
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
    r"""Negative log-likelihood of log-probabilities (the output of ``LogSoftmax``) and class indices.

    $$
    \ell_n = -w_{y_n}\, x_{n, y_n}, \qquad L = \frac{\sum_n \ell_n}{\sum_n w_{y_n}}
    $$

    (``reduction='mean'``: a weighted mean over the samples whose target is not ``ignore_index``).
    ``LogSoftmax`` followed by ``NLLLoss`` equals ``CrossEntropyLoss`` on the logits.

    Args:
        weight: a weight per class, shape (C,) (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        ignore_index: a target class index that contributes neither loss nor gradient (default −100).
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C) or (N, C, d₁, ..., d_K) log-probabilities, or (C,) for one sample.
        - Target: (N) or (N, d₁, ..., d_K) class indices in [0, C).
        - Output: a scalar, or (N) / (N, d₁, ..., d_K) with ``reduction='none'``.

    Example:
        >>> logp = cr.nn.LogSoftmax(dim=1)(cr.tensor([[2.0, 0.5, -1.0]]))
        >>> cr.nn.NLLLoss()(logp, cr.tensor([0]))
        tensor(0.2413)
    """

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
    r"""Multi-class hinge (margin) loss, as in a multi-class SVM.

    $$
    \ell_n = \frac{1}{C} \sum_{j \ne y_n} w_{y_n} \max\left(0,\; m - x_{n, y_n} + x_{n, j}\right)^{p}
    $$

    averaged over the samples (``'mean'``), summed or returned per sample: the true class must beat
    every other by the margin m.

    Args:
        p: 1 or 2, the power of each hinge (default 1).
        margin: the margin m (default 1).
        weight: a weight per class, shape (C,) (default 1).
        size_average: deprecated PyTorch argument, folded into ``reduction``.
        reduce: deprecated PyTorch argument, folded into ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C) scores, or (C,) for one sample.
        - Target: (N) class indices in [0, C), or a scalar.
        - Output: a scalar, or (N) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.MultiMarginLoss()
        >>> loss_fn(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([3]))
        tensor(0.325)
    """

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
    r"""Binary hinge loss, the loss of a linear SVM, for targets in {−1, +1}.

    $$
    \ell_i = \max\left(0,\; m - y_i\, x_i\right)
    $$

    averaged (``'mean'``), summed or returned per element: a score on the right side of the margin
    m costs nothing. Ours: PyTorch has no binary hinge loss.

    Args:
        margin: the margin m (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*), scores.
        - Target: (*), the shape of the input, values −1 or +1.
        - Output: a scalar, or (*) with ``reduction='none'``.

    Example:
        >>> loss_fn = cr.nn.HingeLoss()
        >>> loss_fn(cr.tensor([0.5, -2.0]), cr.tensor([1.0, -1.0]))
        tensor(0.25)
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.margin = _args.number("HingeLoss", "margin", margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.hinge_loss(input, target, margin=self.margin, reduction=self.reduction)


class KLDivLoss(_Loss):
    r"""Kullback-Leibler divergence, as ``torch.nn.KLDivLoss``: input log-probabilities x, target y.

    $$
    \ell = y (\log y - x) \quad\text{or, with log\_target,}\quad \ell = e^{y} (y - x)
    $$

    Use ``reduction='batchmean'`` for the true KL divergence ('mean' divides by every element
    and warns, as PyTorch).

    Args:
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target: whether the target is given as log-probabilities.

    Shape:
        - Input: (*)
        - Target: (*), the input's shape
        - Output: a scalar, or (*) for ``'none'``

    Example:
        >>> loss = cr.nn.KLDivLoss(reduction="batchmean")
        >>> p = cr.tensor([[0.25, 0.75]])
        >>> float(loss(p.log(), p))
        0.0
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
        batchmean = reduction == "batchmean" and size_average is None and reduce is None
        super().__init__(size_average, reduce, "mean" if batchmean else reduction)
        if batchmean:
            self.reduction = "batchmean"
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    r"""Poisson negative log-likelihood, as ``torch.nn.PoissonNLLLoss``.

    $$
    \ell = e^{x} - y x \ (\text{log\_input}),\quad \ell = x - y \log(x + \epsilon) \ (\text{otherwise})
    $$

    plus Stirling's term where y > 1 with ``full``.

    Args:
        log_input: whether the input is the log of the rate.
        full: add Stirling's approximation of log(y!).
        size_average: deprecated, as PyTorch (use ``reduction``).
        eps: keeps the log finite when ``log_input=False``.
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*)
        - Target: (*), the input's shape

    Example:
        >>> float(cr.nn.PoissonNLLLoss()(cr.tensor([0.0]), cr.tensor([1.0])))
        1.0
    """

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average=None,
        eps: float = 1e-8,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full = bool(log_input), bool(full)
        self.eps = _args.number("PoissonNLLLoss", "eps", eps)

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return L.poisson_nll_loss(
            log_input,
            target,
            log_input=self.log_input,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class GaussianNLLLoss(_Loss):
    r"""Gaussian negative log-likelihood with predicted variances, as ``torch.nn.GaussianNLLLoss``.

    $$
    \ell = \tfrac12 \left(\log \max(\sigma^2, \epsilon) + \frac{(x - y)^2}{\max(\sigma^2, \epsilon)}\right)
    \ (+\ \tfrac12 \log 2\pi \text{ if full})
    $$

    Args:
        full: add the constant term.
        eps: the smallest variance used (the clamp passes the gradient through, as PyTorch).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, *)
        - Target: (N, *), the input's shape
        - Var: the input's shape, without its last dim, with one dim of size 1, or a float

    Example:
        >>> x = cr.tensor([[0.0, 1.0]])
        >>> float(cr.nn.GaussianNLLLoss()(x, x, cr.ones(1, 2)))
        0.0
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.full = bool(full)
        self.eps = _args.number("GaussianNLLLoss", "eps", eps)

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:  # noqa: A002
        return L.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    r"""Ranking hinge on pairs of scores, as ``torch.nn.MarginRankingLoss``.

    $$
    \ell = \max(0, -y (x_1 - x_2) + \text{margin})
    $$

    Args:
        margin: the required gap.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input1, Input2, Target: (N,) or (), the same number of dims

    Example:
        >>> loss = cr.nn.MarginRankingLoss(margin=1.0)
        >>> float(loss(cr.tensor([2.0]), cr.tensor([0.0]), cr.tensor([1.0])))
        0.0
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _args.number("MarginRankingLoss", "margin", margin)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return L.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    r"""Hinge loss on distances with ±1 targets, as ``torch.nn.HingeEmbeddingLoss``.

    $$
    \ell = \begin{cases} x & y = 1 \\ \max(0, \text{margin} - x) & y = -1 \end{cases}
    $$

    Args:
        margin: the distance dissimilar pairs should exceed.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*)
        - Target: (*), the input's shape

    Example:
        >>> float(cr.nn.HingeEmbeddingLoss()(cr.tensor([0.25]), cr.tensor([-1.0])))
        0.75
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _args.number("HingeEmbeddingLoss", "margin", margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    r"""Cosine loss on pairs with ±1 targets, as ``torch.nn.CosineEmbeddingLoss``.

    $$
    \ell = \begin{cases} 1 - \cos(x_1, x_2) & y = 1 \\ \max(0, \cos(x_1, x_2) - \text{margin}) & y = -1
    \end{cases}
    $$

    Args:
        margin: for dissimilar pairs, in [-1, 1].
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input1, Input2: (N, D) or (D,)
        - Target: (N,) or ()

    Example:
        >>> loss = cr.nn.CosineEmbeddingLoss()
        >>> round(float(loss(cr.tensor([[1.0, 0.0]]), cr.tensor([[0.0, 1.0]]), cr.tensor([1.0]))), 4)
        1.0
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _args.number("CosineEmbeddingLoss", "margin", margin)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return L.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    r"""Two-class logistic loss with ±1 targets, as ``torch.nn.SoftMarginLoss``.

    $$
    \ell = \log(1 + e^{-y x})
    $$

    Args:
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (*)
        - Target: (*), the input's shape

    Example:
        >>> round(float(cr.nn.SoftMarginLoss()(cr.tensor([0.0]), cr.tensor([-1.0]))), 4)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    r"""Multi-label one-versus-all logistic loss, as ``torch.nn.MultiLabelSoftMarginLoss``.

    $$
    \ell_n = -\frac{1}{C} \sum_c w_c \left(y_{nc} \log \sigma(x_{nc})
    + (1 - y_{nc}) \log \sigma(-x_{nc})\right)
    $$

    Args:
        weight: per-class weights (C,) (kept as a buffer), or None.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C) or (C,)
        - Target: 0/1 labels, the input's shape
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> loss = cr.nn.MultiLabelSoftMarginLoss()
        >>> round(float(loss(cr.tensor([[0.0, 0.0]]), cr.tensor([[0.0, 1.0]]))), 4)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    r"""Multi-label hinge loss, as ``torch.nn.MultiLabelMarginLoss``.

    Each target row lists class indices, ended by the first -1.

    $$
    \ell_n = \sum_{j \in Y_n} \sum_{k \notin Y_n} \frac{\max(0, 1 - (x_{n,j} - x_{n,k}))}{C}
    $$

    Args:
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C) or (C,)
        - Target: int64 indices, the input's shape, padded with -1
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> loss = cr.nn.MultiLabelMarginLoss()
        >>> round(float(loss(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([[3, 0, -1, 1]]))), 4)
        0.85
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return L.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    r"""Triplet loss, as ``torch.nn.TripletMarginLoss``.

    $$
    \ell = \max(0, d(a, p) - d(a, n) + \text{margin}), \qquad d(u, v) = \lVert u - v + \epsilon \rVert_p
    $$

    Args:
        margin: > 0.
        p: the norm's exponent.
        eps: added to the differences.
        swap: use min(d(a, n), d(p, n)) as the negative distance.
        size_average: deprecated, as PyTorch (use ``reduction``).
        reduce: deprecated, as PyTorch (use ``reduction``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Anchor, Positive, Negative: (N, D) or (D,)
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> loss = cr.nn.TripletMarginLoss(eps=0.0)
        >>> float(loss(cr.tensor([[0.0]]), cr.tensor([[1.0]]), cr.tensor([[1.5]])))
        0.5
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.margin = _args.number("TripletMarginLoss", "margin", margin, above=0)
        self.p = _args.number("TripletMarginLoss", "p", p)
        self.eps = _args.number("TripletMarginLoss", "eps", eps)
        self.swap = bool(swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return L.triplet_margin_loss(
            anchor,
            positive,
            negative,
            margin=self.margin,
            p=self.p,
            eps=self.eps,
            swap=self.swap,
            reduction=self.reduction,
        )


class CTCLoss(_Loss):
    r"""Connectionist temporal classification loss, as ``torch.nn.CTCLoss``.

    $$
    \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(y_n)} \prod_{t=1}^{T_n} p_t(\pi_t)
    $$

    over every alignment π of the target with the input (repeats merged, blanks removed); see
    ``chainrule.nn.functional.ctc_loss``. No second derivative, as PyTorch.

    Args:
        blank: the index of the blank class.
        reduction: ``'mean'`` (each loss over its target length, then the batch mean), ``'sum'``
            or ``'none'``.
        zero_infinity: replace infinite losses and their gradients by 0.

    Shape:
        - Log_probs: (T, N, C) or (T, C), from ``log_softmax``
        - Targets: (N, S) padded, or (sum(target_lengths),) concatenated
        - Input_lengths, Target_lengths: (N,)
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> ctc = cr.nn.CTCLoss()
        >>> lp = cr.randn(6, 2, 4).log_softmax(2)
        >>> ctc(lp, cr.tensor([[1, 2], [3, 3]]), [6, 5], [2, 2]).shape
        ()
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank = _args.integer("CTCLoss", "blank", blank, 0)
        self.zero_infinity = bool(zero_infinity)

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths, target_lengths) -> Tensor:
        return ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            blank=self.blank,
            reduction=self.reduction,
            zero_infinity=self.zero_infinity,
        )


class TripletMarginWithDistanceLoss(_Loss):
    r"""Triplet loss with any distance, as ``torch.nn.TripletMarginWithDistanceLoss``.

    $$
    \ell = \max(0, d(a, p) - d(a, n) + \text{margin})
    $$

    Args:
        distance_function: a callable of two tensors returning their distances; a
            ``PairwiseDistance()`` when None.
        margin: > 0.
        swap: use min(d(a, n), d(p, n)) as the negative distance.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Anchor, Positive, Negative: (N, *), what ``distance_function`` takes
        - Output: a scalar, or (N,) for ``'none'``

    Example:
        >>> loss = cr.nn.TripletMarginWithDistanceLoss(distance_function=cr.nn.PairwiseDistance(eps=0.0))
        >>> float(loss(cr.tensor([[0.0]]), cr.tensor([[1.0]]), cr.tensor([[1.5]])))
        0.5
    """

    def __init__(
        self, *, distance_function=None, margin: float = 1.0, swap: bool = False, reduction: str = "mean"
    ):
        super().__init__(reduction=reduction)
        name = "TripletMarginWithDistanceLoss"
        if _args.number(name, "margin", margin) <= 0:
            raise ValueError(f"{name}: expected margin to be greater than 0, got {margin} instead")
        if distance_function is not None and not callable(distance_function):
            raise TypeError(
                f"{name}: distance_function must be a callable or None, got "
                f"{type(distance_function).__name__}"
            )
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin, self.swap = margin, bool(swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return L.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )
