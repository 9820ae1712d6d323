"""Metrics for ``cr.fit`` / ``cr.evaluate``.

Batch means, averaged over an epoch weighted by batch size: ``'accuracy'`` (``'acc'``),
``'top5_accuracy'`` (any ``top{k}_accuracy``), ``'mse'``, ``'mae'``, or any callable
``fn(output, target) -> number`` (Tensors in, its ``__name__`` names it); ``'loss'`` is the
training loss itself.

Accumulated over the whole epoch (a mean of batch values would be wrong for them), as ``Metric``
objects: ``'precision'``, ``'recall'``, ``'f1'`` (macro average over classes; ``_micro`` and
``_macro`` suffixes choose), ``'auc'`` (binary ROC AUC) and, in ``cr.evaluate`` only,
``'confusion_matrix'`` (an array). For one logit per sample (binary), precision, recall and F1
are those of the positive class, as scikit-learn's ``average='binary'`` and Keras.
The same values for whole arrays: ``precision``, ``recall``, ``f1_score``, ``roc_auc``,
``confusion_matrix``.

``accuracy`` accepts class scores (N, C) with integer targets (N,) — or one-hot/probability
targets (N, C) — and single-output binary scores (N,) or (N, 1), thresholded at 0 (logits).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from chainrule.backend import np, to_numpy, xp_of
from chainrule.tensor import Tensor


def _arr(t: Any):
    return t._data if isinstance(t, Tensor) else t


def _class_targets(out, target, name: str):
    xp = xp_of(out)
    if target.ndim == out.ndim and target.shape == out.shape and out.ndim >= 2:  # one-hot / probabilities
        target = xp.argmax(target, axis=1)
    if target.shape != out.shape[:1] + out.shape[2:]:
        raise ValueError(
            f"{name}: output of shape {tuple(out.shape)} does not go with targets of shape "
            f"{tuple(target.shape)} (expected (N, C) scores and (N,) class indices)"
        )
    return target


def accuracy(output: Any, target: Any) -> float:
    """Fraction of samples whose highest-scoring class is the target."""
    out, target = _arr(output), _arr(target)
    xp = xp_of(out)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):  # binary, one logit per sample
        pred = (out.reshape(-1) > 0).astype(xp.int64)
        return float((pred == target.reshape(-1).astype(xp.int64)).mean())
    target = _class_targets(out, target, "accuracy")
    return float((xp.argmax(out, axis=1) == target).mean())


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Fraction of samples whose target is among the ``k`` highest-scoring classes."""
    out, target = _arr(output), _arr(target)
    xp = xp_of(out)
    if out.ndim < 2:
        raise ValueError(f"top_k_accuracy: needs (N, C) class scores, got shape {tuple(out.shape)}")
    target = _class_targets(out, target, "top_k_accuracy")
    k = min(k, out.shape[1])
    top = xp.argpartition(-out, k - 1, axis=1)[:, :k]
    return float((top == xp.expand_dims(target, 1)).any(axis=1).mean())


def _same_shape(name: str, out, target):
    if out.shape != target.shape:
        if out.size == target.size:
            return target.reshape(out.shape)
        raise ValueError(
            f"{name}: output of shape {tuple(out.shape)} and target of shape {tuple(target.shape)} differ"
        )
    return target


def mse(output: Any, target: Any) -> float:
    """Mean squared error."""
    out, target = _arr(output), _arr(target)
    target = _same_shape("mse", out, target)
    return float(((out - target) ** 2).mean())


def mae(output: Any, target: Any) -> float:
    """Mean absolute error."""
    out, target = _arr(output), _arr(target)
    target = _same_shape("mae", out, target)
    return float(abs(out - target).mean())


# ----------------------------------------------------------------------------------------
# Metrics over a whole epoch: confusion matrix, precision / recall / F1, ROC AUC
# ----------------------------------------------------------------------------------------


def _labels(output: Any, target: Any, name: str) -> tuple[Any, Any, int, bool]:
    """Predicted and true class indices.

    Predicted and true class indices (NumPy int64), the number of classes, and whether the
    output is one binary logit per sample.
    """
    out, target = to_numpy(_arr(output)), to_numpy(_arr(target))
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        pred = (out.reshape(-1) > 0).astype(np.int64)
        true = target.reshape(-1).astype(np.int64)
        if pred.shape != true.shape:
            raise ValueError(f"{name}: {pred.shape[0]} binary outputs but {true.shape[0]} targets")
        if true.size and (true.min() < 0 or true.max() > 1):
            raise ValueError(
                f"{name}: binary targets must be 0 or 1, got values in [{true.min()}, {true.max()}]"
            )
        return pred, true, 2, True
    if out.ndim != 2:
        raise ValueError(f"{name}: needs (N, C) class scores or (N,) binary logits, got shape {out.shape}")
    true = _class_targets(out, target, name).astype(np.int64)
    c = out.shape[1]
    if true.size and (true.min() < 0 or true.max() >= c):
        raise ValueError(f"{name}: targets must be class indices in [0, {c}), got values up to {true.max()}")
    return out.argmax(axis=1), true, c, False


def confusion_matrix(output: Any, target: Any, num_classes: int | None = None) -> Any:
    """``m[i, j]`` = number of samples of true class ``i`` predicted as class ``j`` (int64, C x C).

    ``output``: (N, C) scores, or (N,) binary logits (thresholded at 0, two classes).

    Example:
        >>> confusion_matrix(np.array([[2.0, 0.1], [0.3, 1.0], [0.9, 0.2]]), np.array([0, 1, 1]))
        array([[1, 0],
               [1, 1]])
    """
    pred, true, c, _ = _labels(output, target, "confusion_matrix")
    c = num_classes or c
    return np.bincount(true * c + pred, minlength=c * c).reshape(c, c).astype(np.int64)


def _prf_from_matrix(m: Any, average: str, binary: bool, which: str) -> float:
    tp = np.diag(m).astype(np.float64)
    predicted, actual = m.sum(axis=0), m.sum(axis=1)
    if average == "micro":
        total = m.sum()
        return float(tp.sum() / total) if total else 0.0  # single-label: P = R = F1 = accuracy
    div = lambda a, b: np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)  # 0/0 -> 0
    p, r = div(tp, predicted), div(tp, actual)
    values = {"precision": p, "recall": r, "f1": div(2 * p * r, p + r)}[which]
    if binary and average == "binary":
        return float(values[1])
    present = (predicted + actual) > 0  # as scikit-learn: the classes seen in targets or predictions
    return float(values[present].mean()) if present.any() else 0.0


def _check_average(name: str, average: str) -> None:
    if average not in ("macro", "micro", "binary"):
        raise ValueError(f"{name}: average must be 'macro', 'micro' or 'binary', got {average!r}")


def _prf(which: str, output: Any, target: Any, average: str) -> float:
    _check_average(which, average)
    pred, true, c, binary = _labels(output, target, which)
    m = np.bincount(true * c + pred, minlength=c * c).reshape(c, c)
    if average == "binary" and not binary:
        raise ValueError(f"{which}: average='binary' needs one logit per sample, got {c} class scores")
    return _prf_from_matrix(m, average, binary, which)


def precision(output: Any, target: Any, average: str = "macro") -> float:
    """Precision of a classifier.

    Precision, TP / (TP + FP): per class then averaged (``'macro'``), from the pooled counts
    (``'micro'``), or of the positive class (``'binary'``, for one logit per sample).
    """
    return _prf("precision", output, target, average)


def recall(output: Any, target: Any, average: str = "macro") -> float:
    """Recall, TP / (TP + FN), averaged as ``precision``."""
    return _prf("recall", output, target, average)


def f1_score(output: Any, target: Any, average: str = "macro") -> float:
    """F1 = 2 P R / (P + R) per class (0 where P + R = 0), averaged as ``precision``."""
    return _prf("f1", output, target, average)


def _binary_scores(output: Any, target: Any, name: str) -> tuple[Any, Any]:
    out, true = to_numpy(_arr(output)).astype(np.float64), to_numpy(_arr(target))
    if out.ndim == 2 and out.shape[1] == 2:  # two class scores: the softmax is monotone in their difference
        out = out[:, 1] - out[:, 0]
    elif not (out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1)):
        raise ValueError(f"{name}: binary only: needs (N,), (N, 1) or (N, 2) scores, got shape {out.shape}")
    out, true = out.reshape(-1), true.reshape(-1)
    if out.shape != true.shape:
        raise ValueError(f"{name}: {out.shape[0]} scores but {true.shape[0]} targets")
    return out, true


def roc_auc(output: Any, target: Any) -> float:
    """Area under the ROC curve.

    Area under the ROC curve of binary scores (logits or probabilities; ties count half), the
    probability that a random positive scores above a random negative (Mann-Whitney U).
    """
    scores, true = _binary_scores(output, target, "roc_auc")
    positive = true == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"roc_auc: needs both classes in the targets, got {n_pos} positive and {n_neg} negative"
        )
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1
    ranks = (first_rank + (counts - 1) / 2.0)[inverse]  # tied scores share their mean rank
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


class Metric:
    """A metric accumulated over an epoch.

    A metric accumulated over a whole epoch: ``reset()``, ``update(output, target)`` per batch,
    ``result()`` at the end. Subclass it for your own; ``name`` labels it in the logs.
    """

    name = "metric"

    def reset(self) -> None:
        """Forget what was accumulated (called at the start of every epoch)."""
        raise NotImplementedError

    def update(self, output: Any, target: Any) -> None:
        """Accumulate one batch: the model's ``output`` and the ``target``."""
        raise NotImplementedError

    def result(self) -> Any:
        """The metric over everything accumulated since ``reset``."""
        raise NotImplementedError


class ConfusionMatrix(Metric):
    """The confusion matrix over all batches (``cr.evaluate`` only: it is an array, not a number)."""

    name = "confusion_matrix"

    def __init__(self, num_classes: int | None = None):
        self.num_classes = num_classes
        self.reset()

    def reset(self) -> None:
        self.matrix: Any = None

    def update(self, output: Any, target: Any) -> None:
        pred, true, c, binary = _labels(output, target, self.name)
        c = self.num_classes or c
        m = np.bincount(true * c + pred, minlength=c * c).reshape(c, c)
        if self.matrix is not None and self.matrix.shape != m.shape:
            raise ValueError(f"{self.name}: batches with {self.matrix.shape[0]} and {c} classes")
        self.matrix = m if self.matrix is None else self.matrix + m
        self.binary = binary

    def result(self) -> Any:
        if self.matrix is None:
            raise ValueError(f"{self.name}: no batch seen")
        return self.matrix.astype(np.int64)


class _PRF(ConfusionMatrix):
    which = "precision"

    def __init__(self, average: str = "macro"):
        _check_average(self.which, average)
        self.average = average
        self.name = self.which if average == "macro" else f"{self.which}_{average}"
        super().__init__()

    def result(self) -> float:
        m = super().result()
        average = "binary" if self.binary and self.average == "macro" else self.average
        return _prf_from_matrix(m, average, self.binary, self.which)


class Precision(_PRF):
    """Precision over an epoch.

    Precision over the epoch (see ``precision``); with one logit per sample, of the positive
    class unless ``average='micro'``.
    """

    which = "precision"


class Recall(_PRF):
    """Recall over the epoch (see ``recall``)."""

    which = "recall"


class F1(_PRF):
    """F1 over the epoch (see ``f1_score``)."""

    which = "f1"


class AUC(Metric):
    """Binary ROC AUC over all samples of the epoch (see ``roc_auc``)."""

    name = "auc"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.scores: list = []
        self.targets: list = []

    def update(self, output: Any, target: Any) -> None:
        scores, true = _binary_scores(output, target, self.name)
        self.scores.append(scores)
        self.targets.append(true)

    def result(self) -> float:
        return roc_auc(np.concatenate(self.scores), np.concatenate(self.targets))


_NAMED = {"accuracy": accuracy, "acc": accuracy, "mse": mse, "mae": mae}
_STATEFUL = {
    "confusion_matrix": ConfusionMatrix,
    "auc": AUC,
    **{
        f"{which}{suffix}": partial(cls, avg)
        for which, cls in (("precision", Precision), ("recall", Recall), ("f1", F1))
        for suffix, avg in (("", "macro"), ("_macro", "macro"), ("_micro", "micro"))
    },
}


def get_metric(metric: str | Callable | Metric) -> tuple[str, Any]:
    """``(name, fn)`` for a metric name, callable or ``Metric`` (a fresh one for names)."""
    if isinstance(metric, Metric):
        return metric.name, metric
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if metric in _NAMED:
        return ("accuracy" if metric == "acc" else metric), _NAMED[metric]
    if metric in _STATEFUL:
        m = _STATEFUL[metric]()
        return m.name, m
    m = re.fullmatch(r"top_?(\d+)_acc(uracy)?", str(metric))
    if m:
        k = int(m.group(1))
        return f"top{k}_accuracy", lambda o, t: top_k_accuracy(o, t, k)
    raise ValueError(
        f"metrics: unknown metric {metric!r}; known: 'loss', 'accuracy', 'top5_accuracy' "
        "(any k), 'mse', 'mae', 'precision', 'recall', 'f1' (and their _micro/_macro forms), "
        "'auc', 'confusion_matrix' (evaluate only), a Metric, or a callable (output, target) -> number"
    )
