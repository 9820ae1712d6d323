"""Losses and optimizers by name, for ``cr.fit(..., loss="cross_entropy", optimizer="adam", lr=1e-3)``.

Each name makes the chainrule object with PyTorch's defaults (the learning rate included, unless
``lr`` is given).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LOSSES = {
    "cross_entropy": "CrossEntropyLoss",
    "categorical_crossentropy": "CrossEntropyLoss",
    "sparse_categorical_crossentropy": "CrossEntropyLoss",
    "nll": "NLLLoss",
    "mse": "MSELoss",
    "mean_squared_error": "MSELoss",
    "l1": "L1Loss",
    "mae": "L1Loss",
    "mean_absolute_error": "L1Loss",
    "huber": "HuberLoss",
    "bce": "BCELoss",
    "binary_crossentropy": "BCELoss",
    "bce_with_logits": "BCEWithLogitsLoss",
    "hinge": "HingeLoss",
    "multi_margin": "MultiMarginLoss",
}

OPTIMIZERS = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "adamax": "Adamax",
    "nadam": "NAdam",
}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def get_loss(loss: str | Callable) -> Callable:
    """A loss module from a name.

    A loss module for a name (``'cross_entropy'``, ``'mse'``, ``'bce'``, ``'bce_with_logits'``,
    ``'l1'``, ``'huber'``, ``'nll'``, ``'hinge'`` and Keras' spellings), or ``loss`` itself.

    Example:
        >>> get_loss("cross_entropy")
        CrossEntropyLoss()
    """
    if not isinstance(loss, str):
        if not callable(loss):
            raise TypeError(
                f"fit: loss must be a name, a loss module or a callable, not {type(loss).__name__}"
            )
        return loss
    from chainrule import nn

    cls = LOSSES.get(_key(loss))
    if cls is None:
        raise ValueError(f"fit: unknown loss {loss!r}; known names: {', '.join(LOSSES)}")
    return getattr(nn, cls)()


def get_optimizer(optimizer: Any, params: Any, lr: float | None = None) -> Any:
    """An optimizer from a name.

    An optimizer over ``params`` for a name (``'sgd'``, ``'adam'``, ``'adamw'``, ``'rmsprop'``,
    ``'adagrad'``, ``'adadelta'``, ``'adamax'``, ``'nadam'``) with PyTorch's defaults and ``lr``
    when given; an optimizer object is returned as it is (then ``lr`` must be None).

    Example:
        >>> opt = get_optimizer("adam", cr.nn.Linear(3, 2).parameters(), lr=3e-4)
        >>> type(opt).__name__, opt.param_groups[0]["lr"]
        ('Adam', 0.0003)
    """
    if not isinstance(optimizer, str):
        if lr is not None:
            raise ValueError(
                "fit: lr= sets the learning rate of an optimizer given by name; this optimizer "
                f"({type(optimizer).__name__}) already has its own"
            )
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise TypeError(
                f"fit: optimizer must be a name or a cr.optim optimizer, got {type(optimizer).__name__}"
            )
        return optimizer
    from chainrule import optim

    cls = OPTIMIZERS.get(_key(optimizer))
    if cls is None:
        raise ValueError(f"fit: unknown optimizer {optimizer!r}; known names: {', '.join(OPTIMIZERS)}")
    if lr is not None and not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"fit: lr must be a positive number, got {lr!r}")
    return getattr(optim, cls)(params, **({} if lr is None else {"lr": float(lr)}))
