"""Misuse of factories and ops gives our own message (op, argument, value), never a raw NumPy one."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: cr.tensor([1.0], dtype="foo"), r"tensor: dtype must be a numeric dtype .* got 'foo'"),
        (lambda: cr.tensor([1.0], dtype=str), "tensor: dtype must be a numeric dtype"),
        (lambda: cr.zeros(2, dtype="foo"), "zeros: dtype"),
        (lambda: cr.randn(2, dtype=object), "randn: dtype"),
    ],
)
def test_bad_dtype_names_the_op(call, message):
    with pytest.raises(TypeError, match=message):
        call()


@pytest.mark.parametrize(
    "call, op",
    [
        (lambda: cr.randn(2**62), "randn"),
        (lambda: cr.zeros(2**62), "zeros"),
        (lambda: cr.ones(2**31, 2**31), "ones"),
        (lambda: cr.rand(2**62), "rand"),
        (lambda: cr.randint(0, 5, (2**62,)), "randint"),
        (lambda: cr.full((2**62,), 1.0), "full"),
    ],
)
def test_sizes_beyond_addressable_memory_name_the_op_and_size(call, op):
    with pytest.raises(ValueError, match=rf"{op}: size \(.*\) has \d+ elements .* more than an array can"):
        call()


def test_factories_refuse_bool_sizes():
    with pytest.raises(ValueError, match="zeros: expected non-negative integer sizes"):
        cr.zeros(True)


@pytest.mark.parametrize("fn", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid"])
def test_math_on_a_numpy_array_says_to_convert(fn):
    with pytest.raises(TypeError, match=rf"{fn}: expected a Tensor, got ndarray; convert it with cr.tensor"):
        getattr(cr, fn)(np.ones(2))


@pytest.mark.parametrize("fn", ["stack", "cat"])
def test_stack_and_cat_of_numpy_arrays_say_which_entry(fn):
    with pytest.raises(TypeError, match=rf"{fn}: expected a sequence of Tensors, got ndarray at position 1"):
        getattr(cr, fn)([cr.ones(2), np.ones(2)])
    with pytest.raises(TypeError, match=rf"{fn}: expected a sequence of Tensors, got Tensor"):
        getattr(cr, fn)(cr.ones(2, 2))


def test_summary_input_shape():
    model = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 2))
    table = cr.summary(model, 64)  # an int is a 1-D input of that many features
    assert table.total_params == sum(p.numel() for p in model.parameters())
    assert str(cr.summary(model, (64,))) == str(table)
    for bad in (64.0, (2.5,), "64", (-1,), [(64,), "x"]):
        with pytest.raises(TypeError, match=r"summary: input_shape must be an int, a tuple of non-negative"):
            cr.summary(model, bad)
