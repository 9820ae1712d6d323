"""Dropout, BatchNorm1d/2d, LayerNorm, Embedding and GradientReversal against PyTorch with identical
weights (outputs, input and parameter gradients, train and eval mode, running statistics over
several steps), float64 gradchecks, and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests.helpers import assert_close, check, gradcheck_op, to_cr, to_torch

TF = torch.nn.functional


def copy_from_torch(m, mt, dtype=np.float32):
    m.load_state_dict(
        {
            k: cr.tensor(v.detach().numpy().astype(dtype) if v.is_floating_point() else v.numpy())
            for k, v in mt.state_dict().items()
        }
    )


def run_both(m, mt, x, seed=0):
    """Forward x through both, backward the same random upstream gradient; return the two input leaves."""
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    out, out_t = m(xc), mt(xt)
    assert_close(out, out_t, what="output")
    g = np.random.default_rng(seed).standard_normal(out_t.shape).astype(x.dtype)
    out.backward(cr.tensor(g))
    out_t.backward(to_torch(g))
    assert_close(xc.grad, xt.grad, what="input gradient")
    for (name, p), (_, pt) in zip(m.named_parameters(), mt.named_parameters()):
        assert_close(p.grad, pt.grad, what=f"gradient of {name}")
    return xc, xt


# ----------------------------------------------------------------------------- dropout


def test_dropout_train_statistics_and_gradient():
    cr.manual_seed(1)
    m = nn.Dropout(0.3)
    x = cr.ones(200, 100, requires_grad=True)
    out = m(x)
    vals = out.detach().numpy()
    kept = vals != 0
    assert abs(1 - kept.mean() - 0.3) < 0.02
    np.testing.assert_allclose(vals[kept], 1 / 0.7, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), vals, rtol=1e-6)  # d(x·m/(1-p))/dx = m/(1-p)


def test_dropout_eval_is_identity_and_edge_probabilities():
    x = cr.randn(4, 5, requires_grad=True)
    m = nn.Dropout(0.5).eval()
    assert_close(m(x).detach(), x.detach())
    assert_close(nn.Dropout(0.0)(x).detach(), x.detach())
    assert not np.any(nn.Dropout(1.0)(x).detach().numpy())
    assert_close(F.dropout(x, 0.5, training=False).detach(), x.detach())


def test_dropout_reproducible_with_seed_and_module_mode():
    x = cr.ones(50)
    cr.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    cr.manual_seed(7)
    b = nn.Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.9))
    model.eval()
    y = model(cr.ones(2, 3))
    model.train()
    assert np.all(model[0](cr.ones(2, 3)).detach().numpy() == y.detach().numpy())


def test_dropout_expectation_matches_torch():
    x = np.full((400, 400), 2.0, np.float32)
    ours = F.dropout(cr.tensor(x), 0.25).numpy()
    theirs = TF.dropout(torch.tensor(x), 0.25).numpy()
    assert abs(ours.mean() - theirs.mean()) < 0.03 and abs(ours.mean() - 2.0) < 0.03
    assert set(np.unique(ours)) == set(np.unique(theirs))


def test_dropout_errors():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="dropout: dropout probability"):
        F.dropout(cr.ones(2), -0.1)


# ----------------------------------------------------------------------------- batch norm


@pytest.mark.parametrize("kind,shape", [("1d", (8, 4)), ("1d", (6, 4, 5)), ("2d", (4, 4, 3, 3))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_against_torch_over_steps(kind, shape, momentum):
    make = nn.BatchNorm1d if kind == "1d" else nn.BatchNorm2d
    make_t = torch.nn.BatchNorm1d if kind == "1d" else torch.nn.BatchNorm2d
    m, mt = make(4, momentum=momentum), make_t(4, momentum=momentum)
    with torch.no_grad():
        mt.weight.uniform_(0.5, 1.5)
        mt.bias.uniform_(-0.5, 0.5)
    copy_from_torch(m, mt)
    rng = np.random.default_rng(0)
    for step in range(4):
        x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
        m.zero_grad()
        mt.zero_grad()
        run_both(m, mt, x, seed=step)
    for name, buf in m.state_dict().items():
        assert_close(buf, mt.state_dict()[name], rtol=1e-5, atol=1e-6, what=name)
    assert m.num_batches_tracked.item() == 4
    m.eval()
    mt.eval()
    m.zero_grad()
    mt.zero_grad()
    run_both(m, mt, rng.standard_normal(shape).astype(np.float32))
    assert m.num_batches_tracked.item() == 4  # eval does not count


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_batchnorm_options(affine, track):
    m = nn.BatchNorm2d(3, affine=affine, track_running_stats=track)
    mt = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track)
    assert sorted(m.state_dict()) == sorted(mt.state_dict())
    assert len(list(m.parameters())) == len(list(mt.parameters()))
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    for mode in ("train", "eval"):
        getattr(m, mode)()
        getattr(mt, mode)()
        m.zero_grad()
        mt.zero_grad()
        run_both(m, mt, x)


def test_batchnorm_no_bias_and_float64():
    m, mt = nn.BatchNorm1d(3, bias=False, dtype=cr.float64), torch.nn.BatchNorm1d(3, bias=False).double()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in mt.named_parameters()] == ["weight"]
    run_both(m, mt, np.random.default_rng(2).standard_normal((5, 3)))
    assert m.running_mean.dtype == np.float64


def test_batchnorm_buffers_and_init_like_torch():
    m, mt = nn.BatchNorm2d(5), torch.nn.BatchNorm2d(5)
    assert list(m.state_dict()) == list(mt.state_dict())
    for k, v in mt.state_dict().items():
        assert_close(m.state_dict()[k], v, what=k)
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in mt.named_buffers()]
    assert repr(m) == repr(mt)
    assert repr(nn.LayerNorm(5, bias=False)) == repr(torch.nn.LayerNorm(5, bias=False))


def test_batchnorm_gradcheck_and_second_derivative():
    w = cr.tensor(np.array([1.5, 0.5, -1.0]), requires_grad=True)
    b = cr.tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)

    def bn(x):
        return F.batch_norm(x, None, None, w, b, training=True)

    gradcheck_op(bn, [(4, 3, 2)])
    assert cr.autograd.gradcheck(
        lambda ww, bb: F.batch_norm(
            cr.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype=cr.float64),
            None,
            None,
            ww,
            bb,
            training=True,
        ),
        (w, b),
    )
    rm, rv = cr.zeros(3, dtype=cr.float64), cr.ones(3, dtype=cr.float64)
    gradcheck_op(lambda x: F.batch_norm(x, rm, rv, w, b, training=False), [(4, 3)])
    x = np.random.default_rng(1).standard_normal((4, 3, 2))
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    wt, bt = to_torch(w.detach(), requires_grad=True), to_torch(b.detach(), requires_grad=True)
    up = np.random.default_rng(2).standard_normal(x.shape)
    (g,) = cr.autograd.grad((bn(xc) * cr.tensor(up)).sum(), [xc], create_graph=True)
    (gt,) = torch.autograd.grad(
        (TF.batch_norm(xt, None, None, wt, bt, training=True) * to_torch(up)).sum(), [xt], create_graph=True
    )
    assert_close(g, gt, rtol=1e-9, atol=1e-10)
    gg = cr.autograd.grad((g * g).sum(), [xc, w])
    ggt = torch.autograd.grad((gt * gt).sum(), [xt, wt])
    for a, e in zip(gg, ggt):
        assert_close(a, e, rtol=1e-7, atol=1e-9)


def test_functional_batch_norm_updates_running_stats_like_torch():
    x = np.random.default_rng(3).standard_normal((6, 2, 3)).astype(np.float32) + 1
    rm, rv = cr.zeros(2), cr.ones(2)
    rmt, rvt = torch.zeros(2), torch.ones(2)
    out = F.batch_norm(cr.tensor(x), rm, rv, training=True, momentum=0.3)
    out_t = TF.batch_norm(torch.tensor(x), rmt, rvt, training=True, momentum=0.3)
    assert_close(out, out_t)
    assert_close(rm, rmt)
    assert_close(rv, rvt)


def test_batchnorm_errors_change_nothing():
    m = nn.BatchNorm1d(4)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input, got 4D input of shape"):
        m(cr.randn(2, 4, 3, 3))
    with pytest.raises(
        ValueError, match=r"BatchNorm1d: expected 4 channels in dim 1, got input of shape \(8, 3\)"
    ):
        m(cr.randn(8, 3))
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        m(cr.randn(1, 4))
    with pytest.raises(ValueError, match="BatchNorm2d: expected 4D input"):
        nn.BatchNorm2d(4)(cr.randn(2, 4))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    m.eval()
    assert m(cr.randn(1, 4)).shape == (1, 4)  # one sample is fine with running statistics


# ----------------------------------------------------------------------------- layer norm


@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 4, 5), (4, 5)), ((3, 5, 7), [7])])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
def test_layernorm_against_torch(shape, normalized, affine, bias):
    m = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    mt = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    if affine:
        with torch.no_grad():
            mt.weight.uniform_(0.5, 1.5)
            if mt.bias is not None:
                mt.bias.uniform_(-0.5, 0.5)
    copy_from_torch(m, mt)
    assert list(m.state_dict()) == list(mt.state_dict())
    x = (np.random.default_rng(0).standard_normal(shape) * 2 + 3).astype(np.float32)
    for mode in ("train", "eval"):
        getattr(m, mode)()
        getattr(mt, mode)()
        m.zero_grad()
        mt.zero_grad()
        run_both(m, mt, x)


def test_layernorm_gradcheck_and_functional():
    w = cr.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 2)), requires_grad=True)
    b = cr.tensor(np.random.default_rng(1).uniform(-1, 1, (3, 2)), requires_grad=True)
    gradcheck_op(lambda x: F.layer_norm(x, (3, 2), w, b), [(2, 3, 2)])
    assert cr.autograd.gradcheck(
        lambda ww: F.layer_norm(
            cr.ones(2, 3, 2, dtype=cr.float64) * cr.tensor(np.arange(6.0).reshape(3, 2)), (3, 2), ww, b
        ),
        (w,),
    )
    check(
        lambda x, ww, bb: F.layer_norm(x, (4,), ww, bb, eps=1e-3),
        lambda x, ww, bb: TF.layer_norm(x, (4,), ww, bb, eps=1e-3),
        [(3, 4), (4,), (4,)],
    )


def test_layernorm_errors():
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(5,\) must match the last 1 dims"):
        nn.LayerNorm(5)(cr.randn(2, 4))
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape"):
        nn.LayerNorm(0)


def test_normalisation_stable_for_large_inputs():
    x = np.array([[1000.0, -1000.0, 999.0, 1.0]] * 3, np.float32)
    check(lambda a: F.layer_norm(a, (4,)), lambda a: TF.layer_norm(a, (4,)), [x], atol=1e-4)
    check(
        lambda a: F.batch_norm(a, None, None, training=True),
        lambda a: TF.batch_norm(a, None, None, training=True),
        [x.T.copy()],
        atol=1e-4,
    )


# ----------------------------------------------------------------------------- embedding


def test_embedding_against_torch():
    m, mt = nn.Embedding(10, 4, padding_idx=2), torch.nn.Embedding(10, 4, padding_idx=2)
    copy_from_torch(m, mt)
    idx = np.array([[1, 2, 2, 9], [1, 1, 0, 2]])
    out, out_t = m(cr.tensor(idx)), mt(torch.tensor(idx))
    assert_close(out, out_t)
    g = np.random.default_rng(0).standard_normal(out_t.shape).astype(np.float32)
    out.backward(cr.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_close(m.weight.grad, mt.weight.grad)  # repeated indices add up; the padding row gets nothing
    assert not np.any(m.weight.grad.numpy()[2])
    m.eval()
    mt.eval()
    assert_close(m(cr.tensor(idx)), mt(torch.tensor(idx)))


def test_embedding_functional_and_gradcheck():
    idx = np.array([[0, 3], [3, 3]])
    check(
        lambda w: F.embedding(cr.tensor(idx), w, padding_idx=0),
        lambda w: TF.embedding(torch.tensor(idx), w, padding_idx=0),
        [(5, 3)],
    )
    gradcheck_op(lambda w: F.embedding(cr.tensor(idx), w), [(5, 3)])
    gradcheck_op(lambda w: F.embedding(cr.tensor([4, 1, 4]), w), [(5, 2)])


def test_embedding_init_and_padding_row():
    cr.manual_seed(0)
    m = nn.Embedding(1000, 64, padding_idx=3)
    w = m.weight.detach().numpy()
    assert not np.any(w[3])
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1.0) < 0.015
    mt = torch.nn.Embedding(1000, 64, padding_idx=3).weight.detach().numpy()
    assert abs(rest.std() - np.delete(mt, 3, axis=0).std()) < 0.02


def test_embedding_max_norm_like_torch():
    m, mt = nn.Embedding(6, 3, max_norm=1.0), torch.nn.Embedding(6, 3, max_norm=1.0)
    copy_from_torch(m, mt)
    idx = np.array([0, 2, 2, 5])
    assert_close(m(cr.tensor(idx)), mt(torch.tensor(idx)))
    assert_close(m.weight.detach(), mt.weight.detach())


def test_embedding_from_pretrained_and_errors():
    table = cr.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3))
    m = nn.Embedding.from_pretrained(table)
    assert not m.weight.requires_grad
    assert_close(m(cr.tensor([3, 0])), torch.tensor([[9.0, 10.0, 11.0], [0.0, 1.0, 2.0]]))
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    e = nn.Embedding(10, 2)
    with pytest.raises(IndexError, match=r"embedding: index 10 is out of range for 10 embeddings"):
        e(cr.tensor([1, 10]))
    with pytest.raises(IndexError, match="embedding: index -1"):
        e(cr.tensor([-1]))
    with pytest.raises(TypeError, match="embedding: expected integer indices, got dtype float32"):
        e(cr.tensor([1.0]))
    assert repr(nn.Embedding(10, 2, padding_idx=0)) == repr(torch.nn.Embedding(10, 2, padding_idx=0))


def test_one_hot_and_pad_like_torch():
    t = np.array([[0, 2], [1, 4]])
    assert_close(F.one_hot(cr.tensor(t)), TF.one_hot(torch.tensor(t)))
    assert_close(F.one_hot(cr.tensor(t), 6), TF.one_hot(torch.tensor(t), 6))
    with pytest.raises(RuntimeError, match="one_hot: class values must be smaller than num_classes=3"):
        F.one_hot(cr.tensor(t), 3)
    check(
        lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), lambda x: TF.pad(x, (1, 2, 0, 1), value=0.5), [(2, 3, 4)]
    )
    check(lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b), [(3, 4), (5, 4), (5,)])


# ----------------------------------------------------------------------------- gradient reversal


@pytest.mark.parametrize("alpha", [1.0, 0.25])
def test_gradient_reversal(alpha):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    layer = nn.GradientReversal(alpha)
    out = layer(xc)
    assert_close(out, torch.tensor(x))
    (out * cr.tensor(w)).sum().backward()
    (xt * torch.tensor(w)).sum().backward()
    assert_close(xc.grad, -alpha * xt.grad)
    x2 = cr.tensor(x, requires_grad=True)
    (F.gradient_reversal(x2, alpha) ** 2).sum().backward()
    assert_close(x2.grad, to_cr(-alpha * 2 * torch.tensor(x)))
    assert list(layer.parameters()) == [] and "alpha" in repr(layer)


def test_gradient_reversal_in_a_model_trains_features_against_the_head():
    feat = nn.Linear(2, 2)
    head = nn.Sequential(nn.GradientReversal(), nn.Linear(2, 1))
    x = cr.randn(5, 2)
    head(feat(x)).sum().backward()
    g_rev = feat.weight.grad.numpy().copy()
    feat.zero_grad()
    head[1](feat(x)).sum().backward()
    np.testing.assert_allclose(g_rev, -feat.weight.grad.numpy(), rtol=1e-6)


def test_dropout_and_gradient_reversal_gradchecks():
    def seeded_dropout(x):
        cr.manual_seed(11)  # the same mask on every evaluation of the finite differences
        return F.dropout(x, 0.4)

    gradcheck_op(seeded_dropout, [(5, 4)])
    gradcheck_op(lambda x: F.gradient_reversal(x, -1.0), [(3, 2)])  # alpha = -1: a true identity
    x = cr.tensor(np.ones((2, 2)), requires_grad=True)
    assert not cr.autograd.gradcheck(lambda t: F.gradient_reversal(t, 1.0), (x,), raise_exception=False)


def test_layernorm_second_derivative_like_torch():
    x = np.random.default_rng(0).standard_normal((3, 5))
    w = np.random.default_rng(1).uniform(0.5, 1.5, 5)
    xc, xt = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    wc, wt = cr.tensor(w, requires_grad=True), to_torch(w, requires_grad=True)
    up = np.random.default_rng(2).standard_normal(x.shape)
    (g,) = cr.autograd.grad((F.layer_norm(xc, (5,), wc) * cr.tensor(up)).sum(), [xc], create_graph=True)
    (gt,) = torch.autograd.grad((TF.layer_norm(xt, (5,), wt) * to_torch(up)).sum(), [xt], create_graph=True)
    assert_close(g, gt, rtol=1e-9, atol=1e-10)
    for a, e in zip(cr.autograd.grad((g**3).sum(), [xc, wc]), torch.autograd.grad((gt**3).sum(), [xt, wt])):
        assert_close(a, e, rtol=1e-7, atol=1e-9)


def test_pad_value_none_means_zero_like_torch():
    check(lambda x: F.pad(x, (1, 1), value=None), lambda x: TF.pad(x, (1, 1), value=None), [(2, 3)])


def test_normalisation_rejects_mixed_dtypes():
    with pytest.raises(TypeError, match="batch_norm: input dtype float64 does not match weight dtype"):
        nn.BatchNorm1d(3)(cr.randn(4, 3, dtype=cr.float64))
    with pytest.raises(TypeError, match="layer_norm: input dtype float64 does not match weight dtype"):
        nn.LayerNorm(3)(cr.randn(4, 3, dtype=cr.float64))
    out = nn.BatchNorm1d(3).double()(cr.randn(4, 3, dtype=cr.float64))
    assert out.dtype == np.float64


@pytest.mark.parametrize(
    "spec",
    [
        "Dropout(0.3)",
        "BatchNorm2d(4, momentum=None)",
        "LayerNorm((2, 3), eps=1e-3)",
        "Embedding(10, 3, max_norm=1.0)",
        "L1Loss(reduction='sum')",
        "GELU()",
    ],
)
def test_reprs_like_torch(spec):
    assert repr(eval("nn." + spec)) == repr(eval("torch.nn." + spec))
