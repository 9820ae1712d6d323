"""cr.linalg against torch.linalg: values and gradients, float64 gradchecks, clear errors."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import check, gradcheck_op


def both(name):
    def call(*a, **k):
        mod = cr.linalg if isinstance(a[0], cr.Tensor) else torch.linalg
        return getattr(mod, name)(*a, **k)

    return call


rng = np.random.default_rng(0)
well = (rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32)  # far from singular
batch = (rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)).astype(np.float32)
spd = (well @ well.T + np.eye(3)).astype(np.float32)


def sym(a):
    return (a + a.mT) * 0.5


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda a: both("inv")(a), [well]),
        (lambda a: both("inv")(a), [batch]),
        (lambda a: both("det")(a), [well]),
        (lambda a: both("det")(a), [batch]),
        (lambda a: both("slogdet")(a)[1], [batch]),
        (lambda a, b: both("solve")(a, b), [well, (3,)]),
        (lambda a, b: both("solve")(a, b), [batch, (2, 3, 4)]),
        (lambda a, b: both("solve")(a, b), [batch, (3, 2)]),
        (lambda a: both("cholesky")(sym(a)), [spd]),
        (lambda a: both("cholesky")(sym(a), upper=True), [spd]),
        (lambda a: both("eigvalsh")(sym(a)), [(4, 4)]),
        (lambda a: [t**2 for t in both("eigh")(sym(a))], [(4, 4)]),  # squares: eigenvector signs
        (lambda a: both("svdvals")(a), [(4, 3)]),
        (lambda a: both("svd")(a, full_matrices=False).S, [(3, 5)]),
        (lambda a: (lambda u, s, vh: [u.abs(), s, vh.abs()])(*both("svd")(a, full_matrices=False)), [(4, 3)]),
        (lambda a: (lambda u, s, vh: [u @ vh, s])(*both("svd")(a, full_matrices=False)), [(2, 3, 5)]),
        (lambda a: list(both("qr")(a)), [(4, 3)]),
        (lambda a: list(both("qr")(a)), [(2, 3, 3)]),
        (lambda a: both("vector_norm")(a), [(3, 4)]),
        (lambda a: both("vector_norm")(a, 1, dim=1), [(3, 4)]),
        (lambda a: both("vector_norm")(a, 3.5, dim=(0, 1), keepdim=True), [(3, 4)]),
        (lambda a: both("vector_norm")(a, float("inf"), dim=0), [(3, 4)]),
        (lambda a: both("vector_norm")(a, float("-inf")), [(3, 4)]),
        (lambda a: both("vector_norm")(a, 0), [np.array([0.0, 1.5, 0.0], np.float32)]),
        (lambda a: both("matrix_norm")(a), [(2, 3, 4)]),
        (lambda a: both("matrix_norm")(a, "nuc"), [(3, 4)]),
        (lambda a: both("matrix_norm")(a, 2), [(3, 4)]),
        (lambda a: both("matrix_norm")(a, -2, keepdim=True), [(3, 4)]),
        (lambda a: both("matrix_norm")(a, 1), [(2, 3, 4)]),
        (lambda a: both("matrix_norm")(a, float("inf"), dim=(0, 2)), [(3, 2, 4)]),
        (lambda a: both("matrix_norm")(a, -1, keepdim=True), [(3, 4)]),
        (lambda a: both("norm")(a), [(3, 4)]),
        (lambda a: both("norm")(a, 1), [(5,)]),
        (lambda a: both("norm")(a, "fro"), [(3, 4)]),
        (lambda a: both("norm")(a, 2, dim=1), [(3, 4)]),
        (lambda a, b: both("cross")(a, b), [(4, 3), (4, 3)]),
    ],
)
def test_linalg_as_torch(fn, inputs):
    check(fn, None, inputs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda a: cr.linalg.inv(a), [well]),
        (lambda a: cr.linalg.det(a), [batch]),
        (lambda a, b: cr.linalg.solve(a, b), [batch, (2, 3, 2)]),
        (lambda a: cr.linalg.cholesky(sym(a) + cr.eye(3, dtype=cr.float64) * 3), [well]),
        (lambda a: cr.linalg.eigh(sym(a)).eigenvalues, [(3, 3)]),
        (lambda a: cr.linalg.eigh(sym(a)).eigenvectors ** 2, [(3, 3)]),
        (lambda a: cr.linalg.svdvals(a), [(4, 3)]),
        (lambda a: (lambda u, s, vh: u @ vh)(*cr.linalg.svd(a, full_matrices=False)), [(4, 3)]),
        (lambda a: (lambda u, s, vh: (u * u, vh * vh))(*cr.linalg.svd(a, full_matrices=False)), [(3, 4)]),
        (lambda a: cr.linalg.qr(a), [(4, 3)]),
        (lambda a: cr.linalg.matrix_norm(a, "nuc"), [(3, 4)]),
        (lambda a: cr.linalg.vector_norm(a, 3.0), [(3, 4)]),
    ],
)
def test_gradcheck(fn, inputs):
    gradcheck_op(fn, inputs)


def test_second_derivative_of_inv():
    a = torch.tensor(well.astype(np.float64), requires_grad=True)
    (g,) = torch.autograd.grad(torch.linalg.inv(a).sum(), a, create_graph=True)
    (gg,) = torch.autograd.grad((g**2).sum(), a)
    c = cr.tensor(well.astype(np.float64), requires_grad=True)
    (cg,) = cr.autograd.grad(cr.linalg.inv(c).sum(), c, create_graph=True)
    (cgg,) = cr.autograd.grad((cg**2).sum(), c)
    np.testing.assert_allclose(cgg.numpy(), gg.numpy(), rtol=1e-8)


@pytest.mark.parametrize(
    "call, err, words",
    [
        (lambda: cr.linalg.inv(cr.ones(2, 3)), RuntimeError, ["linalg.inv", "square", "(2, 3)"]),
        (lambda: cr.linalg.inv(cr.zeros(2, 2)), RuntimeError, ["linalg.inv", "Singular"]),
        (lambda: cr.linalg.det(cr.tensor([[1, 2], [3, 4]])), TypeError, ["linalg.det", "int64"]),
        (lambda: cr.linalg.solve(cr.eye(3), cr.ones(2)), RuntimeError, ["linalg.solve", "(2,)"]),
        (lambda: cr.linalg.cholesky(-cr.eye(2)), RuntimeError, ["linalg.cholesky"]),
        (lambda: cr.linalg.eigh(cr.eye(2), UPLO="X"), ValueError, ["UPLO"]),
        (lambda: cr.linalg.svd(cr.ones(2, 3, requires_grad=True)), RuntimeError, ["full_matrices=False"]),
        (lambda: cr.linalg.matrix_norm(cr.ones(3)), RuntimeError, ["matrix_norm", "2 dims"]),
        (lambda: cr.linalg.norm(cr.ones(2, 2, 2), 1), RuntimeError, ["linalg.norm", "3-D"]),
    ],
)
def test_bad_input_raises_clearly(call, err, words):
    with pytest.raises(err) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))
