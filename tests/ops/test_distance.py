"""normalize, cosine_similarity, pairwise_distance (and the p-norm op under them) against
PyTorch: values and gradients for every p, broadcasting, zero vectors (the clamped and the
zero-norm gradients), float64 gradchecks, second derivatives, the modules and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.ops.distance import vector_norm
from tests.helpers import assert_close, check, gradcheck_op, to_torch

TF = torch.nn.functional
PS = [2.0, 1.0, 3.0, 1.5, 0.5, -1.0, math.inf, -math.inf, 0.0]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("p", PS)
def test_vector_norm_against_torch(p, keepdim):
    check(
        lambda x: vector_norm(x, p, 1, keepdim),
        lambda x: torch.linalg.vector_norm(x, p, 1, keepdim),
        [(3, 5, 2)],
    )


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 1.5, 0.5, math.inf])
def test_vector_norm_gradient_at_zero_like_torch(p):
    x = np.array([[0.0, 0.0, 0.0], [0.0, 2.0, -1.0], [3.0, -3.0, 0.0]], np.float64)
    check(lambda a: vector_norm(a, p, 1), lambda a: torch.linalg.vector_norm(a, p, 1), [x], dtype=np.float64)


@pytest.mark.parametrize("dim", [1, -1, 0])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf])
def test_normalize(p, dim):
    check(lambda x: F.normalize(x, p=p, dim=dim), lambda x: TF.normalize(x, p=p, dim=dim), [(4, 3, 2)])


def test_normalize_zero_rows_and_eps():
    x = np.zeros((3, 4), np.float32)
    x[1] = [1e-7, 0, 0, -1e-7]
    x[2] = [1.0, 2.0, -2.0, 0.5]
    check(lambda a: F.normalize(a), lambda a: TF.normalize(a), [x], rtol=1e-5)
    check(lambda a: F.normalize(a, eps=0.5, dim=0), lambda a: TF.normalize(a, eps=0.5, dim=0), [x], rtol=1e-5)


@pytest.mark.parametrize(
    "shapes, dim",
    [([(4, 5), (4, 5)], 1), ([(3, 4, 2), (3, 4, 2)], -1), ([(4, 5), (5,)], 1), ([(2, 1, 3), (4, 3)], 2)],
)
def test_cosine_similarity(shapes, dim):
    check(
        lambda a, b: F.cosine_similarity(a, b, dim=dim),
        lambda a, b: TF.cosine_similarity(a, b, dim=dim),
        shapes,
    )


def test_cosine_similarity_small_and_zero_vectors():
    a = np.zeros((3, 4), np.float32)
    a[1] = 1e-9
    a[2] = [1.0, -2.0, 0.5, 3.0]
    b = np.ones((3, 4), np.float32)
    for eps in (1e-8, 0.5):
        check(
            lambda x, y, eps=eps: F.cosine_similarity(x, y, eps=eps),
            lambda x, y, eps=eps: TF.cosine_similarity(x, y, eps=eps),
            [a, b],
            rtol=1e-4,
            atol=1e-4,
        )


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf, 0.0])
def test_pairwise_distance(p, keepdim):
    kw = {"p": p, "keepdim": keepdim}
    check(
        lambda a, b: F.pairwise_distance(a, b, **kw),
        lambda a, b: TF.pairwise_distance(a, b, **kw),
        [(5, 3), (5, 3)],
    )
    check(
        lambda a, b: F.pairwise_distance(a, b, **kw),
        lambda a, b: TF.pairwise_distance(a, b, **kw),
        [(5, 3), (3,)],
    )
    check(
        lambda a, b: F.pairwise_distance(a, b, **kw),
        lambda a, b: TF.pairwise_distance(a, b, **kw),
        [(4,), (4,)],
    )


def test_pairwise_distance_equal_rows_and_eps():
    a = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    for eps in (1e-6, 0.0, 0.25):
        check(
            lambda x, y, eps=eps: F.pairwise_distance(x, y, eps=eps),
            lambda x, y, eps=eps: TF.pairwise_distance(x, y, eps=eps),
            [a, a.copy()],
        )


FUNCS = {
    "normalize": (lambda x: F.normalize(x), lambda x: TF.normalize(x), [(3, 4)]),
    "normalize_p3": (
        lambda x: F.normalize(x, p=3.0, dim=0),
        lambda x: TF.normalize(x, p=3.0, dim=0),
        [(3, 4)],
    ),
    "cosine_similarity": (
        lambda a, b: F.cosine_similarity(a, b),
        lambda a, b: TF.cosine_similarity(a, b),
        [(3, 4), (3, 4)],
    ),
    "pairwise_distance": (
        lambda a, b: F.pairwise_distance(a, b),
        lambda a, b: TF.pairwise_distance(a, b),
        [(3, 4), (3, 4)],
    ),
    "pairwise_distance_p1_5": (
        lambda a, b: F.pairwise_distance(a, b, p=1.5),
        lambda a, b: TF.pairwise_distance(a, b, p=1.5),
        [(3, 4), (3, 4)],
    ),
    "pairwise_distance_p0_5": (
        lambda a, b: F.pairwise_distance(a, b, p=0.5),
        lambda a, b: TF.pairwise_distance(a, b, p=0.5),
        [(3, 4), (3, 4)],
    ),
    "pairwise_distance_inf": (
        lambda a, b: F.pairwise_distance(a, b, p=math.inf),
        lambda a, b: TF.pairwise_distance(a, b, p=math.inf),
        [(3, 4), (3, 4)],
    ),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradcheck_float64(name):
    f, _, inputs = FUNCS[name]
    gradcheck_op(f, inputs, seed=4)


def test_second_derivative_of_a_fractional_norm_by_finite_differences():
    # (torch's own double backward of this norm takes seconds the first time: checked numerically)
    w = cr.tensor(np.random.default_rng(1).standard_normal(3))

    def grad_of(a, b):
        with cr.enable_grad():  # gradcheck evaluates without recording
            a = a if a.requires_grad else a.detach().requires_grad_()
            (g,) = cr.autograd.grad((F.pairwise_distance(a, b, p=0.5) * w).sum(), [a], create_graph=True)
        return g

    gradcheck_op(grad_of, [(3, 4), (3, 4)], seed=6)


@pytest.mark.parametrize("name", sorted(n for n in FUNCS if n != "pairwise_distance_p0_5"))
def test_second_derivatives_like_torch(name):
    f, ft, inputs = FUNCS[name]
    arrays = [np.random.default_rng(5 + i).uniform(-2, 2, s) for i, s in enumerate(inputs)]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [to_torch(a, requires_grad=True) for a in arrays]
    w = np.random.default_rng(1).standard_normal(ft(*ts).shape)
    gs = cr.autograd.grad((f(*xs) * cr.tensor(w)).sum(), xs, create_graph=True)
    gts = torch.autograd.grad((ft(*ts) * to_torch(w)).sum(), ts, create_graph=True)
    for g, gt in zip(gs, gts):
        assert_close(g, gt, rtol=1e-9, atol=1e-12)
    ggs = cr.autograd.grad(sum((g * g * x).sum() for g, x in zip(gs, xs)), xs)
    ggts = torch.autograd.grad(sum((g * g * x).sum() for g, x in zip(gts, ts)), ts)
    for gg, ggt in zip(ggs, ggts):
        assert_close(gg, ggt, rtol=1e-8, atol=1e-10)


def test_modules():
    for kw in ({}, {"dim": 0, "eps": 1e-3}):
        m, mt = nn.CosineSimilarity(**kw), torch.nn.CosineSimilarity(**kw)
        check(m, mt, [(4, 3), (4, 3)])
    for kw in ({}, {"p": 1.0, "eps": 0.0, "keepdim": True}, {"p": 3.0}):
        m, mt = nn.PairwiseDistance(**kw), torch.nn.PairwiseDistance(**kw)
        assert (m.norm, m.eps, m.keepdim) == (mt.norm, mt.eps, mt.keepdim)
        check(m, mt, [(4, 3), (4, 3)])


def test_errors():
    x = cr.randn(3, 4)
    with pytest.raises(
        RuntimeError, match=r"cosine_similarity: x1 of shape \(3, 4\) and x2 of shape \(2, 4\)"
    ):
        F.cosine_similarity(x, cr.randn(2, 4))
    with pytest.raises(IndexError, match="cosine_similarity: dimension out of range"):
        F.cosine_similarity(x, x, dim=2)
    with pytest.raises(TypeError, match="cosine_similarity: x1 and x2 must have the same dtype"):
        F.cosine_similarity(x, x.double())
    with pytest.raises(TypeError, match="pairwise_distance: expected a floating point x2, got dtype int64"):
        F.pairwise_distance(x, cr.tensor([1, 2, 3, 4]))
    with pytest.raises(TypeError, match="pairwise_distance: p must be a number"):
        F.pairwise_distance(x, x, p="fro")
    with pytest.raises(TypeError, match="normalize: expected a Tensor for input, got list"):
        F.normalize([1.0, 2.0])
    with pytest.raises(IndexError, match="normalize: dimension out of range"):
        F.normalize(x, dim=3)
    with pytest.raises(TypeError, match="CosineSimilarity: dim must be an int"):
        nn.CosineSimilarity(dim=None)
