"""Metrics for ``cr.fit`` / ``cr.evaluate``: functions of (output, target) giving a batch mean.

By name: ``'accuracy'`` (``'acc'``), ``'top5_accuracy'`` (any ``top{k}_accuracy``), ``'mse'``,
``'mae'``; ``'loss'`` is the training loss itself. A metric can also be any callable
``fn(output, target) -> number`` (Tensors in, its ``__name__`` names it); the loop averages batch
values weighted by batch size.

``accuracy`` accepts class scores (N, C) with integer targets (N,) — or one-hot/probability
targets (N, C) — and single-output binary scores (N,) or (N, 1), thresholded at 0 (logits).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chainrule.backend import xp_of
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


_NAMED = {"accuracy": accuracy, "acc": accuracy, "mse": mse, "mae": mae}


def get_metric(metric: str | Callable) -> tuple[str, Callable]:
    """``(name, fn)`` for a metric name or callable."""
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if metric in _NAMED:
        return ("accuracy" if metric == "acc" else metric), _NAMED[metric]
    m = re.fullmatch(r"top_?(\d+)_acc(uracy)?", str(metric))
    if m:
        k = int(m.group(1))
        return f"top{k}_accuracy", lambda o, t: top_k_accuracy(o, t, k)
    raise ValueError(
        f"metrics: unknown metric {metric!r}; known: 'loss', 'accuracy', 'top5_accuracy' "
        "(any k), 'mse', 'mae', or a callable (output, target) -> number"
    )
