"""``cr.save(obj, f)`` / ``cr.load(f)``: state dicts and checkpoints in the safetensors format.

A file holds every tensor under a dotted key (``model.0.weight``, ``optimizer.state.0.exp_avg``)
and, in the safetensors metadata, the rest of the structure as JSON: dicts (with their key
types), lists, tuples, numbers, strings, booleans and None.  Loading such a file never runs code
from it.  A state dict saved with ``cr.save`` keeps its own keys, so ``safetensors.numpy.load_file``
(or any safetensors reader) sees ``{'0.weight': ..., ...}``.

Other Python objects (a whole ``Module``, an optimizer, a function's result of any type) can be
saved too, as PyTorch 2.6+ allows: each is pickled into the file.  Unpickling can run arbitrary
code, so ``cr.load`` refuses such a file by default (``weights_only=True``) with an error naming
the entries; ``cr.load(f, weights_only=False)`` reads it back, for files from a trusted source.

``f`` is a path or a binary file object (``open(path, 'wb')``, ``io.BytesIO()``).

Writes to a path are atomic: the file is written to a temporary file in the same folder, flushed
to disk and renamed over the target, so a crash never leaves a half-written checkpoint.  A
temporary file left by a killed process is removed by the next save into that folder for the same
target.  A symlink is followed: its target is replaced, as ``open(path, 'wb')`` would write it.

Example::

    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.safetensors")
    ckpt = cr.load("ckpt.safetensors")
    model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])

    cr.save(model, "model.pt")                         # a whole module: pickled
    model = cr.load("model.pt", weights_only=False)    # only for files you trust
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import pickle
import secrets
import socket
import struct
from typing import Any

from chainrule import backend
from chainrule.backend import np
from chainrule.tensor import Tensor

_META_KEY = "chainrule"
_FORMAT_VERSION = 1  # files holding only tensors and plain data
_PICKLE_FORMAT_VERSION = 2  # files that also hold pickled objects ("$p" entries)
_SUPPORTED_KINDS = "biuf"
_READABLE_DTYPES = ("BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "F32", "F64")
_MAX_DEPTH = 100  # deeper structures are pickled on save and refused as corrupt on load
_MAX_HEADER = 100_000_000  # the safetensors format's own limit
_TMP_SUFFIX = ".crtmp"


def _where(path: str) -> str:
    return repr(path) if path else "'<root>'"


def _unique(arrays: dict, key: str) -> str:
    unique, n = key, 0
    while unique in arrays:
        n += 1
        unique = f"{key}#{n}"
    return unique


def _pickle(obj: Any, path: str, arrays: dict, pickled: list) -> dict:
    """Store ``obj`` pickled, as a uint8 array; the structure refers to it with ``{"$p": key}``."""
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # noqa: BLE001 - pickle raises many types (PicklingError, AttributeError, TypeError)
        raise TypeError(
            f"save: can't save the {type(obj).__name__} at {_where(path)}: it is not a tensor, array, "
            f"number, string, boolean, None or dict/list/tuple of them, and it can't be pickled ({e})"
        ) from None
    key = _unique(arrays, (path or "object") + "#pickle")
    arrays[key] = np.frombuffer(data, np.uint8)
    pickled.append(key)
    return {"$p": key}


def _encode(obj: Any, path: str, arrays: dict, pickled: list, depth: int = 0) -> Any:
    """The JSON-able description of ``obj``.

    The JSON-able description of ``obj``; its arrays go into ``arrays`` under dotted keys and
    anything else is pickled (listed in ``pickled``).
    """
    if depth > _MAX_DEPTH:
        return _pickle(obj, path, arrays, pickled)
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray) or backend.device_of(obj) == "cuda":
        arr = backend.to_numpy(obj._data if isinstance(obj, Tensor) else obj)
        if arr.dtype.kind not in _SUPPORTED_KINDS:  # e.g. complex: no safetensors dtype
            return _pickle(obj, path, arrays, pickled)
        key = _unique(arrays, path or "tensor")
        arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")  # (keeps 0-d arrays 0-d)
        return {"$t": key}
    if obj is None or isinstance(obj, (bool, str, int, float)):
        return obj
    if isinstance(obj, np.generic) and obj.dtype.kind in _SUPPORTED_KINDS:
        return _encode(obj.item(), path, arrays, pickled, depth)
    if isinstance(obj, (dict, list, tuple)):  # subclasses (OrderedDict, namedtuple) stored as the base type
        if isinstance(obj, dict):
            keys = [k.item() if isinstance(k, np.generic) else k for k in obj]
            if not all(k is None or isinstance(k, (str, int, float, bool)) for k in keys):
                return _pickle(obj, path, arrays, pickled)
            items = []
            for k, v in zip(keys, obj.values()):
                items.append([k, _encode(v, f"{path}.{k}" if path else str(k), arrays, pickled, depth + 1)])
            return {"$d": items}
        enc = [
            _encode(v, f"{path}.{i}" if path else str(i), arrays, pickled, depth + 1)
            for i, v in enumerate(obj)
        ]
        return {"$tu": enc} if isinstance(obj, tuple) else {"$l": enc}
    return _pickle(obj, path, arrays, pickled)


class _Reader:
    """Decodes a file's structure, checking every node (a hostile file gets a clear error)."""

    def __init__(self, name: str, arrays: dict, device: str | None, weights_only: bool):
        self.name, self.arrays, self.device, self.weights_only = name, arrays, device, weights_only
        self.refused: list = []

    def corrupt(self, why: str) -> RuntimeError:
        return RuntimeError(f"load: {self.name!r} has corrupt chainrule metadata: {why}")

    def array_key(self, value: Any, tag: str) -> str:
        if not isinstance(value, str):
            raise self.corrupt(f"a {tag!r} entry must name a tensor, got {type(value).__name__}")
        if value not in self.arrays:
            raise RuntimeError(
                f"load: the file's structure refers to a missing tensor {value!r} ({self.name!r})"
            )
        return value

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise self.corrupt(f"the structure is nested deeper than {_MAX_DEPTH} levels")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            shown = sorted(map(str, node)) if isinstance(node, dict) else type(node).__name__
            raise self.corrupt(f"unrecognised entry in the file's structure: {shown}")
        ((tag, value),) = node.items()
        if tag == "$t":
            arr = self.arrays[self.array_key(value, tag)]
            if self.device is not None and self.device != "cpu":
                arr = backend.to_device(arr, self.device)
            return Tensor._make(arr)
        if tag == "$p":
            key = self.array_key(value, tag)
            arr = self.arrays[key]
            if arr.dtype != np.uint8 or arr.ndim != 1:
                raise self.corrupt(f"the pickled entry {key!r} is not a 1-D uint8 array")
            if self.weights_only:  # only the classes and functions allowed by safe_globals
                try:
                    return _SafeUnpickler(io.BytesIO(arr.tobytes())).load()
                except _NotAllowed as e:
                    self.refused.append(f"{key.removesuffix('#pickle')} (needs {e})")
                    return None
            try:
                return pickle.loads(arr.tobytes())
            except Exception as e:  # noqa: BLE001 - unpickling raises anything the pickled code raises
                raise RuntimeError(
                    f"load: can't unpickle {key!r} of {self.name!r}: {type(e).__name__}: {e}"
                ) from e
        if tag in ("$l", "$tu", "$d") and not isinstance(value, list):
            raise self.corrupt(f"a {tag!r} entry must hold a list, got {type(value).__name__}")
        if tag == "$l":
            return [self.decode(v, depth + 1) for v in value]
        if tag == "$tu":
            return tuple(self.decode(v, depth + 1) for v in value)
        if tag == "$d":
            out = {}
            for item in value:
                if not (isinstance(item, list) and len(item) == 2):
                    raise self.corrupt("a '$d' entry must hold [key, value] pairs")
                k, v = item
                if not (k is None or isinstance(k, (str, int, float, bool))):
                    raise self.corrupt(
                        f"a dict key must be a string, number, boolean or null, got {type(k).__name__}"
                    )
                out[k] = self.decode(v, depth + 1)
            return out
        raise self.corrupt(f"unrecognised entry in the file's structure: {[tag]}")


def _file_mode(existing: str) -> int:
    """The permissions ``open(path, 'wb')`` would give: the existing file's, or 0o666 less the umask."""
    try:
        return os.stat(existing).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _temp_prefix(name: str) -> str:
    """Temporary files for target ``name``: ``.<hash of name>.<host>.`` (short whatever the name's length)."""
    tag = hashlib.sha1(os.fsencode(name)).hexdigest()[:16]
    host = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:4]
    return f".{tag}.{host}."


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _remove_stale(folder: str, prefix: str) -> None:
    """Delete temporary files for this target left by processes of this host that died mid-write."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for n in names:
        if n.startswith(prefix) and n.endswith(_TMP_SUFFIX):
            pid = n[len(prefix) :].split(".")[0]
            if pid.isdigit() and not _alive(int(pid)):
                try:
                    os.unlink(os.path.join(folder, n))
                except OSError:
                    pass


def _atomic_write(path: str, write) -> None:
    target = os.path.realpath(path)  # a symlink's target is replaced, as open(path, 'wb') would write it
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {path!r} is a directory")
    if os.path.exists(target) and not os.access(target, os.W_OK):  # open(path, 'wb') would refuse too
        raise PermissionError(errno.EACCES, f"save: {path!r} is not writable")
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: no such directory {folder!r} to write {path!r} into")
    prefix = _temp_prefix(name)
    _remove_stale(folder, prefix)
    tmp = os.path.join(folder, f"{prefix}{os.getpid()}.{secrets.token_hex(4)}{_TMP_SUFFIX}")
    mode = _file_mode(target)
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as e:  # name the target, not our temporary file
        raise type(e)(e.errno, f"save: can't write into {folder!r} to save {path!r}: {e.strerror}") from None
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def save(obj: Any, f: str | os.PathLike | io.IOBase) -> None:
    """Write ``obj`` to ``f`` (a path, atomically, or a binary file object) in the safetensors format.

    Tensors, arrays, numbers, strings, booleans, None and dicts/lists/tuples of them are stored
    as data; any other object (a whole Module, an optimizer) is pickled into the file, and
    reading it back then needs ``cr.load(f, weights_only=False)``.  An object that can't be
    pickled raises ``TypeError`` naming its entry (nothing is written then).

    Example::

        cr.save(model.state_dict(), "model.safetensors")
        buf = io.BytesIO(); cr.save({"w": cr.ones(2)}, buf)
    """
    from safetensors.numpy import save as _st_save
    from safetensors.numpy import save_file as _st_save_file

    is_file = hasattr(f, "write")
    if not is_file and not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    if isinstance(f, io.TextIOBase):
        raise TypeError("save: f is a text file; open it in binary mode ('wb')")
    arrays: dict = {}
    pickled: list = []
    structure = _encode(obj, "", arrays, pickled)
    version = _PICKLE_FORMAT_VERSION if pickled else _FORMAT_VERSION
    metadata = {_META_KEY: json.dumps({"version": version, "structure": structure}), "format": "np"}
    if is_file:
        f.write(_st_save(arrays, metadata=metadata))
        return
    _atomic_write(os.fsdecode(os.fspath(f)), lambda tmp: _st_save_file(arrays, tmp, metadata=metadata))


def _header(head: bytes, name: str) -> tuple[dict, dict]:
    """``(metadata, {key: safetensors dtype})`` from a safetensors header, checked."""
    try:
        header = json.loads(head)
    except (ValueError, RecursionError) as e:
        raise RuntimeError(f"load: {name!r} is not a valid safetensors file (bad header: {e})") from None
    if not isinstance(header, dict):
        raise RuntimeError(f"load: {name!r} is not a valid safetensors file (the header is not an object)")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise RuntimeError(f"load: {name!r} is not a valid safetensors file (bad __metadata__)")
    dtypes = {}
    for key, info in header.items():
        if not isinstance(info, dict):
            raise RuntimeError(f"load: {name!r} is not a valid safetensors file (bad entry {key!r})")
        dtypes[key] = info.get("dtype")
    bad = {k: d for k, d in dtypes.items() if d not in _READABLE_DTYPES}
    if bad:
        shown = ", ".join(f"{k!r} ({d})" for k, d in list(bad.items())[:5])
        raise RuntimeError(
            f"load: {name!r} holds tensors of a dtype chainrule can't read: {shown}; readable dtypes are "
            f"{', '.join(_READABLE_DTYPES)} (convert the file's tensors to float32 first)"
        )
    return metadata, dtypes


def _split(data: bytes, name: str) -> bytes:
    if len(data) < 8:
        raise RuntimeError(f"load: {name!r} is not a valid safetensors file (only {len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise RuntimeError(
            f"load: {name!r} is not a valid safetensors file (header size {n} is out of range)"
        )
    return data[8 : 8 + n]


def _read_path(path: str) -> tuple[dict, dict]:
    from safetensors import SafetensorError, safe_open

    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) == 8:
            (n,) = struct.unpack("<Q", head)
            head += fh.read(min(n, _MAX_HEADER + 1))
    metadata, _ = _header(_split(head, path), path)
    try:
        with safe_open(path, framework="numpy") as f:
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
    except SafetensorError as e:
        raise RuntimeError(f"load: {path!r} is not a valid safetensors file ({e})") from None
    return metadata, arrays


def _read_bytes(data: bytes, name: str) -> tuple[dict, dict]:
    from safetensors import SafetensorError
    from safetensors.numpy import load as _st_load

    metadata, _ = _header(_split(data, name), name)
    try:
        arrays = _st_load(data)
    except SafetensorError as e:
        raise RuntimeError(f"load: {name!r} is not a valid safetensors file ({e})") from None
    return metadata, arrays


def load(f: str | os.PathLike | io.IOBase, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read what ``save`` wrote.

    Read what ``save`` wrote from ``f`` (a path or a binary file object): the same structure,
    with Tensors for the arrays.

    A safetensors file written by another tool loads as a dict ``{key: Tensor}``.
    ``map_location='cuda'`` puts the tensors on the GPU.  With ``weights_only=True`` (the default)
    no code from the file is ever executed, and a file holding pickled objects (a whole Module)
    raises ``pickle.UnpicklingError`` naming them; ``weights_only=False`` unpickles them (only
    for files from a trusted source).  A malformed file, a format version newer than this
    reader, or a dtype it can't hold (BF16, F8) raise an error naming the file.

    Example::

        sd = cr.load("model.safetensors")
        model = cr.load("model.pt", weights_only=False)   # a whole module saved with cr.save(model, ...)
    """
    device = None if map_location is None else backend.normalize_device(map_location)
    if hasattr(f, "read"):
        name = str(getattr(f, "name", "<file object>"))
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("load: f is a text file; open it in binary mode ('rb')")
        metadata, arrays = _read_bytes(bytes(data), name)
    elif isinstance(f, (str, bytes, os.PathLike)):
        name = os.fsdecode(os.fspath(f))
        if not os.path.exists(name):
            raise FileNotFoundError(f"load: no such file {name!r}")
        metadata, arrays = _read_path(name)
    else:
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    reader = _Reader(name, arrays, device, weights_only)
    if _META_KEY not in metadata:
        return {k: reader.decode({"$t": k}) for k in arrays}
    try:
        info = json.loads(metadata[_META_KEY])
    except (ValueError, RecursionError) as e:
        raise reader.corrupt(f"not valid JSON ({type(e).__name__})") from None
    if not isinstance(info, dict) or "structure" not in info:
        raise reader.corrupt("expected an object with 'version' and 'structure'")
    version = info.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise reader.corrupt(f"the format version must be a positive int, got {version!r}")
    if version > _PICKLE_FORMAT_VERSION:
        raise RuntimeError(
            f"load: {name!r} was written in chainrule file format version {version}, newer than this "
            f"reader's ({_PICKLE_FORMAT_VERSION}); upgrade chainrule to read it"
        )
    out = reader.decode(info["structure"])
    if reader.refused:
        raise pickle.UnpicklingError(
            f"load: {name!r} holds pickled Python objects (at {', '.join(map(repr, reader.refused))}), which "
            "weights_only=True refuses because unpickling can run arbitrary code. If you trust the source of "
            "the file, load it with cr.load(f, weights_only=False), or allow the classes it needs with "
            "cr.serialization.safe_globals([...]); to share weights only, save model.state_dict() instead "
            "of the model."
        )
    return out


# -- weights_only=True with allowed classes (as PyTorch's torch.serialization.safe_globals) -------

_SAFE_GLOBALS: list = []
# what pickled tensors, parameters and plain containers need: data, never code of the file's choosing
_ALWAYS_SAFE = {
    ("chainrule.tensor", "_rebuild_tensor"),
    ("chainrule.nn.module", "_rebuild_parameter"),
    ("collections", "OrderedDict"),
    ("numpy", "dtype"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "complex"),
}


class _NotAllowed(Exception):
    pass


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles only the globals in ``_ALWAYS_SAFE`` and those the user allowed."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = {
            (getattr(g, "__module__", None), getattr(g, "__qualname__", None)): g for g in _SAFE_GLOBALS
        }
        if (module, name) in allowed:
            return allowed[(module, name)]
        if (module, name) in _ALWAYS_SAFE or module.startswith("numpy.dtypes"):
            return super().find_class(module, name)
        raise _NotAllowed(f"{module}.{name}")


def add_safe_globals(safe_globals: list) -> None:
    """Allow ``cr.load(..., weights_only=True)`` to rebuild these classes and functions (as PyTorch).

    Example::

        cr.serialization.add_safe_globals([MyModel, cr.nn.Linear])
        model = cr.load("model.pt")
    """
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals() -> list:
    """The classes and functions ``add_safe_globals`` allowed."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every class and function ``add_safe_globals`` allowed."""
    _SAFE_GLOBALS.clear()


class safe_globals:
    """Context manager: inside it, ``cr.load(..., weights_only=True)`` may also rebuild ``safe_globals``.

    Example::

        with cr.serialization.safe_globals([MyModel, cr.nn.Linear, cr.nn.LSTM]):
            model = cr.load("model.pt")
    """

    def __init__(self, safe_globals: list):
        self.globals = list(safe_globals)

    def __enter__(self) -> safe_globals:
        self._before = len(_SAFE_GLOBALS)
        _SAFE_GLOBALS.extend(self.globals)
        return self

    def __exit__(self, *exc: Any) -> bool:
        del _SAFE_GLOBALS[self._before :]
        return False
