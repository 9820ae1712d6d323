"""Training: ``fit`` (with progress bar, validation, callbacks, checkpoints), ``evaluate``, ``predict``.

history = cr.fit(model, (x, y), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=10,
                 validation_split=0.2, metrics=["accuracy"])
history.plot("curves.png")
cr.evaluate(model, (x_test, y_test), metrics=["accuracy"])
"""

from chainrule.train import callbacks, metrics
from chainrule.train.checkpoint import load_checkpoint, save_checkpoint
from chainrule.train.history import History
from chainrule.train.loop import Trainer, evaluate, fit, predict

__all__ = [
    "fit",
    "evaluate",
    "predict",
    "History",
    "Trainer",
    "callbacks",
    "metrics",
    "save_checkpoint",
    "load_checkpoint",
]
