"""Shape ops and indexing vs PyTorch: reshape view flatten squeeze unsqueeze transpose permute expand T,
repeat split chunk, __getitem__ (basic, integer/bool arrays, repeated indices), cat stack pad."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from tests.helpers import assert_close, check, gradcheck_op


@pytest.mark.parametrize("shape", [(6, 4), (4, -1), (-1,), (2, 3, 4), (24,), (1, 24, 1)], ids=str)
def test_reshape_view(shape):
    check(lambda x: x.reshape(shape), None, [(2, 12)])
    check(lambda x: x.view(*shape), None, [(2, 12)])
    check(lambda x: cr.reshape(x, shape), lambda x: torch.reshape(x, shape), [(3, 8)])


def test_reshape_0d_and_empty():
    check(lambda x: x.reshape(1, 1), None, [()])
    check(lambda x: x.reshape(()), None, [(1,)])
    check(lambda x: x.reshape(0, 5), None, [(5, 0)])
    check(
        lambda x: x.view_as(torch.ones(3, 2) if isinstance(x, torch.Tensor) else cr.ones(3, 2)), None, [(6,)]
    )


def test_reshape_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"reshape.*\(4, 4\).*6"):
        cr.ones(2, 3).reshape(4, 4)


@pytest.mark.parametrize("args", [(), (1,), (0, 1), (1, 2), (-2, -1), (0, -1)], ids=str)
def test_flatten(args):
    check(lambda x: x.flatten(*args), None, [(2, 3, 4)])
    check(lambda x: cr.flatten(x, *args), lambda x: torch.flatten(x, *args), [(2, 3, 4)])


def test_flatten_0d():
    check(lambda x: x.flatten(), None, [()])


@pytest.mark.parametrize("dim", [None, 0, 2, -1, 1, (0, 3)], ids=str)
def test_squeeze(dim):
    if dim is None:
        check(lambda x: x.squeeze(), None, [(1, 3, 1, 1)])
    else:
        check(lambda x: x.squeeze(dim), None, [(1, 3, 1, 1)])


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_unsqueeze(dim):
    check(lambda x: x.unsqueeze(dim), None, [(2, 3)])
    check(lambda x: cr.unsqueeze(x, dim), lambda x: torch.unsqueeze(x, dim), [(2, 3)])


def test_unsqueeze_0d_and_bad_dim():
    check(lambda x: x.unsqueeze(0), None, [()])
    with pytest.raises(IndexError, match="unsqueeze"):
        cr.ones(2, 3).unsqueeze(3)


@pytest.mark.parametrize("d0,d1", [(0, 1), (1, 0), (0, 2), (-1, -2), (1, 1)])
def test_transpose(d0, d1):
    check(lambda x: x.transpose(d0, d1), None, [(2, 3, 4)])
    check(lambda x: cr.transpose(x, d0, d1), lambda x: torch.transpose(x, d0, d1), [(2, 3, 4)])


@pytest.mark.parametrize("dims", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, 0, 1)], ids=str)
def test_permute(dims):
    check(lambda x: x.permute(*dims), None, [(2, 3, 4)])
    check(lambda x: x.permute(dims), None, [(2, 3, 4)])


def test_permute_errors():
    with pytest.raises(RuntimeError, match="permute"):
        cr.ones(2, 3).permute(0)
    with pytest.raises(RuntimeError, match="permute"):
        cr.ones(2, 3).permute(0, 0)


def test_T_and_mT_and_t():
    check(lambda x: x.T, None, [(3, 4)])
    check(lambda x: x.T, None, [(5,)])
    check(lambda x: x.mT, None, [(2, 3, 4)])
    check(lambda x: x.t(), None, [(3, 4)])
    check(lambda x: x.T @ x, None, [(3, 4)])


@pytest.mark.parametrize(
    "src,target",
    [
        ((3, 1), (3, 4)),
        ((1,), (2, 5)),
        ((2, 1, 3), (4, 2, 5, 3)),
        ((3, 1), (-1, 4)),
        ((), (2, 2)),
        ((2, 3), (2, 3)),
    ],
    ids=str,
)
def test_expand(src, target):
    check(lambda x: x.expand(*target), None, [src])
    check(lambda x: x.expand(target), None, [src])


def test_expand_as_and_errors():
    check(lambda x, y: x.expand_as(y) * y, None, [(3, 1), (3, 4)])
    with pytest.raises(RuntimeError, match=r"expand.*3.*4"):
        cr.ones(3, 2).expand(3, 4)
    with pytest.raises(RuntimeError, match="expand"):
        cr.ones(3).expand(2)


def test_expand_then_sum_twice_accumulates():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        (x.expand(3, 2) * 2).sum().backward()
        (xt.expand(3, 2) * 2).sum().backward()
    assert_close(x.grad, xt.grad)
    x.grad.zero_()  # .grad must be a writable array of its own
    assert float(x.grad.sum()) == 0.0


@pytest.mark.parametrize("reps", [(2,), (2, 3), (1, 2, 2), (3, 1, 1)], ids=str)
def test_repeat(reps):
    check(lambda x: x.repeat(*reps), None, [(2, 3)] if len(reps) >= 2 else [(4,)])


def test_split_chunk():
    check(lambda x: x.split(2), None, [(5, 3)])
    check(lambda x: x.split([1, 4]), None, [(5, 3)])
    check(lambda x: x.split(2, dim=1), None, [(2, 5)])
    check(lambda x: x.chunk(3), None, [(7, 2)])
    check(lambda x: x.chunk(2, dim=-1), None, [(2, 4)])
    check(lambda x: cr.split(x, 3), lambda x: torch.split(x, 3), [(6,)])
    check(lambda x: x.split(np.int64(2)), lambda x: x.split(2), [(5,)])
    check(lambda x: x.chunk(9), None, [(4,)])
    with pytest.raises(ValueError, match="split"):
        cr.ones(5).split([1, 2])
    with pytest.raises(ValueError, match="chunk"):
        cr.ones(5).chunk(0)


# ----------------------------------------------------------------------------- indexing

BASIC_INDICES = [
    0,
    -1,
    slice(1, 3),
    slice(None, None, 2),
    (0, 1),
    (slice(None), 2),
    (Ellipsis, 0),
    (None, 1),
    (slice(None), None, slice(1, None)),
    (1, Ellipsis, None),
    slice(-2, None),
    (0, 1, 2),
    (),
]


@pytest.mark.parametrize("index", BASIC_INDICES, ids=str)
def test_getitem_basic(index):
    check(lambda x: x[index], None, [(3, 4, 5)])


def test_getitem_0d():
    check(lambda x: x[()], None, [()])
    check(lambda x: x[None], None, [()])
    check(lambda x: x[...], None, [()])
    with pytest.raises(IndexError):
        cr.tensor(1.0)[0]


INT_INDICES = [
    np.array([0, 2, 1]),
    np.array([0, 0, 2, 0]),  # repeated indices add their gradients
    np.array([[1, 1], [0, 2]]),
    np.array([-1, 0]),
]


@pytest.mark.parametrize("idx", INT_INDICES, ids=lambda a: str(a.tolist()))
def test_getitem_integer_array(idx):
    check(lambda x: x[idx], lambda x: x[torch.tensor(idx)], [(3, 4)])
    check(lambda x, i: x[i], None, [(3, 4), idx])  # an int64 index tensor
    check(lambda x: x[:, idx], lambda x: x[:, torch.tensor(idx)], [(3, 4)])
    if idx.ndim == 1:  # torch reads a nested list as a tuple of indices
        check(lambda x: x[idx.tolist()], None, [(3, 4)])  # a Python list


def test_getitem_two_index_arrays_and_mixed():
    i, j = np.array([0, 2, 2, 0]), np.array([1, 1, 3, 1])
    check(lambda x: x[i, j], lambda x: x[torch.tensor(i), torch.tensor(j)], [(3, 4)])
    check(lambda x: x[i, 1:3], lambda x: x[torch.tensor(i), 1:3], [(3, 4)])
    check(lambda x: x[1, [0, 0, 3]], None, [(3, 4)])


def test_getitem_bool_mask():
    mask = np.array([[True, False, True, False], [False, False, True, True], [True, True, True, True]])
    check(lambda x: x[mask], lambda x: x[torch.tensor(mask)], [(3, 4)])
    check(lambda x: x[x > 0], None, [(3, 4)])
    check(
        lambda x: x[np.array([True, False, True])], lambda x: x[torch.tensor([True, False, True])], [(3, 4)]
    )


def test_getitem_empty_index_list():
    check(lambda x: x[[]], None, [(3, 4)])


def test_getitem_gradcheck():
    gradcheck_op(lambda x: x[np.array([0, 0, 1])], [(3, 2)])
    gradcheck_op(lambda x: x[1:, ::2], [(3, 4)])
    gradcheck_op(lambda x: x[np.array([[0, 1], [1, 1]]), 0], [(3, 2)])


def test_getitem_errors():
    with pytest.raises(IndexError, match=r"getitem.*\(3, 4\)"):
        cr.ones(3, 4)[3]
    with pytest.raises(IndexError, match="getitem"):
        cr.ones(3, 4)[np.array([0, 5])]


def test_getitem_int_gives_tensor_view_as_torch():
    x = cr.tensor([1.0, 2.0, 3.0])
    y = x[1]
    assert isinstance(y, cr.Tensor) and y.shape == () and y.item() == 2.0
    assert isinstance(y.numpy(), np.ndarray)
    y.add_(10.0)  # a view: writes reach x, as torch
    assert x.tolist() == [1.0, 12.0, 3.0]


def test_iteration_and_len():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    rows = list(x)
    assert len(x) == 3 and len(rows) == 3 and rows[2].tolist() == [5.0, 6.0]
    sum(r.sum() * (i + 1) for i, r in enumerate(rows)).backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]
    with pytest.raises(TypeError):
        len(cr.tensor(1.0))


# ----------------------------------------------------------------------------- __setitem__


@pytest.mark.parametrize(
    "index,value",
    [
        (0, 5.0),
        ((1, 2), -1.0),
        (slice(0, 2), np.array([1.0, 2.0, 3.0], np.float32)),
        (np.array([0, 2]), 7.0),
        (np.array([[True, False, True], [False, True, False], [True, True, False]]), 0.0),
        ((slice(None), 1), np.array([4.0, 5.0, 6.0], np.float32)),
    ],
    ids=str,
)
def test_setitem(index, value):
    a = np.arange(9, dtype=np.float32).reshape(3, 3)
    x, t = cr.tensor(a), torch.tensor(a)
    x_val = cr.tensor(value) if isinstance(value, np.ndarray) else value
    t_val = torch.tensor(value) if isinstance(value, np.ndarray) else value
    t_idx = torch.tensor(index) if isinstance(index, np.ndarray) else index
    x[index] = x_val
    t[t_idx] = t_val
    assert_close(x, t)


def test_setitem_with_tensor_index_and_int_dtype():
    x = cr.zeros(4, dtype=cr.int64)
    x[cr.tensor([1, 3])] = 2
    assert x.tolist() == [0, 2, 0, 2] and x.dtype == np.int64


def test_setitem_on_leaf_requiring_grad_raises_unless_no_grad():
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="__setitem__"):
        w[0] = 2.0
    with cr.no_grad():
        w[0] = 2.0
    assert w.tolist() == [2.0, 1.0, 1.0] and w.requires_grad


def test_setitem_shape_error_names_op():
    x = cr.ones(3)
    with pytest.raises(ValueError, match=r"__setitem__.*\(2,\)"):
        x[:2] = cr.ones(3)


def test_setitem_value_requiring_grad_is_not_silently_dropped():
    x = cr.zeros(3)
    v = cr.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="__setitem__"):
        x[0] = v * 3


# ----------------------------------------------------------------------------- cat, stack, pad


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    shapes = {0: [(2, 3), (4, 3), (1, 3)], 1: [(2, 1), (2, 3), (2, 2)], -1: [(2, 1), (2, 3), (2, 2)]}[dim]
    check(lambda *xs: cr.cat(list(xs), dim), lambda *xs: torch.cat(list(xs), dim), shapes)
    check(lambda *xs: cr.concat(xs, dim=dim), lambda *xs: torch.cat(xs, dim=dim), shapes)


def test_cat_mixed_requires_grad_and_empty():
    a = cr.ones(2, 3, requires_grad=True)
    out = cr.cat([a, cr.zeros(1, 3), cr.zeros(0, 3)])
    assert out.shape == (3, 3)
    (out * cr.arange(3.0).reshape(3, 1)).sum().backward()
    assert a.grad.tolist() == [[0.0] * 3, [1.0] * 3]


def test_cat_stack_dtype_promotion_as_torch():
    for a, b in [([1, 2], [1.5]), ([1.0], [2.0]), ([1], [True])]:
        assert_close(cr.cat([cr.tensor(a), cr.tensor(b)]), torch.cat([torch.tensor(a), torch.tensor(b)]))
    assert_close(
        cr.cat([cr.tensor([1.0]), cr.tensor([2.0], dtype=cr.float64)]),
        torch.cat([torch.tensor([1.0]), torch.tensor([2.0], dtype=torch.float64)]),
    )
    assert_close(
        cr.stack([cr.tensor([1]), cr.tensor([2.5])]), torch.stack([torch.tensor([1]), torch.tensor([2.5])])
    )


def test_cat_same_tensor_twice():
    check(lambda x: cr.cat([x, x * 2, x]), lambda x: torch.cat([x, x * 2, x]), [(2, 2)])


def test_cat_errors():
    with pytest.raises(RuntimeError, match=r"cat.*\(2, 3\).*\(2, 4\)"):
        cr.cat([cr.ones(2, 3), cr.ones(2, 4)])
    with pytest.raises(IndexError, match="cat"):
        cr.cat([cr.ones(2, 3), cr.ones(2, 3)], dim=2)
    with pytest.raises(ValueError, match="cat"):
        cr.cat([])
    with pytest.raises((RuntimeError, ValueError), match="cat"):
        cr.cat([cr.tensor(1.0), cr.tensor(2.0)])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    check(lambda *xs: cr.stack(xs, dim), lambda *xs: torch.stack(xs, dim), [(2, 3), (2, 3), (2, 3)])


def test_stack_0d_and_errors():
    check(lambda a, b: cr.stack([a, b]), lambda a, b: torch.stack([a, b]), [(), ()])
    with pytest.raises(RuntimeError, match=r"stack.*\(2, 3\).*\(3, 2\)"):
        cr.stack([cr.ones(2, 3), cr.ones(3, 2)])


def test_cat_stack_gradcheck():
    gradcheck_op(lambda a, b: cr.cat([a, b], 1), [(2, 1), (2, 3)])
    gradcheck_op(lambda a, b: cr.stack([a, b], -1), [(2, 3), (2, 3)])


@pytest.mark.parametrize(
    "widths", [(1, 2), (0, 1, 2, 0), (1, 1, 1, 1, 1, 1), (-1, 1), (2, -1, 0, 0)], ids=str
)
def test_pad_constant(widths):
    check(lambda x: cr.pad(x, widths), lambda x: F.pad(x, widths), [(2, 3, 4)])
    check(lambda x: cr.pad(x, widths, value=1.5), lambda x: F.pad(x, widths, value=1.5), [(2, 3, 4)])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes(mode):
    check(lambda x: cr.pad(x, (2, 1), mode=mode), lambda x: F.pad(x, (2, 1), mode=mode), [(2, 3, 4)])
    check(
        lambda x: cr.pad(x, (1, 2, 2, 1), mode=mode),
        lambda x: F.pad(x, (1, 2, 2, 1), mode=mode),
        [(1, 2, 3, 4)],
    )


def test_pad_gradcheck_and_errors():
    gradcheck_op(lambda x: cr.pad(x, (1, 2)), [(2, 3)])
    gradcheck_op(lambda x: cr.pad(x, (2, 2), mode="reflect"), [(2, 3)])
    with pytest.raises(ValueError, match="pad"):
        cr.pad(cr.ones(3), (1, 2, 3))
    with pytest.raises(ValueError, match="pad"):
        cr.pad(cr.ones(3), (1, 1), mode="bogus")
    with pytest.raises(RuntimeError, match="pad: reflect padding"):
        cr.pad(cr.ones(2, 3), (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="pad: circular padding"):
        cr.pad(cr.ones(2, 3), (4, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="pad: padding size 2 is not supported for 4D"):
        cr.pad(cr.ones(1, 2, 3, 4), (1, 1), mode="replicate")
    with pytest.raises(NotImplementedError, match="pad: padding size 2 is not supported for 1D"):
        cr.pad(cr.ones(4), (1, 1), mode="reflect")


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(3, 4),
    "flatten": lambda x: x.flatten(1),
    "squeeze_unsqueeze": lambda x: x.unsqueeze(1).squeeze(1),
    "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(1, 2, 0),
    "expand": lambda x: x[:, :1].expand(2, 5, 2),
    "repeat": lambda x: x.repeat(2, 1, 3),
    "T": lambda x: x.reshape(6, 2).T,
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_gradcheck(name):
    gradcheck_op(SHAPE_OPS[name], [(2, 3, 2)])
