"""Collation: a list of samples into one batch, as ``torch.utils.data``'s ``default_collate``.

``default_collate`` dispatches on the type of the first sample through ``default_collate_fn_map``
(type -> function, as PyTorch's ``torch.utils.data._utils.collate``); a custom collation can
extend it the PyTorch way:

    from chainrule.data.collate import collate, default_collate_fn_map

    def collate_str(batch, *, collate_fn_map=None):
        return "".join(batch)

    def my_collate(batch):
        return collate(batch, collate_fn_map={**default_collate_fn_map, str: collate_str})
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import get_default_dtype, np, xp_of
from chainrule.ops.creation import as_tensor
from chainrule.ops.elementwise import _promote_types
from chainrule.ops.shape import stack
from chainrule.tensor import Tensor

np_str_obj_array_pattern = re.compile(r"[SaUO]")

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_cupy(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "cupy"


def _shape_error(op: str, shapes: list, i: int) -> RuntimeError:
    return RuntimeError(
        f"{op}: cannot stack the batch: element {i} has shape {tuple(shapes[i])} but element 0 has shape "
        f"{tuple(shapes[0])}; samples must have equal shapes to be stacked (give the DataLoader a "
        "collate_fn that pads or crops them)"
    )


def _scalar_dtype(x: Any, i: int) -> np.dtype:
    """The dtype PyTorch infers for one number of a batch (``torch.tensor``'s rules)."""
    if isinstance(x, np.generic) and x.dtype.kind in "biufc":  # (np.float64 is also a Python float)
        return x.dtype
    if isinstance(x, bool):
        return np.dtype(np.bool_)
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return get_default_dtype()
    if isinstance(x, complex):
        return np.dtype(np.complex128 if get_default_dtype() == np.float64 else np.complex64)
    raise TypeError(
        f"default_collate: batch element {i} is a {type(x).__name__}, but element 0 is a number; "
        "a batch of numbers must hold only numbers"
    )


def _numbers(batch: Sequence, dtype: Any = None) -> Tensor:
    """A 1-D tensor of the numbers in ``batch``, of the dtype PyTorch infers unless given."""
    dt = None
    for i, x in enumerate(batch):
        dt = _promote_types(dt, _scalar_dtype(x, i))
    return Tensor._make(np.array(batch, dtype=dtype or dt))


def collate_tensor_fn(batch: Sequence, *, collate_fn_map: dict | None = None) -> Tensor:
    """Stack Tensors along a new first dimension (dtypes promoted as ``torch.stack``)."""
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"default_collate: batch element {i} is a {type(t).__name__}, but element 0 is a Tensor"
            )
        if t.shape != batch[0].shape:
            raise _shape_error("default_collate", [b.shape for b in batch], i)
    if any(t.requires_grad for t in batch):
        return stack(batch)  # recorded, so gradients reach the samples
    dtype = None
    for t in batch:
        dtype = _promote_types(dtype, t.dtype)
    xp = xp_of(batch[0]._data)
    return Tensor._make(xp.stack([t._data.astype(dtype, copy=False) for t in batch]))


def collate_numpy_array_fn(batch: Sequence, *, collate_fn_map: dict | None = None) -> Any:
    """Arrays become Tensors, then are stacked (string and object arrays are refused)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(_ERR.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: Sequence, *, collate_fn_map: dict | None = None) -> Tensor:
    """NumPy scalars become a 1-D Tensor of their (promoted) dtype."""
    return _numbers(batch)


def collate_float_fn(batch: Sequence, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python floats become a float64 Tensor (as PyTorch, whatever the default dtype)."""
    return _numbers(batch, np.float64)


def collate_int_fn(batch: Sequence, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python ints become an int64 Tensor (bools a bool Tensor; a float among them gives float32)."""
    return _numbers(batch)


def collate_str_fn(batch: Sequence, *, collate_fn_map: dict | None = None) -> Sequence:
    """Leave strings and bytes as they are.

    The batch itself is returned (a tuple for a field of tuple samples, as PyTorch).
    """
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch: Sequence, *, collate_fn_map: dict | None = None) -> Any:
    """Collate ``batch`` by the type of its first element, recursing into containers (as PyTorch).

    ``collate_fn_map`` maps a type (or tuple of types) to a function ``f(batch, *, collate_fn_map)``;
    the exact type is looked up first, then each key in order with ``isinstance``. Mappings are
    collated key by key, namedtuples field by field (same type back), other sequences position by
    position (a tuple comes back as a list, a list as a list).

    Args:
        batch: the samples (a non-empty list).
        collate_fn_map: the per-type functions (``default_collate_fn_map`` for ``default_collate``).

    Returns:
        The batch.

    Raises:
        TypeError: an element of a type the map does not handle.
        RuntimeError: sequences of different lengths, or Tensors/arrays of different shapes.
        KeyError: a mapping without a key the first one has.

    Example:
        >>> from chainrule.data.collate import collate, default_collate_fn_map
        >>> collate([(1, "a"), (2, "b")], collate_fn_map=default_collate_fn_map)
        [tensor([1, 2]), ('a', 'b')]
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        for i, d in enumerate(batch):
            missing = [k for k in elem if k not in d]
            if missing:
                raise KeyError(
                    f"default_collate: batch element {i} has no key {missing[0]!r} "
                    f"(element 0 has keys {list(elem)})"
                )
        fields = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        sizes = [len(e) for e in batch]
        if any(s != sizes[0] for s in sizes):
            raise RuntimeError(
                f"default_collate: each element in list of batch should be of equal size, got sizes {sizes}"
            )
        transposed = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = samples
                return clone
            return elem_type(transposed)
        except TypeError:
            return transposed
    if _is_cupy(elem):  # arrays of a 'cuda' dataset
        return collate([Tensor._make(b) for b in batch], collate_fn_map=collate_fn_map)
    raise TypeError(_ERR.format(elem_type))


def default_collate(batch: list) -> Any:
    """Merge a list of samples into a batch, exactly as PyTorch's ``default_collate``.

    - Tensor -> Tensor with a new first dimension (the batch); NumPy array -> Tensor, stacked;
    - Python ``int`` -> int64 Tensor, ``bool`` -> bool Tensor, ``float`` -> float64 Tensor;
      NumPy scalars -> Tensor of their dtype;
    - ``str`` / ``bytes`` -> the list unchanged;
    - ``Mapping`` -> same mapping type, each value collated; namedtuple -> same namedtuple;
      ``tuple`` -> a **list** of collated fields, ``list`` -> a list (PyTorch's choices).

    Args:
        batch: the samples, as a list.

    Returns:
        The batch.

    Raises:
        TypeError: an element that is none of the above (``None``, an arbitrary object, a string
            array).
        RuntimeError: samples of different shapes or sequence lengths (the message names the batch
            element); ``IndexError`` for an empty batch.

    Example:
        >>> xb, yb = cr.data.default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
        >>> xb.shape, yb
        ((2, 2), tensor([1, 0]))
    """
    if len(batch) == 0:
        raise IndexError("default_collate: got an empty batch")
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars into Tensors, inside containers too (as PyTorch's).

    The DataLoader applies it to each sample when batching is off (``batch_size=None``). String
    and object arrays, strings and other objects are returned unchanged; a tuple comes back as a
    list, a namedtuple as the same namedtuple.

    Args:
        data: one sample.

    Returns:
        The sample with its arrays as Tensors.

    Example:
        >>> cr.data.default_convert((np.arange(3), "a"))
        [tensor([0, 1, 2]), 'a']
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_", "string_"):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        if data.dtype.kind not in "biufc":
            raise TypeError(
                f"default_convert: cannot convert a NumPy {elem_type.__name__} of dtype {data.dtype}"
            )
        return Tensor._make(np.asarray(data))
    if _is_cupy(data):
        return Tensor._make(data)
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(d) for d in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(converted):
                    clone[i] = d
                return clone
            return elem_type(converted)
        except TypeError:
            return converted
    return data
