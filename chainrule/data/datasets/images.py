"""Image data sets: the bundled 8x8 digits, and readers of the MNIST (IDX) and CIFAR-10 formats.

All return float32 images of shape (N, C, H, W) scaled to [0, 1] (``normalize=False`` keeps
the raw uint8 values) and int64 labels.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import pickle
from pathlib import Path
from typing import Any

from chainrule.backend import np

FILES = Path(__file__).resolve().parent.parent / "files"


def cache_root() -> Path:
    r"""The folder downloaded data sets go to.

    Where downloaded data sets go: ``$CHAINRULE_DATA`` (``$CHAINRULE_CACHE``, its older name, is
    read too), else the platform's cache folder (``~/.cache/chainrule`` on Linux,
    ``~/Library/Caches/chainrule`` on macOS, ``%LOCALAPPDATA%\chainrule\chainrule\Cache`` on Windows).
    """
    for var in ("CHAINRULE_DATA", "CHAINRULE_CACHE"):
        env = os.environ.get(var)
        if env:
            return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("chainrule"))


def _download(name: str, root: Any) -> Path:
    from chainrule.data.fetch import fetch

    return fetch(name, root)


# ----------------------------------------------------------------------------------------
# digits (bundled)
# ----------------------------------------------------------------------------------------

_digits_cache: tuple | None = None


def digits(normalize: bool = True) -> tuple:
    """The 1797 8x8 handwritten digits (UCI, via scikit-learn; shipped with chainrule).

    Returns ``(x, y)``: x float32 (1797, 1, 8, 8) in [0, 1] (pixel counts 0..16 divided by 16;
    ``normalize=False`` gives the counts as uint8), y int64 (1797,) in 0..9. No test split:
    use ``cr.data.random_split`` or slice. Licence and attribution:
    ``chainrule/data/files/DIGITS-ATTRIBUTION.txt``.
    """
    global _digits_cache
    if _digits_cache is None:
        path = FILES / "digits.csv.gz"
        if not path.exists():
            raise FileNotFoundError(f"digits: the bundled data file {path} is missing; reinstall chainrule")
        with gzip.open(path, "rt") as f:
            table = np.array([line.split(",") for line in f.read().split()], dtype=np.float64)
        if table.shape != (1797, 65):
            raise ValueError(f"digits: {path} has shape {table.shape}, expected (1797, 65)")
        _digits_cache = (table[:, :64].astype(np.uint8).reshape(-1, 1, 8, 8), table[:, 64].astype(np.int64))
    x, y = _digits_cache
    x = (x.astype(np.float32) / 16.0) if normalize else x.copy()
    return x, y.copy()


# ----------------------------------------------------------------------------------------
# IDX (MNIST, Fashion-MNIST)
# ----------------------------------------------------------------------------------------

_IDX_TYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_maybe_gz(path: Path) -> bytes:
    raw = Path(path).read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def parse_idx(content: bytes, name: str = "IDX data") -> Any:
    """Decode the bytes of an IDX file (magic ``00 00 <type> <ndim>``, big-endian dims, data)."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: {name} is not an IDX file (magic number {content[:4].hex() or 'empty'}; "
            "expected 0000 then a type code 08/09/0b/0c/0d/0e and the number of dimensions)"
        )
    dtype, ndim = np.dtype(_IDX_TYPES[content[2]]), content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError(f"read_idx: {name} is truncated: {len(content)} bytes, header needs {header}")
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    size = math.prod(shape) * dtype.itemsize  # Python ints: a forged header can't overflow to a small size
    if len(content) - header != size:
        raise ValueError(
            f"read_idx: {name} has {len(content) - header} data bytes but its header "
            f"declares shape {shape} of {dtype} ({size} bytes)"
        )
    arr = np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> Any:
    """Read an IDX file (gzipped or not) into a NumPy array."""
    return parse_idx(_read_maybe_gz(Path(path)), name=str(path))


_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _find_files(name: str, root: Any, subdir: str, bases, suffixes, get_hint: str) -> list[Path]:
    base = Path(root).expanduser() if root is not None else cache_root() / subdir
    folders = [base, base / subdir] if root is not None else [base]
    for folder in folders:
        found = []
        for b in bases:
            hit = next((folder / (b + s) for s in suffixes if (folder / (b + s)).is_file()), None)
            found.append(hit)
        if all(found):
            return found
    missing = [b for b in bases if not any((f / (b + s)).is_file() for f in folders for s in suffixes)]
    looked = " or ".join(str(f) for f in folders)
    raise FileNotFoundError(f"{name}: missing {', '.join(missing)} (raw or .gz) in {looked}. {get_hint}")


def _load_idx_set(name: str, root: Any, subdir: str, hint: str, normalize: bool) -> tuple:
    paths = _find_files(name, root, subdir, _IDX_FILES, ("", ".gz"), hint)
    arrays = [read_idx(p) for p in paths]
    out = []
    for (images, labels), split in ((arrays[0:2], "train"), (arrays[2:4], "t10k")):
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{name}: {split} images of shape {images.shape} do not go with labels of "
                f"shape {labels.shape} (expected (N, H, W) and (N,))"
            )
        x = images[:, None].astype(np.float32) if normalize else images[:, None].copy()
        if normalize:
            x /= 255.0  # in place: one 188 MB array for the MNIST training images, not two
        out.append((x, labels.astype(np.int64)))
    return tuple(out)


def _get_hint(name: str) -> str:
    return (
        f"Pass download=True or run `chainrule data get {name}` (into {cache_root() / name}), "
        "or pass root= a folder holding them."
    )


def mnist(root: str | os.PathLike | None = None, normalize: bool = True, download: bool = False) -> tuple:
    """MNIST from its four IDX files (raw or .gz) in ``root`` (or ``root/mnist``).

    Default ``root``: the data cache (``cache_root() / 'mnist'``). ``download=True`` fetches the
    files first when they are not there (``chainrule.data.fetch.fetch``: HTTP mirrors, sha256,
    offline fallbacks). Returns ``(x_train, y_train), (x_test, y_test)``: x float32
    (N, 1, 28, 28) in [0, 1], y int64 in 0..9 (60000 train, 10000 test).
    Data © Y. LeCun and C. Cortes, CC BY-SA 3.0.

    Example (downloads 11 MB on the first call, so not run as a doctest)::

        (x, y), (x_test, y_test) = cr.data.datasets.mnist(download=True)
        x.shape, y.shape        # ((60000, 1, 28, 28), (60000,))
    """
    if download:
        root = _download("mnist", root)
    return _load_idx_set("mnist", root, "mnist", _get_hint("mnist"), normalize)


def fashion_mnist(
    root: str | os.PathLike | None = None, normalize: bool = True, download: bool = False
) -> tuple:
    """Fashion-MNIST: 28×28 grey images of clothes in 10 classes.

    Fashion-MNIST (Zalando, MIT licence), same layout, ``download`` and return values as
    ``mnist``; default ``root``: ``cache_root() / 'fashion-mnist'``. Classes: ``FASHION_CLASSES``.
    """
    if download:
        root = _download("fashion-mnist", root)
    hint = _get_hint("fashion-mnist") + " (e.g. /usr/share/datasets/fashion-mnist)"
    return _load_idx_set("fashion_mnist", root, "fashion-mnist", hint, normalize)


def kmnist(root: str | os.PathLike | None = None, normalize: bool = True, download: bool = False) -> tuple:
    """Kuzushiji-MNIST: 28×28 grey images of cursive hiragana in 10 classes.

    Kuzushiji-MNIST (cursive Japanese hiragana, ROIS-DS CODH, CC BY-SA 4.0), same layout,
    ``download`` and return values as ``mnist``; default ``root``: ``cache_root() / 'kmnist'``.
    Classes: ``KMNIST_CLASSES``.
    """
    if download:
        root = _download("kmnist", root)
    return _load_idx_set("kmnist", root, "kmnist", _get_hint("kmnist"), normalize)


KMNIST_CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")


FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# ----------------------------------------------------------------------------------------
# CIFAR-10 (python pickle batches) with a restricted unpickler
# ----------------------------------------------------------------------------------------

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"cifar10: refusing to rebuild an array of type {subtype!r}")
    # NumPy pickles an empty placeholder and then its data; a declared size here would be
    # allocated (uninitialised) without any bytes behind it
    if not isinstance(shape, tuple) or math.prod(int(d) for d in shape) != 0:
        raise pickle.UnpicklingError(
            f"cifar10: an array declared with shape {shape!r} before its data (NumPy declares an empty "
            "placeholder); refusing a size the file's bytes don't back"
        )
    return np.ndarray.__new__(np.ndarray, (0,), dtype)


def _frombuffer(buf, dtype, shape, order):
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise pickle.UnpicklingError(f"cifar10: refusing an array of dtype {dtype!r}")
    return np.frombuffer(bytes(buf), dtype=dtype).reshape(shape, order=order).copy()


def _dtype(spec, align=False, copy=False):
    dt = np.dtype(spec, align=bool(align), copy=bool(copy))
    if dt.hasobject:
        raise pickle.UnpicklingError(f"cifar10: refusing the object dtype {spec!r}")
    return dt


def _latin1_encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"cifar10: refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "bytearray"): bytearray,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds only plain data.

    An unpickler that rebuilds only plain NumPy arrays, numbers, strings, bytes, lists, tuples
    and dicts: any other global (a class or function a pickle could call) is refused.
    """

    def find_class(self, module: str, name: str):
        fn = _ALLOWED_GLOBALS.get((module, name))
        if fn is None:
            raise pickle.UnpicklingError(
                f"cifar10: refusing to load the global {module}.{name}: only plain arrays, lists, bytes and "
                "dicts are accepted (a pickle naming other objects could run arbitrary code)"
            )
        return fn


def _check_plain(obj, depth: int = 0):
    if depth > 20:
        raise pickle.UnpicklingError("cifar10: nesting too deep")
    if isinstance(obj, np.ndarray):
        if type(obj) is not np.ndarray or obj.dtype.hasobject:
            raise pickle.UnpicklingError(f"cifar10: refusing an array of type {type(obj)}, dtype {obj.dtype}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_plain(k, depth + 1)
            _check_plain(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _check_plain(v, depth + 1)
    elif not isinstance(obj, (int, float, str, bytes, bytearray, bool, type(None), np.dtype)):
        raise pickle.UnpicklingError(f"cifar10: refusing an object of type {type(obj).__name__}")


def safe_unpickle(data: bytes) -> Any:
    """Load a pickle of plain data (see ``RestrictedUnpickler``), with Python 2 strings as bytes."""
    obj = RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    _check_plain(obj)
    return obj


def load_cifar_batch(path: str | os.PathLike) -> tuple:
    """One CIFAR-10 python batch file -> (uint8 images (N, 3, 32, 32), int64 labels (N,))."""
    try:
        batch = safe_unpickle(Path(path).read_bytes())
    except pickle.UnpicklingError as e:
        raise pickle.UnpicklingError(f"cifar10: {path}: {str(e).removeprefix('cifar10: ')}") from None
    except (ValueError, TypeError, EOFError, IndexError, KeyError) as e:
        # e.g. an array whose declared shape does not match the bytes present
        raise ValueError(f"cifar10: {path} is not a valid CIFAR-10 batch ({type(e).__name__}: {e})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"cifar10: {path} holds a {type(batch).__name__}, expected a dict")
    get = lambda key: batch.get(key.encode(), batch.get(key))  # noqa: E731
    data, labels = get("data"), get("labels")
    if data is None or labels is None:
        raise ValueError(
            f"cifar10: {path} has keys {sorted(map(repr, batch))}, expected b'data' and b'labels'"
        )
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != len(labels):
        raise ValueError(
            f"cifar10: {path}: data of shape {data.shape} with {len(labels)} labels, "
            "expected (N, 3072) and N labels"
        )
    return data.astype(np.uint8).reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def cifar10(root: str | os.PathLike | None = None, normalize: bool = True, download: bool = False) -> tuple:
    """CIFAR-10: 32×32 colour images in 10 classes.

    CIFAR-10 from the python-pickle batches (``data_batch_1``..``5``, ``test_batch``) in ``root``
    (or ``root/cifar-10-batches-py``), read with a restricted unpickler that never runs code.

    Default ``root``: ``cache_root() / 'cifar10'``; ``download=True`` fetches and extracts
    ``cifar-10-python.tar.gz`` (163 MB, sha256-checked) first when the batches are not there.
    Returns ``(x_train, y_train), (x_test, y_test)``: x float32 (N, 3, 32, 32) in [0, 1],
    y int64 in 0..9 (classes: ``CIFAR10_CLASSES``).
    """
    if download:
        root = _download("cifar10", root)
    names = list(CIFAR10_FILES)
    hint = _get_hint("cifar10") + " (the cifar-10-batches-py folder of cifar-10-python.tar.gz)"
    base = Path(root).expanduser() if root is not None else cache_root() / "cifar10"
    folders = [base, base / "cifar-10-batches-py"]
    folder = next((f for f in folders if all((f / n).is_file() for n in names)), None)
    if folder is None:
        missing = [n for n in names if not any((f / n).is_file() for f in folders)]
        looked = " or ".join(str(f) for f in folders)
        raise FileNotFoundError(f"cifar10: missing {', '.join(missing)} in {looked}. {hint}")
    parts = [load_cifar_batch(folder / n) for n in names]
    x_train = np.concatenate([p[0] for p in parts[:5]])
    y_train = np.concatenate([p[1] for p in parts[:5]])
    x_test, y_test = parts[5]
    if normalize:
        x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
        x_train /= 255.0
        x_test /= 255.0
    return (x_train, y_train), (x_test, y_test)
