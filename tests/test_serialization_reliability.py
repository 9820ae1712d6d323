"""cr.save / cr.load under hostile files, crashes and unusual paths; whole objects behind
weights_only=False and file objects, as PyTorch 2.6+."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import safetensors.numpy as stn
import torch

import chainrule as cr
from chainrule import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _weights(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


# -- whole objects and weights_only ---------------------------------------------------------------
def test_whole_module_needs_weights_only_false_as_torch(tmp_path):
    model = _model()
    model(cr.randn(5, 3))
    path = tmp_path / "model.pt"
    cr.save(model, path)
    tpath = tmp_path / "torch.pt"
    torch.save(torch.nn.Linear(2, 2), tpath)
    with pytest.raises(pickle.UnpicklingError):  # PyTorch's default refuses a pickled module...
        torch.load(tpath)
    with pytest.raises(pickle.UnpicklingError, match=r"model\.pt.*weights_only=True.*arbitrary code"):
        cr.load(path)  # ... and so does ours, saying why and what to do
    back = cr.load(path, weights_only=False)
    assert type(back) is nn.Sequential and repr(back) == repr(model)
    for (k, a), b in zip(_weights(model).items(), _weights(back).values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    x = cr.randn(2, 3)
    model.eval(), back.eval()
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())


def test_checkpoint_mixing_weights_and_objects(tmp_path):
    model = _model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    ckpt = {"model": model.state_dict(), "optimizer": opt, "tags": {"a", "b"}, "z": np.ones(2, np.complex64)}
    path = tmp_path / "ck.safetensors"
    cr.save(ckpt, path)
    with pytest.raises(pickle.UnpicklingError, match=r"'optimizer', 'tags', 'z'"):
        cr.load(path)
    back = cr.load(path, weights_only=False)
    assert back["tags"] == {"a", "b"} and back["z"].dtype == np.complex64
    assert type(back["optimizer"]) is cr.optim.SGD and back["optimizer"].param_groups[0]["lr"] == 0.1
    # the tensors are still plain safetensors entries, readable by any safetensors reader
    raw = stn.load_file(str(path))
    np.testing.assert_array_equal(raw["model.0.weight"], model[0].weight.detach().numpy())


def test_file_objects_round_trip(tmp_path):
    sd = _model().state_dict()
    buf = io.BytesIO()
    cr.save(sd, buf)
    tbuf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, tbuf)  # the same call shape as PyTorch's
    buf.seek(0)
    back = cr.load(buf)
    assert list(back) == list(sd)
    with open(tmp_path / "f.safetensors", "wb") as f:
        cr.save({"w": cr.ones(2), "n": 3}, f)
    with open(tmp_path / "f.safetensors", "rb") as f:
        assert cr.load(f)["n"] == 3
    assert cr.load(tmp_path / "f.safetensors")["w"].tolist() == [1.0, 1.0]
    buf = io.BytesIO()
    cr.save(nn.Linear(2, 2), buf)
    buf.seek(0)
    assert isinstance(cr.load(buf, weights_only=False), nn.Linear)
    with open(tmp_path / "t.txt", "w") as f, pytest.raises(TypeError, match="binary mode"):
        cr.save({"w": cr.ones(2)}, f)
    with pytest.raises(TypeError, match="path or a binary file object"):
        cr.save({"w": cr.ones(2)}, 42)


# -- hostile files ------------------------------------------------------------------------------
def test_bf16_and_f8_files_raise_naming_the_file_and_dtype(tmp_path):
    import safetensors.torch as stt

    for dtype, name in ((torch.bfloat16, "BF16"), (torch.float8_e4m3fn, "F8_E4M3")):
        path = str(tmp_path / f"{name}.safetensors")
        stt.save_file({"w": torch.ones(2, dtype=dtype), "ok": torch.ones(2)}, path)
        with pytest.raises(RuntimeError, match=rf"load: '.*{name}\.safetensors'.*'w' \({name}\)"):
            cr.load(path)
        with open(path, "rb") as f, pytest.raises(RuntimeError, match=name):
            cr.load(f)


def _with_meta(path, meta: str):
    stn.save_file({"x": np.zeros(2, np.float32)}, str(path), metadata={"chainrule": meta})


@pytest.mark.parametrize(
    "meta",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"version": "1", "structure": None}),
        json.dumps({"version": True, "structure": None}),
        json.dumps({"version": 1}),
        json.dumps({"version": 1, "structure": {"$d": 5}}),
        json.dumps({"version": 1, "structure": {"$d": [[[1], 2]]}}),
        json.dumps({"version": 1, "structure": {"$d": [[1, 2, 3]]}}),
        json.dumps({"version": 1, "structure": {"$t": 5}}),
        json.dumps({"version": 1, "structure": {"$t": ["x"]}}),
        json.dumps({"version": 1, "structure": {"$l": {"a": 1}}}),
        json.dumps({"version": 1, "structure": {"$l": [1], "$tu": [2]}}),
        json.dumps({"version": 1, "structure": [1, 2]}),
        json.dumps({"version": 1, "structure": {"$zz": 1}}),
        '{"version": 1, "structure": ' + '{"$l": [' * 150 + "]}" * 150 + "}",  # nested within JSON's limit
        '{"version": 1, "structure": ' + '{"$l": [' * 100000 + "]}" * 100000 + "}",  # beyond it
    ],
    ids=lambda meta: meta[:40] + ("..." if len(meta) > 40 else ""),
)
def test_malformed_metadata_raises_a_clear_error_naming_the_file(tmp_path, meta):
    path = tmp_path / "bad.safetensors"
    _with_meta(path, meta)
    with pytest.raises(RuntimeError, match=r"load: '.*bad\.safetensors'") as err:
        cr.load(path)
    assert type(err.value) is RuntimeError  # not a RecursionError (a RuntimeError subclass)


def test_newer_format_version_is_refused_by_name(tmp_path):
    path = tmp_path / "new.safetensors"
    _with_meta(path, json.dumps({"version": 7, "structure": {"$t": "x"}}))
    with pytest.raises(RuntimeError, match=r"format version 7, newer than this reader's.*upgrade"):
        cr.load(path)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x01\x00", (2**63).to_bytes(8, "little") + b"{}", b"\x05" + b"\0" * 7],
    ids=["empty", "short", "huge-header", "truncated"],
)
def test_truncated_or_oversized_headers(tmp_path, data):
    path = tmp_path / "t.safetensors"
    path.write_bytes(data)
    with pytest.raises(RuntimeError, match="is not a valid safetensors file"):
        cr.load(path)
    with pytest.raises(RuntimeError, match="is not a valid safetensors file"):
        cr.load(io.BytesIO(data))


# -- atomic writes ------------------------------------------------------------------------------
_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    import safetensors.numpy as stn
    import chainrule as cr

    def half_then_die(arrays, path, metadata=None):
        with open(path, "wb") as f:
            f.write(b"partial")
            f.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    stn.save_file = half_then_die
    cr.save({{"w": cr.zeros(1000)}}, {target!r})
    """
)


def test_save_killed_mid_write_leaves_target_and_next_save_cleans_up(tmp_path):
    target = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(3)}, target)
    other = tmp_path / "other.safetensors"
    cr.save({"w": cr.ones(1)}, other)
    seen = set()
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER.format(root=ROOT, target=str(target))])
        assert proc.returncode == -9
        left = set(os.listdir(tmp_path)) - {"ckpt.safetensors", "other.safetensors"}
        assert len(left) == 1 and not left & seen  # each killed write's leftover was removed by the next
        seen |= left
    assert cr.load(target)["w"].tolist() == [1.0, 1.0, 1.0]  # ... and the target is intact
    cr.save({"w": cr.ones(1)}, other)  # a save to another target leaves them alone
    assert len(os.listdir(tmp_path)) == 3
    cr.save({"w": cr.full((3,), 2.0)}, target)  # the next save to that target removes them
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors", "other.safetensors"]
    assert cr.load(target)["w"].tolist() == [2.0, 2.0, 2.0]


def test_temp_file_of_a_live_writer_is_kept(tmp_path):
    from chainrule import serialization

    target = tmp_path / "live.safetensors"
    busy = tmp_path / (serialization._temp_prefix("live.safetensors") + f"{os.getpid()}.abcd.crtmp")
    busy.write_bytes(b"in progress")  # e.g. another thread of this process writing the same target
    cr.save({"w": cr.ones(1)}, target)
    assert busy.exists()


@pytest.mark.parametrize("length", [245, 250, 255])
def test_long_file_names(tmp_path, length):
    path = tmp_path / ("n" * (length - len(".safetensors")) + ".safetensors")
    assert len(path.name) == length
    cr.save({"w": cr.ones(2)}, path)
    cr.save({"w": cr.zeros(2)}, path)
    assert cr.load(path)["w"].tolist() == [0.0, 0.0]
    assert os.listdir(tmp_path) == [path.name]


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "real.safetensors"
    cr.save({"w": cr.ones(1)}, real)
    os.chmod(real, 0o640)
    link = tmp_path / "link.safetensors"
    link.symlink_to(real)
    cr.save({"w": cr.full((1,), 5.0)}, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert cr.load(real)["w"].tolist() == [5.0]
    assert (real.stat().st_mode & 0o777) == 0o640  # as open(path, 'wb'): the file keeps its permissions
    dangling = tmp_path / "dangling.safetensors"
    dangling.symlink_to(tmp_path / "new.safetensors")
    cr.save({"w": cr.ones(1)}, dangling)
    assert dangling.is_symlink() and cr.load(tmp_path / "new.safetensors")["w"].tolist() == [1.0]
    with pytest.raises(FileNotFoundError, match="no such directory"):
        cr.save({"w": cr.ones(1)}, tmp_path / "missing" / "x.safetensors")
