"""``cr.save(obj, path)`` / ``cr.load(path)``: state dicts and checkpoints in the safetensors format.

A file holds every tensor under a dotted key (``model.0.weight``, ``optimizer.state.0.exp_avg``)
and, in the safetensors metadata, the rest of the structure as JSON: dicts (with their key
types), lists, tuples, numbers, strings, booleans and None.  Nothing is pickled, so loading
a file never runs code from it.  A state dict saved with ``cr.save`` keeps its own keys, so
``safetensors.numpy.load_file`` (or any safetensors reader) sees ``{'0.weight': ..., ...}``.

Writes are atomic: the file is written to a temporary file in the same folder, flushed to
disk and renamed over the target, so a crash never leaves a half-written checkpoint.

Example::

    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.safetensors")
    ckpt = cr.load("ckpt.safetensors")
    model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from chainrule import backend
from chainrule.backend import np
from chainrule.tensor import Tensor

_META_KEY = "chainrule"
_FORMAT_VERSION = 1
_SUPPORTED_KINDS = "biuf"


def _encode(obj: Any, path: str, arrays: dict) -> Any:
    """The JSON-able description of ``obj``; its arrays go into ``arrays`` under dotted keys."""
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray) or backend.device_of(obj) == "cuda":
        arr = backend.to_numpy(obj._data if isinstance(obj, Tensor) else obj)
        if arr.dtype.kind not in _SUPPORTED_KINDS:
            raise TypeError(
                f"save: can't store an array of dtype {arr.dtype} at {path or '<root>'!r} "
                "(bool, integer and float dtypes are supported)"
            )
        key = path or "tensor"
        unique, n = key, 0
        while unique in arrays:
            n += 1
            unique = f"{key}#{n}"
        arrays[unique] = arr if arr.flags.c_contiguous else arr.copy(order="C")  # (keeps 0-d arrays 0-d)
        return {"$t": unique}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return _encode(obj.item(), path, arrays)
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, np.generic):
                k = k.item()
            if not (k is None or isinstance(k, (str, int, float, bool))):
                raise TypeError(
                    f"save: dict keys must be strings, numbers, booleans or None; got a "
                    f"{type(k).__name__} key at {path or '<root>'!r}"
                )
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), arrays)])
        return {"$d": items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, f"{path}.{i}" if path else str(i), arrays) for i, v in enumerate(obj)]
        return {"$tu": enc} if isinstance(obj, tuple) else {"$l": enc}
    raise TypeError(
        f"save: can't save an object of type {type(obj).__name__} at {path or '<root>'!r}; only tensors, "
        "arrays, numbers, strings, booleans, None and dicts/lists/tuples of them can be saved (no pickle)"
    )


def _decode(node: Any, arrays: dict, device: str | None) -> Any:
    if isinstance(node, dict):
        if "$t" in node:
            key = node["$t"]
            if key not in arrays:
                raise RuntimeError(f"load: the file's structure refers to a missing tensor {key!r}")
            arr = arrays[key]
            if device is not None and device != "cpu":
                arr = backend.to_device(arr, device)
            return Tensor._make(arr)
        if "$d" in node:
            return {k: _decode(v, arrays, device) for k, v in node["$d"]}
        if "$l" in node:
            return [_decode(v, arrays, device) for v in node["$l"]]
        if "$tu" in node:
            return tuple(_decode(v, arrays, device) for v in node["$tu"])
        raise RuntimeError(f"load: unrecognised entry in the file's structure: {sorted(node)}")
    return node


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (a tensor, a state dict, or nested dicts/lists/tuples of tensors, arrays,
    numbers, strings, booleans and None) to ``path`` in the safetensors format, atomically.

    Raises ``TypeError`` naming the offending entry for anything else (nothing is written then).
    """
    from safetensors.numpy import save_file as _st_save_file

    path = os.fspath(path)
    arrays: dict = {}
    structure = _encode(obj, "", arrays)
    metadata = {_META_KEY: json.dumps({"version": _FORMAT_VERSION, "structure": structure}), "format": "np"}
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        _st_save_file(arrays, tmp, metadata=metadata)  # streams to disk (no second copy in memory)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
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


def load(path: str | os.PathLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read what ``save`` wrote: the same structure, with Tensors for the arrays.

    A safetensors file written by another tool loads as a dict ``{key: Tensor}``.
    ``map_location='cuda'`` puts the tensors on the GPU.  No code from the file is ever executed.
    """
    from safetensors import SafetensorError, safe_open

    path = os.fspath(path)
    device = None if map_location is None else backend.normalize_device(map_location)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file {path!r}")
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
    except SafetensorError as e:
        raise RuntimeError(f"load: {path!r} is not a valid safetensors file ({e})") from None
    if _META_KEY not in metadata:
        return {k: _decode({"$t": k}, arrays, device) for k in arrays}
    try:
        info = json.loads(metadata[_META_KEY])
        structure = info["structure"]
    except (ValueError, KeyError, TypeError) as e:
        raise RuntimeError(f"load: {path!r} has corrupt chainrule metadata ({e})") from None
    return _decode(structure, arrays, device)
