"""Reductions vs PyTorch: sum mean var std max min amax amin argmax argmin logsumexp norm, any/all."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import assert_close, check, gradcheck_op

DIMS = [None, 0, 1, -1, -2, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("name", ["sum", "mean"])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean(name, dim, keepdim):
    check(lambda x: getattr(x, name)(dim=dim, keepdim=keepdim), None, [(2, 3, 4)])


@pytest.mark.parametrize("crf,thf", [(cr.sum, torch.sum), (cr.mean, torch.mean)])
def test_sum_mean_functions(crf, thf):
    check(lambda x: crf(x, 1), lambda x: thf(x, 1), [(3, 4)])
    check(crf, thf, [(3, 4)])


def test_sum_tall_matrix_axis0():  # the matrix-vector fast path
    check(lambda x: x.sum(0), None, [(100, 7)])
    check(lambda x: x.sum(0, keepdim=True), None, [(100, 7)])
    check(lambda x: x.sum(0), None, [(100, 7)], dtype=np.float64, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_sum_integer_and_bool_dtype_as_torch(dtype):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    for dim in (None, 0, 1):
        assert_close(
            cr.tensor(a).sum(dim) if dim is not None else cr.tensor(a).sum(),
            torch.tensor(a).sum(dim) if dim is not None else torch.tensor(a).sum(),
        )


def test_sum_dtype_argument():
    check(lambda x: x.sum(dtype=cr.float64), lambda x: x.sum(dtype=torch.float64), [(3, 4)])


def test_mean_of_int_raises():
    with pytest.raises(RuntimeError, match="mean"):
        cr.tensor([1, 2, 3]).mean()


def test_sum_mean_empty():
    check(lambda x: x.sum(), None, [(0, 3)])
    check(lambda x: x.sum(0), None, [(0, 3)])
    check(lambda x: x.mean(1), None, [(0, 3)])


def test_sum_0d():
    check(lambda x: x.sum(), None, [()])
    check(lambda x: x.sum(0), None, [()])
    check(lambda x: x.mean(-1, keepdim=True), None, [()])


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("unbiased", [True, False])
def test_var_std(name, dim, keepdim, unbiased):
    if dim is None:
        check(lambda x: getattr(x, name)(unbiased=unbiased), None, [(3, 4, 2)])
    else:
        check(lambda x: getattr(x, name)(dim, unbiased=unbiased, keepdim=keepdim), None, [(3, 4, 2)])


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction(correction):
    check(lambda x: x.var(1, correction=correction), None, [(3, 5)])
    check(
        lambda x: cr.std(x, 0, correction=correction),
        lambda x: torch.std(x, 0, correction=correction),
        [(4, 2)],
    )


def test_var_single_element_and_std_of_constant_as_torch():
    check(lambda x: x.var(), None, [(1,)])
    check(lambda x: x.std(), None, [np.zeros(3, np.float32)])
    check(lambda x: x.std(1), None, [np.array([[1.0, 1.0], [1.0, 2.0]], np.float32)])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim(name, dim, keepdim):
    out, _ = check(lambda x: getattr(x, name)(dim, keepdim=keepdim), None, [(3, 4, 5)])
    values, indices = getattr(cr.ones(2, 3), name)(dim, keepdim)  # a named tuple, as torch
    assert indices.dtype == np.int64 and not indices.requires_grad


def test_max_min_named_tuple_fields():
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    r = x.max(1)
    np.testing.assert_array_equal(r.values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(r.indices.numpy(), [1, 0])
    r = cr.min(x, dim=0)
    np.testing.assert_array_equal(r.indices.numpy(), [0, 1, 0])


def test_max_with_dim_ties_first_index():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], np.float32)
    check(lambda t: t.max(1), None, [x])
    check(lambda t: t.min(0), None, [np.array([[1.0, 2.0], [1.0, 2.0]], np.float32)])


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_full_reduction_ties_share_gradient(name):
    check(lambda x: getattr(x, name)(), None, [np.array([[1.0, 3.0], [3.0, -1.0]], np.float32)])
    check(lambda x: getattr(x, name)(), None, [(4, 5)])


@pytest.mark.parametrize("dim", [0, -1, (0, 1), None])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin(name, dim):
    if dim is None:
        check(lambda x: getattr(x, name)(), None, [(3, 4)])
    else:
        check(lambda x: getattr(x, name)(dim), None, [(3, 4)])
        check(lambda x: getattr(x, name)(dim, keepdim=True), None, [(3, 4)])
    ties = np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]], np.float32)
    check(lambda x: getattr(x, name)(-1), None, [ties])


def test_max_min_0d_and_errors():
    check(lambda x: x.max(0), None, [()])
    check(lambda x: x.max(), None, [()])
    with pytest.raises((RuntimeError, IndexError), match="max"):
        cr.ones(0, 3).max()
    with pytest.raises((RuntimeError, IndexError), match="max"):
        cr.ones(0, 3).max(0)
    with pytest.raises(IndexError, match="max"):
        cr.ones(2, 3).max(2)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(name, dim, keepdim):
    a = np.array([[1.0, 3.0, 3.0, 0.0], [5.0, 5.0, -1.0, 2.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    out = getattr(cr.tensor(a, requires_grad=True), name)(dim=dim, keepdim=keepdim)
    ref = getattr(torch.tensor(a), name)(dim=dim, keepdim=keepdim)
    assert_close(out, ref)
    assert not out.requires_grad
    assert_close(cr.argmax(cr.tensor(a), 1), torch.argmax(torch.tensor(a), 1))


def test_argmax_0d_and_empty():
    assert_close(cr.tensor(3.0).argmax(), torch.tensor(3.0).argmax())
    assert_close(cr.tensor(3.0).argmax(0), torch.tensor(3.0).argmax(0))
    with pytest.raises(RuntimeError, match="argmax"):
        cr.ones(0).argmax()


@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(dim, keepdim):
    check(lambda x: x.logsumexp(dim, keepdim), None, [(3, 4)])
    check(lambda x: cr.logsumexp(x, dim, keepdim), lambda x: torch.logsumexp(x, dim, keepdim), [(3, 4)])


def test_logsumexp_large_values_and_inf():
    check(lambda x: x.logsumexp(1), None, [np.array([[1000.0, 1000.0], [-1000.0, 0.0]], np.float32)])
    check(lambda x: x.logsumexp(0), None, [np.array([-np.inf, 0.0, 1.0], np.float32)])
    check(lambda x: x.logsumexp(0), None, [np.array([-np.inf, -np.inf], np.float32)], grad=False)


@pytest.mark.parametrize("p", [2, 1, float("inf"), 3])
@pytest.mark.parametrize("dim", [None, 1])
def test_norm(p, dim):
    check(lambda x: x.norm(p, dim), lambda x: torch.linalg.vector_norm(x, p, dim), [(3, 4)])


def test_norm_at_zero_has_zero_gradient_as_torch():
    check(lambda x: x.norm(), None, [np.zeros(3, np.float32)])


@pytest.mark.parametrize("name", ["any", "all"])
def test_any_all(name):
    a = np.array([[True, False], [True, True], [False, False]])
    for dim in (None, 0, 1):
        kw = {} if dim is None else {"dim": dim}
        assert_close(getattr(cr.tensor(a), name)(**kw), getattr(torch.tensor(a), name)(**kw))


REDUCTIONS = {
    "sum": lambda x: x.sum(1),
    "mean": lambda x: x.mean((0, 2)),
    "var": lambda x: x.var(1),
    "std": lambda x: x.std(-1, keepdim=True),
    "max_dim": lambda x: x.max(1)[0],
    "min_dim": lambda x: x.min(0).values,
    "amax": lambda x: x.amax((0, 1)),
    "max_all": lambda x: x.max(),
    "logsumexp": lambda x: x.logsumexp(1),
    "norm": lambda x: x.norm(),
}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradcheck(name):
    gradcheck_op(REDUCTIONS[name], [(2, 3, 2)])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var", "std"])
def test_empty_dim_tuple_reduces_everything_as_torch(name):
    # torch's var/std backward counts N = 1 for dim=() (an inf gradient): compare their values only
    check(lambda x: getattr(x, name)(()), None, [(2, 3)], grad=name not in ("var", "std"))
    if name in ("var", "std"):
        check(lambda x: getattr(x, name)(()), lambda x: getattr(x, name)(), [(2, 3)])


def test_bad_dims_raise_naming_op():
    x = cr.ones(2, 3)
    for name in ("sum", "mean", "var", "amax", "logsumexp"):
        with pytest.raises(IndexError, match=name):
            getattr(x, name)(2)
    with pytest.raises(RuntimeError, match="sum"):
        x.sum((0, -2))


@pytest.mark.parametrize("f", [lambda x: x.var(), lambda x: x.std(), lambda x: x.norm(), lambda x: x.mean()])
def test_float_only_reductions_reject_ints_as_torch(f):
    with pytest.raises(RuntimeError):
        f(torch.tensor([1, 5, 2]))
    with pytest.raises(RuntimeError, match=r"(var|std|norm|mean).*int64"):
        f(cr.tensor([1, 5, 2]))


def test_logsumexp_of_int_is_float32():
    assert_close(cr.tensor([1, 5, 2]).logsumexp(0), torch.tensor([1, 5, 2]).logsumexp(0))


def test_nan_reductions_as_torch():
    a = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 4.0]], np.float32)
    with np.errstate(invalid="ignore"):
        for f in (
            lambda x: x.max(),
            lambda x: x.min(),
            lambda x: x.amax(1),
            lambda x: x.max(1)[0],
            lambda x: x.min(0),
            lambda x: x.logsumexp(1),
            lambda x: x.sum(0),
            lambda x: x.mean(),
        ):
            check(f, None, [a])
        assert_close(cr.tensor(a).argmax(1), torch.tensor(a).argmax(1))
        assert_close(cr.tensor(a).argmin(), torch.tensor(a).argmin())
