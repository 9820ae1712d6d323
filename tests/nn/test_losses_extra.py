"""The losses added for the contract against PyTorch: every reduction and option, gradients of
every float input, kinks, float64 gradchecks, second derivatives, the modules, the deprecated
size_average/reduce flags and the misuse errors.  (CTC is in tests/ops/test_ctc.py.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests.helpers import assert_close, check, gradcheck_op, to_torch

TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng


def _signs(shape, seed=7):
    return np.where(rng(seed).uniform(size=shape) > 0.5, 1.0, -1.0).astype(np.float32)


def _probs(shape, seed=4, dtype=np.float32):
    e = np.exp(rng(seed).standard_normal(shape))
    return (e / e.sum(-1, keepdims=True)).astype(dtype)


# ----------------------------------------------------------------------------- kl_div


@pytest.mark.filterwarnings("ignore:.*'mean' divides the total loss")
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("shape", [(4, 5), (6,), (2, 3, 4)])
def test_kl_div(shape, reduction, log_target):
    x = np.log(_probs(shape, seed=1))
    t = np.log(_probs(shape)) if log_target else _probs(shape)
    kw = {"reduction": reduction, "log_target": log_target}
    check(lambda a, b: F.kl_div(a, b, **kw), lambda a, b: TF.kl_div(a, b, **kw), [x, t])


def test_kl_div_zero_targets_and_warning():
    x = np.log(_probs((3, 4), seed=1))
    t = _probs((3, 4))
    t[0, :2] = 0.0
    tc = cr.tensor(t)
    check(
        lambda a: F.kl_div(a, tc, reduction="sum"),
        lambda a: TF.kl_div(a, torch.tensor(t), reduction="sum"),
        [x],
    )
    with pytest.warns(UserWarning, match="kl_div: reduction 'mean' divides the total loss"):
        F.kl_div(cr.tensor(x), tc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(cr.tensor(x), tc, reduction="batchmean")


def test_target_gradients_at_zero_targets_are_finite():
    # PyTorch's are nan there (0 · log 0 in xlogy's and log's backward); ours drop the y log y term
    t = cr.tensor([0.0, 0.5], requires_grad=True)
    F.kl_div(cr.tensor([-1.0, -2.0]), t, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.numpy(), [1.0, np.log(0.5) + 1 + 2.0], rtol=1e-6)
    t = cr.tensor([0.0, 3.0], requires_grad=True)
    F.poisson_nll_loss(cr.tensor([-1.0, 1.0]), t, full=True, reduction="sum").backward()
    tt = torch.tensor([3.0], requires_grad=True)
    TF.poisson_nll_loss(torch.tensor([1.0]), tt, full=True, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.numpy(), [1.0, tt.grad.item()], rtol=1e-6)


# ----------------------------------------------------------------------------- poisson / gaussian


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss(reduction, log_input, full):
    t = np.array([[0.5, 1.0, 2.0, 3.0], [7.0, 1.5, 0.25, 4.0], [1.0, 2.0, 9.0, 12.0]], np.float32)
    kw = {"log_input": log_input, "full": full, "reduction": reduction}
    low, high = (-2.0, 2.0) if log_input else (0.1, 3.0)
    check(
        lambda a, b: F.poisson_nll_loss(a, b, **kw),
        lambda a, b: TF.poisson_nll_loss(a, b, **kw),
        [(3, 4), t],
        low=low,
        high=high,
    )


def test_poisson_nll_loss_zero_counts_and_eps():
    t = np.array([0.0, 0.0, 1.0, 5.0], np.float32)
    tc, tt = cr.tensor(t), torch.tensor(t)
    for kw in ({"full": True}, {"log_input": False, "eps": 1e-3}, {"log_input": False, "full": True}):
        check(
            lambda a, kw=kw: F.poisson_nll_loss(a, tc, **kw),
            lambda a, kw=kw: TF.poisson_nll_loss(a, tt, **kw),
            [(4,)],
            low=0.05,
            high=2.0,
        )


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 2, 3), (4, 2), (4, 2, 1), (4, 1, 3)])
def test_gaussian_nll_loss(var_shape, reduction, full):
    var = rng(3).uniform(0.2, 2.0, var_shape).astype(np.float32)
    var.flat[0] = 1e-9  # below eps: clamped, its gradient passed through as PyTorch's no_grad clamp
    kw = {"full": full, "reduction": reduction}
    check(
        lambda x, y, v: F.gaussian_nll_loss(x, y, v, **kw),
        lambda x, y, v: TF.gaussian_nll_loss(x, y, v, **kw),
        [(4, 2, 3), (4, 2, 3), var],
        rtol=1e-4,
        atol=1e-4,
    )


def test_gaussian_nll_loss_float_var_eps_and_broadcast_target():
    check(
        lambda x, y: F.gaussian_nll_loss(x, y, 0.5),
        lambda x, y: TF.gaussian_nll_loss(x, y, 0.5),
        [(3, 4), (3, 4)],
    )
    kw = {"eps": 0.3, "full": True}
    v = np.full((3, 4), 0.1, np.float32)
    check(
        lambda x, y, w: F.gaussian_nll_loss(x, y, w, **kw),
        lambda x, y, w: TF.gaussian_nll_loss(x, y, w, **kw),
        [(3, 4), (3, 4), v],
    )
    check(
        lambda x, y, w: F.gaussian_nll_loss(x, y, w),
        lambda x, y, w: TF.gaussian_nll_loss(x, y, w),
        [(3, 4), (3, 1), np.ones((3, 4), np.float32)],
    )


# ----------------------------------------------------------------------------- margin losses


@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_loss(reduction, margin):
    kw = {"margin": margin, "reduction": reduction}
    check(
        lambda a, b, y: F.margin_ranking_loss(a, b, y, **kw),
        lambda a, b, y: TF.margin_ranking_loss(a, b, y, **kw),
        [(8,), (8,), _signs((8,))],
    )
    check(
        lambda a, b, y: F.margin_ranking_loss(a, b, y, **kw),
        lambda a, b, y: TF.margin_ranking_loss(a, b, y, **kw),
        [(4, 3), (4, 1), _signs((1, 3))],
    )


def test_margin_losses_at_the_kink_let_the_gradient_through():
    a, b, y = (
        np.array([1.5, 0.0], np.float32),
        np.array([1.0, 0.5], np.float32),
        np.array([1.0, -1.0], np.float32),
    )
    check(
        lambda p, q: F.margin_ranking_loss(p, q, cr.tensor(y), margin=0.5),
        lambda p, q: TF.margin_ranking_loss(p, q, torch.tensor(y), margin=0.5),
        [a, b],
    )
    x, t = np.array([1.0, 0.5, 2.0], np.float32), np.array([-1.0, -1.0, 1.0], np.float32)
    check(
        lambda p: F.hinge_embedding_loss(p, cr.tensor(t)),
        lambda p: TF.hinge_embedding_loss(p, torch.tensor(t)),
        [x],
    )


@pytest.mark.parametrize("margin", [1.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss(reduction, margin):
    y = _signs((5, 4))
    y[0, :2] = (0.0, 2.0)  # neither 1 nor -1: PyTorch adds both pieces
    kw = {"margin": margin, "reduction": reduction}
    check(
        lambda a, t: F.hinge_embedding_loss(a, t, **kw),
        lambda a, t: TF.hinge_embedding_loss(a, t, **kw),
        [(5, 4), y],
        low=-1,
        high=2,
    )


@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(reduction, margin):
    kw = {"margin": margin, "reduction": reduction}
    check(
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, **kw),
        lambda a, b, y: TF.cosine_embedding_loss(a, b, y, **kw),
        [(6, 4), (6, 4), _signs((6,))],
    )
    check(
        lambda a, b: F.cosine_embedding_loss(a, b, cr.tensor(-1.0), **kw),
        lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(-1.0), **kw),
        [(5,), (5,)],
    )


def test_cosine_embedding_loss_integer_targets_and_zero_vectors():
    y = np.array([1, -1, 1])
    x1 = np.zeros((3, 4), np.float32)
    x1[1:] = rng(0).standard_normal((2, 4))
    check(
        lambda a, b: F.cosine_embedding_loss(a, b, cr.tensor(y)),
        lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(y)),
        [x1, (3, 4)],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(reduction):
    check(
        lambda a, y: F.soft_margin_loss(a, y, reduction=reduction),
        lambda a, y: TF.soft_margin_loss(a, y, reduction=reduction),
        [(5, 3), _signs((5, 3)).astype(np.int64)],  # torch has no gradient for the target here
        low=-6,
        high=6,
    )


def test_soft_margin_loss_is_finite_where_torch_overflows():
    x = cr.tensor([1000.0, -1000.0, 50.0], requires_grad=True)
    y = cr.tensor([-1.0, 1.0, 1.0])
    loss = F.soft_margin_loss(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1000.0, 1000.0, np.log1p(np.exp(-50.0))], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -1 / (1 + np.exp(50.0))], rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (5,)])
def test_multilabel_soft_margin_loss(shape, reduction, weighted):
    t = (rng(2).uniform(size=shape) > 0.5).astype(np.float32)
    w = rng(3).uniform(0.5, 2.0, shape[-1]).astype(np.float32) if weighted else None
    wc, wt = (cr.tensor(w), torch.tensor(w)) if weighted else (None, None)
    check(
        lambda a, y: F.multilabel_soft_margin_loss(a, y, weight=wc, reduction=reduction),
        lambda a, y: TF.multilabel_soft_margin_loss(a, y, weight=wt, reduction=reduction),
        [shape, t],
    )


MULTILABEL_TARGETS = np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [-1, 2, 3, 4, 0], [0, 1, 2, 3, 4]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    # repeated targets count twice, everything after the first -1 is ignored, a row may have none
    check(
        lambda a: F.multilabel_margin_loss(a, cr.tensor(MULTILABEL_TARGETS), reduction=reduction),
        lambda a: TF.multilabel_margin_loss(a, torch.tensor(MULTILABEL_TARGETS), reduction=reduction),
        [(4, 5)],
    )
    t1 = MULTILABEL_TARGETS[0]
    check(
        lambda a: F.multilabel_margin_loss(a, cr.tensor(t1), reduction=reduction),
        lambda a: TF.multilabel_margin_loss(a, torch.tensor(t1), reduction=reduction),
        [(5,)],
    )


def test_multilabel_margin_loss_rows_without_targets():
    t = np.array([[-1, 2, 0], [-1, -1, -1]])
    check(
        lambda a: F.multilabel_margin_loss(a, cr.tensor(t), reduction="none"),
        lambda a: TF.multilabel_margin_loss(a, torch.tensor(t), reduction="none"),
        [(2, 3)],
    )


def test_multilabel_margin_loss_at_the_hinge():
    x = np.array([[0.0, 1.0, 0.5]], np.float32)  # 1 - (x_1 - x_0) = 0 exactly: no gradient, as PyTorch
    t = np.array([[1, -1, 0]])
    check(
        lambda a: F.multilabel_margin_loss(a, cr.tensor(t)),
        lambda a: TF.multilabel_margin_loss(a, torch.tensor(t)),
        [x],
    )


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(reduction, p, swap):
    kw = {"margin": 2.0, "p": p, "swap": swap, "reduction": reduction}
    check(
        lambda a, b, c: F.triplet_margin_loss(a, b, c, **kw),
        lambda a, b, c: TF.triplet_margin_loss(a, b, c, **kw),
        [(6, 4), (6, 4), (6, 4)],
        rtol=1e-4,
        atol=1e-5,
    )


def test_triplet_margin_loss_unbatched_eps_and_broadcast():
    kw = {"margin": 0.5, "eps": 1e-3}
    check(
        lambda a, b, c: F.triplet_margin_loss(a, b, c, **kw),
        lambda a, b, c: TF.triplet_margin_loss(a, b, c, **kw),
        [(5,), (5,), (5,)],
    )
    check(
        lambda a, b, c: F.triplet_margin_loss(a, b, c),
        lambda a, b, c: TF.triplet_margin_loss(a, b, c),
        [(3, 4), (1, 4), (3, 4)],
    )


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_with_distance_loss(reduction, swap):
    kw = {"margin": 0.7, "swap": swap, "reduction": reduction}
    check(
        lambda a, b, c: F.triplet_margin_with_distance_loss(a, b, c, **kw),
        lambda a, b, c: TF.triplet_margin_with_distance_loss(a, b, c, **kw),
        [(5, 3), (5, 3), (5, 3)],
    )
    cos = (lambda u, v: 1 - F.cosine_similarity(u, v), lambda u, v: 1 - TF.cosine_similarity(u, v))
    check(
        lambda a, b, c: F.triplet_margin_with_distance_loss(a, b, c, distance_function=cos[0], **kw),
        lambda a, b, c: TF.triplet_margin_with_distance_loss(a, b, c, distance_function=cos[1], **kw),
        [(5, 3), (5, 3), (5, 3)],
    )


def test_triplet_margin_with_distance_loss_module():
    for kw in ({}, {"margin": 2.0, "swap": True, "reduction": "none"}):
        m, mt = nn.TripletMarginWithDistanceLoss(**kw), torch.nn.TripletMarginWithDistanceLoss(**kw)
        check(m, mt, [(4, 3), (4, 3), (4, 3)])
    m = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1.0))
    mt = torch.nn.TripletMarginWithDistanceLoss(distance_function=torch.nn.PairwiseDistance(p=1.0))
    check(m, mt, [(4, 3), (4, 3), (4, 3)])
    assert isinstance(nn.TripletMarginWithDistanceLoss().distance_function, nn.PairwiseDistance)


# ----------------------------------------------------------------------------- all of them


def _cases():
    """name -> (chainrule loss of float64 inputs, torch loss, inputs)."""
    t = _probs((3, 4), dtype=np.float64)
    y = _signs((3,)).astype(np.float64)
    ml = MULTILABEL_TARGETS[:3, :4].clip(-1, 3)
    return {
        "kl_div": (
            lambda a: F.kl_div(a, cr.tensor(t), reduction="batchmean"),
            lambda a: TF.kl_div(a, torch.tensor(t), reduction="batchmean"),
            [(3, 4)],
        ),
        "kl_div_log_target": (
            lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True),
            lambda a, b: TF.kl_div(a, b, reduction="sum", log_target=True),
            [(3, 4), (3, 4)],
        ),
        "poisson": (
            lambda a: F.poisson_nll_loss(a, cr.tensor(t * 5), full=True),
            lambda a: TF.poisson_nll_loss(a, torch.tensor(t * 5), full=True),
            [(3, 4)],
        ),
        "gaussian": (
            lambda a, b, v: F.gaussian_nll_loss(a, b, v.abs() + 0.1, full=True),
            lambda a, b, v: TF.gaussian_nll_loss(a, b, v.abs() + 0.1, full=True),
            [(3, 4), (3, 4), (3, 1)],
        ),
        "margin_ranking": (
            lambda a, b: F.margin_ranking_loss(a, b, cr.tensor(y), margin=0.3),
            lambda a, b: TF.margin_ranking_loss(a, b, torch.tensor(y), margin=0.3),
            [(3,), (3,)],
        ),
        "hinge_embedding": (
            lambda a: F.hinge_embedding_loss(a, cr.tensor(_signs((3, 4)).astype(np.float64))),
            lambda a: TF.hinge_embedding_loss(a, torch.tensor(_signs((3, 4)).astype(np.float64))),
            [(3, 4)],
        ),
        "cosine_embedding": (
            lambda a, b: F.cosine_embedding_loss(a, b, cr.tensor(y), margin=-0.5),
            lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(y), margin=-0.5),
            [(3, 4), (3, 4)],
        ),
        "soft_margin": (
            lambda a: F.soft_margin_loss(a, cr.tensor(_signs((3, 4)).astype(np.float64))),
            lambda a: TF.soft_margin_loss(a, torch.tensor(_signs((3, 4)).astype(np.float64))),
            [(3, 4)],
        ),
        "multilabel_soft_margin": (
            lambda a: F.multilabel_soft_margin_loss(a, cr.tensor(t > 0.25)),
            lambda a: TF.multilabel_soft_margin_loss(a, torch.tensor(t > 0.25).double()),
            [(3, 4)],
        ),
        "multilabel_margin": (
            lambda a: F.multilabel_margin_loss(a, cr.tensor(ml)),
            lambda a: TF.multilabel_margin_loss(a, torch.tensor(ml)),
            [(3, 4)],
        ),
        "triplet": (
            lambda a, b, c: F.triplet_margin_loss(a, b, c, swap=True),
            lambda a, b, c: TF.triplet_margin_loss(a, b, c, swap=True),
            [(3, 4), (3, 4), (3, 4)],
        ),
        "triplet_with_distance": (
            lambda a, b, c: F.triplet_margin_with_distance_loss(
                a, b, c, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), swap=True
            ),
            lambda a, b, c: TF.triplet_margin_with_distance_loss(
                a, b, c, distance_function=lambda u, v: 1 - TF.cosine_similarity(u, v), swap=True
            ),
            [(3, 4), (3, 4), (3, 4)],
        ),
        "triplet_p3": (
            lambda a, b, c: F.triplet_margin_loss(a, b, c, p=3, margin=3.0),
            lambda a, b, c: TF.triplet_margin_loss(a, b, c, p=3, margin=3.0),
            [(3, 4), (3, 4), (3, 4)],
        ),
    }


CASES = _cases()
NO_TORCH_DOUBLE_BACKWARD = {"multilabel_margin"}  # torch: derivative of its backward not implemented


@pytest.mark.parametrize("name", sorted(CASES))
def test_float64_against_torch(name):
    f, ft, inputs = CASES[name]
    check(f, ft, inputs, dtype=np.float64, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_float64(name):
    f, _, inputs = CASES[name]
    gradcheck_op(f, inputs, seed=2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_like_torch(name):
    f, ft, inputs = CASES[name]
    arrays = [rng(9 + i).uniform(-2, 2, s) for i, s in enumerate(inputs)]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [to_torch(a, requires_grad=True) for a in arrays]
    gs = cr.autograd.grad(f(*xs) * 3.0, xs, create_graph=True)
    gts = torch.autograd.grad(ft(*ts) * 3.0, ts, create_graph=True)
    for g, gt in zip(gs, gts):
        assert_close(g, gt, rtol=1e-9, atol=1e-12)
    total = sum((g * g * x).sum() for g, x in zip(gs, xs))
    ggs = cr.autograd.grad(total, xs, allow_unused=True)
    if name in NO_TORCH_DOUBLE_BACKWARD:  # piecewise linear: the second derivative is 0, only g·g stays
        for gg, g in zip(ggs, gs):
            np.testing.assert_allclose(gg.numpy(), (g * g).detach().numpy(), rtol=1e-12)
        return
    total_t = sum((g * g * x).sum() for g, x in zip(gts, ts))
    ggts = torch.autograd.grad(total_t, ts, allow_unused=True)
    for gg, ggt in zip(ggs, ggts):
        assert_close(gg, ggt, rtol=1e-8, atol=1e-10)


# ----------------------------------------------------------------------------- modules


MODULES = [
    ("KLDivLoss", {"reduction": "batchmean"}, [np.log(_probs((3, 4), seed=1)), _probs((3, 4))]),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, [(3, 4), (3, 4)]),
    ("PoissonNLLLoss", {}, [(3, 4), np.abs(_signs((3, 4))) * 2]),
    (
        "PoissonNLLLoss",
        {"log_input": False, "full": True, "eps": 1e-4, "reduction": "none"},
        [np.abs(_probs((3, 4))), np.abs(_signs((3, 4))) * 3],
    ),
    ("GaussianNLLLoss", {}, [(3, 4), (3, 4), np.abs(_probs((3, 4)))]),
    (
        "GaussianNLLLoss",
        {"full": True, "eps": 1e-3, "reduction": "sum"},
        [(3, 4), (3, 4), np.abs(_probs((3,)))],
    ),
    ("MarginRankingLoss", {"margin": 0.2}, [(5,), (5,), _signs((5,))]),
    ("HingeEmbeddingLoss", {"margin": 2.0, "reduction": "none"}, [(5,), _signs((5,))]),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [(5, 3), (5, 3), _signs((5,))]),
    ("SoftMarginLoss", {"reduction": "sum"}, [(5, 3), _signs((5, 3)).astype(np.int64)]),
    ("MultiLabelSoftMarginLoss", {}, [(5, 3), np.abs(_signs((5, 3)))]),
    ("MultiLabelMarginLoss", {"reduction": "none"}, [(4, 5), MULTILABEL_TARGETS]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, [(4, 3), (4, 3), (4, 3)]),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_modules_against_torch(i):
    name, kw, inputs = MODULES[i]
    m, mt = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert m.reduction == mt.reduction
    check(lambda *a: m(*a), lambda *a: mt(*a), inputs)


def test_module_weights_are_buffers():
    w = cr.tensor([1.0, 2.0, 0.5])
    m = nn.MultiLabelSoftMarginLoss(weight=w)
    assert "weight" in m.state_dict()
    mt = torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor([1.0, 2.0, 0.5]))
    check(lambda a, y: m(a, y), lambda a, y: mt(a, y), [(4, 3), np.abs(_signs((4, 3)))])


@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_legacy_size_average_and_reduce(size_average, reduce):
    kw = {"size_average": size_average, "reduce": reduce}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, inputs in (
            ("SoftMarginLoss", [(4, 3), _signs((4, 3)).astype(np.int64)]),
            ("MarginRankingLoss", [(4,), (4,), _signs((4,))]),
            ("KLDivLoss", [(4, 3), _probs((4, 3))]),
        ):
            m, mt = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
            assert m.reduction == mt.reduction
            check(m, mt, inputs)


# ----------------------------------------------------------------------------- errors


def test_errors():
    x, y = cr.randn(3, 4), cr.rand(3, 4)
    with pytest.raises(ValueError, match=r"kl_div: input shape \(3, 4\) and target shape \(4,\) differ"):
        F.kl_div(x, y[0], reduction="sum")
    with pytest.raises(ValueError, match="kl_div: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.kl_div(x, y, reduction="avg")
    with pytest.raises(ValueError, match="poisson_nll_loss: reduction must be"):
        F.poisson_nll_loss(x, y, reduction="batchmean")
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative entry"):
        F.gaussian_nll_loss(x, y, -y)
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative entry"):
        F.gaussian_nll_loss(x, y, -1.0)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var is of incorrect size \(3, 2\)"):
        F.gaussian_nll_loss(x, y, cr.ones(3, 2))
    with pytest.raises(
        RuntimeError, match="margin_ranking_loss: all input tensors should have the same number"
    ):
        F.margin_ranking_loss(cr.randn(3), cr.randn(3), cr.ones(3, 1))
    with pytest.raises(
        RuntimeError, match="cosine_embedding_loss: 1D target tensor expects 2D input tensors"
    ):
        F.cosine_embedding_loss(cr.randn(3), cr.randn(3), cr.ones(3))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss: 0D or 1D target tensor expected"):
        F.cosine_embedding_loss(x, x, cr.ones(3, 1))
    with pytest.raises(TypeError, match="multilabel_margin_loss: expected an integer"):
        F.multilabel_margin_loss(x, y)
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: inconsistent target shape \(3, 3\)"):
        F.multilabel_margin_loss(x, cr.zeros(3, 3, dtype=cr.int64))
    with pytest.raises(
        IndexError, match="multilabel_margin_loss: target index 4 is out of range for 4 classes"
    ):
        F.multilabel_margin_loss(x, cr.tensor([[4, -1, 0, 0]] * 3))
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be greater than 0, got 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match="TripletMarginLoss: margin must be a number > 0"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(RuntimeError, match="triplet_margin_loss: .* anchor 2D, positive 1D, and negative 2D"):
        F.triplet_margin_loss(x, x[0], x)
    with pytest.raises(
        RuntimeError, match=r"pairwise_distance: x1 of shape \(3, 4\) and x2 of shape \(2, 4\)"
    ):
        F.triplet_margin_loss(x, cr.randn(2, 4), x)
    with pytest.raises(ValueError, match="triplet_margin_with_distance_loss: margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=-1.0)
    with pytest.raises(
        TypeError, match="triplet_margin_with_distance_loss: distance_function must be a callable"
    ):
        F.triplet_margin_with_distance_loss(x, x, x, distance_function="cosine")
    with pytest.raises(
        ValueError, match="TripletMarginWithDistanceLoss: expected margin to be greater than 0"
    ):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(TypeError, match="soft_margin_loss: expected Tensors for input and target"):
        F.soft_margin_loss(x, 1.0)
    with pytest.raises(TypeError, match="hinge_embedding_loss: expected a floating point input"):
        F.hinge_embedding_loss(cr.tensor([1, 2]), cr.tensor([1, -1]))
    with pytest.raises(ValueError, match="multilabel_soft_margin_loss: weight of shape"):
        F.multilabel_soft_margin_loss(x, y, weight=cr.ones(5))
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be"):
        nn.KLDivLoss(reduction="batch")
