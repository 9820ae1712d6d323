"""What Keras users type: verbose, validation_data, initial_epoch, class_weight, steps_per_epoch,
losses and optimizers by name, TerminateOnNaN, ReduceLROnPlateau, per-batch callbacks and
schedules, and the epoch-level metrics (precision, recall, F1, AUC, confusion matrix).

Oracles: PyTorch for the numerics (losses, optimizer defaults, schedules) and scikit-learn for the
classification metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

import chainrule as cr
from chainrule import nn
from chainrule.train import metrics as M
from chainrule.train.names import LOSSES, OPTIMIZERS


def _data(n=40, d=5, c=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, c, n).astype(np.int64)
    return x, y


def _model(d=5, c=3):
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 8), nn.Tanh(), nn.Linear(8, c))


def _torch_copy(model):
    t = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    return t


def test_verbose_levels(capsys):
    x, y = _data()
    for verbose, lines in ((0, 0), (2, 2), (1, 2)):  # 1 on a non-terminal: one line per epoch
        model = _model()
        cr.fit(model, (x, y), loss="cross_entropy", optimizer="sgd", epochs=2, verbose=verbose)
        err = capsys.readouterr().err
        assert err.count("epoch ") == lines, (verbose, err)
    with pytest.raises(ValueError, match="verbose must be 0"):
        cr.fit(_model(), (x, y), loss="mse", optimizer="sgd", verbose=3)


def test_validation_data_is_validation():
    x, y = _data()
    h1 = cr.fit(_model(), (x, y), loss="cross_entropy", optimizer="sgd", validation_data=(x, y), verbose=0)
    h2 = cr.fit(_model(), (x, y), loss="cross_entropy", optimizer="sgd", validation=(x, y), verbose=0)
    assert h1["val_loss"] == h2["val_loss"]
    with pytest.raises(ValueError, match="not both"):
        cr.fit(_model(), (x, y), loss="mse", optimizer="sgd", validation=(x, y), validation_data=(x, y))


def test_initial_epoch():
    x, y = _data()
    h = cr.fit(_model(), (x, y), loss="cross_entropy", optimizer="sgd", epochs=3, initial_epoch=1, verbose=0)
    assert h.epoch == [1, 2]
    with pytest.raises(ValueError, match="initial_epoch"):
        cr.fit(_model(), (x, y), loss="mse", optimizer="sgd", initial_epoch=-1)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_class_weight_matches_torch(reduction):
    x, y = _data()
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    model = _model()
    tmodel = _torch_copy(model)
    cr.fit(
        model,
        (x, y),
        loss=nn.CrossEntropyLoss(reduction=reduction),
        optimizer=cr.optim.SGD(model.parameters(), lr=0.1),
        batch_size=len(x),
        shuffle=False,
        class_weight=weights,
        verbose=0,
    )
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    per_sample = torch.nn.functional.cross_entropy(tmodel(torch.tensor(x)), torch.tensor(y), reduction="none")
    w = torch.tensor([weights[int(c)] for c in y])
    total = (per_sample * w).sum()
    (total / len(x) if reduction == "mean" else total).backward()
    topt.step()
    for (k, v), tv in zip(model.state_dict().items(), tmodel.state_dict().values()):
        np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_class_weight_misuse():
    x, y = _data()
    with pytest.raises(TypeError, match="class_weight needs a loss module"):
        cr.fit(_model(), (x, y), loss=lambda o, t: o.sum(), optimizer="sgd", class_weight={0: 1.0})
    with pytest.raises(ValueError, match="no weight for class 2"):
        cr.fit(_model(), (x, y), loss="cross_entropy", optimizer="sgd", class_weight={0: 1.0, 1: 2.0})


def test_steps_per_epoch_streams_across_epochs():
    x, y = _data(n=10)
    sizes = []
    cb = cr.callbacks.LambdaCallback(on_batch_begin=lambda batch, logs: sizes.append(batch))
    seen = []
    cb2 = cr.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))
    model = _model()
    n_rows = []
    orig = model.forward
    model.forward = lambda inp: (n_rows.append(inp.shape[0]), orig(inp))[1]
    h = cr.fit(
        model,
        (x, y),
        loss="cross_entropy",
        optimizer="sgd",
        epochs=3,
        batch_size=4,
        steps_per_epoch=2,
        callbacks=[cb, cb2],
        verbose=0,
    )
    assert len(h) == 3 and sizes == [0, 1] * 3 and seen == sizes
    assert n_rows == [4, 4, 2, 4, 4, 2]  # the stream restarts the loader when it runs out
    with pytest.raises(ValueError, match="steps_per_epoch"):
        cr.fit(model, (x, y), loss="mse", optimizer="sgd", steps_per_epoch=0)


def test_loss_and_optimizer_names_have_torch_defaults():
    p = [torch.zeros(2, requires_grad=True)]
    for name, cls in OPTIMIZERS.items():
        ours = cr.train.names.get_optimizer(name, [cr.zeros(2, requires_grad=True)])
        assert type(ours).__name__ == cls
        theirs = getattr(torch.optim, cls)(p)
        for key in ("lr", "weight_decay", "eps"):
            if key in theirs.defaults:
                assert ours.param_groups[0][key] == pytest.approx(theirs.defaults[key]), (name, key)
    assert (
        cr.train.names.get_optimizer("Adam", [cr.zeros(2, requires_grad=True)], lr=0.5).param_groups[0]["lr"]
        == 0.5
    )
    for name, cls in LOSSES.items():
        assert type(cr.train.names.get_loss(name)).__name__ == cls


def test_fit_by_names_equals_fit_with_objects():
    x, y = _data()
    a, b = _model(), _model()
    cr.fit(a, (x, y), loss="cross_entropy", optimizer="adam", lr=0.01, epochs=2, shuffle=False, verbose=0)
    cr.fit(
        b,
        (x, y),
        loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.Adam(b.parameters(), lr=0.01),
        epochs=2,
        shuffle=False,
        verbose=0,
    )
    for va, vb in zip(a.state_dict().values(), b.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())


def test_names_misuse():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'.*cross_entropy"):
        cr.fit(model, (x, y), loss="crossentropy", optimizer="sgd")
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        cr.fit(model, (x, y), loss="mse", optimizer="adamm")
    with pytest.raises(ValueError, match="lr= sets the learning rate"):
        cr.fit(model, (x, y), loss="mse", optimizer=cr.optim.SGD(model.parameters()), lr=0.1)


def test_terminate_on_nan_stops_before_the_step():
    x, y = _data(n=12)
    x[5, 0] = np.nan  # second batch of 4
    model = _model()
    snapshots = []
    cb = cr.callbacks.LambdaCallback(
        on_batch_end=lambda b, logs: snapshots.append(
            {k: v.numpy().copy() for k, v in model.state_dict().items()}
        )
    )
    stop = cr.callbacks.TerminateOnNaN(verbose=False)
    h = cr.fit(
        model,
        (x, y),
        loss="cross_entropy",
        optimizer="sgd",
        epochs=3,
        batch_size=4,
        shuffle=False,
        callbacks=[cb, stop],
        verbose=0,
    )
    assert stop.stopped == (0, 1) and len(h) == 1 and math.isnan(h["loss"][0])
    for k, v in model.state_dict().items():  # the NaN batch took no step
        np.testing.assert_array_equal(v.numpy(), snapshots[0][k])
        assert np.isfinite(v.numpy()).all()
    with pytest.raises(FloatingPointError, match="TerminateOnNaN"):
        cr.fit(
            _model(), (x, y), loss="cross_entropy", optimizer="sgd", batch_size=4, shuffle=False, verbose=0
        )


def test_reduce_lr_on_plateau_callback_matches_torch():
    x, y = _data()
    model = _model()
    cb = cr.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    h = cr.fit(
        model,
        (x, y),
        loss="cross_entropy",
        optimizer="sgd",
        lr=2.0,  # too large: the validation loss stalls and bounces
        epochs=8,
        validation=(x[:10], y[:10]),
        callbacks=[cb],
        verbose=0,
    )
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5, patience=1)
    want = []
    for value in h["val_loss"]:
        want.append(topt.param_groups[0]["lr"])
        sched.step(value)
    assert h["lr"] == pytest.approx(want)
    assert min(h["lr"]) < 2.0  # the rule fired at least once
    with pytest.raises(ValueError, match="factor"):
        cr.callbacks.ReduceLROnPlateau(factor=2)


def test_one_cycle_per_batch_matches_torch():
    x, y = _data(n=20)
    model = _model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = cr.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=15)
    lrs = []
    cb = cr.callbacks.LambdaCallback(on_batch_begin=lambda b, logs: lrs.append(opt.param_groups[0]["lr"]))
    cr.fit(
        model,
        (x, y),
        loss="cross_entropy",
        optimizer=opt,
        epochs=3,
        batch_size=4,
        callbacks=[cb, cr.callbacks.LearningRateScheduler(sched, per_batch=True)],
        verbose=0,
    )
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.5, total_steps=15)
    want = []
    for _ in range(15):
        want.append(topt.param_groups[0]["lr"])
        topt.step()
        tsched.step()
    assert lrs == pytest.approx(want)
    with pytest.raises(ValueError, match="per_batch"):
        cr.callbacks.LearningRateScheduler(lambda e, lr: lr, per_batch=True)


def test_classification_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    out = rng.standard_normal((60, 4))
    t = rng.integers(0, 4, 60)
    pred = out.argmax(1)
    for avg in ("macro", "micro"):
        kw = dict(average=avg, zero_division=0)
        assert M.precision(out, t, avg) == pytest.approx(skm.precision_score(t, pred, **kw))
        assert M.recall(out, t, avg) == pytest.approx(skm.recall_score(t, pred, **kw))
        assert M.f1_score(out, t, avg) == pytest.approx(skm.f1_score(t, pred, **kw))
    np.testing.assert_array_equal(M.confusion_matrix(out, t), skm.confusion_matrix(t, pred, labels=range(4)))
    logits = np.round(rng.standard_normal(50), 1)  # ties included
    bt = rng.integers(0, 2, 50)
    assert M.roc_auc(logits, bt) == pytest.approx(skm.roc_auc_score(bt, logits))
    assert M.precision(logits, bt, "binary") == pytest.approx(skm.precision_score(bt, logits > 0))
    assert M.f1_score(logits, bt, "binary") == pytest.approx(skm.f1_score(bt, logits > 0))
    with pytest.raises(ValueError, match="both classes"):
        M.roc_auc(logits, np.ones(50))
    with pytest.raises(ValueError, match="average must be"):
        M.precision(out, t, "weighted")
    with pytest.raises(ValueError, match="class indices"):
        M.confusion_matrix(out, t + 4)


def test_epoch_metrics_are_over_the_whole_epoch_not_batch_means():
    x, y = _data(n=50)
    model = _model()
    names = ["precision", "recall", "f1", "f1_micro", "confusion_matrix"]
    res = cr.evaluate(model, (x, y), metrics=names, batch_size=7)
    pred = cr.predict(model, x).numpy().argmax(1)
    assert res["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro", zero_division=0))
    assert res["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro", zero_division=0))
    assert res["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0))
    assert res["f1_micro"] == pytest.approx(skm.f1_score(y, pred, average="micro"))
    np.testing.assert_array_equal(res["confusion_matrix"], skm.confusion_matrix(y, pred, labels=range(3)))
    h = cr.fit(
        model, (x, y), loss="cross_entropy", optimizer="sgd", metrics=["f1", "precision_micro"], verbose=0
    )
    assert 0 <= h["f1"][0] <= 1 and "precision_micro" in h
    with pytest.raises(ValueError, match="confusion_matrix"):
        cr.fit(model, (x, y), loss="cross_entropy", optimizer="sgd", metrics=["confusion_matrix"])


def test_binary_auc_in_fit_and_evaluate():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.standard_normal(64) > 0).astype(np.float32)
    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    h = cr.fit(
        model,
        (x, y[:, None]),
        loss="bce_with_logits",
        optimizer="adam",
        lr=0.05,
        epochs=5,
        metrics=["auc", "precision"],
        verbose=0,
    )
    assert h["auc"][-1] > 0.8
    res = cr.evaluate(model, (x, y[:, None]), metrics=["auc", "precision"], batch_size=10)
    scores = cr.predict(model, x).numpy().ravel()
    assert res["auc"] == pytest.approx(skm.roc_auc_score(y, scores))
    assert res["precision"] == pytest.approx(skm.precision_score(y, scores > 0))
