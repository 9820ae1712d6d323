"""Losses against PyTorch (every reduction, weights, ignore_index, label smoothing, probability
targets), float64 gradchecks, stability at ±1000, the binary hinge loss against its formula,
and errors that name the op and the shapes."""

from __future__ import annotations

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


def _targets(shape, low=-2, high=2, seed=5):
    return rng(seed).uniform(low, high, shape).astype(np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_losses(name, reduction):
    y = _targets((4, 3))
    kw = {"delta": 0.7} if name == "huber_loss" else {}
    check(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
        lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw),
        [(4, 3), y],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_losses_weighted(name, reduction):
    y, w = _targets((4, 3)), _targets((4, 3), 0.1, 2.0, seed=6)
    check(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, weight=cr.tensor(w)),
        lambda a, b: getattr(TF, name)(a, b, reduction=reduction, weight=torch.tensor(w)),
        [(4, 3), y],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(reduction, weighted):
    p = rng(1).uniform(0.02, 0.98, (5, 3)).astype(np.float32)
    t = rng(2).uniform(0, 1, (5, 3)).astype(np.float32)
    w = rng(3).uniform(0.5, 2, (3,)).astype(np.float32) if weighted else None
    wc, wt = (None, None) if w is None else (cr.tensor(w), torch.tensor(w))
    check(
        lambda a, b: F.binary_cross_entropy(a, b, wc, reduction=reduction),
        lambda a, b: TF.binary_cross_entropy(a, b, wt, reduction=reduction),
        [p, t],
    )


def test_bce_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    pc = cr.tensor(p, requires_grad=True)
    pt = to_torch(p, requires_grad=True)
    loss, loss_t = (
        F.binary_cross_entropy(pc, cr.tensor(t), reduction="none"),
        TF.binary_cross_entropy(pt, torch.tensor(t), reduction="none"),
    )
    assert_close(loss, loss_t)
    assert loss.detach().numpy()[0] == 100.0
    loss.sum().backward()
    loss_t.sum().backward()
    assert np.isfinite(pc.grad.numpy()).all()
    assert_close(pc.grad, pt.grad, rtol=1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both"])
def test_bce_with_logits(reduction, weights):
    t = rng(2).uniform(0, 1, (5, 3)).astype(np.float32)
    w = rng(3).uniform(0.5, 2, (5, 1)).astype(np.float32) if weights in ("weight", "both") else None
    pw = rng(4).uniform(0.5, 3, (3,)).astype(np.float32) if weights in ("pos_weight", "both") else None

    def c(a, b):
        return F.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else cr.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else cr.tensor(pw),
        )

    def tt(a, b):
        return TF.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else torch.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw),
        )

    check(c, tt, [(5, 3), t], low=-4, high=4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_class_indices(reduction, weighted, smoothing):
    target = np.array([1, 6, -100, 0, 3, 6])
    w = rng(3).uniform(0.5, 2, (7,)).astype(np.float32) if weighted else None
    check(
        lambda x, y: F.cross_entropy(
            x, y, None if w is None else cr.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        lambda x, y: TF.cross_entropy(
            x, y, None if w is None else torch.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        [(6, 7), target],
        low=-3,
        high=3,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched(reduction):
    t = rng(1).integers(0, 3, (2, 4, 5))
    t[0, 0, 0] = 2
    t[1, 2, 3] = -1
    check(
        lambda x, y: F.cross_entropy(x, y, reduction=reduction, ignore_index=-1, label_smoothing=0.1),
        lambda x, y: TF.cross_entropy(x, y, reduction=reduction, ignore_index=-1, label_smoothing=0.1),
        [(2, 3, 4, 5), t],
    )
    check(
        lambda x, y: F.cross_entropy(x, y, reduction=reduction),
        lambda x, y: TF.cross_entropy(x, y, reduction=reduction),
        [(5,), np.array(3)],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(reduction, weighted, smoothing):
    probs = rng(1).dirichlet(np.ones(4), size=(3, 5)).transpose(0, 2, 1).astype(np.float32)  # (3, 4, 5)
    w = rng(3).uniform(0.5, 2, (4,)).astype(np.float32) if weighted else None
    check(
        lambda x, y: F.cross_entropy(
            x, y, None if w is None else cr.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        lambda x, y: TF.cross_entropy(
            x, y, None if w is None else torch.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        [(3, 4, 5), probs],
    )


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = np.zeros((2, 3), np.float32)
    t = np.array([-100, -100])
    xc = cr.tensor(x, requires_grad=True)
    out = F.cross_entropy(xc, cr.tensor(t))
    assert np.isnan(out.item()) and np.isnan(TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item())


def test_cross_entropy_second_derivative():
    x = rng(0).standard_normal((4, 5))
    t = np.array([0, 3, 4, 1])
    w = rng(1).uniform(0.5, 2, 5)
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    (g,) = cr.autograd.grad(
        F.cross_entropy(xc, cr.tensor(t), cr.tensor(w), label_smoothing=0.1), [xc], create_graph=True
    )
    (gt,) = torch.autograd.grad(
        TF.cross_entropy(xt, torch.tensor(t), torch.tensor(w), label_smoothing=0.1), [xt], create_graph=True
    )
    assert_close(g, gt, rtol=1e-10, atol=1e-12)
    (gg,) = cr.autograd.grad((g * g).sum(), [xc])
    (ggt,) = torch.autograd.grad((gt * gt).sum(), [xt])
    assert_close(gg, ggt, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    w = rng(3).uniform(0.5, 2, (4,)).astype(np.float32) if weighted else None
    wc, wt = (None, None) if w is None else (cr.tensor(w), torch.tensor(w))
    check(
        lambda x, y: F.nll_loss(x, y, wc, ignore_index=2, reduction=reduction),
        lambda x, y: TF.nll_loss(x, y, wt, ignore_index=2, reduction=reduction),
        [(5, 4), np.array([0, 2, 3, 3, 1])],
    )
    check(
        lambda x, y: F.nll_loss(x, y, reduction=reduction),
        lambda x, y: TF.nll_loss(x, y, reduction=reduction),
        [(2, 4, 3), np.array([[0, 1, 3], [2, 2, 0]])],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 0.5, True), (1, 2.0, True)])
def test_multi_margin_loss(reduction, p, margin, weighted):
    w = rng(3).uniform(0.5, 2, (4,)).astype(np.float32) if weighted else None
    check(
        lambda x, y: F.multi_margin_loss(
            x, y, p, margin, None if w is None else cr.tensor(w), reduction=reduction
        ),
        lambda x, y: TF.multi_margin_loss(
            x, y, p, margin, None if w is None else torch.tensor(w), reduction=reduction
        ),
        [(6, 4), np.array([0, 3, 1, 1, 2, 0])],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_loss_against_formula(reduction):
    y = np.where(rng(2).uniform(size=(7,)) > 0.5, 1.0, -1.0).astype(np.float32)

    def formula(f, t):
        loss = torch.clamp(1 - t * f, min=0)
        return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]

    check(lambda f, t: F.hinge_loss(f, t, reduction=reduction), formula, [(7,), y], low=-3, high=3)
    check(lambda f, t: nn.HingeLoss(reduction=reduction)(f, t), formula, [(7,), y], low=-3, high=3)
    assert F.hinge_loss(cr.tensor([0.5, -2.0]), cr.tensor([1.0, -1.0])).item() == pytest.approx(0.25)


LOSS_FNS = {
    "mse": (lambda x, t: F.mse_loss(x, t), None),
    "l1": (lambda x, t: F.l1_loss(x, t), None),
    "huber": (lambda x, t: F.huber_loss(x, t, delta=0.5), None),
    "bce_logits": (
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, pos_weight=cr.tensor([2.0, 0.5, 1.0], dtype=cr.float64)
        ),
        None,
    ),
    "hinge": (lambda x, t: F.hinge_loss(x, t.sign()), None),
}


@pytest.mark.parametrize("name", sorted(LOSS_FNS))
def test_gradcheck_elementwise_losses(name):
    fn, _ = LOSS_FNS[name]
    gradcheck_op(lambda x, t: fn(x, t), [(4, 3), (4, 3)], low=-2, high=2, seed=2)


def test_gradcheck_bce():
    p = rng(0).uniform(0.1, 0.9, (3, 4))
    t = rng(1).uniform(0, 1, (3, 4))
    w = cr.tensor(rng(2).uniform(0.5, 2, (4,)))
    gradcheck_op(lambda a, b: F.binary_cross_entropy(a, b, w), [p, t])


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_gradcheck_cross_entropy(smoothing):
    w = cr.tensor(rng(2).uniform(0.5, 2, (5,)))
    t = cr.tensor(np.array([0, 4, -100, 2]))
    gradcheck_op(lambda x: F.cross_entropy(x, t, w, label_smoothing=smoothing), [(4, 5)])
    gradcheck_op(lambda x: F.cross_entropy(x, t, reduction="none"), [(4, 5)])
    probs = rng(3).dirichlet(np.ones(5), size=4)
    gradcheck_op(lambda x, p: F.cross_entropy(x, p, label_smoothing=smoothing), [(4, 5), probs])


def test_gradcheck_nll_and_margin():
    t = cr.tensor(np.array([0, 4, 2, 2]))
    gradcheck_op(lambda x: F.nll_loss(x, t, ignore_index=4), [(4, 5)])
    gradcheck_op(lambda x: F.multi_margin_loss(x, t, p=2, margin=0.7), [(4, 5)], seed=3)
    gradcheck_op(lambda x: F.multi_margin_loss(x, t), [(4, 5)], seed=4)


def test_stable_at_1000():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], np.float32)
    t = np.array([1, 0])
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    loss, loss_t = F.cross_entropy(xc, cr.tensor(t)), TF.cross_entropy(xt, torch.tensor(t))
    assert np.isfinite(loss.item())
    assert_close(loss, loss_t)
    loss.backward()
    loss_t.backward()
    assert_close(xc.grad, xt.grad)
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]], np.float32)
    xc2, xt2 = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    loss, loss_t = (
        F.binary_cross_entropy_with_logits(xc2, cr.tensor(y)),
        TF.binary_cross_entropy_with_logits(xt2, torch.tensor(y)),
    )
    assert_close(loss, loss_t)
    loss.backward()
    loss_t.backward()
    assert np.isfinite(xc2.grad.numpy()).all()
    assert_close(xc2.grad, xt2.grad)
    assert np.isfinite(F.log_softmax(cr.tensor(x), 1).numpy()).all()
    assert np.isfinite(F.nll_loss(F.log_softmax(cr.tensor(x), 1), cr.tensor(t)).item())


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_rows_past_the_unshifted_range(smoothing):
    """The forward exponentiates unshifted logits and redoes only rows whose sum overflows or is
    tiny; a language-model-sized (1100, 1000) batch mixes ordinary rows with each kind."""
    x = rng(4).normal(0, 3, (1100, 1000)).astype(np.float32)
    x[3] += 86.0  # the sum overflows float32 though each term does not
    x[5, 7] = 95.0  # one term overflows
    x[8] -= 60.0  # every term tiny
    x[9] = -np.inf  # -inf logits but one
    x[9, 2] = -200.0
    x[11, :] = np.linspace(-30, -21, 1000)  # just under the threshold
    t = rng(5).integers(0, 1000, 1100)
    t[[3, 5, 8, 9]] = [0, 7, 1, 2]
    t[20] = -100
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    for reduction in ("none", "mean"):
        loss = F.cross_entropy(xc, cr.tensor(t), reduction=reduction, label_smoothing=smoothing)
        loss_t = TF.cross_entropy(xt, torch.tensor(t), reduction=reduction, label_smoothing=smoothing)
        if smoothing == 0:  # smoothing over a -inf logit is inf, in PyTorch too
            assert np.isfinite(loss.detach().numpy()).all()
        assert_close(loss, loss_t, rtol=1e-5, atol=1e-5, what=f"loss ({reduction})")
    loss.backward()
    loss_t.backward()
    assert_close(xc.grad, xt.grad, rtol=1e-4, atol=1e-9, what="gradient")


MODULES = [
    (lambda: nn.MSELoss(), lambda: torch.nn.MSELoss(), "float"),
    (lambda: nn.L1Loss(reduction="sum"), lambda: torch.nn.L1Loss(reduction="sum"), "float"),
    (lambda: nn.HuberLoss(delta=0.3), lambda: torch.nn.HuberLoss(delta=0.3), "float"),
    (
        lambda: nn.BCELoss(weight=cr.tensor([1.0, 2.0, 0.5])),
        lambda: torch.nn.BCELoss(weight=torch.tensor([1.0, 2.0, 0.5])),
        "prob",
    ),
    (
        lambda: nn.BCEWithLogitsLoss(pos_weight=cr.tensor([1.0, 2.0, 0.5])),
        lambda: torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 0.5])),
        "prob",
    ),
    (
        lambda: nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1),
        lambda: torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1),
        "class",
    ),
    (lambda: nn.NLLLoss(ignore_index=0), lambda: torch.nn.NLLLoss(ignore_index=0), "class"),
    (lambda: nn.MultiMarginLoss(p=2), lambda: torch.nn.MultiMarginLoss(p=2), "class"),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_loss_modules(i, mode):
    make, make_t, kind = MODULES[i]
    m, mt = make(), make_t()
    getattr(m, mode)()
    getattr(mt, mode)()
    target = {
        "float": _targets((5, 3)),
        "prob": rng(1).uniform(0, 1, (5, 3)).astype(np.float32),
        "class": np.array([0, 2, 1, 1, 0]),
    }[kind]
    low, high = (0.05, 0.95) if isinstance(m, nn.BCELoss) else (-2, 2)
    check(m, mt, [(5, 3), target], low=low, high=high)
    assert list(m.parameters()) == []


def test_loss_module_buffers_in_state_dict():
    m = nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0]))
    mt = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0]))
    assert list(m.state_dict()) == list(mt.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=cr.tensor([2.0])).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []


def test_legacy_size_average_reduce():
    x, t = cr.tensor([1.0, 2.0, 3.0]), cr.tensor([0.0, 0.0, 0.0])
    assert F.mse_loss(x, t, size_average=False).item() == pytest.approx(14.0)
    assert F.mse_loss(x, t, reduce=False).shape == (3,)


def test_errors():
    x = cr.randn(4, 10)
    msg = r"cross_entropy: target 12 is out of bounds for 10 classes.*input shape \(4, 10\)"
    with pytest.raises(IndexError, match=msg):
        F.cross_entropy(x, cr.tensor([1, 2, 12, 3]))
    with pytest.raises(IndexError, match="cross_entropy: target -3"):
        F.cross_entropy(x, cr.tensor([1, 2, -3, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: expected a target of shape \(4,\).*\(3,\)"):
        F.cross_entropy(x, cr.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="cross_entropy: class-index targets must be integers"):
        F.cross_entropy(x, cr.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must be a 1-D tensor with one value per"):
        F.cross_entropy(x, cr.tensor([1, 2, 3, 4]), weight=cr.ones(3))
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(4, 1\) and target shape \(4,\) differ"):
        F.mse_loss(cr.randn(4, 1), cr.randn(4))
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be between 0"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="hinge_loss: targets must be -1 or"):
        F.hinge_loss(cr.tensor([0.5, 1.5]), cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="nll_loss"):
        F.nll_loss(cr.randn(3, 2), cr.tensor([0, 1]))
    with pytest.raises(IndexError, match="nll_loss: target 2 is out of bounds for 2 classes"):
        F.nll_loss(cr.randn(2, 2), cr.tensor([0, 2]))
    with pytest.raises(ValueError, match="multi_margin_loss: only p == 1 and p == 2"):
        F.multi_margin_loss(cr.randn(2, 2), cr.tensor([0, 1]), p=3)


def test_target_dtype_cast_and_no_grad_target():
    x = cr.randn(3, requires_grad=True)
    t = cr.tensor(np.array([1.0, 2.0, 3.0]))  # float64 target with a float32 input
    loss = F.mse_loss(x, t)
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32


def test_target_gradients_like_torch():
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        check(getattr(F, name), getattr(TF, name), [(3, 4), (3, 4)])
    t = rng(0).uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    pw = [1.0, 2.0, 3.0, 0.5]
    check(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=cr.tensor(pw)),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor(pw)),
        [(3, 4), t],
    )


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "bce", "bce_logits", "nll", "margin"])
def test_second_derivatives_like_torch(name):
    r = rng(0)
    x = r.uniform(0.1, 0.9, (4, 3)) if name == "bce" else r.standard_normal((4, 3))
    t = r.uniform(0, 1, (4, 3))
    idx = np.array([0, 2, 1, 2])
    fns = {
        "mse_loss": (lambda a: F.mse_loss(a, cr.tensor(t)), lambda a: TF.mse_loss(a, torch.tensor(t))),
        "l1_loss": (lambda a: F.l1_loss(a, cr.tensor(t)), lambda a: TF.l1_loss(a, torch.tensor(t))),
        "huber_loss": (
            lambda a: F.huber_loss(a, cr.tensor(t), delta=0.5),
            lambda a: TF.huber_loss(a, torch.tensor(t), delta=0.5),
        ),
        "bce": (
            lambda a: F.binary_cross_entropy(a, cr.tensor(t)),
            lambda a: TF.binary_cross_entropy(a, torch.tensor(t)),
        ),
        "bce_logits": (
            lambda a: F.binary_cross_entropy_with_logits(a, cr.tensor(t), pos_weight=cr.tensor(t[0])),
            lambda a: TF.binary_cross_entropy_with_logits(a, torch.tensor(t), pos_weight=torch.tensor(t[0])),
        ),
        "nll": (lambda a: F.nll_loss(a, cr.tensor(idx)), lambda a: TF.nll_loss(a, torch.tensor(idx))),
        "margin": (
            lambda a: F.multi_margin_loss(a, cr.tensor(idx), p=2),
            lambda a: TF.multi_margin_loss(a, torch.tensor(idx), p=2),
        ),
    }
    f, ft = fns[name]
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    (g,) = cr.autograd.grad(f(xc) * 3.0, [xc], create_graph=True)
    (gt,) = torch.autograd.grad(ft(xt) * 3.0, [xt], create_graph=True)
    assert_close(g, gt, rtol=1e-9, atol=1e-12)
    xf = cr.tensor(x, requires_grad=True)
    (f(xf) * 3.0).backward()  # the array fast path gives the same first derivative
    assert_close(xf.grad, gt.detach(), rtol=1e-9, atol=1e-12)
    if name != "margin":  # (torch has no second derivative of multi_margin_loss)
        (gg,) = cr.autograd.grad((g * g * xc).sum(), [xc])
        (ggt,) = torch.autograd.grad((gt * gt * xt).sum(), [xt])
        assert_close(gg, ggt, rtol=1e-8, atol=1e-10)


def test_weights_must_broadcast_to_the_input_shape():
    x, t = cr.randn(5, 3), cr.rand(5, 3)
    with pytest.raises(ValueError, match=r"_with_logits: pos_weight of shape \(4,\) cannot"):
        F.binary_cross_entropy_with_logits(x, t, pos_weight=cr.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(2, 5, 3\) cannot be"):
        F.binary_cross_entropy(t, t, weight=cr.ones(2, 5, 3))
