"""matmul (the @ operator) and linear vs PyTorch, including 1-D and batched operands."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.ops.linalg import linear
from tests.helpers import check, gradcheck_op

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4,)),  # dot product, 0-d result
    ((4,), (4, 5)),  # vector @ matrix
    ((3, 4), (4,)),  # matrix @ vector
    ((2, 3, 4), (4, 5)),  # batched @ matrix
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),  # batch dims broadcast
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((0, 4), (4, 3)),  # empty
    ((3, 0), (0, 2)),  # empty inner dim: zeros
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul(sa, sb):
    check(lambda a, b: a @ b, None, [sa, sb])
    check(cr.matmul, torch.matmul, [sa, sb])


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES[:10], ids=str)
def test_matmul_gradcheck(sa, sb):
    gradcheck_op(lambda a, b: a @ b, [sa, sb])


def test_matmul_float64_and_one_side_constant():
    check(lambda a, b: a @ b, None, [(3, 4), (4, 2)], dtype=np.float64, rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    check(lambda a: a @ cr.tensor(w), lambda a: a @ torch.tensor(w), [(3, 4)])
    check(lambda a: cr.tensor(w).T @ a, lambda a: torch.tensor(w).T @ a, [(4, 3)])


def test_matmul_with_numpy_array():
    w = np.ones((4, 2), np.float32)
    x = cr.ones(3, 4, requires_grad=True)
    assert (x @ w).shape == (3, 2) and (w.T @ x.T).shape == (2, 3)


def test_matmul_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        cr.ones(3, 4) @ cr.ones(5, 2)
    with pytest.raises(ValueError, match=r"matmul.*\(3,\).*\(4,\)"):
        cr.ones(3) @ cr.ones(4)
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3, 4\).*\(5, 4, 6\)"):
        cr.ones(2, 3, 4) @ cr.ones(5, 4, 6)
    with pytest.raises(RuntimeError, match="matmul"):
        cr.tensor(2.0) @ cr.ones(2)
    with pytest.raises(TypeError, match="matmul"):
        cr.ones(2, 2) @ cr.ones(2, 2, dtype=cr.float64)


@pytest.mark.parametrize("xs", [(5, 3), (3,), (2, 4, 3), (0, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(xs, bias):
    shapes = [xs, (4, 3)] + ([(4,)] if bias else [])
    check(linear, F.linear, shapes)


def test_linear_tall_batch_and_gradcheck():
    check(linear, F.linear, [(100, 3), (4, 3), (4,)])
    gradcheck_op(linear, [(2, 3), (4, 3), (4,)])
    gradcheck_op(linear, [(2, 2, 3), (4, 3)])


def test_linear_errors():
    with pytest.raises(ValueError, match=r"linear: input has 20 features but weight expects 784"):
        linear(cr.ones(32, 20), cr.ones(10, 784))
    with pytest.raises(ValueError, match="linear.*bias"):
        linear(cr.ones(2, 3), cr.ones(4, 3), cr.ones(3))
    with pytest.raises(TypeError, match="linear: input must be a Tensor, got list"):
        linear([[1.0, 2.0, 3.0]], cr.ones(4, 3))
    with pytest.raises(TypeError, match="linear: weight must be a Tensor, got ndarray"):
        linear(cr.ones(2, 3), np.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match="linear: bias must be a Tensor, got list"):
        linear(cr.ones(2, 3), cr.ones(4, 3), [0.0] * 4)


def test_linear_on_3d_and_4d_and_strided_inputs():
    # several leading dims run as one 2-D product: values and gradients as PyTorch's
    check(linear, F.linear, [(2, 5, 3), (4, 3), (4,)])
    check(linear, F.linear, [(2, 3, 2, 3), (4, 3)])
    check(
        lambda x, w, b: linear(x.transpose(0, 1), w, b),
        lambda x, w, b: F.linear(x.transpose(0, 1), w, b),
        [(5, 2, 3), (4, 3), (4,)],
    )


def test_linear_3d_second_order():
    gradcheck_op(lambda x, w: (linear(x, w) ** 2).sum(), [(2, 2, 3), (4, 3)])
    x = cr.randn(2, 3, 3, requires_grad=True, dtype=cr.float64)
    w = cr.randn(4, 3, requires_grad=True, dtype=cr.float64)
    (gx,) = cr.autograd.grad((linear(x, w) ** 2).sum(), [x], create_graph=True)
    gx.sum().backward()
    tx, tw = torch.tensor(x._data, requires_grad=True), torch.tensor(w._data, requires_grad=True)
    (tgx,) = torch.autograd.grad((F.linear(tx, tw) ** 2).sum(), [tx], create_graph=True)
    tgx.sum().backward()
    np.testing.assert_allclose(w.grad._data, tw.grad.numpy(), rtol=1e-10)
