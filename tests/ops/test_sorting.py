"""Sorting and sets against PyTorch: values (with gradients to the picked entries) and indices."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import check, gradcheck_op

ties = np.array([[3, 1, 2, 1, 3], [0, 0, 5, 5, 1]], np.float32)
ints = np.array([[3, 1, 2, 1, 3, 3], [4, 4, 1, 1, 1, 0]])


def both(name):
    def call(*a, **k):
        return getattr(cr if isinstance(a[0], cr.Tensor) else torch, name)(*a, **k)

    return call


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda x: x.sort(), [(3, 5)]),
        (lambda x: x.sort(0, descending=True), [(3, 5)]),
        (lambda x: x.sort(stable=True), [ties]),
        (lambda x: x.sort(descending=True, stable=True), [ties]),
        (lambda x: x.sort(), [np.array([2.0, np.nan, -1.0, np.nan], np.float32)]),
        (lambda x: x.sort(descending=True), [np.array([2.0, np.nan, -1.0], np.float32)]),
        (lambda x: x.argsort(), [(3, 5)]),
        (lambda x: x.argsort(dim=0, descending=True), [(3, 5)]),
        (lambda x: x.topk(2), [(3, 5)]),
        (lambda x: x.topk(3, dim=0, largest=False), [(4, 5)]),
        (lambda x: x.kthvalue(2), [(3, 5)]),
        (lambda x: x.kthvalue(1, 0, keepdim=True), [(3, 5)]),
        (lambda x: x.median(), [(3, 5)]),
        (lambda x: x.median(1), [(3, 4)]),
        (lambda x: x.median(0, keepdim=True), [(4, 3)]),
        (lambda x: x.mode(), [ints]),
        (lambda x: x.mode(0), [ints]),
        (lambda x: x.mode(1), [ties]),
        (lambda x: both("aminmax")(x), [(3, 4)]),
        (lambda x: x.aminmax(dim=1, keepdim=True), [(3, 4)]),
        (lambda x: both("var_mean")(x, 1), [(3, 4)]),
        (lambda x: both("std_mean")(x, dim=0, keepdim=True), [(3, 4)]),
        (lambda x: both("var_mean")(x, correction=0), [(3, 4)]),
    ],
)
def test_sorting_as_torch(fn, inputs):
    check(fn, None, inputs)


def test_gradcheck_through_sorted_values():
    gradcheck_op(lambda x: cr.sort(x, 1).values, [(3, 4)])
    gradcheck_op(lambda x: cr.topk(x, 2, 0).values, [(4, 3)])
    gradcheck_op(lambda x: cr.median(x, 1).values, [(3, 5)])
    gradcheck_op(lambda x: cr.kthvalue(x, 2).values, [(3, 5)])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"return_inverse": True},
        {"return_counts": True},
        {"return_inverse": True, "return_counts": True},
        {"dim": 0, "return_inverse": True, "return_counts": True},
        {"dim": 1, "return_counts": True},
    ],
)
def test_unique(kwargs):
    data = np.array([[1, 3, 1], [2, 2, 2], [1, 3, 1]])
    check(lambda x: both("unique")(x, **kwargs), None, [data])
    check(lambda x: x.unique_consecutive(**kwargs), None, [data])


def test_unique_of_floats_has_no_grad():
    x = cr.tensor([2.0, 1.0, 2.0], requires_grad=True)
    u = x.unique()
    assert not u.requires_grad and u.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "fn",
    [
        lambda s, v: both("searchsorted")(s, v),
        lambda s, v: both("searchsorted")(s, v, right=True),
        lambda s, v: both("searchsorted")(s, v, side="right", out_int32=True),
        lambda s, v: both("bucketize")(v, s),
        lambda s, v: both("bucketize")(v, s, right=True),
    ],
)
def test_searchsorted_and_bucketize(fn):
    seq = np.array([1.0, 3.0, 3.0, 5.0, 9.0], np.float32)
    vals = np.array([[0.0, 3.0, 4.0], [9.0, 10.0, 5.0]], np.float32)
    check(fn, None, [seq, vals], grad=False)


def test_searchsorted_batched_and_scalar():
    seq = np.array([[1, 3, 5], [2, 4, 6]])
    check(lambda s, v: both("searchsorted")(s, v), None, [seq, np.array([[3, 6], [1, 5]])])
    assert (
        cr.searchsorted(cr.tensor([1, 3, 5]), 4).item()
        == torch.searchsorted(torch.tensor([1, 3, 5]), 4).item()
    )


@pytest.mark.parametrize(
    "kwargs", [{}, {"bins": 4}, {"bins": 5, "min": -1, "max": 1}, {"bins": 3, "min": 0.5, "max": 0.5}]
)
def test_histc(kwargs):
    check(lambda x: x.histc(**kwargs), None, [(50,)], grad=False)


def test_median_of_all_with_nan_and_errors():
    check(lambda x: x.median(), None, [np.array([1.0, np.nan, 0.0], np.float32)])
    check(
        lambda x: x.median(1),
        None,
        [np.array([[1.0, np.nan, 0.0, np.nan], [3.0, 1.0, 2.0, 0.0]], np.float32)],
    )
    with pytest.raises(RuntimeError, match="topk: k \\(4\\)"):
        cr.topk(cr.ones(3), 4)
    with pytest.raises(IndexError, match="kthvalue: k \\(0\\)"):
        cr.kthvalue(cr.ones(3), 0)
    with pytest.raises(IndexError):
        cr.sort(cr.ones(3), dim=1)
    with pytest.raises(TypeError, match="histc"):
        cr.histc(cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="bucketize: boundaries must be 1-D"):
        cr.bucketize(cr.ones(2), cr.ones(2, 2))
