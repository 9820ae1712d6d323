"""ctc_loss / CTCLoss against PyTorch's CPU ctc_loss: padded and concatenated targets, ragged
input and target lengths (0 included), repeated labels, any blank, every reduction,
zero_infinity, unbatched inputs, gradients with respect to log_probs, a float64 gradcheck through
log_softmax, no second derivative (as PyTorch), and the argument errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests.helpers import assert_close, to_torch

TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def _log_probs(shape, seed=0, dtype=np.float32):
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    return torch.tensor(x).log_softmax(-1).numpy().astype(dtype)


def _compare(lp, targets, il, tl, dtype=np.float32, rtol=1e-4, atol=1e-5, to_tensor=False, **kw):
    """Loss and d loss / d log_probs (one random upstream gradient) of both frameworks."""
    xc, xt = cr.tensor(lp, requires_grad=True), to_torch(lp, requires_grad=True)
    ilc, tlc = (cr.tensor(np.array(il)), cr.tensor(np.array(tl))) if to_tensor else (il, tl)
    ilt, tlt = (torch.tensor(np.array(il)), torch.tensor(np.array(tl))) if to_tensor else (il, tl)
    out = F.ctc_loss(xc, cr.tensor(targets), ilc, tlc, **kw)
    out_t = TF.ctc_loss(xt, torch.tensor(targets), ilt, tlt, **kw)
    assert_close(out, out_t, rtol, atol, what="loss")
    up = np.random.default_rng(1).standard_normal(out_t.shape).astype(dtype)
    out.backward(cr.tensor(up))
    out_t.backward(to_torch(up))
    assert_close(xc.grad, xt.grad, rtol, atol, what="gradient")


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_padded_targets(reduction, zero_infinity):
    lp = _log_probs((12, 5, 6))
    targets = np.random.default_rng(2).integers(1, 6, (5, 7))
    targets[1, :4] = [2, 2, 3, 3]  # repeats need a blank between them
    il, tl = [12, 11, 8, 12, 3], [7, 4, 0, 5, 3]  # the last one has no alignment: inf
    _compare(lp, targets, il, tl, reduction=reduction, zero_infinity=zero_infinity)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_concatenated_targets_and_tensor_lengths(reduction):
    lp = _log_probs((10, 3, 5), seed=3)
    tl = [4, 1, 3]
    targets = np.random.default_rng(4).integers(1, 5, sum(tl))
    _compare(lp, targets, [10, 6, 9], tl, reduction=reduction, to_tensor=True)


@pytest.mark.parametrize("blank", [0, 2, 4])
def test_any_blank(blank):
    lp = _log_probs((9, 2, 5), seed=5)
    classes = [c for c in range(5) if c != blank]
    targets = np.array(classes)[np.random.default_rng(6).integers(0, 4, (2, 4))]
    _compare(lp, targets, [9, 7], [4, 3], blank=blank, reduction="sum")


def test_float64_and_zero_lengths():
    lp = _log_probs((8, 4, 4), seed=7, dtype=np.float64)
    targets = np.array([[1, 2, 3], [3, 3, 1], [1, 1, 1], [2, 0, 0]])
    # input length 0 with target 0 (loss 0), input length 0 with a target (inf), target length 0
    _compare(
        lp, targets, [0, 0, 8, 5], [0, 2, 3, 0], dtype=np.float64, rtol=1e-10, atol=1e-12, reduction="none"
    )
    _compare(
        lp,
        targets,
        [0, 0, 8, 5],
        [0, 2, 3, 0],
        dtype=np.float64,
        rtol=1e-10,
        atol=1e-12,
        reduction="mean",
        zero_infinity=True,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched(reduction):
    lp = _log_probs((7, 4), seed=8)
    xc, xt = cr.tensor(lp, requires_grad=True), to_torch(lp, requires_grad=True)
    out = F.ctc_loss(xc, cr.tensor([1, 3, 3]), cr.tensor(7), cr.tensor(3), reduction=reduction)
    out_t = TF.ctc_loss(xt, torch.tensor([1, 3, 3]), torch.tensor(7), torch.tensor(3), reduction=reduction)
    assert_close(out, out_t)
    out.backward()
    out_t.backward()
    assert_close(xc.grad, xt.grad)
    assert_close(
        F.ctc_loss(cr.tensor(lp), cr.tensor([1, 3, 3]), (7,), (3,)),
        TF.ctc_loss(xt, torch.tensor([1, 3, 3]), (7,), (3,)),
    )


def test_longer_sequences():
    lp = _log_probs((60, 4, 12), seed=9)
    targets = np.random.default_rng(10).integers(1, 12, (4, 20))
    _compare(lp, targets, [60, 55, 41, 30], [20, 17, 9, 12], reduction="mean", rtol=1e-4, atol=1e-5)


def test_matches_brute_force_over_all_alignments():
    # T = 4, C = 3, target (1, 2): sum over every path that collapses to it
    import itertools

    lp = _log_probs((4, 1, 3), seed=11, dtype=np.float64)
    total = 0.0
    for path in itertools.product(range(3), repeat=4):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
        if collapsed == [1, 2]:
            total += np.exp(sum(lp[t, 0, c] for t, c in enumerate(path)))
    loss = F.ctc_loss(cr.tensor(lp), cr.tensor([[1, 2]]), [4], [2], reduction="sum")
    np.testing.assert_allclose(float(loss), -np.log(total), rtol=1e-12)


def test_gradcheck_through_log_softmax():
    x = cr.tensor(np.random.default_rng(12).standard_normal((6, 2, 4)), requires_grad=True)
    targets = cr.tensor([[1, 2, 2], [3, 1, 0]])
    assert cr.autograd.gradcheck(
        lambda a: F.ctc_loss(a.log_softmax(2), targets, [6, 5], [3, 2]), (x,), eps=1e-6, atol=1e-6, rtol=1e-4
    )


def test_no_second_derivative_as_pytorch():
    x = cr.tensor(_log_probs((5, 1, 3)), requires_grad=True)
    (g,) = cr.autograd.grad(F.ctc_loss(x, cr.tensor([[1, 2]]), [5], [2]), [x], create_graph=False)
    assert np.isfinite(g.numpy()).all()
    with pytest.raises(RuntimeError, match="CTCLoss: second derivatives .* ctc_loss are not supported"):
        cr.autograd.grad(F.ctc_loss(x, cr.tensor([[1, 2]]), [5], [2]), [x], create_graph=True)


@pytest.mark.parametrize("kw", [{}, {"blank": 3, "reduction": "sum", "zero_infinity": True}])
def test_module(kw):
    lp = _log_probs((8, 3, 4), seed=13)
    targets = np.array([[1, 2, 1], [2, 2, 0], [1, 0, 0]])
    il, tl = [8, 7, 1], [3, 2, 2]
    m, mt = nn.CTCLoss(**kw), torch.nn.CTCLoss(**kw)
    xc, xt = cr.tensor(lp, requires_grad=True), to_torch(lp, requires_grad=True)
    out, out_t = m(xc, cr.tensor(targets), il, tl), mt(xt, torch.tensor(targets), il, tl)
    assert_close(out, out_t)
    out.backward()
    out_t.backward()
    assert_close(xc.grad, xt.grad)


def test_errors():
    lp = cr.tensor(_log_probs((5, 2, 4)))
    t = cr.tensor([[1, 2], [3, 1]])
    with pytest.raises(RuntimeError, match=r"ctc_loss: blank must be in label range \[0, 4\), got 4"):
        F.ctc_loss(lp, t, [5, 5], [2, 2], blank=4)
    with pytest.raises(
        RuntimeError, match="ctc_loss: expected input_lengths to have value at most 5, but got 6"
    ):
        F.ctc_loss(lp, t, [6, 5], [2, 2])
    with pytest.raises(
        RuntimeError, match="ctc_loss: expected targets to have size at least 3 at dimension 1"
    ):
        F.ctc_loss(lp, t, [5, 5], [3, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: input_lengths must be of size batch_size \(2\)"):
        F.ctc_loss(lp, t, [5], [2, 2])
    with pytest.raises(RuntimeError, match="ctc_loss: target_lengths must be non-negative, got -1"):
        F.ctc_loss(lp, t, [5, 5], [2, -1])
    with pytest.raises(RuntimeError, match="ctc_loss: expected the concatenated targets to have at least"):
        F.ctc_loss(lp, cr.tensor([1, 2, 3]), [5, 5], [2, 2])
    with pytest.raises(IndexError, match="ctc_loss: target class 7 is out of range for 4 classes"):
        F.ctc_loss(lp, cr.tensor([[1, 7], [3, 1]]), [5, 5], [2, 2])
    with pytest.raises(TypeError, match="ctc_loss: targets must be an integer Tensor, got float32"):
        F.ctc_loss(lp, t.float(), [5, 5], [2, 2])
    with pytest.raises(TypeError, match="ctc_loss: log_probs must be a floating point Tensor"):
        F.ctc_loss(t, t, [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: log_probs must be \(T, N, C\) or unbatched \(T, C\)"):
        F.ctc_loss(cr.randn(5), t, [5, 5], [2, 2])
    with pytest.raises(TypeError, match="ctc_loss: input_lengths must hold integers"):
        F.ctc_loss(lp, t, cr.tensor([5.0, 5.0]), [2, 2])
    with pytest.raises(ValueError, match="ctc_loss: reduction must be"):
        F.ctc_loss(lp, t, [5, 5], [2, 2], reduction="batchmean")
    with pytest.raises(ValueError, match="CTCLoss: blank must be an int >= 0"):
        nn.CTCLoss(blank=-1)
