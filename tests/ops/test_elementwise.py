"""Element-wise ops vs PyTorch: forward, gradients (with broadcasting), dtype rules, gradcheck."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import TORCH_DTYPE, assert_close, check, gradcheck_op, to_torch

# ----------------------------------------------------------------------------- unary math

UNARY = {
    "exp": (lambda x: x.exp(), -2.0, 2.0),
    "log": (lambda x: x.log(), 0.1, 3.0),
    "sqrt": (lambda x: x.sqrt(), 0.1, 3.0),
    "sin": (lambda x: x.sin(), -3.0, 3.0),
    "cos": (lambda x: x.cos(), -3.0, 3.0),
    "tanh": (lambda x: x.tanh(), -3.0, 3.0),
    "sigmoid": (lambda x: x.sigmoid(), -5.0, 5.0),
    "relu": (lambda x: x.relu(), -2.0, 2.0),
    "neg": (lambda x: -x, -2.0, 2.0),
    "abs": (lambda x: abs(x), -2.0, 2.0),
    "square": (lambda x: x.square(), -2.0, 2.0),
    "reciprocal": (lambda x: x.reciprocal(), 0.5, 2.0),
    "rsqrt": (lambda x: x.rsqrt(), 0.5, 2.0),
}
FUNCS = {  # the cr.<name> functions and their torch.<name> counterparts
    "exp": (cr.exp, torch.exp),
    "log": (cr.log, torch.log),
    "sqrt": (cr.sqrt, torch.sqrt),
    "sin": (cr.sin, torch.sin),
    "cos": (cr.cos, torch.cos),
    "tanh": (cr.tanh, torch.tanh),
    "sigmoid": (cr.sigmoid, torch.sigmoid),
    "relu": (cr.relu, torch.relu),
    "neg": (cr.neg, torch.neg),
    "abs": (cr.abs, torch.abs),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(), (7,), (3, 4, 5)])
def test_unary_method(name, shape):
    fn, lo, hi = UNARY[name]
    check(fn, None, [shape], low=lo, high=hi)


@pytest.mark.parametrize("name", FUNCS)
def test_unary_function(name):
    crf, thf = FUNCS[name]
    lo, hi = UNARY[name][1:]
    check(crf, thf, [(4, 3)], low=lo, high=hi)


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name):
    fn, lo, hi = UNARY[name]
    gradcheck_op(fn, [(2, 3)], low=lo, high=hi)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "abs", "relu"])
def test_unary_float64(name):
    fn, lo, hi = UNARY[name]
    check(fn, None, [(5,)], dtype=np.float64, low=lo, high=hi, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh", "relu", "abs", "neg"])
def test_unary_empty(name):
    fn = UNARY[name][0]
    check(fn, None, [(0, 3)])


def test_sigmoid_extremes_no_overflow():
    x = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        check(lambda t: t.sigmoid(), None, [x])


def test_exp_overflow_is_inf_as_torch():
    check(lambda t: t.exp(), None, [np.array([100.0, -200.0, 0.0], np.float32)], grad=False)


def test_log_sqrt_edge_values():
    x = np.array([0.0, -1.0, 1.0], np.float32)
    check(lambda t: t.log(), None, [x], grad=False)
    check(lambda t: t.sqrt(), None, [x], grad=False)


def test_relu_abs_grad_at_zero():
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    check(lambda t: t.relu(), None, [x])
    check(lambda t: t.abs(), None, [x])


# ----------------------------------------------------------------------------- binary arithmetic

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
SHAPE_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1,), (5,)),
    ((0, 3), (3,)),
]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
def test_binary_broadcast(name, shapes):
    lo, hi = (0.5, 2.0) if name == "div" else (-2.0, 2.0)
    check(BINARY[name], None, list(shapes), low=lo, high=hi)


@pytest.mark.parametrize(
    "name,crf,thf",
    [
        ("add", cr.add, torch.add),
        ("sub", cr.sub, torch.sub),
        ("mul", cr.mul, torch.mul),
        ("div", cr.div, torch.div),
        ("pow", cr.pow, torch.pow),
    ],
)
def test_binary_functions(name, crf, thf):
    check(crf, thf, [(3, 2), (2,)], low=0.5, high=2.0)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("scalar", [2.5, -3, 0.5])
def test_binary_with_python_scalar(name, scalar):
    f = BINARY[name]
    check(lambda a: f(a, scalar), None, [(3, 2)], low=0.5, high=2.0)
    check(lambda a: f(scalar, a), None, [(3, 2)], low=0.5, high=2.0)


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck(name):
    lo, hi = (0.5, 2.0) if name == "div" else (-2.0, 2.0)
    gradcheck_op(BINARY[name], [(2, 3), (3,)], low=lo, high=hi)
    gradcheck_op(BINARY[name], [(2, 1), ()], low=lo, high=hi)


def test_same_tensor_both_operands():
    check(lambda a: a * a + a / a - a, None, [(4,)], low=0.5, high=2.0)


def test_numpy_array_operand_keeps_working():
    arr = np.arange(3, dtype=np.float32)
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for y in (x + arr, arr + x, x * arr, arr - x):
        assert isinstance(y, cr.Tensor) and y.requires_grad and y.dtype == np.float32
    (arr * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), arr)


# ----------------------------------------------------------------------------- pow


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 0, 1, 2.0])
def test_pow_scalar_exponent(exponent):
    check(lambda a: a**exponent, None, [(3, 4)], low=0.5, high=2.0)


def test_pow_tensor_exponent_and_rpow():
    check(lambda a, b: a**b, None, [(3, 4), (4,)], low=0.5, high=2.0)
    check(lambda b: 2.0**b, None, [(5,)])
    check(lambda b: 2**b, None, [(5,)])


def test_pow_gradcheck():
    gradcheck_op(lambda a, b: a**b, [(2, 3), (3,)], low=0.5, high=2.0)
    gradcheck_op(lambda a: a**3, [(4,)])
    gradcheck_op(lambda a: a**0.5, [(4,)], low=0.5, high=2.0)
    gradcheck_op(lambda b: 3.0**b, [(4,)])


def test_pow_zero_base_and_zero_exponent_grads_as_torch():
    base = np.array([0.0, 0.0, 1.0, 2.0], np.float32)
    expo = np.array([2.0, 0.0, 2.0, 0.0], np.float32)
    check(lambda a, b: a**b, None, [base, expo])
    check(lambda b: 0.0**b, None, [np.array([0.0, 1.0, 2.0], np.float32)])
    check(lambda a: a**0, None, [base])


def test_pow_negative_base_integer_exponent():
    check(lambda a: a**3, None, [np.array([-2.0, -0.5, 1.5], np.float32)])
    check(lambda a: a**2, None, [np.array([-2.0, -0.5, 1.5], np.float32)])


# ----------------------------------------------------------------------------- clamp, maximum, minimum, where


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (None, 0.3), (-0.3, None), (0.0, 0.0)])
def test_clamp(lo, hi):
    check(lambda x: x.clamp(lo, hi), None, [(4, 5)])
    check(lambda x: cr.clamp(x, min=lo, max=hi), lambda x: torch.clamp(x, min=lo, max=hi), [(6,)])
    check(lambda x: x.clip(lo, hi), None, [(3,)])


def test_clamp_at_bounds_passes_gradient():
    check(lambda x: x.clamp(-1.0, 1.0), None, [np.array([-1.0, 1.0, 0.5, 2.0, -3.0], np.float32)])


def test_clamp_requires_a_bound():
    with pytest.raises((ValueError, RuntimeError), match="clamp"):
        cr.clamp(cr.ones(2))


def test_clamp_gradcheck():
    gradcheck_op(lambda x: x.clamp(-0.5, 0.7), [(3, 4)])


@pytest.mark.parametrize("crf,thf", [(cr.maximum, torch.maximum), (cr.minimum, torch.minimum)])
def test_maximum_minimum(crf, thf):
    check(crf, thf, [(3, 4), (4,)])
    check(crf, thf, [(2, 1), (1, 3)])
    ties = np.array([1.0, 2.0, 3.0, -1.0], np.float32)
    check(crf, thf, [ties, np.array([1.0, 0.0, 3.0, 5.0], np.float32)])  # ties split the gradient
    gradcheck_op(crf, [(2, 3), (3,)])


def test_max_min_with_tensor_dispatch_to_elementwise():
    check(lambda a, b: a.max(b), lambda a, b: torch.max(a, b), [(3,), (3,)])
    check(lambda a, b: cr.min(a, b), lambda a, b: torch.min(a, b), [(3,), (3,)])
    check(lambda a, b: a.maximum(b), None, [(3,), (3,)])


def test_where():
    cond = np.array([[True, False, True], [False, False, True]])
    check(
        lambda a, b: cr.where(cr.tensor(cond), a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
        [(2, 3), (2, 3)],
    )
    check(
        lambda a, b: cr.where(cr.tensor(cond), a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
        [(3,), (2, 1)],
    )
    check(lambda a: cr.where(a > 0, a, 0.0), lambda a: torch.where(a > 0, a, 0.0), [(4, 3)])
    check(lambda a: cr.where(a > 0, 1.0, a), lambda a: torch.where(a > 0, 1.0, a), [(4, 3)])
    gradcheck_op(lambda a, b: cr.where(cr.tensor(cond), a, b), [(2, 3), (3,)])


def test_where_broadcast_failure_names_op():
    with pytest.raises(ValueError, match=r"where.*\(2,\).*\(3,\)"):
        cr.where(cr.ones(3) > 0, cr.ones(2), cr.ones(3))


# ----------------------------------------------------------------------------- dtype rules


def _dtype_case(make_a, make_b, op):
    """The result dtype of ``op`` on chainrule and torch operands made the same way."""
    out = op(make_a(cr), make_b(cr))
    ref = op(make_a(torch), make_b(torch))
    assert_close(out, ref, what="promotion")


@pytest.mark.parametrize(
    "op",
    [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a - b],
    ids=["add", "mul", "div", "sub"],
)
@pytest.mark.parametrize(
    "case",
    [
        ("int/int", lambda m: m.tensor([3, 4, 5]), lambda m: m.tensor([2, 2, 3])),
        ("int,float scalar", lambda m: m.tensor([3, 4]), lambda m: 2.5),
        ("int,int scalar", lambda m: m.tensor([3, 4]), lambda m: 2),
        ("f32,int scalar", lambda m: m.tensor([3.0, 4.0]), lambda m: 2),
        ("f32,f64 0-d", lambda m: m.tensor([3.0, 4.0]), lambda m: m.tensor(2.0, dtype=m.float64)),
        ("f64 0-d,f32", lambda m: m.tensor(2.0, dtype=m.float64), lambda m: m.tensor([3.0, 4.0])),
        ("f64,f32", lambda m: m.tensor([2.0, 1.0], dtype=m.float64), lambda m: m.tensor([3.0, 4.0])),
        ("int,f64 0-d", lambda m: m.tensor([3, 4]), lambda m: m.tensor(2.0, dtype=m.float64)),
        (
            "f64 0-d,f64 0-d",
            lambda m: m.tensor(3.0, dtype=m.float64),
            lambda m: m.tensor(2.0, dtype=m.float64),
        ),
        ("f32 0-d,f32 0-d", lambda m: m.tensor(3.0), lambda m: m.tensor(2.0)),
        ("int32,int64", lambda m: m.tensor([3, 4], dtype=m.int32), lambda m: m.tensor([1, 2])),
        ("bool,int", lambda m: m.tensor([True, False]), lambda m: m.tensor([1, 2])),
    ],
    ids=lambda c: c[0] if isinstance(c, tuple) else None,
)
def test_type_promotion_as_torch(op, case):
    _, make_a, make_b = case
    try:
        op(make_a(torch), make_b(torch))
    except RuntimeError:  # torch refuses it (bool - int): chainrule must too
        with pytest.raises(RuntimeError):
            op(make_a(cr), make_b(cr))
        return
    _dtype_case(make_a, make_b, op)


def test_float64_stays_float64_through_0d_chains():
    x = cr.tensor(2.0, dtype=cr.float64)
    y = ((x * 3.0) * 3.0 + 1.0) / 7.0 - x.exp()
    assert y.dtype == np.float64
    s = cr.ones(4, dtype=cr.float64).sum() * 2.0
    assert s.dtype == np.float64


def test_numpy_scalar_operand_does_not_upcast():
    x = cr.ones(3)
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (np.float64(2.0) * x).dtype == np.float32


def test_mixed_dtype_gradients_have_the_input_dtype():
    check(lambda a, b: a * b, None, [np.ones(3, np.float32), np.array(2.0, np.float64)])
    check(lambda a, b: a + b, None, [np.ones((2, 3), np.float32), np.ones(3, np.float64)])


def test_float16():
    check(lambda a, b: a * b + a, None, [(3,), (3,)], dtype=np.float16, rtol=1e-3, atol=1e-3)


# ----------------------------------------------------------------------------- comparisons and logic


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], np.float32)
    b = np.array([2.0, 2.0, 2.0], np.float32)
    sym = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}[op]
    for other in (cr.tensor(b), 2.0, 2):
        t_other = torch.tensor(b) if isinstance(other, cr.Tensor) else other
        out = getattr(cr.tensor(a), sym)(other)
        assert_close(out, getattr(torch.tensor(a), sym)(t_other))
        assert_close(getattr(cr.tensor(a), op)(other), getattr(torch.tensor(a), op)(t_other))
    x = cr.tensor(a, requires_grad=True)
    assert not (x > 0).requires_grad and (x > 0).grad_fn is None


def test_reflected_comparison_and_logic():
    a = np.array([1.0, 2.0, 3.0], np.float32)
    assert_close(2.0 < cr.tensor(a), 2.0 < torch.tensor(a))
    m1, m2 = np.array([True, False, True]), np.array([True, True, False])
    for f in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y, lambda x, y: ~x):
        assert_close(f(cr.tensor(m1), cr.tensor(m2)), f(torch.tensor(m1), torch.tensor(m2)))


def test_comparison_broadcast_failure():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        _ = cr.ones(3) < cr.ones(2)


def test_floor_divide_and_remainder():
    a = np.array([7.0, -7.0, 5.5], np.float32)
    assert_close(cr.tensor(a) // 2, torch.tensor(a) // 2)
    assert_close(cr.tensor(a) % 3, torch.tensor(a) % 3)
    assert_close(cr.tensor([7, -7]) // 2, torch.tensor([7, -7]) // 2)
    assert_close(cr.tensor([7, -7]) % 3, torch.tensor([7, -7]) % 3)


def test_sign_isnan_isfinite():
    a = np.array([-2.0, 0.0, 3.0, np.nan, np.inf], np.float32)
    for f in (lambda t: t.sign(), lambda t: t.isnan(), lambda t: t.isfinite()):
        assert_close(f(cr.tensor(a)), f(torch.tensor(a)))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", BINARY)
def test_broadcast_failure_names_op_and_shapes(name):
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        BINARY[name](cr.ones(2, 3), cr.ones(4))


def test_unsupported_operand_type():
    with pytest.raises(TypeError, match="add"):
        cr.ones(2) + "a"
    with pytest.raises(TypeError, match="mul"):
        cr.ones(2) * object()


def test_clone_and_to_keep_gradient():
    check(lambda x: x.clone() * 2, None, [(3,)])
    check(lambda x: x.double() * 2, None, [(3,)])
    check(lambda x: x.to(cr.float64), lambda x: x.to(torch.float64), [(3,)])
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad and x.long().dtype == np.int64
    y = x.clone()
    y._data[0] = 9.0
    assert x._data[0] == 1.5


def test_to_torch_roundtrip():
    x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    t = to_torch(x)
    assert t.requires_grad and t.dtype == torch.float32 and t.shape == (1, 2)


# ----------------------------------------------------------------------------- integer inputs


@pytest.mark.parametrize(
    "name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg", "square"]
)
def test_unary_on_integer_tensor_dtype_as_torch(name):
    fn = UNARY[name][0]
    a = np.array([1, 2, 3], np.int64)
    assert_close(fn(cr.tensor(a)), fn(torch.tensor(a)), rtol=1e-6)


@pytest.mark.parametrize(
    "f",
    [
        lambda x, m: x.clamp(0.5, 2.5),
        lambda x, m: x.clamp(1, 2),
        lambda x, m: x**2,
        lambda x, m: x**0.5,
        lambda x, m: 2.0**x,
        lambda x, m: m.maximum(x, m.tensor(1.5)),
        lambda x, m: m.where(x > 1, 1, 2.5),
        lambda x, m: m.where(x > 1, 1, 2),
        lambda x, m: (x > 1) * 2,
        lambda x, m: (x > 1) * 2.5,
        lambda x, m: (x > 1).sum(),
        lambda x, m: x * True,
    ],
)
def test_integer_and_bool_results_dtype_as_torch(f):
    a = np.array([1, 2, 3], np.int64)
    assert_close(f(cr.tensor(a), cr), f(torch.tensor(a), torch), rtol=1e-6)


def test_cat_where_mixed_float_dtypes_grads():
    a32, a64 = np.ones((2, 3), np.float32), np.full((1, 3), 2.0, np.float64)
    check(lambda a, b: cr.cat([a, b]), lambda a, b: torch.cat([a, b]), [a32, a64])
    cond = np.array([True, False, True])
    check(
        lambda a, b: cr.where(cr.tensor(cond), a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
        [a32, a64],
    )


def test_nan_gradients_as_torch():
    a = np.array([[1.0, np.nan, 3.0], [2.0, -5.0, 0.0]], np.float32)
    with np.errstate(invalid="ignore"):
        check(lambda x: x.relu(), None, [a])
        check(lambda x: x.clamp(0.0, 2.0), None, [a])
        check(lambda x: x.abs(), None, [a])
        check(cr.maximum, torch.maximum, [a, np.full(3, 1.0, np.float32)])
        check(cr.minimum, torch.minimum, [a, np.full(3, 1.0, np.float32)])


_DTYPES = [np.bool_, np.int32, np.int64, np.uint8, np.float16, np.float32, np.float64]
_PROMOTION_OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: (cr if isinstance(a, cr.Tensor) else torch).maximum(a, b),
    "where": lambda a, b: (cr if isinstance(a, cr.Tensor) else torch).where(a > 0, a, b),
}


@pytest.mark.parametrize("name", _PROMOTION_OPS)
def test_promotion_matrix_as_torch(name):
    """Every pair of dtypes, dimensioned and 0-d, plus Python numbers: the result dtype is torch's."""
    op, mismatches = _PROMOTION_OPS[name], []
    for da in _DTYPES:
        for db in _DTYPES + [2, 2.5, True]:
            for na, nb in ((1, 1), (0, 1), (1, 0), (0, 0)):
                a = np.ones((2,) * na, da)
                b = db if not isinstance(db, type) else np.full((2,) * nb, 2, db)
                try:
                    expected = op(torch.tensor(a), torch.tensor(b) if isinstance(b, np.ndarray) else b).dtype
                except (RuntimeError, TypeError):
                    continue  # torch refuses (e.g. maximum with a Python number)
                got = op(cr.tensor(a), cr.tensor(b) if isinstance(b, np.ndarray) else b).dtype
                if TORCH_DTYPE[np.dtype(got)] != expected:
                    mismatches.append((np.dtype(da).name, str(db), na, nb, str(got), str(expected)))
    assert not mismatches, mismatches


def test_relu_rejects_bool_as_torch():
    with pytest.raises(RuntimeError, match="Boolean"):
        torch.relu(torch.tensor([True, False]))
    for call in (cr.relu, lambda t: t.relu(), cr.nn.ReLU()):
        with pytest.raises(TypeError, match=r"relu: boolean inputs .* shape \(2,\)"):
            call(cr.tensor([True, False]))
