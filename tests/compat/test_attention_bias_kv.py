"""MultiheadAttention's add_bias_kv and add_zero_attn against torch, weights copied across."""

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("add_bias_kv,add_zero_attn", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("masks", [False, True])
def test_outputs_weights_and_gradients_match_torch(add_bias_kv, add_zero_attn, masks):
    cr.manual_seed(0)
    mine = cr.nn.MultiheadAttention(8, 2, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn).double()
    ref = torch.nn.MultiheadAttention(8, 2, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn).double()
    assert list(mine.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    rng = np.random.default_rng(1)
    q, kv = rng.standard_normal((4, 3, 8)), rng.standard_normal((5, 3, 8))
    kw = {}
    if masks:
        kpm = np.zeros((3, 5), bool)
        kpm[1, 3:] = True
        am = np.triu(np.ones((4, 5), bool), 2)
        kw = {"key_padding_mask": kpm, "attn_mask": am}
    outs = {}
    for name, model, lib in (("cr", mine, cr), ("torch", ref, torch)):
        qt, kt = lib.tensor(q, requires_grad=True), lib.tensor(kv, requires_grad=True)
        out, w = model(qt, kt, kt, **{k: lib.tensor(v) for k, v in kw.items()})
        (out.pow(2).sum() + w.sum()).backward()
        grads = [qt.grad, kt.grad] + [p.grad for p in model.parameters()]
        outs[name] = [t.detach().numpy() for t in (out, w, *grads)]
    for a, b in zip(outs["cr"], outs["torch"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bias_k_is_initialised_as_torch():
    m = cr.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    assert m.bias_k.shape == (1, 1, 64) and m.bias_v.shape == (1, 1, 64)
    # xavier_normal_ on (1, 1, 64): fan_in = fan_out = 64, std = sqrt(2 / 128) = 0.125
    assert 0.08 < float(m.bias_k.std()) < 0.17
