"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against PyTorch 2.13:
same state dict keys and shapes, weights copied across, outputs and every gradient compared;
float64 gradchecks of the attention math."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from tests.helpers import assert_close, check, gradcheck_op, to_cr, to_torch

F = nn.functional
TF = torch.nn.functional


# ----------------------------------------------------------------------------- scaled_dot_product_attention


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch(causal, scale):
    check(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale),
        [(2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 6)],
    )


def test_sdpa_with_bool_and_float_masks():
    rng = np.random.default_rng(0)
    keep = rng.random((5, 7)) > 0.3
    keep[:, 0] = True  # every query sees at least one key
    check(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
        [(2, 5, 4), (2, 7, 4), (2, 7, 3), keep],
    )
    bias = rng.standard_normal((2, 1, 5, 7)).astype(np.float32)
    check(  # a float mask is added to the scores, and gets a gradient
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
        [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4), bias],
    )


def test_sdpa_dropout_keeps_expectation_and_zeroes_weights():
    cr.manual_seed(0)
    q = k = cr.zeros(1, 1, 4, 2)
    v = cr.tensor(np.eye(4, dtype=np.float32)[None, None])
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)  # weights 1/4, kept ones scaled by 2
    assert set(np.unique(out.numpy()).tolist()) <= {0.0, 0.5}
    many = np.mean(
        [F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy() for _ in range(400)], axis=0
    )
    np.testing.assert_allclose(many, 0.25, atol=0.05)


def test_sdpa_gradcheck():
    gradcheck_op(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [(2, 4, 3), (2, 4, 3), (2, 4, 2)],
    )
    mask = np.random.default_rng(1).standard_normal((4, 5))
    gradcheck_op(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        [(4, 3), (5, 3), (5, 2), mask],
    )


def test_sdpa_rejects_bad_input():
    q = cr.ones(2, 4, 3)
    with pytest.raises(RuntimeError, match="query and key must have the same last dim"):
        F.scaled_dot_product_attention(q, cr.ones(2, 4, 5), cr.ones(2, 4, 3))
    with pytest.raises(RuntimeError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=cr.ones(4, 4), is_causal=True)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=cr.ones(3, 4))
    with pytest.raises(TypeError, match="query must be a floating point Tensor"):
        F.scaled_dot_product_attention(cr.ones(2, 2, dtype=cr.int64), q, q)


# ----------------------------------------------------------------------------- modules


def _copy_weights(ours, ref, seed=0):
    """Same state dict keys and shapes; fresh random values copied from torch's module into ours."""
    sd = ref.state_dict()
    assert list(ours.state_dict()) == list(sd)
    for k, v in ours.state_dict().items():
        assert tuple(v.shape) == tuple(sd[k].shape), k
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    ours.load_state_dict({k: to_cr(v) for k, v in ref.state_dict().items()})


def _compare_grads(ours, ref, rtol=1e-4, atol=1e-5):
    for (name, p), (_, t) in zip(ours.named_parameters(), ref.named_parameters()):
        assert p.grad is not None, name
        assert_close(p.grad, t.grad, rtol, atol, what=f"grad of {name}")


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return [cr.tensor(a, requires_grad=True) for a in arrays], [
        to_torch(a, requires_grad=True) for a in arrays
    ]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kdim", [None, 6])
def test_multihead_attention_matches_torch(batch_first, kdim):
    ours = nn.MultiheadAttention(8, 2, kdim=kdim, vdim=kdim, batch_first=batch_first)
    ref = torch.nn.MultiheadAttention(8, 2, kdim=kdim, vdim=kdim, batch_first=batch_first)
    _copy_weights(ours, ref)
    kd = kdim or 8
    qs, ks = ((3, 5, 8), (3, 7, kd)) if batch_first else ((5, 3, 8), (7, 3, kd))
    (q, k, v), (tq, tk, tv) = _inputs(qs, ks, ks)
    pad = np.zeros((3, 7), bool)
    pad[0, 5:] = True
    mask = np.triu(np.ones((5, 7), bool), 3)
    out, w = ours(q, k, v, key_padding_mask=cr.tensor(pad), attn_mask=cr.tensor(mask))
    tout, tw = ref(tq, tk, tv, key_padding_mask=torch.from_numpy(pad), attn_mask=torch.from_numpy(mask))
    assert_close(out, tout.detach(), 1e-4, 1e-5)
    assert_close(w, tw.detach(), 1e-4, 1e-5)
    gout = np.random.default_rng(3).standard_normal(out.shape).astype(np.float32)
    (out * cr.tensor(gout)).sum().backward()
    (tout * torch.from_numpy(gout)).sum().backward()
    _compare_grads(ours, ref)
    for a, b in ((q, tq), (k, tk), (v, tv)):
        assert_close(a.grad, b.grad, 1e-4, 1e-5)


def test_multihead_attention_float_mask_per_head_weights_unbatched_and_init():
    ours, ref = nn.MultiheadAttention(6, 3), torch.nn.MultiheadAttention(6, 3)
    _copy_weights(ours, ref)
    (x,), (tx,) = _inputs((4, 2, 6))
    bias = np.random.default_rng(2).standard_normal((6, 4, 4)).astype(np.float32)
    out, w = ours(x, x, x, attn_mask=cr.tensor(bias), average_attn_weights=False)
    tout, tw = ref(tx, tx, tx, attn_mask=torch.from_numpy(bias), average_attn_weights=False)
    assert_close(out, tout.detach(), 1e-4, 1e-5)
    assert_close(w, tw.detach(), 1e-4, 1e-5)
    (x1,), (tx1,) = _inputs((4, 6))
    assert_close(ours(x1, x1, x1)[0], ref(tx1, tx1, tx1)[0].detach(), 1e-4, 1e-5)
    out, w = ours(x, x, x, need_weights=False)
    assert w is None
    fresh = nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))  # Xavier-uniform of the stacked (3E, E) projection
    assert np.abs(fresh.in_proj_weight.detach().numpy()).max() <= bound
    assert np.abs(fresh.in_proj_weight.detach().numpy()).max() > 0.9 * bound
    assert not fresh.in_proj_bias.detach().numpy().any() and not fresh.out_proj.bias.detach().numpy().any()


def test_multihead_attention_rejects_bad_input():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(4, 2)
    with pytest.raises(RuntimeError, match=r"query must be \(L, N, 4\)"):
        mha(cr.ones(3, 2, 5), cr.ones(3, 2, 4), cr.ones(3, 2, 4))
    with pytest.raises(RuntimeError, match=r"2-D attn_mask should have shape \(3, 3\)"):
        mha(cr.ones(3, 2, 4), cr.ones(3, 2, 4), cr.ones(3, 2, 4), attn_mask=cr.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"key_padding_mask of shape \(2, 3\)"):
        mha(cr.ones(3, 2, 4), cr.ones(3, 2, 4), cr.ones(3, 2, 4), key_padding_mask=cr.ones(3, 3).bool())
    with pytest.raises(RuntimeError, match="is_causal is a hint"):
        mha(cr.ones(3, 2, 4), cr.ones(3, 2, 4), cr.ones(3, 2, 4), is_causal=True)


def test_mha_gradcheck_float64():
    mha = nn.MultiheadAttention(4, 2).to(cr.float64)

    def fn(x):
        return mha(x, x, x, attn_mask=nn.Transformer.generate_square_subsequent_mask(3, dtype=cr.float64))[0]

    gradcheck_op(fn, [(3, 2, 4)])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_matches_torch(norm_first, activation):
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, norm_first=norm_first)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw), 2, norm=nn.LayerNorm(8))
    ref = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, **kw),
        2,
        norm=torch.nn.LayerNorm(8),
        enable_nested_tensor=False,
    )
    _copy_weights(ours, ref)
    (x,), (tx,) = _inputs((6, 3, 8))
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    pad = np.zeros((3, 6), bool)
    pad[1, 4:] = True
    out = ours(x, mask=mask, src_key_padding_mask=cr.tensor(pad))
    tout = ref(tx, mask=to_torch(mask), src_key_padding_mask=torch.from_numpy(pad))
    assert_close(out, tout.detach(), 1e-4, 1e-5)
    out.sum().backward()
    tout.sum().backward()
    _compare_grads(ours, ref, 1e-3, 1e-4)
    assert_close(x.grad, tx.grad, 1e-3, 1e-4)


def test_encoder_layers_start_equal_and_train_apart():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), 2)
    a, b = enc.layers[0], enc.layers[1]
    assert a.linear1.weight is not b.linear1.weight
    np.testing.assert_array_equal(a.linear1.weight.detach().numpy(), b.linear1.weight.detach().numpy())
    b.linear1.weight.data.add_(1.0)
    assert not np.array_equal(a.linear1.weight.detach().numpy(), b.linear1.weight.detach().numpy())


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0)
    ours = nn.Transformer(batch_first=batch_first, **kw)
    ref = torch.nn.Transformer(batch_first=batch_first, **kw)
    _copy_weights(ours, ref, seed=1)
    shapes = ((3, 5, 8), (3, 4, 8)) if batch_first else ((5, 3, 8), (4, 3, 8))
    (src, tgt), (tsrc, ttgt) = _inputs(*shapes)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert_close(tgt_mask, torch.nn.Transformer.generate_square_subsequent_mask(4))
    mem_pad = np.zeros((3, 5), bool)
    mem_pad[2, 3:] = True
    out = ours(src, tgt, tgt_mask=tgt_mask, memory_key_padding_mask=cr.tensor(mem_pad))
    tout = ref(tsrc, ttgt, tgt_mask=to_torch(tgt_mask), memory_key_padding_mask=torch.from_numpy(mem_pad))
    assert_close(out, tout.detach(), 1e-4, 1e-5)
    out.sum().backward()
    tout.sum().backward()
    _compare_grads(ours, ref, 1e-3, 1e-4)
    assert_close(src.grad, tsrc.grad, 1e-3, 1e-4)
    assert_close(tgt.grad, ttgt.grad, 1e-3, 1e-4)


def test_decoder_layer_norm_first_matches_torch():
    ours = nn.TransformerDecoderLayer(
        8, 4, dim_feedforward=12, dropout=0.0, norm_first=True, activation="gelu"
    )
    ref = torch.nn.TransformerDecoderLayer(
        8, 4, dim_feedforward=12, dropout=0.0, norm_first=True, activation="gelu"
    )
    _copy_weights(ours, ref)
    (t, m), (tt, tm) = _inputs((3, 2, 8), (5, 2, 8))
    out, tout = ours(t, m), ref(tt, tm)
    assert_close(out, tout.detach(), 1e-4, 1e-5)
    out.sum().backward()
    tout.sum().backward()
    _compare_grads(ours, ref, 1e-3, 1e-4)


def test_transformer_init_and_errors():
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (16 + 8))  # every matrix re-drawn Xavier-uniform
    with pytest.raises(RuntimeError, match="batch size of src and tgt must be equal"):
        model(cr.ones(3, 2, 16), cr.ones(3, 4, 16))
    with pytest.raises(RuntimeError, match="feature size of src and tgt must be d_model=16"):
        model(cr.ones(3, 2, 8), cr.ones(3, 2, 8))
    with pytest.raises(RuntimeError, match="activation should be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
