"""Math, products, scans and logic of the wider vocabulary against PyTorch (values, gradients),
float64 gradchecks and second derivatives, dtype rules, clear errors."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import assert_close, check, gradcheck_op


def both(name):
    """``name`` from chainrule for chainrule tensors, from torch for torch tensors."""

    def call(*a, **k):
        first = a[0][0] if isinstance(a[0], (list, tuple)) else a[0]
        if isinstance(first, str):
            first = a[1]
        return getattr(cr if isinstance(first, cr.Tensor) else torch, name)(*a, **k)

    return call


UNIT = dict(low=-0.9, high=0.9)
POS = dict(low=0.2, high=3.0)


@pytest.mark.parametrize(
    "name, rng",
    [
        ("acos", UNIT), ("asin", UNIT), ("atan", {}), ("sinh", {}), ("cosh", {}), ("tan", UNIT),
        ("expm1", {}), ("log2", POS), ("log10", POS), ("erf", {}), ("frac", {}), ("ceil", {}),
        ("floor", {}), ("trunc", {}), ("round", {}), ("reciprocal", POS), ("rsqrt", POS), ("square", {}),
    ],
)  # fmt: skip
def test_unary(name, rng):
    check(lambda x: getattr(x, name)(), None, [(3, 4)], **rng)
    check(lambda x: both(name)(x), None, [(5,)], **rng)
    if name not in ("ceil", "floor", "trunc", "round"):
        gradcheck_op(lambda x: getattr(cr, name)(x), [(2, 3)], **rng)


@pytest.mark.parametrize("name", ["sinh", "tan", "log2", "atan", "expm1"])
def test_second_derivative(name):
    x = np.array([0.3, 0.7, 1.1])
    t = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(getattr(t, name)().sum(), t, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), t)
    c = cr.tensor(x, requires_grad=True)
    (cg,) = cr.autograd.grad(getattr(c, name)().sum(), c, create_graph=True)
    (cgg,) = cr.autograd.grad(cg.sum(), c)
    np.testing.assert_allclose(cgg.numpy(), gg.numpy(), rtol=1e-9)


def test_round_decimals_and_integer_rounding():
    check(lambda x: x.round(decimals=2), None, [(6,)])
    check(lambda x: x.floor(), None, [np.array([1, -2, 3])])


@pytest.mark.parametrize(
    "fn, inputs, rng",
    [
        (lambda a, b: a.atan2(b), [(3, 4), (4,)], {}),
        (lambda a, b: a.fmod(b), [(3, 4), (3, 4)], POS),
        (lambda a, b: a.fmod(b), [(3, 4), (3, 4)], {}),
        (lambda a: a.fmod(0.7), [(3, 4)], {}),
        (lambda a, b: a.remainder(b), [(3, 4), (4,)], {}),
        (lambda a: a.remainder(-1.5), [(3, 4)], {}),
        (lambda a, b: a.logaddexp(b), [(3, 4), (3, 1)], {}),
        (lambda a, b: a.lerp(b, 0.3), [(3, 4), (3, 4)], {}),
        (lambda a, b, w: a.lerp(b, w), [(3, 4), (3, 4), (4,)], {}),
    ],
)
def test_binary(fn, inputs, rng):
    check(fn, None, inputs, **rng)


def test_binary_gradcheck_and_integer_fmod():
    gradcheck_op(lambda a, b: cr.atan2(a, b), [(2, 3), (2, 3)])
    gradcheck_op(lambda a, b: cr.logaddexp(a, b), [(2, 3), (3,)])
    gradcheck_op(lambda a, b: cr.fmod(a, b), [(2, 3), (2, 3)], low=0.3, high=2.0)
    check(lambda a, b: a.fmod(b), None, [np.array([7, -7, 5]), np.array([3, 3, -2])])
    check(lambda a, b: a.remainder(b), None, [np.array([7, -7, 5]), np.array([3, 3, -2])])


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda a, b: a.bmm(b), [(2, 3, 4), (2, 4, 5)]),
        (lambda a, b: a.dot(b), [(4,), (4,)]),
        (lambda a, b: a.outer(b), [(3,), (4,)]),
        (lambda c, a, b: c.addmm(a, b), [(3, 5), (3, 4), (4, 5)]),
        (lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0), [(5,), (3, 4), (4, 5)]),
        (lambda c, a, b: c.baddbmm(a, b, beta=0.3, alpha=-1.0), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
        (lambda c, a, b: both("addmv")(c, a, b, alpha=0.5), [(3,), (3, 4), (4,)]),
        (lambda a, b: a.kron(b), [(2, 3), (3, 2)]),
        (lambda a, b: a.kron(b), [(2,), (2, 3)]),
        (lambda a, b: a.cross(b, dim=1), [(4, 3), (4, 3)]),
        (lambda a, b: both("cross")(a, b, dim=0), [(3, 2), (3, 1)]),
        (lambda a, b: both("cdist")(a, b), [(4, 3), (5, 3)]),
        (lambda a, b: both("cdist")(a, b, p=1.0), [(2, 4, 3), (2, 5, 3)]),
        (lambda a, b: both("cdist")(a, b, p=float("inf")), [(4, 3), (5, 3)]),
        (lambda a, b: both("tensordot")(a, b, dims=2), [(2, 3, 4), (3, 4, 5)]),
        (lambda a, b: both("tensordot")(a, b, dims=([0, 2], [2, 0])), [(2, 3, 4), (4, 5, 2)]),
        (lambda a: a.trace(), [(4, 4)]),
        (lambda a: a.diag(), [(4, 3)]),
        (lambda a: a.diag(1), [(4, 3)]),
        (lambda a: a.diag(-1), [(3,)]),
        (lambda a: a.diag(), [(3,)]),
        (lambda a: a.diagonal(), [(3, 4)]),
        (lambda a: a.diagonal(1, 0, 2), [(3, 2, 4)]),
        (lambda a: a.diagonal(-1, -1, -2), [(2, 3, 4)]),
        (lambda a: both("diag_embed")(a), [(2, 3)]),
    ],
)
def test_products(fn, inputs):
    check(fn, None, inputs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "eq, shapes",
    [
        ("ij,jk->ik", [(3, 4), (4, 5)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("ij->ji", [(3, 4)]),
        ("ii->i", [(4, 4)]),
        ("ii", [(4, 4)]),
        ("ij->", [(3, 4)]),
        ("ij->j", [(3, 4)]),
        ("i,j->ij", [(3,), (4,)]),
        ("...ij,...jk", [(2, 3, 4), (2, 4, 5)]),
        ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
        ("ij,ij->i", [(3, 4), (3, 4)]),
        ("iij->j", [(3, 3, 2)]),
        ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]),
    ],
)
def test_einsum(eq, shapes):
    check(lambda *ts: both("einsum")(eq, *ts), None, shapes)
    gradcheck_op(lambda *ts: cr.einsum(eq, *ts), shapes)


def test_einsum_double_backward():
    a = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad((torch.einsum("ij,jk->ik", a, a) ** 2).sum(), a, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), a)
    c = cr.tensor(a.detach().numpy(), requires_grad=True)
    (cg,) = cr.autograd.grad((cr.einsum("ij,jk->ik", c, c) ** 2).sum(), c, create_graph=True)
    (cgg,) = cr.autograd.grad(cg.sum(), c)
    np.testing.assert_allclose(cgg.numpy(), gg.numpy(), rtol=1e-9)


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda a: a.cumsum(0), [(4, 3)]),
        (lambda a: a.cumsum(-1), [(4, 3)]),
        (lambda a: a.cumprod(1), [(3, 4)]),
        (lambda a: a.cumprod(0), [np.array([[1.0, 2.0], [0.0, 3.0], [4.0, 0.0], [2.0, 5.0]], np.float32)]),
        (lambda a: a.prod(), [(2, 3)]),
        (lambda a: a.prod(1), [(3, 4)]),
        (lambda a: a.prod(0, keepdim=True), [(3, 4)]),
        (lambda a: a.prod(1), [np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 3.0]], np.float32)]),
        (lambda a: a.cumsum(0), [np.array([1, 2, 3], np.int32)]),
        (lambda a: a.prod(), [np.array([True, True])]),
        (lambda a: a.cumsum(0, dtype=torch.float64 if isinstance(a, torch.Tensor) else cr.float64), [(3,)]),
        (lambda a: a.softmax(1), [(2, 3)]),
        (lambda a: a.log_softmax(-1), [(2, 3)]),
        (lambda a: both("softmax")(a, 0), [(2, 3)]),
    ],
)
def test_scans_and_products(fn, inputs):
    check(fn, None, inputs)


def test_scans_gradcheck_with_zeros():
    z = np.array([[1.5, 0.0, 2.0], [0.0, 0.0, -1.0]])
    gradcheck_op(lambda a: cr.cumsum(a, 1), [(2, 3)])
    gradcheck_op(lambda a: cr.cumprod(a, 1), [z])
    gradcheck_op(lambda a: cr.prod(a, 1), [z])
    gradcheck_op(lambda a: cr.prod(a), [(2, 3)])


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda a, b: both("eq")(a, b), [(3, 4), (4,)]),
        (lambda a: both("ne")(a, 0.5), [(3, 4)]),
        (lambda a, b: both("gt")(a, b), [(3, 4), (3, 4)]),
        (lambda a, b: both("ge")(a, b), [(3, 4), (3, 4)]),
        (lambda a, b: both("lt")(a, b), [(3, 4), (3, 4)]),
        (lambda a, b: both("le")(a, b), [(3, 4), (3, 4)]),
        (lambda a, b: both("isclose")(a, b, rtol=0.5), [(3, 4), (3, 4)]),
        (lambda a: both("isinf")(a), [np.array([1.0, np.inf, -np.inf, np.nan], np.float32)]),
        (lambda a: both("isnan")(a), [np.array([1.0, np.inf, -np.inf, np.nan], np.float32)]),
        (lambda a: both("isfinite")(a), [np.array([1.0, np.inf, -np.inf, np.nan], np.float32)]),
        (lambda a: both("isposinf")(a), [np.array([1.0, np.inf, -np.inf, np.nan], np.float32)]),
        (lambda a: both("nan_to_num")(a), [np.array([1.0, np.inf, -np.inf, np.nan], np.float32)]),
        (lambda a: a.nan_to_num(2.0, 5.0, -5.0), [np.array([1.0, np.inf, -np.inf, np.nan], np.float32)]),
        (lambda a, b: both("logical_and")(a, b), [np.array([0, 1, 2]), np.array([1.0, 0.0, 3.0])]),
        (lambda a, b: both("logical_or")(a, b), [np.array([0, 1, 0]), np.array([0, 0, 3])]),
        (lambda a, b: both("logical_xor")(a, b), [np.array([0, 1, 0]), np.array([True, True, False])]),
        (lambda a: both("logical_not")(a), [np.array([0.0, 1.5])]),
        (lambda a: both("count_nonzero")(a), [np.array([[0, 1], [2, 0]])]),
        (lambda a: both("count_nonzero")(a, dim=0), [np.array([[0, 1], [2, 3]])]),
        (lambda a: both("all")(a), [np.array([[0, 1], [2, 3]])]),
        (lambda a: both("any")(a, 1), [np.array([[0, 0], [2, 3]])]),
    ],
)
def test_comparison_and_logic(fn, inputs):
    check(fn, None, inputs)


def test_python_bool_results():
    a, b = cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-9])
    assert cr.allclose(a, b) is True and a.allclose(b)
    assert cr.equal(a, a.clone()) is True and not cr.equal(a, cr.tensor([1.0]))
    assert cr.allclose(cr.tensor([np.nan]), cr.tensor([np.nan]), equal_nan=True)


def test_inplace_math_forms():
    a = np.array([0.25, -1.75, 2.5], np.float32)
    for name in [
        "floor_",
        "ceil_",
        "trunc_",
        "frac_",
        "round_",
        "expm1_",
        "atan_",
        "abs_",
        "neg_",
        "square_",
    ]:
        c, t = cr.tensor(a), torch.tensor(a)
        assert getattr(c, name)() is c
        getattr(t, name)()
        assert_close(c, t, what=name)
    c, t = cr.tensor(a), torch.tensor(a)
    c.cumsum_(0), t.cumsum_(0)
    assert_close(c, t)
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_"):
        w.floor_()


@pytest.mark.parametrize(
    "call, err, words",
    [
        (lambda: cr.bmm(cr.ones(2, 3), cr.ones(2, 3)), RuntimeError, ["bmm", "3-D"]),
        (lambda: cr.bmm(cr.ones(2, 3, 4), cr.ones(2, 3, 4)), RuntimeError, ["bmm", "(2, 3, 4)"]),
        (lambda: cr.dot(cr.ones(3), cr.ones(4)), RuntimeError, ["dot", "equal size"]),
        (lambda: cr.einsum("ij,jk", cr.ones(2, 3)), ValueError, ["einsum", "2 operands"]),
        (lambda: cr.einsum("ij,jk", cr.ones(2, 3), cr.ones(4, 2)), RuntimeError, ["einsum", "'j'"]),
        (lambda: cr.einsum("ijk", cr.ones(2, 3)), ValueError, ["einsum", "ijk"]),
        (lambda: cr.cross(cr.ones(2, 2), cr.ones(2, 2)), RuntimeError, ["cross", "size 3"]),
        (lambda: cr.trace(cr.ones(3)), RuntimeError, ["trace", "2-D"]),
        (lambda: cr.cumsum(cr.ones(3), 1), IndexError, ["cumsum"]),
        (lambda: cr.acos([0.5]), TypeError, ["acos", "Tensor"]),
        (lambda: cr.atan2(cr.ones(2), cr.ones(3)), ValueError, ["atan2", "(2,)", "(3,)"]),
        (lambda: cr.frac(cr.tensor([1, 2])), TypeError, ["frac", "int64"]),
    ],
)
def test_bad_input_raises_clearly(call, err, words):
    with pytest.raises(err) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize(
    "name, args",
    [
        ("eq_", (0.5,)), ("ne_", (0.5,)), ("gt_", (0.3,)), ("ge_", (0.5,)), ("lt_", (0.3,)), ("le_", (0.5,)),
        ("fix_", ()), ("clip_", (-1, 1)), ("arctan_", ()), ("logical_xor_", (np.array([[1, 0], [0, 0]]),)),
        ("addmm_", (np.eye(2, dtype=np.float32), np.ones((2, 2), np.float32))),
        ("addmv_", (np.eye(2, dtype=np.float32), np.ones(2, np.float32))),
        ("atan2_", (np.ones((2, 2), np.float32),)), ("fmod_", (0.4,)),
        ("lerp_", (np.zeros((2, 2), np.float32), 0.5)),
    ],
)  # fmt: skip
def test_more_inplace_forms(name, args):
    a = np.array([[0.5, -1.5], [2.0, 0.25]], np.float32)
    if name == "addmv_":
        a = a[0]
    c, t = cr.tensor(a), torch.tensor(a)
    assert getattr(c, name)(*[cr.tensor(x) if isinstance(x, np.ndarray) else x for x in args]) is c
    getattr(t, name)(*[torch.tensor(x) if isinstance(x, np.ndarray) else x for x in args])
    assert_close(c, t, what=name)
