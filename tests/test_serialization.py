"""cr.save / cr.load: state dicts and nested checkpoints round trip exactly, files are plain
safetensors (readable by the safetensors package with the same keys), writes are atomic, and
loading never executes anything from the file."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import safetensors.numpy as stn

import chainrule as cr
from chainrule import nn
from tests.helpers import assert_close


def model():
    return nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


def test_state_dict_round_trip(tmp_path):
    m = model()
    m(cr.randn(4, 3))  # move BatchNorm's running statistics
    path = tmp_path / "model.safetensors"
    cr.save(m.state_dict(), path)
    sd = cr.load(path)
    assert list(sd) == list(m.state_dict())
    for k, v in m.state_dict().items():
        assert isinstance(sd[k], cr.Tensor)
        assert sd[k].dtype == v.dtype and sd[k].shape == v.shape, k
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
    assert sd["1.num_batches_tracked"].shape == () and sd["1.num_batches_tracked"].item() == 1
    m2 = model()
    m2.load_state_dict(sd)
    m.eval()
    m2.eval()
    x = cr.randn(2, 3)
    assert_close(m2(x), m(x).detach())


def test_file_is_plain_safetensors_with_the_same_keys(tmp_path):
    m = model()
    path = str(tmp_path / "m.safetensors")
    cr.save(m.state_dict(), path)
    raw = stn.load_file(path)
    assert sorted(raw) == sorted(m.state_dict())
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(raw[k], v.numpy())
    # and a file written by the safetensors package loads as a dict of Tensors
    other = str(tmp_path / "other.safetensors")
    stn.save_file({"a": np.arange(6, dtype=np.int32).reshape(2, 3), "b": np.ones(2, np.float16)}, other)
    loaded = cr.load(other)
    assert sorted(loaded) == ["a", "b"] and loaded["a"].dtype == np.int32 and loaded["b"].dtype == np.float16


def test_nested_checkpoint_round_trip(tmp_path):
    m = model()
    opt = cr.optim.Adam(m.parameters(), lr=1e-2)
    nn.functional.mse_loss(m(cr.randn(4, 3)), cr.zeros(4, 2)).backward()
    opt.step()
    ckpt = {
        "model": m.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "best": float("inf"),
        "lr": 1e-3,
        "name": "run-1",
        "done": False,
        "note": None,
        "history": [0.5, 0.25, {"val": (1, 2.5, "x")}],
        "by_int": {0: "zero", 7: cr.tensor([1.0, 2.0])},
        "array": np.arange(4),
        "rng": cr.get_rng_state(),
    }
    path = tmp_path / "ckpt.safetensors"
    cr.save(ckpt, path)
    back = cr.load(path)
    assert back["epoch"] == 3 and back["best"] == math.inf and back["lr"] == 1e-3
    assert back["name"] == "run-1" and back["done"] is False and back["note"] is None
    assert back["history"][:2] == [0.5, 0.25] and back["history"][2]["val"] == (1, 2.5, "x")
    assert back["by_int"][0] == "zero" and back["by_int"][7].tolist() == [1.0, 2.0]
    assert isinstance(back["array"], cr.Tensor) and back["array"].tolist() == [0, 1, 2, 3]
    assert back["rng"] == cr.get_rng_state()
    assert list(back["optimizer"]) == list(ckpt["optimizer"])
    # the optimizer resumes exactly where it left off
    opt2 = cr.optim.Adam(model().parameters(), lr=1e-2)
    m2 = model()
    m2.load_state_dict(back["model"])
    opt2 = cr.optim.Adam(m2.parameters(), lr=1e-2)
    opt2.load_state_dict(back["optimizer"])
    x = cr.randn(4, 3)
    for mm, oo in ((m, opt), (m2, opt2)):
        oo.zero_grad()
        nn.functional.mse_loss(mm(x), cr.zeros(4, 2)).backward()
        oo.step()
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_keys_that_collide_after_flattening(tmp_path):
    obj = {"a.b": cr.tensor([1.0]), "a": {"b": cr.tensor([2.0])}, "c": cr.tensor(3.0)}
    cr.save(obj, tmp_path / "x.safetensors")
    back = cr.load(tmp_path / "x.safetensors")
    assert back["a.b"].tolist() == [1.0] and back["a"]["b"].tolist() == [2.0] and back["c"].item() == 3.0
    cr.save(cr.tensor([[1, 2]]), tmp_path / "t.safetensors")
    assert cr.load(tmp_path / "t.safetensors").tolist() == [[1, 2]]


def test_unpicklable_objects_name_the_entry_and_leave_the_file_alone(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    cr.save({"epoch": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"save: can't save the function at 'extra.fn'.*can't be pickled"):
        cr.save({"epoch": 2, "extra": {"fn": lambda x: x}}, path)
    with pytest.raises(TypeError, match=r"save: can't save the generator at '<root>'"):
        cr.save((i for i in range(3)), path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]  # no temporary files left behind


def test_atomic_write_replaces_and_uses_normal_permissions(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    cr.save({"v": cr.tensor([1.0])}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.dirname(src), os.path.basename(dst)))
        assert os.path.exists(src) and src != str(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    cr.save({"v": cr.tensor([2.0])}, path)
    assert calls == [(str(tmp_path), "w.safetensors")]  # written beside the target, then renamed
    assert cr.load(path)["v"].tolist() == [2.0]

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        cr.save({"v": cr.tensor([3.0])}, path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert cr.load(path)["v"].tolist() == [2.0]
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]


def test_loading_never_executes_code(tmp_path):
    path = str(tmp_path / "evil.safetensors")
    structure = {"$d": [["x", {"$t": "x"}], ["cmd", "__import__('os').system('echo pwned')"]]}
    meta = {"chainrule": json.dumps({"version": 1, "structure": structure})}
    stn.save_file({"x": np.zeros(2, np.float32)}, path, metadata=meta)
    back = cr.load(path)
    assert back["cmd"] == "__import__('os').system('echo pwned')"  # just a string
    bad = {"chainrule": json.dumps({"version": 1, "structure": {"$t": "missing"}})}
    stn.save_file({"x": np.zeros(2, np.float32)}, path, metadata=bad)
    with pytest.raises(RuntimeError, match="load: the file's structure refers to a missing tensor 'missing'"):
        cr.load(path)
    with open(path, "wb") as f:
        f.write(b"\x80\x04not a safetensors file")
    with pytest.raises(RuntimeError, match="is not a valid safetensors file"):
        cr.load(path)
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "nope.safetensors")
