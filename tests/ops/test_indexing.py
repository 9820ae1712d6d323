"""Indexing and shape ops of the wider vocabulary against PyTorch (values and gradients), float64
gradchecks, and clear errors on bad input."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import check, gradcheck_op

I = np.array  # noqa: E741 - short for the index arrays below
idx2 = I([[0, 2, 2], [1, 0, 1]], dtype=np.int64)  # repeated indices: gradients add up
mask = I([[True, False, True, False], [False, False, True, True], [True, True, False, False]])


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda x, i: x.gather(1, i), [(2, 4), idx2]),
        (
            lambda x, i: torch.gather(x, 0, i) if isinstance(x, torch.Tensor) else cr.gather(x, 0, i),
            [(3, 3), idx2],
        ),
        (lambda x, i: x.gather(-1, i), [(2, 3), idx2[:, :2]]),
        (lambda x, i, s: x.scatter(1, i, s), [(2, 5), I([[0, 3], [4, 1]]), (2, 2)]),
        (lambda x, i: x.scatter(0, i, 2.5), [(3, 3), I([[2, 0, 1]])]),
        (lambda x, i, s: x.scatter_add(1, i, s), [(2, 4), idx2, (2, 3)]),
        (lambda x, i: x.index_select(0, i), [(4, 3), I([3, 0, 3])]),
        (lambda x, i: x.index_select(-1, i), [(2, 3), I([2, 1])]),
        (lambda x, i, s: x.index_add(0, i, s), [(4, 2), I([1, 1, 3]), (3, 2)]),
        (lambda x, i, s: x.index_add(1, i, s, alpha=2.0), [(2, 4), I([0, 3]), (2, 2)]),
        (lambda x, i, s: x.index_copy(0, i, s), [(4, 2), I([3, 0]), (2, 2)]),
        (lambda x, i: x.index_fill(1, i, -1.5), [(3, 4), I([0, 2])]),
        (lambda x, m: x.masked_fill(m, 0.5), [(3, 4), mask]),
        (lambda x, m: x.masked_fill(m[0], -2.0), [(3, 4), mask]),  # a broadcast mask
        (lambda x, m: x.masked_select(m), [(3, 4), mask]),
        (lambda x, i: x.take(i), [(3, 4), I([[0, 11], [5, 5]])]),
        (lambda x: x.select(1, -1), [(3, 4)]),
        (lambda x: x.unbind(1), [(2, 3)]),
        (lambda x: x.tile((2,)), [(2, 3)]),
        (lambda x: x.tile((2, 1, 2)), [(2, 3)]),
        (lambda x: x.repeat_interleave(2), [(2, 3)]),
        (lambda x: x.repeat_interleave(3, dim=0), [(2, 3)]),
        (lambda x, r: x.repeat_interleave(r, dim=1), [(2, 3), I([1, 0, 2])]),
        (lambda x: x.roll(1), [(2, 3)]),
        (lambda x: x.roll((1, -2), (0, 1)), [(3, 4)]),
        (lambda x: x.flip(0), [(3, 4)]),
        (lambda x: x.flip((0, 1)), [(3, 4)]),
        (lambda x: x.fliplr(), [(3, 4)]),
        (lambda x: x.flipud(), [(3, 4)]),
        (lambda x: x.rot90(), [(3, 4)]),
        (lambda x: x.rot90(2), [(3, 4)]),
        (lambda x: x.rot90(-1, (1, 2)), [(2, 3, 4)]),
        (lambda x: x.movedim(0, -1), [(2, 3, 4)]),
        (lambda x: x.movedim((0, 1), (2, 0)), [(2, 3, 4)]),
        (lambda x: x.broadcast_to((2, 3, 4)), [(3, 1)]),
        (lambda x: x.unflatten(1, (2, -1)), [(2, 6)]),
        (lambda x: x.argwhere(), [I([[0.0, 1.0], [2.0, 0.0]])]),
        (lambda x: x.nonzero(), [I([[0.0, 1.0], [2.0, 0.0]])]),
        (lambda x: x.nonzero(as_tuple=True), [I([[0.0, 1.0], [2.0, 0.0]])]),
    ],
)
def test_method_as_torch(fn, inputs):
    check(fn, None, inputs)


def _both(name):
    """The same top-level function in either framework."""

    def call(*a, **k):
        first = a[0][0] if isinstance(a[0], (list, tuple)) else a[0]
        return getattr(cr if isinstance(first, cr.Tensor) else torch, name)(*a, **k)

    return call


@pytest.mark.parametrize(
    "name, inputs, kwargs",
    [
        ("hstack", [(2, 3), (2, 1)], {}),
        ("hstack", [(3,), (2,)], {}),
        ("vstack", [(3,), (2, 3)], {}),
        ("dstack", [(2, 3), (2, 3)], {}),
        ("meshgrid", [(3,), (2,)], {"indexing": "ij"}),
        ("meshgrid", [(3,), (2,)], {"indexing": "xy"}),
    ],
)
def test_stacks_and_grids(name, inputs, kwargs):
    if name.endswith("stack"):
        check(lambda *ts: _both(name)(list(ts)), None, inputs)
    else:
        check(lambda *ts: _both(name)(*ts, **kwargs), None, inputs)


@pytest.mark.filterwarnings("ignore:The reduce argument")
def test_scatter_reduce_add_forward():
    check(lambda x, i, s: x.scatter(1, i, s, reduce="add"), None, [(2, 4), idx2, (2, 3)], grad=False)


def test_where_with_a_condition_alone_is_nonzero():
    check(lambda c: _both("where")(c), None, [I([[True, False], [True, True]])])


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda x: cr.gather(x, 1, cr.tensor(idx2)), [(2, 4)]),
        (lambda x, s: cr.scatter(x, 1, cr.tensor([[0, 3], [4, 1]]), s), [(2, 5), (2, 2)]),
        (lambda x, s: cr.scatter_add(x, 1, cr.tensor(idx2), s), [(2, 4), (2, 3)]),
        (lambda x, s: cr.index_add(x, 0, cr.tensor([1, 1, 3]), s), [(4, 2), (3, 2)]),
        (lambda x, s: cr.index_copy(x, 0, cr.tensor([3, 0]), s), [(4, 2), (2, 2)]),
        (lambda x: cr.masked_fill(x, cr.tensor(mask), 0.5), [(3, 4)]),
        (lambda x: cr.rot90(x, 3), [(3, 4)]),
        (lambda x: cr.roll(x, 2, 1), [(3, 4)]),
    ],
)
def test_gradcheck(fn, inputs):
    gradcheck_op(fn, inputs)


def test_double_backward_through_gather():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    i = torch.tensor([[0, 0], [3, 1], [2, 2]])
    (g,) = torch.autograd.grad((x.gather(1, i) ** 3).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    cx = cr.tensor(x.detach().numpy(), requires_grad=True)
    (cg,) = cr.autograd.grad((cx.gather(1, cr.tensor(i.numpy())) ** 3).sum(), cx, create_graph=True)
    (cgg,) = cr.autograd.grad(cg.sum(), cx)
    np.testing.assert_allclose(cgg.numpy(), gg.numpy(), rtol=1e-10)


def test_inplace_forms_as_torch():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    for name, args in [
        ("masked_fill_", (mask, 9.0)),
        ("index_fill_", (1, np.array([0, 3]), -1.0)),
        ("scatter_", (1, np.array([[1], [0], [3]]), 7.0)),
        ("index_add_", (0, np.array([2, 2]), np.ones((2, 4), np.float32))),
    ]:
        c, t = cr.tensor(a), torch.tensor(a)
        cargs = [cr.tensor(x) if isinstance(x, np.ndarray) else x for x in args]
        targs = [torch.tensor(x) if isinstance(x, np.ndarray) else x for x in args]
        assert getattr(c, name)(*cargs) is c
        getattr(t, name)(*targs)
        np.testing.assert_array_equal(c.numpy(), t.numpy(), err_msg=name)


def test_flip_is_a_copy():
    x = cr.arange(3)
    y = x.flip(0)
    y[0] = 10
    assert x.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "call, err, words",
    [
        (lambda x: x.gather(1, cr.tensor([[0, 4]])), IndexError, ["gather", "4", "size 4"]),
        (lambda x: x.gather(1, cr.tensor([[0.0, 1.0]])), TypeError, ["gather", "float32"]),
        (lambda x: x.gather(1, cr.tensor([[0, 1]], dtype=cr.int32)), TypeError, ["gather", "int64"]),
        (lambda x: x.gather(1, cr.tensor([0, 1])), RuntimeError, ["gather", "same number of dimensions"]),
        (lambda x: x.gather(2, cr.tensor([[0]])), IndexError, ["gather"]),
        (lambda x: x.index_select(0, cr.tensor([3])), IndexError, ["index_select", "3", "size 3"]),
        (lambda x: x.index_select(0, cr.tensor([[0]])), IndexError, ["index_select", "vector"]),
        (lambda x: x.masked_fill(cr.tensor([1, 0, 1, 0]), 0.0), TypeError, ["masked_fill", "bool"]),
        (lambda x: x.masked_fill(cr.tensor([True, False]), 0.0), RuntimeError, ["masked_fill", "(2,)"]),
        (lambda x: x.scatter(1, cr.tensor([[5]]), 1.0), IndexError, ["scatter", "5"]),
        (lambda x: x.index_add(0, cr.tensor([0]), cr.ones(2, 4)), RuntimeError, ["index_add", "(1, 4)"]),
        (lambda x: x.take(cr.tensor([12])), IndexError, ["take", "12"]),
        (lambda x: x.select(0, 3), IndexError, ["select", "3"]),
        (lambda x: x.flip((0, 0)), RuntimeError, ["flip"]),
        (lambda x: x.unflatten(1, (3, 2)), RuntimeError, ["unflatten", "(3, 2)"]),
        (lambda x: x.movedim((0, 1), 0), RuntimeError, ["movedim"]),
    ],
)
def test_bad_input_raises_clearly(call, err, words):
    x = cr.zeros(3, 4)
    with pytest.raises(err) as info:
        call(x)
    for w in words:
        assert w in str(info.value), (w, str(info.value))
