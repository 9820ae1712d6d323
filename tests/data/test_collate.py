"""default_collate / default_convert against PyTorch's on nested structures (compared as NumPy)."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
from chainrule.data import default_collate, default_convert
from chainrule.data.collate import collate, default_collate_fn_map

Point = namedtuple("Point", ["x", "y"])


def _to_torch(obj):
    """The same sample with chainrule Tensors turned into torch tensors."""
    if isinstance(obj, cr.Tensor):
        return torch.from_numpy(obj.numpy().copy())
    if isinstance(obj, dict):
        return type(obj)((k, _to_torch(v)) for k, v in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_torch(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch(v) for v in obj)
    return obj


def _same(ours, theirs, path="batch"):
    """Same structure, container types, values, shapes and dtypes."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), f"{path}: {type(ours).__name__} instead of a Tensor"
        expected = theirs.numpy()
        assert ours.shape == tuple(expected.shape), path
        assert ours.dtype == expected.dtype, f"{path}: {ours.dtype} vs {expected.dtype}"
        np.testing.assert_array_equal(ours.numpy(), expected, err_msg=path)
        return
    assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for k in theirs:
            _same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert ours == theirs, path


def _samples(i):
    rng = np.random.default_rng(i)
    return {
        "image": rng.standard_normal((2, 3)).astype(np.float32),
        "tensor": cr.tensor(rng.standard_normal(4).astype(np.float32)),
        "label": i,
        "weight": 0.5 * i,
        "flag": bool(i % 2),
        "np_scalars": (np.float32(i), np.int32(i), np.float16(i), np.uint8(i), np.bool_(i % 2)),
        "zero_d": np.array(float(i)),
        "name": f"s{i}",
        "raw": b"xy",
        "pair": (i, [i + 1.0, np.int64(i)]),
        "point": Point(np.full(2, i, np.int16), i),
        "ordered": OrderedDict([("b", i), ("a", np.arange(i, i + 2))]),
        "mixed_ints": [1, 2.5] if i else [2, 3.5],
    }


CASES = {
    "dict of everything": [_samples(i) for i in range(3)],
    "tuples become lists": [(np.ones(2, np.float32) * i, i, "t") for i in range(4)],
    "lists stay lists": [[i, float(i)] for i in range(3)],
    "ints": [1, 2, 3],
    "bools": [True, False],
    "int then float": [1, 2.5],
    "int then bool": [1, True],
    "floats": [1.0, 2],
    "numpy float32 then python float": [np.float32(1), 2.0],
    "numpy float32 then float64": [np.float32(1), np.float64(2)],
    "numpy float16 then python int": [np.float16(1), 3],
    "numpy int32 then python int": [np.int32(1), 3],
    "arrays of two dtypes": [np.zeros(2, np.float32), np.ones(2, np.int64)],
    "uint16 arrays": [np.array([1, 2], np.uint16)],
    "strings": ["a", "b"],
    "numpy strings": [np.str_("x"), np.str_("y")],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "nested namedtuple in list": [[Point(np.zeros(1), "a")], [Point(np.ones(1), "b")]],
}


@pytest.mark.parametrize("name", list(CASES))
def test_default_collate_matches_torch(name):
    batch = CASES[name]
    _same(default_collate(batch), tud.default_collate(_to_torch(batch)))


@pytest.mark.parametrize(
    "data",
    [
        np.arange(3),
        np.float32(2.5),
        (np.zeros(2), 1, "a"),
        [np.ones(1), np.int64(3)],
        {"a": np.arange(2), "b": (np.float64(1), "s")},
        Point(np.array(0), np.array(1.5)),
        np.array(["a", "b"]),
        "abc",
        7,
    ],
    ids=repr,
)
def test_default_convert_matches_torch(data):
    _same(default_convert(data), tud.default_convert(data))


def test_default_collate_stacks_tensors_and_keeps_gradients():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    out = default_collate([a, b])
    assert out.shape == (2, 2) and out.requires_grad
    (out * cr.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [3.0, 4.0]
    frozen = default_collate([cr.zeros(2), cr.ones(2, dtype=cr.float64)])
    assert frozen.dtype == np.float64 and not frozen.requires_grad


@pytest.mark.parametrize(
    ("batch", "error", "match"),
    [
        (
            [np.zeros(2), np.zeros(3)],
            RuntimeError,
            r"element 1 has shape \(3,\) but element 0 has shape \(2,\)",
        ),
        ([cr.zeros(2, 2), cr.zeros(2, 2), cr.zeros(2, 3)], RuntimeError, "element 2 has shape"),
        ([(np.zeros(2), 1), (np.zeros(3), 2)], RuntimeError, "element 1 has shape"),
        ([(1, 2), (1,)], RuntimeError, "equal size"),
        ([None, None], TypeError, "found <class 'NoneType'>"),
        ([object()], TypeError, "default_collate: batch must contain"),
        ([np.array(["a"])], TypeError, "found <U1"),
        ([1, "a"], TypeError, "batch element 1 is a str"),
        ([cr.zeros(1), 2], TypeError, "batch element 1 is a int"),
        ([{"a": 1}, {"b": 2}], KeyError, "batch element 1 has no key 'a'"),
        ([], IndexError, "empty batch"),
    ],
)
def test_default_collate_refuses_what_torch_refuses(batch, error, match):
    with pytest.raises(error, match=match):
        default_collate(batch)
    with pytest.raises(Exception):  # noqa: B017 - PyTorch refuses it too (its own error type)
        tud.default_collate(_to_torch(batch))


def test_collate_fn_map_extends_default_collation():
    def join(batch, *, collate_fn_map=None):
        return "".join(batch)

    out = collate([("a", 1), ("b", 2)], collate_fn_map={**default_collate_fn_map, str: join})
    assert out[0] == "ab" and out[1].tolist() == [1, 2]


def test_default_collate_follows_default_dtype():
    cr.set_default_dtype(cr.float64)
    try:
        assert default_collate([1, 2.5]).dtype == np.float64
    finally:
        cr.set_default_dtype(cr.float32)
    assert default_collate([1, 2.5]).dtype == np.float32
