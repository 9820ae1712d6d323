"""Export a playground network as a runnable chainrule script plus its weights (safetensors)."""

from __future__ import annotations

import io
import os
import tempfile
from typing import TYPE_CHECKING

import numpy as np

import chainrule as cr
from chainrule.playground.data import FEATURE_SOURCE

if TYPE_CHECKING:
    from chainrule.playground.trainer import Trainer

SCRIPT_NAME = "playground_model.py"
WEIGHTS_NAME = "playground_model.safetensors"


def weights_bytes(trainer: Trainer) -> bytes:
    """The model's state dict in the safetensors format (written with ``cr.save``)."""
    fd, path = tempfile.mkstemp(suffix=".safetensors")
    os.close(fd)
    try:
        cr.save(trainer.state_dict(), path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _array(a: np.ndarray, dtype: str) -> str:
    buf = io.StringIO()
    rows = a.tolist()
    per_line = 4 if a.ndim == 2 else 12
    buf.write("np.array([\n")
    for i in range(0, len(rows), per_line):
        buf.write("    " + ", ".join(repr(r) for r in rows[i : i + per_line]) + ",\n")
    buf.write(f"], dtype=np.{dtype})")
    return buf.getvalue()


def script(trainer: Trainer, weights_name: str = WEIGHTS_NAME) -> str:
    """The trained network as a runnable chainrule Python script (its weights go in a safetensors file)."""
    c = trainer.config
    from chainrule.playground.trainer import _ACT_SOURCE

    layers, width = [], len(trainer.features)
    for spec in c["layers"]:
        line = f"    nn.Linear({width}, {spec['units']}),"
        if c["batchnorm"]:
            line += f" nn.BatchNorm1d({spec['units']}),"
        line += f" {_ACT_SOURCE[spec['act']]},"
        if c["dropout"] > 0:
            line += f" nn.Dropout({c['dropout']}),"
        layers.append(line)
        width = spec["units"]
    layers.append(f"    nn.Linear({width}, {trainer.out_dim}),")
    feats = ", ".join(FEATURE_SOURCE[f] for f in trainer.features)
    kind, loss = trainer.kind, c["loss"]
    if kind == "regression":
        loss_src, head_src, target_src = "nn.MSELoss()", "out", "cr.tensor(TEST_Y.reshape(-1, 1))"
        predict_src = "out[:, 0]                                # the predicted value"
    elif kind == "binary":
        if loss == "cross_entropy":
            loss_src, head_src = "nn.BCEWithLogitsLoss()", "out"
            target_src = "cr.tensor(TEST_Y.reshape(-1, 1).astype(np.float32))"
        else:
            loss_src = "nn.MSELoss()" if loss == "mse" else "nn.HingeLoss()"
            head_src = "out.tanh()" if loss == "mse" else "out"
            target_src = "cr.tensor(2 * TEST_Y.reshape(-1, 1).astype(np.float32) - 1)"
        predict_src = "(out[:, 0] > 0).long()                  # class 1 where the output is positive"
    else:
        if loss == "mse":
            loss_src, head_src = "nn.MSELoss()", "nn.functional.softmax(out, dim=1)"
            target_src = f"cr.tensor(np.eye({trainer.classes}, dtype=np.float32)[TEST_Y])"
        else:
            loss_src = "nn.CrossEntropyLoss()" if loss == "cross_entropy" else "nn.MultiMarginLoss()"
            head_src, target_src = "out", "cr.tensor(TEST_Y)"
        predict_src = "out.argmax(dim=1)                       # the most likely class"
    ydtype = "float32" if kind == "regression" else "int64"
    test = trainer.test_set
    accuracy = (
        ""
        if kind == "regression"
        else (
            "    accuracy = float((predict(TEST_X).numpy() == TEST_Y).mean())\n"
            '    print(f"test accuracy: {accuracy:.4f}")\n'
        )
    )
    hidden = ", ".join(f"{s['units']} {s['act']}" for s in c["layers"]) or "none"
    return f'''"""A network trained in the chainrule playground.

Data: {c["dataset"]} (noise {c["noise"]}%, seed {c["seed"]}); inputs: {", ".join(trainer.features)};
hidden layers: {hidden}; trained {trainer.step_count} steps with {c["optimizer"]} (lr {c["lr"]}).

Run it next to its weights file:  python {SCRIPT_NAME} [{weights_name}]
It rebuilds the network, loads the weights and prints the loss on the playground's test points.
"""

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn


def features(points):
    """The network's inputs for points (n, 2) of the plane: {", ".join(trainer.features)}."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([{feats}], axis=1).astype(np.float32)


model = nn.Sequential(
{chr(10).join(layers)}
)
weights = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("{weights_name}")
model.load_state_dict(cr.load(str(weights)))
model.eval()


def predict(points):
    """The network's prediction for points (n, 2)."""
    with cr.no_grad():
        out = model(cr.tensor(features(points)))
    return {predict_src}


# the playground's test points (x1, x2) and labels
TEST_X = {_array(np.round(test.x, 6), "float64")}
TEST_Y = {_array(test.y if kind != "regression" else np.round(test.y, 6), ydtype)}

if __name__ == "__main__":
    loss_fn = {loss_src}
    with cr.no_grad():
        out = model(cr.tensor(features(TEST_X)))
        loss = loss_fn({head_src}, {target_src})
    print(f"test loss: {{loss.item():.4f}}")
{accuracy}'''
