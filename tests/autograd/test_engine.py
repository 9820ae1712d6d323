"""The backprop engine vs PyTorch: graph shapes, accumulation, retain_graph, errors, custom Functions."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import assert_close, check, to_torch


def test_readme_example():
    x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    ((x + y) * z).backward()
    tx, ty, tz = (torch.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    ((tx + ty) * tz).backward()
    for a, b in ((x, tx), (y, ty), (z, tz)):
        assert_close(a.grad, b.grad)


def test_diamond_and_shared_subexpressions():
    def f(a, b):
        h = (a * b).tanh()
        u = h * h + h.exp() * a
        return (u / (1.0 + h * h)).sum() + h.sum()

    check(f, None, [(3, 4), (4,)])


def test_tensor_used_by_many_ops():
    check(lambda x: x + x * x - x.exp() / (x * x + 1) + x.sum(), None, [(5,)])


def test_gradient_accumulates_across_backward_calls():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for f in (lambda t: (t * t).sum(), lambda t: t.sum() * 3.0, lambda t: t.exp().mean()):
        f(x).backward()
        f(tx).backward()
        assert_close(x.grad, tx.grad)


@pytest.mark.parametrize(
    "f",
    [
        lambda a: ((a + a.exp()) + a * 3.0) * 2.0,  # the add hands one array to a and to exp's node
        lambda a: ((a + a.sin()) + a * 3.0 + a.cos()) * 2.0,
        lambda a: (a + a.T + a[0] + a[:, :1]) * 1.5,
        lambda a: (cr if isinstance(a, cr.Tensor) else torch).cat([a, a * 2]).sum(0) * a[0],
    ],
    ids=["x+exp(x)", "x+sin+cos", "x+xT+rows", "cat"],
)
def test_leaf_used_on_several_paths_gradients_do_not_alias(f):
    check(f, None, [(3, 3)])


def test_grad_is_own_writable_memory():
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(3, requires_grad=True)
    (a + b).sum().backward()  # both grads come from the same upstream array
    a.grad._data[0] = 100.0
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    g = cr.ones(3)
    c = cr.ones(3, requires_grad=True)
    c.backward(g)
    c.grad._data[0] = 5.0
    assert g.tolist() == [1.0, 1.0, 1.0]
    for x in (cr.ones(2, 3, requires_grad=True),):
        (x.sum(1) * 2).sum().backward()
        x.grad.zero_()
        (x.mean() * 2).backward()
        x.grad.mul_(2.0)


def test_leaf_grad_dtype_follows_leaf():
    w = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    x = cr.ones(3, requires_grad=True)
    (x * w).sum().backward()
    tw = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    tx = torch.ones(3, requires_grad=True)
    (tx * tw).sum().backward()
    assert_close(w.grad, tw.grad)
    assert_close(x.grad, tx.grad)


def test_backward_with_gradient_argument():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(cr.tensor([1.0, 0.5]))
    assert x.grad.tolist() == [2.0, 2.0]
    x2 = cr.tensor([1.0, 2.0], requires_grad=True)
    (x2 * 3.0).backward(np.array([1.0, 2.0], np.float32))
    assert x2.grad.tolist() == [3.0, 6.0]


def test_backward_on_leaf_and_size1():
    x = cr.tensor([3.0], requires_grad=True)
    x.backward()
    assert x.grad.tolist() == [1.0]
    y = cr.tensor([[2.0]], requires_grad=True)
    (y * 4.0).backward()  # one element: the gradient 1 is implied
    assert y.grad.tolist() == [[4.0]]


def test_backward_errors_name_shapes():
    x = cr.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward.*scalar.*\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"backward.*\(3,\).*\(2, 3\)"):
        (x * 2).backward(cr.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(2).sum().backward()
    with cr.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda x: (x * x).sum(),
        lambda x: x.exp().sum(),
        lambda x: (x @ x.T).sum(),
        lambda x: x.tanh().mean(),
        lambda x: x.max(),
        lambda x: x.log().sum(),
        lambda x: x.sigmoid().sum(),
        lambda x: (x * 2.0).sum(),
    ],
    ids=["mul", "exp", "matmul", "tanh", "max", "log", "sigmoid", "mul_scalar"],
)
def test_backward_twice_without_retain_graph_raises(make):
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = make(x)
    y.backward()
    with pytest.raises(RuntimeError, match=r"(second time|freed)"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = (x * x.exp()).sum(), (tx * tx.exp()).sum()
    y.backward(retain_graph=True)
    ty.backward(retain_graph=True)
    y.backward()
    ty.backward()
    assert_close(x.grad, tx.grad)
    with pytest.raises(RuntimeError, match=r"(second time|freed)"):
        y.backward()


def test_detach_and_no_grad_stop_gradients():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x.detach()).sum() + (x * 2).detach().sum()
    with cr.no_grad():
        z = x * 5
    (y + (x * z).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), x.detach().numpy() + 5 * x.detach().numpy())


def test_unused_leaf_gets_no_grad_and_int_inputs_are_fine():
    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    idx = cr.tensor([1, 0])
    (a[idx] * 2).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0] and b.grad is None and idx.grad is None


def test_retain_grad_on_non_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    th = tx * 3
    th.retain_grad()
    (th * th).sum().backward()
    assert_close(h.grad, th.grad)
    assert_close(x.grad, tx.grad)


def test_non_leaf_grad_is_none_by_default():
    x = cr.ones(2, requires_grad=True)
    h = x * 2
    h.sum().backward()
    assert h.grad is None and x.grad is not None


def test_long_chain_no_recursion_error():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    tx = torch.tensor(1.0, requires_grad=True)
    ty = tx
    for _ in range(10_000):
        ty = ty * 1.0001
    ty.backward()
    assert_close(x.grad, tx.grad, rtol=1e-3)
    z = cr.ones(3, requires_grad=True)
    w = z
    for _ in range(10_000):
        w = w + z  # 10,000 paths into one leaf
    w.sum().backward()
    assert z.grad.tolist() == [10_001.0] * 3


def test_multiple_outputs_op():
    check(lambda x: x.max(1), None, [(3, 4)])
    check(lambda x: x.split(2)[1] * 2, None, [(5, 2)])


def test_int_output_of_float_input_does_not_require_grad():
    x = cr.ones(2, requires_grad=True)
    assert not x.argmax().requires_grad and not (x > 0).requires_grad and not x.long().requires_grad


# ----------------------------------------------------------------------------- in-place modification checks


def test_setitem_on_saved_tensor_then_backward_raises_naming_op():
    w = cr.ones(3, requires_grad=True)
    a = cr.tensor([1.0, 2.0, 3.0])
    y = (w * a).sum()
    a[0] = 10.0
    with pytest.raises(RuntimeError, match=r"Mul.*\(3,\).*modified"):
        y.backward()


def test_add_under_no_grad_on_saved_output_raises_naming_op():
    x = cr.ones(3, requires_grad=True)
    y = x.exp()
    z = y.sum()
    with cr.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"Exp.*modified"):
        z.backward()


def test_inplace_on_saved_leaf_under_no_grad_raises():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with cr.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match=r"Mul.*modified"):
        y.backward()


def test_inplace_on_unsaved_tensor_is_fine():
    x = cr.ones(3, requires_grad=True)
    c = cr.ones(3)
    y = (x + c).sum()  # add saves nothing
    c[0] = 5.0
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


# ----------------------------------------------------------------------------- custom Functions


class Cube(cr.autograd.Function):
    """y = x³ via Tensor ops; dy/dx = 3x²."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


class ScaledAdd(cr.autograd.Function):
    """y = a + alpha·b with a non-tensor argument."""

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return a + b * alpha

    @staticmethod
    def backward(ctx, grad):
        return grad, grad * ctx.alpha, None


class TorchCube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


def test_custom_function_pytorch_style():
    check(lambda x: Cube.apply(x).sin(), lambda x: TorchCube.apply(x).sin(), [(3, 2)])
    x = cr.ones(2, requires_grad=True)
    y = Cube.apply(x)
    assert isinstance(y, cr.Tensor) and y.requires_grad and "Cube" in repr(y.grad_fn)
    with cr.no_grad():
        assert not Cube.apply(x).requires_grad


def test_custom_function_non_tensor_args_and_needs_input_grad():
    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2)
    y = ScaledAdd.apply(a, b, 3.0)
    assert y.tolist() == [4.0, 4.0]
    assert y.grad_fn.needs_input_grad == (True, False, False)
    y.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad is None


def test_custom_function_gradcheck_and_double_backward():
    x = cr.tensor([0.5, -1.5], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(Cube.apply, (x,))
    (g,) = cr.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (g2,) = cr.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * x.detach().numpy())


def test_custom_function_saved_tensor_modified_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    with cr.no_grad():
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"Cube.*modified"):
        y.sum().backward()


def test_custom_function_wrong_number_of_grads():
    class Bad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="Bad"):
        Bad.apply(cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)).sum().backward()


def test_custom_function_wrong_grad_shape():
    class BadShape(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be expanded to a's shape

    with pytest.raises(RuntimeError, match=r"BadShape.*\(\).*\(3,\)"):
        BadShape.apply(cr.ones(3, requires_grad=True)).backward()


def test_to_torch_of_graph_tensor():
    x = cr.ones(2, requires_grad=True) * 2
    t = to_torch(x)
    assert t.requires_grad and t.is_leaf


class SinCos(cr.autograd.Function):
    """Two outputs: (sin x, cos x); backward gets one gradient per output."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, gs, gc):
        (x,) = ctx.saved_tensors
        return gs * x.cos() - gc * x.sin()


def test_custom_function_with_two_outputs():
    check(lambda x: SinCos.apply(x), lambda x: (x.sin(), x.cos()), [(3,)])
    check(lambda x: SinCos.apply(x)[1] * 2, lambda x: x.cos() * 2, [(3,)])  # one output unused


def test_custom_function_reads_needs_input_grad_in_forward():
    class Probe(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.seen = tuple(ctx.needs_input_grad)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.inputs
            return g * y, g * x

    out = Probe.apply(cr.ones(2, requires_grad=True), cr.ones(2))
    assert out.grad_fn.seen == (True, False)
    with cr.no_grad():
        assert not Probe.apply(cr.ones(2, requires_grad=True), cr.ones(2)).requires_grad


def test_custom_function_forward_may_return_array_or_input():
    class Twice(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2  # a bare array is wrapped too

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Ident(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = cr.ones(2, requires_grad=True)
    (Twice.apply(x) + Ident.apply(x)).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize(
    "make_view",
    [
        lambda y: y.detach(),
        lambda y: y[0:1],
        lambda y: y[1],
        lambda y: y.reshape(2, 1),
        lambda y: y.unsqueeze(0),
        lambda y: y.reshape(1, 2).T,
        lambda y: y.reshape(1, 2).transpose(0, 1),
        lambda y: y.reshape(1, 2).mT,
        lambda y: y.view(-1),
    ],
    ids=["detach", "slice", "int", "reshape", "unsqueeze", "T", "transpose", "mT", "view"],
)
def test_inplace_through_a_view_of_a_saved_tensor_raises(make_view):
    x = cr.ones(2, requires_grad=True)
    y = x.exp()
    z = y.sum()
    v = make_view(y)
    with cr.no_grad():
        v.add_(1.0)
    with pytest.raises(RuntimeError, match="Exp.*modified"):
        z.backward()
    a = cr.ones(2)
    w = cr.ones(2, requires_grad=True)
    loss = (w * a).sum()
    a.detach()[0] = 5.0  # the base is saved, a view is modified
    with pytest.raises(RuntimeError, match="Mul.*modified"):
        loss.backward()


def test_copies_do_not_share_version():
    x = cr.ones(2, requires_grad=True)
    y = x.exp()
    z = y.sum()
    c = y.clone()
    idx = y[np.array([0, 1])]  # integer-array indexing copies
    with cr.no_grad():
        c.add_(1.0)
        idx.add_(1.0)
    z.backward()
    assert_close(x.grad, torch.ones(2).exp())
