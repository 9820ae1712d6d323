"""The playground's configuration: defaults, limits, and validation with clear messages.

A configuration is a flat JSON object (the page keeps it in its URL hash)::

    {"dataset": "xor", "noise": 0, "ratio": 50, "batch": 10, "seed": 1,
     "features": ["x1", "x2"],
     "layers": [{"units": 4, "act": "tanh"}, {"units": 4, "act": "tanh"}],
     "init": "xavier", "dropout": 0.0, "batchnorm": false,
     "loss": "cross_entropy", "lr": 0.03, "optimizer": "adam", "reg": "none", "reg_rate": 0.0}

``validate(update, current)`` merges a (possibly partial) update into the current configuration
and checks every value; it raises ``ConfigError`` naming the setting, the value and what is
allowed, and never changes ``current``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from chainrule.playground.data import CLASSIFICATION, DATASETS, FEATURES, REGRESSION

MAX_LAYERS = 6
MAX_UNITS = 8
LR_RANGE = (1e-5, 10.0)
REG_RATE_RANGE = (0.0, 10.0)
NOISE_RANGE = (0, 50)  # percent
RATIO_RANGE = (10, 90)  # percent of the points used for training
BATCH_RANGE = (1, 256)
DROPOUT_RANGE = (0.0, 0.9)
SEED_RANGE = (0, 2**31 - 1)
MAX_STEPS_PER_CALL = 10_000  # the "step" message's n mini-batches
MAX_EPOCHS_PER_CALL = 100  # ... or n epochs

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "softplus")
INITS = ("zeros", "normal", "xavier", "he")
LOSSES = ("cross_entropy", "mse", "hinge")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
REGS = ("none", "l1", "l2")

DEFAULT: dict[str, Any] = {
    "dataset": "circle",
    "noise": 0,
    "ratio": 50,
    "batch": 10,
    "seed": 1,
    "features": ["x1", "x2"],
    "layers": [{"units": 4, "act": "tanh"}, {"units": 2, "act": "tanh"}],
    "init": "xavier",
    "dropout": 0.0,
    "batchnorm": False,
    "loss": "cross_entropy",
    "lr": 0.03,
    "optimizer": "adam",
    "reg": "none",
    "reg_rate": 0.0,
}

# which settings require new data / a new network when they change (the rest apply live)
DATA_KEYS = ("dataset", "noise", "ratio", "seed")
NETWORK_KEYS = ("features", "layers", "init", "dropout", "batchnorm", "loss")


# what the second network of a side-by-side comparison may change (the data stay the same)
COMPARE_KEYS = (
    "batch",
    "features",
    "layers",
    "init",
    "dropout",
    "batchnorm",
    "loss",
    "lr",
    "optimizer",
    "reg",
    "reg_rate",
)


class ConfigError(ValueError):
    """An invalid setting; the message names it, the value given and what is allowed."""


def limits() -> dict[str, Any]:
    """The limits and choices, sent to the page in the ``hello`` message."""
    return {
        "max_layers": MAX_LAYERS,
        "max_units": MAX_UNITS,
        "lr": LR_RANGE,
        "reg_rate": REG_RATE_RANGE,
        "noise": NOISE_RANGE,
        "ratio": RATIO_RANGE,
        "batch": BATCH_RANGE,
        "dropout": DROPOUT_RANGE,
        "seed": SEED_RANGE,
        "max_steps": MAX_STEPS_PER_CALL,
        "datasets": {"classification": list(CLASSIFICATION), "regression": list(REGRESSION)},
        "features": list(FEATURES),
        "activations": list(ACTIVATIONS),
        "inits": list(INITS),
        "losses": list(LOSSES),
        "optimizers": list(OPTIMIZERS),
        "regs": list(REGS),
    }


def task_of(dataset: str, upload_task: str | None = None) -> str:
    """'classification' or 'regression': the kind of problem a data set poses."""
    if dataset == "upload":
        return upload_task or "classification"
    return "regression" if dataset in REGRESSION else "classification"


def default_loss(task: str) -> str:
    """The loss suited to a data set: cross-entropy for classification, MSE for regression."""
    return "mse" if task == "regression" else "cross_entropy"


# -- field checks ----------------------------------------------------------------------------------
def _number(name: str, v: Any, lo: float, hi: float, integer: bool = False) -> float | int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{name}: expected a number in [{lo}, {hi}], got {v!r}")
    # an int is compared exactly (math.isfinite overflows on a JSON integer like 10**400)
    if (isinstance(v, float) and not math.isfinite(v)) or not lo <= v <= hi:
        raise ConfigError(f"{name}: {v!r:.30} is out of range; allowed [{lo}, {hi}]")
    if integer and (isinstance(v, float) and not v.is_integer()):
        raise ConfigError(f"{name}: expected a whole number in [{lo}, {hi}], got {v!r}")
    return int(v) if integer else float(v)


def _choice(name: str, v: Any, options: tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in options:
        shown = repr(v) if not isinstance(v, str) else repr(v[:40])
        raise ConfigError(f"{name}: unknown value {shown}; expected one of {', '.join(options)}")
    return v


def _layers(v: Any) -> list[dict[str, Any]]:
    if not isinstance(v, list):
        raise ConfigError(f"layers: expected a list of {{units, act}}, got {type(v).__name__}")
    if len(v) > MAX_LAYERS:
        raise ConfigError(f"layers: {len(v)} hidden layers is too many; at most {MAX_LAYERS}")
    out = []
    for i, layer in enumerate(v, 1):
        if not isinstance(layer, dict):
            raise ConfigError(f"layers: hidden layer {i} must be an object {{units, act}}, got {layer!r:.40}")
        extra = set(layer) - {"units", "act"}
        if extra:
            raise ConfigError(f"layers: hidden layer {i} has unknown keys {sorted(map(str, extra))}")
        units = layer.get("units")
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
            raise ConfigError(f"layers: hidden layer {i} has {units!r:.20} neurons; allowed 1 to {MAX_UNITS}")
        act = _choice(f"layers: hidden layer {i} activation", layer.get("act", "tanh"), ACTIVATIONS)
        out.append({"units": units, "act": act})
    return out


def _features(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(f, str) for f in v):
        raise ConfigError(f"features: expected a list of names from {', '.join(FEATURES)}, got {v!r:.60}")
    bad = [f for f in v if f not in FEATURES]
    if bad:
        raise ConfigError(
            f"features: unknown feature {bad[0][:20]!r}; expected names from {', '.join(FEATURES)}"
        )
    if not v:
        raise ConfigError("features: turn on at least one input feature")
    return [f for f in FEATURES if f in v]  # canonical order, no duplicates


def validate(
    update: Any, current: dict[str, Any] | None = None, upload_task: str | None = None
) -> dict[str, Any]:
    """The configuration ``current`` (default: DEFAULT) with ``update`` merged in, every value checked.

    When only the data set changes and the current loss does not suit the new task (cross-entropy
    or hinge for regression), the loss switches to the task's default; an explicit loss that does
    not suit the task is an error.
    """
    if not isinstance(update, dict):
        raise ConfigError(f"config: expected an object of settings, got {type(update).__name__}")
    base = copy.deepcopy(current if current is not None else DEFAULT)
    unknown = [k for k in update if k not in DEFAULT]
    if unknown:
        raise ConfigError(f"config: unknown setting {str(unknown[0])[:40]!r}; known: {', '.join(DEFAULT)}")
    c = {**base, **update}
    out: dict[str, Any] = {}
    out["dataset"] = _choice("dataset", c["dataset"], DATASETS)
    if out["dataset"] == "upload" and upload_task is None:
        raise ConfigError("dataset: 'upload' needs an uploaded CSV file first (send an 'upload' message)")
    out["noise"] = _number("noise", c["noise"], *NOISE_RANGE, integer=True)
    out["ratio"] = _number("ratio", c["ratio"], *RATIO_RANGE, integer=True)
    out["batch"] = _number("batch", c["batch"], *BATCH_RANGE, integer=True)
    out["seed"] = _number("seed", c["seed"], *SEED_RANGE, integer=True)
    out["features"] = _features(c["features"])
    out["layers"] = _layers(c["layers"])
    out["init"] = _choice("init", c["init"], INITS)
    out["dropout"] = _number("dropout", c["dropout"], *DROPOUT_RANGE)
    if not isinstance(c["batchnorm"], bool):
        raise ConfigError(f"batchnorm: expected true or false, got {c['batchnorm']!r:.20}")
    out["batchnorm"] = c["batchnorm"]
    out["lr"] = _number("lr", c["lr"], *LR_RANGE)
    if out["lr"] < LR_RANGE[0]:
        raise ConfigError(f"lr: {out['lr']} is out of range; allowed [{LR_RANGE[0]}, {LR_RANGE[1]}]")
    out["optimizer"] = _choice("optimizer", c["optimizer"], OPTIMIZERS)
    out["reg"] = _choice("reg", c["reg"], REGS)
    out["reg_rate"] = _number("reg_rate", c["reg_rate"], *REG_RATE_RANGE)
    loss = _choice("loss", c["loss"], LOSSES)
    task = task_of(out["dataset"], upload_task)
    if task == "regression" and loss != "mse":
        if "loss" in update:
            raise ConfigError(
                f"loss: {loss} needs a classification data set; regression ({out['dataset']}) uses mse"
            )
        loss = "mse"
    out["loss"] = loss
    if out["batchnorm"] and out["batch"] < 2:
        raise ConfigError(
            "batchnorm: needs a batch size of at least 2 "
            "(the statistics of a batch of one point are undefined)"
        )
    return out


def validate_link(update: Any, upload_task: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The configuration a link describes: ``update`` over DEFAULT, each invalid setting dropped.

    Returns the configuration and one message per dropped setting, so a link with one bad value
    keeps the rest (the same link gives the same result wherever it is opened).  Settings are
    taken in DEFAULT's order (the data set before the loss that must suit it).
    """
    if not isinstance(update, dict):
        raise ConfigError(f"config: expected an object of settings, got {type(update).__name__}")
    dropped = [f"config: unknown setting {str(k)[:40]!r}" for k in update if k not in DEFAULT]
    accepted: dict[str, Any] = {}
    for key in DEFAULT:
        if key not in update:
            continue
        try:
            validate({**accepted, key: update[key]}, None, upload_task)
        except ConfigError as e:
            dropped.append(str(e))
        else:
            accepted[key] = update[key]
    return validate(accepted, None, upload_task), dropped


def validate_compare(diff: Any, base: dict[str, Any], upload_task: str | None = None) -> dict[str, Any]:
    """The second network's configuration: ``base`` (the first network's) with ``diff`` over it.

    ``diff`` may change only COMPARE_KEYS (the two networks see the same data).
    """
    if not isinstance(diff, dict):
        raise ConfigError(f"compare: expected an object of settings for network B, got {type(diff).__name__}")
    other = [k for k in diff if k not in COMPARE_KEYS]
    if other:
        raise ConfigError(
            f"compare: network B may change only {', '.join(COMPARE_KEYS)}; not {str(other[0])[:40]!r}"
        )
    try:
        return validate(diff, base, upload_task)
    except ConfigError as e:
        raise ConfigError(f"compare: network B's {e}") from None
