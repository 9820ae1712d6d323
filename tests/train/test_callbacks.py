"""Callbacks: EarlyStopping, ModelCheckpoint (and exact resume), LearningRateScheduler, CSVLogger."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.callbacks import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
)
from chainrule.data import DataLoader, TensorDataset, datasets, transforms


def data(n=300):
    x, y = datasets.digits()
    return x[:n], y[:n], x[n : n + 100], y[n : n + 100]


def model_fn():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))


def weights(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def scripted(key, values):
    """A callback (run first) that overwrites logs[key] with scripted values."""
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(key, values[epoch]))
    cb.order = -1
    return cb


def snapshots(store, model):
    """A callback keeping a copy of the weights after every epoch."""
    return LambdaCallback(on_epoch_end=lambda epoch, logs: store.append(weights(model)))


@pytest.mark.parametrize("restore", [False, True])
def test_early_stopping_stops_and_restores(restore):
    x, y, xv, yv = data()
    model = model_fn()
    snaps = []
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=restore)
    h = cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=20,
        validation=(xv, yv),
        progress=False,
        callbacks=[es, scripted("val_loss", [1.0, 0.5, 0.6, 0.7, 0.8] + [0.1] * 15), snapshots(snaps, model)],
    )
    # two epochs without improvement after the best (epoch 1): stop after epoch 3
    assert len(h) == 4 and es.stopped_epoch == 3 and es.best_epoch == 1 and es.best == 0.5
    assert h["val_loss"] == [1.0, 0.5, 0.6, 0.7]
    final = weights(model)
    expected = snaps[1] if restore else snaps[3]
    for k in final:
        np.testing.assert_array_equal(final[k], expected[k])
    assert not np.array_equal(snaps[1]["1.weight"], snaps[3]["1.weight"])


def test_early_stopping_min_delta_mode_and_missing_metric():
    x, y, xv, yv = data(100)
    model = model_fn()
    es = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.05)
    assert es.mode == "max"
    h = cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=10,
        validation=(xv, yv),
        metrics=["accuracy"],
        progress=False,
        callbacks=[es, scripted("val_accuracy", [0.5, 0.54, 0.9] + [0.95] * 7)],
    )
    assert len(h) == 2  # 0.54 is not better than 0.5 by more than 0.05
    with pytest.raises(KeyError, match="val_loss"):
        cr.fit(
            model,
            (x, y),
            loss=nn.CrossEntropyLoss(),
            optimizer=cr.optim.Adam(model.parameters()),
            progress=False,
            callbacks=[EarlyStopping()],
        )


def test_model_checkpoint_best_only_weights(tmp_path):
    x, y, xv, yv = data(100)
    model = model_fn()
    snaps = []
    ck = ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True, save_weights_only=True)
    cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=5,
        validation=(xv, yv),
        progress=False,
        callbacks=[ck, scripted("val_loss", [0.9, 0.4, 0.8, 0.3, 0.5]), snapshots(snaps, model)],
    )
    assert ck.saved == [str(tmp_path / "best.safetensors")] * 3
    fresh = model_fn()
    fresh.load_state_dict(cr.load(tmp_path / "best.safetensors"))
    for k, v in weights(fresh).items():
        np.testing.assert_array_equal(v, snaps[3][k])
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporaries


def test_model_checkpoint_path_template(tmp_path):
    x, y, xv, yv = data(100)
    model = model_fn()
    ck = ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{val_loss:.2f}.safetensors"))
    cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=2,
        validation=(xv, yv),
        progress=False,
        callbacks=[ck, scripted("val_loss", [0.5, 0.25])],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e01-0.50.safetensors", "e02-0.25.safetensors"]
    ckpt = cr.train.load_checkpoint(tmp_path / "e02-0.25.safetensors")
    assert ckpt["epoch"] == 1 and set(ckpt) >= {"model", "optimizer", "rng", "history", "callbacks"}
    with pytest.raises(ValueError, match="cannot fill in"):
        cr.fit(
            model,
            (x, y),
            loss=nn.CrossEntropyLoss(),
            optimizer=cr.optim.Adam(model.parameters()),
            progress=False,
            callbacks=[ModelCheckpoint(str(tmp_path / "{nope}.st"))],
        )


def _run(tmp_path, epochs, resume=None, with_checkpoints=True):
    """Training whose every epoch consumes the global RNG: shuffling, dropout and augmentation."""
    x, y, xv, yv = data()
    model = model_fn()
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    augment = transforms.Compose([transforms.RandomRotation(10), transforms.GaussianNoise(0.05)])
    train = DataLoader(TensorDataset(x, y, transform=augment), batch_size=32, shuffle=True)
    cbs = [
        LearningRateScheduler(sched),
        EarlyStopping(patience=10, restore_best_weights=True),
        CSVLogger(tmp_path / "log.csv"),
    ]
    if with_checkpoints:
        cbs.append(ModelCheckpoint(str(tmp_path / "ck{epoch}.safetensors")))
    h = cr.fit(
        model,
        train,
        loss=nn.CrossEntropyLoss(),
        optimizer=opt,
        epochs=epochs,
        validation=(xv, yv),
        metrics=["accuracy"],
        progress=False,
        callbacks=cbs,
        resume=resume,
    )
    return model, opt, h


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    cr.manual_seed(123)
    full_model, full_opt, full_h = _run(tmp_path, epochs=5)
    # a new process would start from any RNG state and fresh objects: resume after epoch 2
    cr.manual_seed(999)
    (tmp_path / "resumed").mkdir()
    resumed_model, resumed_opt, resumed_h = _run(
        tmp_path / "resumed", epochs=5, resume=tmp_path / "ck2.safetensors", with_checkpoints=False
    )
    assert resumed_h.epoch == [0, 1, 2, 3, 4]
    assert resumed_h.history == full_h.history
    assert resumed_opt.param_groups[0]["lr"] == full_opt.param_groups[0]["lr"] == 3e-3 * 0.25
    for (k, a), (_, b) in zip(full_model.state_dict().items(), resumed_model.state_dict().items()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=k)
    # the resumed run's CSV continues the interrupted one's epochs
    rows = list(csv.reader((tmp_path / "resumed" / "log.csv").open()))
    assert [r[0] for r in rows[1:]] == ["2", "3", "4"]
    # and resuming without RNG state restoration would differ (the test can fail)
    cr.manual_seed(999)
    ckpt = cr.train.load_checkpoint(tmp_path / "ck2.safetensors")
    ckpt["rng"] = (
        '{"bit_generator": "PCG64", "state": {"state": 1, "inc": 3}, "has_uint32": 0, "uinteger": 0}'
    )
    other_model, _, _ = _run(tmp_path / "resumed", epochs=5, resume=ckpt, with_checkpoints=False)
    assert not np.array_equal(
        other_model.state_dict()["1.weight"].detach().numpy(),
        full_model.state_dict()["1.weight"].detach().numpy(),
    )


def test_resume_needs_a_full_checkpoint(tmp_path):
    x, y, _, _ = data(50)
    model = model_fn()
    cr.save(model.state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="full training checkpoint"):
        cr.fit(
            model,
            (x, y),
            loss=nn.CrossEntropyLoss(),
            optimizer=cr.optim.Adam(model.parameters()),
            progress=False,
            resume=tmp_path / "w.safetensors",
        )


def test_learning_rate_scheduler_forms():
    x, y, xv, yv = data(64)
    model = model_fn()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    h = cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=opt,
        epochs=3,
        progress=False,
        callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))],
    )
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    h = cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=opt,
        epochs=3,
        progress=False,
        callbacks=[LearningRateScheduler(cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5))],
    )
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025]) and opt.param_groups[0]["lr"] == pytest.approx(0.0125)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    plateau = cr.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    h = cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=opt,
        epochs=3,
        progress=False,
        validation=(xv, yv),
        callbacks=[scripted("val_loss", [1.0, 1.0, 1.0]), LearningRateScheduler(plateau)],
    )
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05])
    with pytest.raises(TypeError, match="LearningRateScheduler"):
        LearningRateScheduler(0.1)


def test_csv_logger(tmp_path):
    x, y, xv, yv = data(64)
    model = model_fn()
    path = tmp_path / "logs" / "train.csv"
    h = cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=3,
        validation=(xv, yv),
        metrics=["accuracy"],
        progress=False,
        callbacks=[CSVLogger(path)],
    )
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert float(rows[3][3]) == h["val_loss"][2]
    # a new run overwrites; append=True continues
    cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=1,
        validation=(xv, yv),
        metrics=["accuracy"],
        progress=False,
        callbacks=[CSVLogger(path, append=True)],
    )
    assert len(list(csv.reader(path.open()))) == 5
    cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=1,
        progress=False,
        callbacks=[CSVLogger(path)],
    )
    assert list(csv.reader(path.open()))[0] == ["epoch", "loss"]


def test_callback_hooks_order_and_stop():
    x, y, _, _ = data(64)
    model = model_fn()
    calls = []

    class Recorder(cr.callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_batch_end(self, batch, logs=None):
            calls.append(f"batch {batch}")
            assert "loss" in logs

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch}")
            if epoch == 1:
                self.stop_training = True

        def on_train_end(self, logs=None):
            calls.append("train_end")
            assert self.history is self.trainer.history and self.model is model

    cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(model.parameters()),
        epochs=5,
        batch_size=32,
        progress=False,
        callbacks=[Recorder()],
    )
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch 0",
        "batch 1",
        "epoch_end 0",
        "epoch_begin 1",
        "batch 0",
        "batch 1",
        "epoch_end 1",
        "train_end",
    ]
