"""Training in the playground.

Training in the playground: the network, its optimizer and loss, built with chainrule and
trained on the server, and the pictures the page draws (heat maps, neuron thumbnails, weights,
gradient norms) computed from it.

One ``Trainer`` per browser tab.  ``train(budget)`` runs mini-batch steps for a time budget (the
server calls it between frames); ``frame()`` evaluates the network over a grid of the input plane.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.playground import data as pdata
from chainrule.playground.data import DOMAIN, DataSet

HEAT_N = 40  # the output heat map is HEAT_N x HEAT_N
MAX_EDITS = 1000  # hand edits in one message
EDIT_LIMIT = 100.0  # a weight or bias set by hand lies in [-EDIT_LIMIT, EDIT_LIMIT]


class EditError(ValueError):
    """A hand edit of a weight or bias names no such parameter or an invalid value."""


THUMB_STRIDE = 2  # neuron thumbnails take every 2nd grid point: 20 x 20


def _activation(name: str) -> nn.Module:
    return {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "linear": nn.Identity,
        "leaky_relu": nn.LeakyReLU,
        "elu": nn.ELU,
        "softplus": nn.Softplus,
    }[name]()


_ACT_SOURCE = {
    "relu": "nn.ReLU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "linear": "nn.Identity()",
    "leaky_relu": "nn.LeakyReLU()",
    "elu": "nn.ELU()",
    "softplus": "nn.Softplus()",
}
_GAIN = {
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "linear": "linear",
    "leaky_relu": "leaky_relu",
    "elu": "relu",
    "softplus": "relu",
}


def encode(values: np.ndarray) -> str:
    """Values in [-1, 1] as base64 bytes (0 = -1, 255 = +1): a compact picture for the page."""
    q = np.clip(np.rint((np.nan_to_num(values) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def _grid(n: int) -> np.ndarray:
    """(n*n, 2) points covering the plane row by row, top (x2 = +6) to bottom, left to right."""
    t = (np.arange(n) + 0.5) / n * 2 * DOMAIN - DOMAIN
    xx, yy = np.meshgrid(t, t[::-1])
    return np.stack([xx.ravel(), yy.ravel()], 1)


def _round(a: np.ndarray, digits: int = 4) -> list:
    a = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0, posinf=1e30, neginf=-1e30)
    return np.round(a, digits).tolist()


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


class Trainer:
    """A network for one configuration and one train/test split.

    ``kind`` says how outputs and targets meet the loss:
    ``binary`` (1 output; cross-entropy on the logit, or MSE/hinge against ±1),
    ``multi`` (K outputs; cross-entropy, MSE on the softmax, or multi-class hinge),
    ``regression`` (1 output, MSE).
    """

    def __init__(self, config: dict[str, Any], train: DataSet, test: DataSet, init_seed: int):
        self.config = config
        self.train_set, self.test_set = train, test
        self.task = train.task
        self.classes = train.classes
        if self.task == "regression":
            self.kind = "regression"
        else:
            self.kind = "binary" if self.classes <= 2 else "multi"
        self.out_dim = self.classes if self.kind == "multi" else 1
        self.features = list(config["features"])
        self.x_train = pdata.features(train.x, self.features)
        self.x_test = pdata.features(test.x, self.features)
        self.grid = _grid(HEAT_N)
        self.x_grid = pdata.features(self.grid, self.features)
        self.rng = np.random.default_rng(init_seed + 1)
        cr.manual_seed(init_seed)
        self.model, self.linears, self.act_index = self._build()
        self._init_weights()
        self.rng_state = cr.get_rng_state()
        self.loss_fn = self._loss()
        self.y_train, self.y_test = self._targets(train.y), self._targets(test.y)
        self.optimizer = self._optimizer()
        self.step_count = 0
        self.grad_norms = [0.0] * len(self.linears)
        self._order = np.empty(0, dtype=np.int64)
        self._pos = 0
        self.last_train_loss: float | None = None
        self.edits: list[dict[str, Any]] = []  # hand edits made before any training (a link keeps them)

    # -- building ------------------------------------------------------------------------------
    def _build(self):
        c = self.config
        layers: list[nn.Module] = []
        linears: list[nn.Linear] = []
        act_index: list[int] = []  # index in `layers` after which each hidden layer's output is read
        width = len(self.features)
        for spec in c["layers"]:
            lin = nn.Linear(width, spec["units"])
            layers.append(lin)
            linears.append(lin)
            if c["batchnorm"]:
                layers.append(nn.BatchNorm1d(spec["units"]))
            layers.append(_activation(spec["act"]))
            act_index.append(len(layers) - 1)
            if c["dropout"] > 0:
                layers.append(nn.Dropout(c["dropout"]))
            width = spec["units"]
        lin = nn.Linear(width, self.out_dim)
        layers.append(lin)
        linears.append(lin)
        return nn.Sequential(*layers), linears, act_index

    def _init_weights(self) -> None:
        init, specs = self.config["init"], self.config["layers"]
        for i, lin in enumerate(self.linears):
            act = specs[i]["act"] if i < len(specs) else "linear"
            if init == "zeros":
                nn.init.zeros_(lin.weight)
            elif init == "normal":
                nn.init.normal_(lin.weight, 0.0, 0.1)
            elif init == "xavier":
                nn.init.xavier_normal_(lin.weight, gain=nn.init.calculate_gain(_GAIN[act]))
            else:
                nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)

    def _loss(self):
        loss = self.config["loss"]
        if self.kind == "regression" or (loss == "mse" and self.kind == "binary"):
            return nn.MSELoss()
        if loss == "mse":
            return nn.MSELoss()
        if loss == "hinge":
            return nn.HingeLoss() if self.kind == "binary" else nn.MultiMarginLoss()
        return nn.BCEWithLogitsLoss() if self.kind == "binary" else nn.CrossEntropyLoss()

    def _targets(self, y: np.ndarray) -> cr.Tensor:
        loss = self.config["loss"]
        if self.kind == "regression":
            return cr.from_numpy(y.astype(np.float32).reshape(-1, 1))
        if self.kind == "binary":
            t = y.astype(np.float32).reshape(-1, 1)
            return cr.from_numpy(t if loss == "cross_entropy" else 2 * t - 1)
        if loss == "mse":
            return cr.from_numpy(np.eye(self.classes, dtype=np.float32)[y])
        return cr.from_numpy(y.astype(np.int64))

    def _head(self, out: cr.Tensor) -> cr.Tensor:
        """What the loss sees: the raw output, or tanh / softmax of it for MSE on classes."""
        if self.config["loss"] == "mse" and self.kind == "binary":
            return out.tanh()
        if self.config["loss"] == "mse" and self.kind == "multi":
            return nn.functional.softmax(out, dim=1)
        return out

    def _optimizer(self):
        c = self.config
        params, lr = list(self.model.parameters()), c["lr"]
        name = c["optimizer"]
        if name == "sgd":
            return cr.optim.SGD(params, lr=lr)
        if name == "momentum":
            return cr.optim.SGD(params, lr=lr, momentum=0.9)
        if name == "nesterov":
            return cr.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
        if name == "adagrad":
            return cr.optim.Adagrad(params, lr=lr)
        if name == "rmsprop":
            return cr.optim.RMSprop(params, lr=lr)
        return cr.optim.Adam(params, lr=lr)

    # -- live changes --------------------------------------------------------------------------
    def update_hyper(self, config: dict[str, Any]) -> None:
        """Apply settings that need no new network: learning rate, optimizer, regularisation, batch."""
        old, self.config = self.config, config
        if old["optimizer"] != config["optimizer"]:
            self.optimizer = self._optimizer()
        else:
            for g in self.optimizer.param_groups:
                g["lr"] = config["lr"]

    # -- hand edits ----------------------------------------------------------------------------
    def edit(self, edits: Any) -> None:
        """Set weights and biases by hand.

        Set weights and biases by hand: a list of ``{"layer", "to", "from", "value"}`` (a weight of
        linear layer ``layer``, from input ``from`` to output ``to``) or ``{"layer", "to", "value"}``
        (a bias).  All are checked before any is applied; edits before training are recorded.
        """
        if not isinstance(edits, list) or not 1 <= len(edits) <= MAX_EDITS:
            raise EditError(f"edit: 'edits' must be a list of 1 to {MAX_EDITS} edits, got {edits!r:.40}")
        checked = [self._check_edit(e) for e in edits]
        for e in checked:
            lin = self.linears[e["layer"]]
            if "from" in e:
                lin.weight._data[e["to"], e["from"]] = e["value"]
            else:
                lin.bias._data[e["to"]] = e["value"]
            if self.step_count == 0:
                key = (e["layer"], e["to"], e.get("from"))
                self.edits = [d for d in self.edits if (d["layer"], d["to"], d.get("from")) != key] + [e]

    def _check_edit(self, e: Any) -> dict[str, Any]:
        if not isinstance(e, dict) or not set(e) <= {"layer", "to", "from", "value"}:
            raise EditError(
                f"edit: each edit is an object {{layer, to, from (weights only), value}}, got {e!r:.60}"
            )

        def index(key: str, size: int, what: str) -> int:
            v = e.get(key)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < size:
                raise EditError(f"edit: {key} must be {what} index from 0 to {size - 1}, got {v!r:.20}")
            return v

        layer = index("layer", len(self.linears), "a layer")
        lin = self.linears[layer]
        out = {"layer": layer, "to": index("to", lin.weight.shape[0], "a neuron")}
        if "from" in e:
            out["from"] = index("from", lin.weight.shape[1], "an input")
        v = e.get("value")
        # ints compared before any float conversion (a JSON integer may be huge)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not -EDIT_LIMIT <= v <= EDIT_LIMIT:
            raise EditError(f"edit: value must be a number from {-EDIT_LIMIT} to {EDIT_LIMIT}, got {v!r:.20}")
        out["value"] = float(v)
        return out

    # -- training ------------------------------------------------------------------------------
    @property
    def epoch(self) -> float:
        return self.step_count * min(self.config["batch"], len(self.x_train)) / len(self.x_train)

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batch steps in one pass over the shuffled training points (full batches, as ``_batch``)."""
        n = len(self.x_train)
        return n // min(self.config["batch"], n)

    def _batch(self) -> np.ndarray:
        n = len(self.x_train)
        b = min(self.config["batch"], n)
        if self._pos + b > len(self._order):
            self._order, self._pos = self.rng.permutation(n), 0
        idx = self._order[self._pos : self._pos + b]
        self._pos += b
        return idx

    def train(self, steps: int | None = None, budget: float | None = None) -> int:
        """Run ``steps`` mini-batch steps, or as many as fit in ``budget`` seconds; returns how many."""
        c = self.config
        cr.set_rng_state(self.rng_state)  # dropout draws: this session's own stream
        self.model.train()
        l1 = c["reg_rate"] if c["reg"] == "l1" else 0.0
        l2 = c["reg_rate"] if c["reg"] == "l2" else 0.0
        start, done = time.perf_counter(), 0
        y_all = self.y_train
        loss_value = None
        try:
            while True:
                idx = self._batch()
                x = cr.from_numpy(self.x_train[idx])
                y = cr.Tensor._make(y_all._data[idx])
                out = self._head(self.model(x))
                loss = self.loss_fn(out, y)
                if l1 or l2:
                    loss = loss + nn.utils.penalty(self.model, l1=l1, l2=l2)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                loss_value = loss
                done += 1
                self.step_count += 1
                if steps is not None and done >= steps:
                    break
                if budget is not None and time.perf_counter() - start >= budget:
                    break
                if steps is None and budget is None:
                    break
        finally:
            self.rng_state = cr.get_rng_state()
        if loss_value is not None:
            self.last_train_loss = float(loss_value.item())
        self.grad_norms = [self._grad_norm(lin) for lin in self.linears]
        return done

    @staticmethod
    def _grad_norm(lin: nn.Linear) -> float:
        total = 0.0
        for p in (lin.weight, lin.bias):
            if p is not None and p.grad is not None:
                total += float((p.grad._data.astype(np.float64) ** 2).sum())
        return math.sqrt(total)

    # -- evaluation ----------------------------------------------------------------------------
    def _forward_all(self, x: np.ndarray, keep: bool = False):
        """Eval-mode forward pass; with ``keep`` also every hidden layer's output."""
        hidden = []
        with cr.no_grad():
            h = cr.from_numpy(x)
            for i, layer in enumerate(self.model):
                h = layer(h)
                if keep and i in self.act_index:
                    hidden.append(h._data)
        return h, hidden

    def evaluate(self, which: str = "test") -> dict[str, float | None]:
        """Loss (without the regularisation penalty) and, for classes, accuracy on a whole split."""
        x, y, ds = (
            (self.x_test, self.y_test, self.test_set)
            if which == "test"
            else (self.x_train, self.y_train, self.train_set)
        )
        self.model.eval()
        try:
            out, _ = self._forward_all(x)
            with cr.no_grad():
                loss = float(self.loss_fn(self._head(out), y).item())
        finally:
            self.model.train()
        res: dict[str, float | None] = {"loss": _finite(loss)}
        if self.kind != "regression":
            o = out._data
            pred = (o[:, 0] > 0).astype(np.int64) if self.kind == "binary" else o.argmax(1)
            res["acc"] = float((pred == ds.y).mean())
        return res

    def predict_grid(self):
        """Network output over the grid in [-1, 1] (and the class map for several classes)."""
        out, hidden = self._forward_all(self.x_grid, keep=True)
        o = out._data.astype(np.float64)
        cls, outputs = None, None
        if self.kind == "regression":
            heat = np.clip(o[:, 0], -1, 1)
        elif self.kind == "binary":
            if self.config["loss"] == "cross_entropy":
                heat = 2 / (1 + np.exp(-np.clip(o[:, 0], -50, 50))) - 1
            else:
                heat = np.tanh(o[:, 0])
        else:
            z = o - o.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            cls = p.argmax(1)
            heat = 2 * p.max(1) - 1
            outputs = 2 * p - 1  # each class's probability, in [-1, 1]
        return heat, cls, hidden, outputs

    def summary(self) -> dict[str, Any]:
        """The second network of a side-by-side comparison: its progress, losses and output picture."""
        self.model.eval()
        try:
            heat, cls, _, _ = self.predict_grid()
        finally:
            self.model.train()
        tr, te = self.evaluate("train"), self.evaluate("test")
        out = {
            "step": self.step_count,
            "epoch": round(self.epoch, 3),
            "train_loss": tr["loss"],
            "test_loss": te["loss"],
            "train_acc": tr.get("acc"),
            "test_acc": te.get("acc"),
            "heat": encode(heat),
            "grad_norms": [_finite(g) for g in self.grad_norms],
        }
        if cls is not None:
            out["heat_cls"] = base64.b64encode(cls.astype(np.uint8).tobytes()).decode("ascii")
        return out

    def frame(self) -> dict[str, Any]:
        """Everything the page draws for the network's current state (compact JSON)."""
        self.model.eval()
        try:
            heat, cls, hidden, outputs = self.predict_grid()
        finally:
            self.model.train()
        tr, te = self.evaluate("train"), self.evaluate("test")
        n = HEAT_N
        sub = np.zeros((n, n), bool)
        sub[::THUMB_STRIDE, ::THUMB_STRIDE] = True
        sub = sub.ravel()
        neurons = []
        feats = self.x_grid[sub].astype(np.float64)
        neurons.append([encode(f / max(np.abs(f).max(), 1e-12)) for f in feats.T])
        for h in hidden:
            h = h[sub].astype(np.float64)
            scale = max(float(np.abs(h).max()), 1.0)
            neurons.append([encode(col / scale) for col in h.T])
        # the output layer: one picture, or one per class (its softmax probability)
        neurons.append([encode(heat[sub])] if outputs is None else [encode(col[sub]) for col in outputs.T])
        frame: dict[str, Any] = {
            "type": "frame",
            "step": self.step_count,
            "epoch": round(self.epoch, 3),
            "train_loss": tr["loss"],
            "test_loss": te["loss"],
            "train_acc": tr.get("acc"),
            "test_acc": te.get("acc"),
            "heat": encode(heat),
            "heat_n": n,
            "thumb_n": n // THUMB_STRIDE,
            "neurons": neurons,
            "weights": [_round(lin.weight._data) for lin in self.linears],
            "biases": [_round(lin.bias._data) for lin in self.linears],
            "grad_norms": [_finite(g) for g in self.grad_norms],
            "edits": self.edits,
        }
        if cls is not None:
            frame["heat_cls"] = base64.b64encode(cls.astype(np.uint8).tobytes()).decode("ascii")
        return frame

    # -- export --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, cr.Tensor]:
        return self.model.state_dict()

    def script(self, weights_name: str) -> str:
        """A runnable chainrule script of this network.

        A runnable chainrule script that rebuilds this network, loads its weights and reports
        its test loss (and accuracy) on the playground's test points.
        """
        from chainrule.playground.export import script

        return script(self, weights_name)
