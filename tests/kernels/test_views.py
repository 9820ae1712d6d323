"""``kernels.views.broadcast`` against NumPy's ``broadcast_to``: the same view, values and errors."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels.views import broadcast, broadcast_reference

CASES = [
    ((), (32, 1)),
    ((), ()),
    ((1,), (5,)),
    ((3,), (2, 3)),
    ((2, 1), (2, 4)),
    ((1, 4), (3, 4)),
    ((2, 1, 3), (5, 2, 4, 3)),
    ((1,), (0,)),
    ((0, 3), (2, 0, 3)),
]


@pytest.mark.parametrize("have, want", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_same_view_as_numpy(have, want, dtype):
    x = np.asarray(np.arange(int(np.prod(have))).reshape(have) % 3, dtype=dtype)
    got, ref = broadcast(x, want), broadcast_reference(x, want)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)
    assert not got.flags.writeable  # writing one element would change many
    assert np.shares_memory(got, x) or got.size == 0
    x.flat[:] = x.flat[::-1] if x.size else x.flat[:]  # a view: later changes of x show through
    np.testing.assert_array_equal(got, broadcast_reference(x, want))


def test_numpy_scalar():
    got = broadcast(np.float32(2.5), (3, 2))
    np.testing.assert_array_equal(got, np.broadcast_to(np.float32(2.5), (3, 2)))
    assert got.dtype == np.float32 and not got.flags.writeable


def test_object_arrays_go_to_numpy():
    x = np.array([1, "a"], dtype=object)
    assert broadcast(x, (3, 2)).tolist() == [[1, "a"]] * 3


def test_non_contiguous_input_goes_to_numpy():
    x = np.arange(12.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(broadcast(x[:, :1], (3, 5)), np.broadcast_to(x[:, :1], (3, 5)))
    np.testing.assert_array_equal(broadcast(x.T[None], (2, 2, 3)), np.broadcast_to(x.T[None], (2, 2, 3)))


@pytest.mark.parametrize("have, want", [((3,), (4,)), ((2, 3), (3,)), ((2,), (3, -1)), ((2, 2), (2, 3))])
def test_shapes_that_do_not_broadcast_raise_as_numpy(have, want):
    x = np.zeros(have, np.float32)
    with pytest.raises(ValueError) as ours:
        broadcast(x, want)
    with pytest.raises(ValueError) as numpys:
        np.broadcast_to(x, want)
    assert str(ours.value) == str(numpys.value)
