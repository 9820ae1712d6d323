"""cr.autograd.gradcheck itself, and a float64 gradcheck of every differentiable op in one place."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.linalg import linear
from tests.helpers import gradcheck_op

OPS = {
    # name: (fn, input shapes, low, high)
    "add": (lambda a, b: a + b, [(2, 3), (3,)], -2, 2),
    "sub": (lambda a, b: a - b, [(2, 3), (2, 1)], -2, 2),
    "mul": (lambda a, b: a * b, [(2, 3), ()], -2, 2),
    "div": (lambda a, b: a / b, [(2, 3), (3,)], 0.5, 2),
    "pow": (lambda a, b: a**b, [(2, 3), (3,)], 0.5, 2),
    "pow_scalar": (lambda a: a**2.5, [(3,)], 0.5, 2),
    "rpow": (lambda a: 1.7**a, [(3,)], -2, 2),
    "neg": (lambda a: -a, [(3,)], -2, 2),
    "abs": (lambda a: a.abs(), [(3,)], 0.2, 2),
    "exp": (lambda a: a.exp(), [(3,)], -2, 2),
    "log": (lambda a: a.log(), [(3,)], 0.5, 2),
    "sqrt": (lambda a: a.sqrt(), [(3,)], 0.5, 2),
    "sin": (lambda a: a.sin(), [(3,)], -2, 2),
    "cos": (lambda a: a.cos(), [(3,)], -2, 2),
    "tanh": (lambda a: a.tanh(), [(3,)], -2, 2),
    "sigmoid": (lambda a: a.sigmoid(), [(3,)], -2, 2),
    "relu": (lambda a: a.relu(), [(4,)], 0.1, 1),
    "relu_neg": (lambda a: a.relu(), [(4,)], -1, -0.1),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), [(5,)], -2, 2),
    "maximum": (lambda a, b: cr.maximum(a, b), [(2, 3), (3,)], -2, 2),
    "minimum": (lambda a, b: cr.minimum(a, b), [(2, 3), (3,)], -2, 2),
    "where": (lambda a, b: cr.where(a > 0, a, b), [(2, 3), (3,)], -2, 2),
    "to_clone": (lambda a: a.clone().to(cr.float64) * 1.0, [(3,)], -2, 2),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 2)], -2, 2),
    "matmul_batched": (lambda a, b: a @ b, [(2, 2, 3), (3,)], -2, 2),
    "linear": (linear, [(2, 3), (4, 3), (4,)], -2, 2),
    "sum": (lambda a: a.sum((0, 2)), [(2, 3, 2)], -2, 2),
    "mean": (lambda a: a.mean(-1, keepdim=True), [(2, 3)], -2, 2),
    "var": (lambda a: a.var(0), [(3, 2)], -2, 2),
    "std": (lambda a: a.std(), [(3, 2)], -2, 2),
    "max": (lambda a: a.max(), [(3, 2)], -2, 2),
    "max_dim": (lambda a: a.max(1).values, [(3, 2)], -2, 2),
    "min_dim": (lambda a: a.min(0)[0], [(3, 2)], -2, 2),
    "amax": (lambda a: a.amax(0), [(3, 2)], -2, 2),
    "amin": (lambda a: a.amin(), [(3, 2)], -2, 2),
    "logsumexp": (lambda a: a.logsumexp(1), [(3, 2)], -2, 2),
    "norm": (lambda a: a.norm(), [(3, 2)], -2, 2),
    "reshape": (lambda a: a.reshape(3, 2), [(2, 3)], -2, 2),
    "view": (lambda a: a.view(-1), [(2, 3)], -2, 2),
    "flatten": (lambda a: a.flatten(), [(2, 3)], -2, 2),
    "squeeze": (lambda a: a.squeeze(1), [(2, 1, 3)], -2, 2),
    "unsqueeze": (lambda a: a.unsqueeze(0), [(2, 3)], -2, 2),
    "transpose": (lambda a: a.transpose(0, 1), [(2, 3)], -2, 2),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 2)], -2, 2),
    "expand": (lambda a: a.expand(3, 2, 2), [(2, 1)], -2, 2),
    "T": (lambda a: a.T, [(2, 3)], -2, 2),
    "repeat": (lambda a: a.repeat(2, 2), [(2, 3)], -2, 2),
    "getitem": (lambda a: a[1:, np.array([0, 0, 2])], [(2, 3)], -2, 2),
    "getitem_mask": (lambda a: a[a > 0], [(2, 3)], -2, 2),
    "cat": (lambda a, b: cr.cat([a, b, a], 0), [(1, 3), (2, 3)], -2, 2),
    "stack": (lambda a, b: cr.stack([a, b], 1), [(2, 3), (2, 3)], -2, 2),
    "pad": (lambda a: cr.pad(a, (1, 2, 0, 1), value=0.5), [(2, 3)], -2, 2),
    "pad_replicate": (lambda a: cr.pad(a, (2, 1), mode="replicate"), [(2, 3)], -2, 2),
    "split": (lambda a: a.split(1, 1)[1], [(2, 3)], -2, 2),
}


@pytest.mark.parametrize("name", OPS)
def test_gradcheck_every_op(name):
    fn, shapes, lo, hi = OPS[name]
    gradcheck_op(fn, shapes, low=lo, high=hi)


class WrongSquare(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2x


class RightSquare(WrongSquare):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2.0 * x


def test_gradcheck_raises_on_wrong_backward():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(RightSquare.apply, (x,))
    with pytest.raises(cr.autograd.GradcheckError, match=r"gradcheck.*analytic.*numerical"):
        cr.autograd.gradcheck(WrongSquare.apply, (x,))
    with pytest.raises(RuntimeError):  # GradcheckError is a RuntimeError
        cr.autograd.gradcheck(WrongSquare.apply, x)
    assert cr.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_message_names_worst_element():
    x = cr.tensor([0.0, 0.0, 3.0], dtype=cr.float64, requires_grad=True)  # only element 2 is wrong
    with pytest.raises(cr.autograd.GradcheckError, match=r"input 2\).*analytic 3.*numerical 6"):
        cr.autograd.gradcheck(WrongSquare.apply, (x,))


def test_gradcheck_input_validation():
    with pytest.raises(ValueError, match="float64"):
        cr.autograd.gradcheck(lambda a: a * 2, (cr.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="requires grad"):
        cr.autograd.gradcheck(lambda a: a * 2, (cr.ones(2, dtype=cr.float64),))


def test_gradcheck_mixed_args_multiple_outputs_and_noncontiguous_input():
    a = cr.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    b = cr.tensor(np.random.default_rng(1).standard_normal((2, 3)).T)  # no grad, non-contiguous
    assert cr.autograd.gradcheck(lambda x, y, k: (x * y * k, x.sum()), (a, b, 2.0))
    c = cr.from_numpy(np.random.default_rng(2).standard_normal((2, 3)).T).requires_grad_()
    assert cr.autograd.gradcheck(lambda x: (x * x).sum(0), (c,))
    with pytest.raises(cr.autograd.GradcheckError):
        cr.autograd.gradcheck(WrongSquare.apply, (c,))


def test_gradcheck_leaves_inputs_unchanged():
    a = np.array([0.3, 0.7])
    x = cr.tensor(a, requires_grad=True)
    cr.autograd.gradcheck(lambda t: t.exp(), (x,))
    assert np.array_equal(x.detach().numpy(), a) and x.grad is None
