"""cr.fit / evaluate / predict, History, metrics, progress display, train/eval modes."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset, datasets, transforms
from chainrule.train import metrics as M
from chainrule.train.loop import _Progress


def digits_split(seed=0):
    x, y = datasets.digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed).permutation(len(y))
    tr, va = order[:1400], order[1400:]
    scale = transforms.Standardize(axis=(0, 1)).fit(x[tr])
    return (scale(x[tr]), y[tr]), (scale(x[va]), y[va])


def mlp(n_in=64, hidden=64, n_out=10, p=0.0):
    layers = [nn.Linear(n_in, hidden), nn.ReLU()]
    if p:
        layers.append(nn.Dropout(p))
    return nn.Sequential(*layers, nn.Linear(hidden, n_out))


def test_fit_digits_reaches_95_percent_validation_accuracy():
    train, val = digits_split()
    model = mlp()
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    h = cr.fit(
        model,
        train,
        loss=nn.CrossEntropyLoss(),
        optimizer=opt,
        epochs=8,
        batch_size=32,
        validation=val,
        metrics=["accuracy"],
        progress=False,
    )
    assert isinstance(h, cr.train.History) and len(h) == 8
    assert set(h.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert h["val_accuracy"][-1] >= 0.95
    assert h["loss"][-1] < h["loss"][0] / 4
    # the recorded validation values are what evaluate() computes
    res = cr.evaluate(model, val, loss=nn.CrossEntropyLoss(), metrics=["loss", "accuracy"])
    assert list(res) == ["loss", "accuracy"]
    assert res["accuracy"] == pytest.approx(h["val_accuracy"][-1])
    assert res["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-5)


def test_fit_accepts_dataset_loader_and_tensors_and_validation_split():
    (x, y), _ = digits_split()
    for train in (
        TensorDataset(x, y),
        DataLoader(TensorDataset(x, y), batch_size=50, shuffle=True),
        (cr.tensor(x), cr.tensor(y)),
    ):
        model = mlp()
        h = cr.fit(
            model,
            train,
            loss=nn.CrossEntropyLoss(),
            optimizer=cr.optim.SGD(model.parameters(), lr=0.1),
            epochs=2,
            progress=False,
        )
        assert list(h.keys()) == ["loss"] and len(h["loss"]) == 2 and h["loss"][1] < h["loss"][0]
    model = mlp()
    h = cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=1,
        validation_split=0.25,
        metrics=["accuracy", "top3_accuracy"],
        progress=False,
    )
    assert {"val_loss", "val_accuracy", "val_top3_accuracy", "top3_accuracy"} <= set(h.keys())
    with pytest.raises(ValueError, match="not both"):
        cr.fit(
            model,
            (x, y),
            loss=nn.CrossEntropyLoss(),
            optimizer=cr.optim.Adam(model.parameters()),
            validation=(x, y),
            validation_split=0.2,
            progress=False,
        )


def test_fit_steps_the_optimizer_once_per_batch_like_a_manual_loop():
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    cr.manual_seed(1)
    a = nn.Linear(3, 1)
    cr.manual_seed(1)
    b = nn.Linear(3, 1)
    cr.fit(
        a,
        (x, y),
        loss=nn.MSELoss(),
        optimizer=cr.optim.SGD(a.parameters(), lr=0.05),
        epochs=3,
        batch_size=16,
        shuffle=False,
        progress=False,
    )
    opt = cr.optim.SGD(b.parameters(), lr=0.05)
    for _ in range(3):
        for i in range(0, 40, 16):
            opt.zero_grad()
            nn.MSELoss()(b(cr.tensor(x[i : i + 16])), cr.tensor(y[i : i + 16])).backward()
            opt.step()
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())


class ModeSpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, cr.is_grad_enabled()))
        return self.fc(x)


def test_train_and_eval_modes_switched():
    train, val = digits_split()
    model = ModeSpy()
    model.eval()
    cr.fit(
        model,
        train,
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        batch_size=700,
        validation=val,
        progress=False,
    )
    assert model.seen == [(True, True), (True, True), (False, False)]  # 2 train batches, 1 validation
    assert not model.training  # mode restored
    model.train()
    model.seen.clear()
    out = cr.predict(model, val[0], batch_size=300)
    assert model.seen == [(False, False), (False, False)] and model.training
    assert out.shape == (397, 10)
    model.eval()
    np.testing.assert_allclose(out.numpy(), model(cr.tensor(val[0])).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_predict_and_evaluate_inputs():
    model = mlp()
    (x, y), _ = digits_split()
    p1 = cr.predict(model, x[:10])
    p2 = cr.predict(model, TensorDataset(x[:10], y[:10]), batch_size=3)
    p3 = cr.predict(model, cr.tensor(x[:10]))
    np.testing.assert_allclose(p1.numpy(), p2.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p1.numpy(), p3.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="loss="):
        cr.evaluate(model, (x, y))
    with pytest.raises(ValueError, match="'loss' needs loss="):
        cr.evaluate(model, (x, y), metrics=["loss"])
    assert list(cr.evaluate(model, (x, y), metrics=["accuracy"])) == ["accuracy"]
    res = cr.evaluate(model, (x, y), loss=nn.CrossEntropyLoss(), metrics=["top2_accuracy", "loss"])
    assert list(res) == ["loss", "top2_accuracy"]


def test_metrics_values():
    out = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], np.float32)
    y = np.array([1, 1, 2, 2])
    assert M.accuracy(cr.tensor(out), cr.tensor(y)) == 0.5
    assert M.top_k_accuracy(out, y, k=2) == 0.75
    assert M.top_k_accuracy(out, y, k=3) == 1.0
    assert M.accuracy(out, np.eye(3)[y]) == 0.5  # one-hot targets
    binary = M.accuracy(np.array([[2.0], [-1.0], [0.5]]), np.array([[1.0], [0.0], [0.0]]))  # logits
    assert binary == pytest.approx(2 / 3)
    a, b = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 2.0])
    assert M.mse(a, b) == pytest.approx((0.25 + 4) / 3)
    assert M.mae(a, b) == pytest.approx(2.5 / 3)
    assert M.get_metric("top5_accuracy")[0] == "top5_accuracy"
    with pytest.raises(ValueError, match="unknown metric"):
        M.get_metric("f2")
    with pytest.raises(ValueError, match="does not go with"):
        M.accuracy(out, y[:3])


def test_callable_metric_and_regression():
    x, y = datasets.sine(n=128, noise=0.05)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))

    def max_error(out, target):
        return float(np.abs(out.numpy() - target.numpy()).max())

    h = cr.fit(
        model,
        (x, y),
        loss=nn.MSELoss(),
        optimizer=cr.optim.Adam(model.parameters(), lr=1e-2),
        epochs=40,
        batch_size=32,
        metrics=["mse", "mae", max_error],
        validation=(x, y),
        progress=False,
    )
    assert h["val_mse"][-1] == pytest.approx(h["val_loss"][-1], rel=1e-5)
    assert h["val_mse"][-1] < 0.05 and "max_error" in h and h["val_mae"][-1] <= h["val_max_error"][-1]


def test_nan_loss_stops_with_a_clear_error():
    model = mlp()
    (x, y), _ = digits_split()
    x = x.copy()
    x[5] = np.nan
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, batch 1"):
        cr.fit(
            model,
            (x, y),
            loss=nn.CrossEntropyLoss(),
            optimizer=cr.optim.SGD(model.parameters(), lr=0.1),
            progress=False,
            shuffle=False,
        )


def test_bad_batches_and_arguments():
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="Dataset, a DataLoader or an"):
        cr.fit(model, 42, loss=nn.CrossEntropyLoss(), optimizer=opt, progress=False)
    with pytest.raises(TypeError, match=r"tuple \(inputs..., target\)"):
        cr.fit(
            model,
            TensorDataset(np.zeros((4, 64), np.float32)),
            loss=nn.CrossEntropyLoss(),
            optimizer=opt,
            progress=False,
        )
    with pytest.raises(ValueError, match="scalar"):
        cr.fit(
            model,
            (np.zeros((4, 64), np.float32), np.zeros(4, np.int64)),
            loss=nn.CrossEntropyLoss(reduction="none"),
            optimizer=opt,
            progress=False,
        )


def test_history_indexing_and_plot(tmp_path):
    h = cr.train.History()
    h.append(0, {"loss": 1.0, "accuracy": 0.5})
    h.append(1, {"loss": 0.5, "accuracy": 0.7, "val_loss": 0.6})
    assert h["loss"] == [1.0, 0.5] and h.epoch == [0, 1]
    assert math.isnan(h["val_loss"][0]) and h["val_loss"][1] == 0.6
    assert "val_loss" in h and "val_accuracy" not in h
    with pytest.raises(KeyError, match="recorded"):
        h["val_accuracy"]
    from matplotlib.figure import Figure

    path = tmp_path / "sub" / "curves.png"
    fig = h.plot(path)
    assert isinstance(fig, Figure) and [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2  # train and validation loss
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    before = sorted(tmp_path.rglob("*"))
    assert isinstance(h.plot(), Figure) and sorted(tmp_path.rglob("*")) == before  # no path, no file
    with pytest.raises(ValueError, match="nothing recorded"):
        cr.train.History().plot(tmp_path / "empty.png")


def test_progress_plain_when_not_a_terminal(capsys):
    model = mlp()
    (x, y), _ = digits_split()
    cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=2,
        metrics=["accuracy"],
        progress=True,
    )
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2")
    assert "loss" in lines[0] and "accuracy" in lines[0]
    assert "\r" not in err
    cr.fit(
        model, (x, y), loss=nn.CrossEntropyLoss(), optimizer=cr.optim.Adam(model.parameters()), progress=False
    )
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_live_on_a_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    f = FakeTTY()
    bar = _Progress(1, epochs=3, total=4, file=f)
    assert bar.kind == "terminal"
    bar.start(1)
    for i in range(4):
        bar.update({"loss": 1.0 / (i + 1), "accuracy": 0.25 * i})
    bar.end(1, {"loss": 0.25, "accuracy": 0.75, "val_loss": 0.3})
    out = f.getvalue()
    assert "epoch 2/3" in out and "4/4" in out and "\r" in out
    assert "loss 0.2500" in out and "val_loss 0.3000" in out
    assert _Progress(1, 3, 4, file=io.StringIO()).kind == "lines"
