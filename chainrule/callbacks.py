"""``cr.callbacks``: the callbacks of ``cr.fit`` (defined in ``chainrule.train.callbacks``)."""

from chainrule.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

__all__ = [
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "CSVLogger",
    "LambdaCallback",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
