"""AlphaDropout / FeatureAlphaDropout: the exact formula on chainrule's own mask, the statistics it
keeps, identity in eval mode, seeding (torch's random stream is not reproduced)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import assert_close, gradcheck_op

ALPHA = 1.6732632423543772 * 1.0507009873554805  # SELU's -λα


def _mask_and_constants(out, x, p):
    a = 1 / math.sqrt((ALPHA**2 * p + 1) * (1 - p))
    dropped = np.isclose(out, a * (-ALPHA) + a * ALPHA * p)
    return ~dropped, a


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_alpha_dropout_formula(p):
    x = np.random.default_rng(0).standard_normal((50, 40)).astype(np.float32)
    cr.manual_seed(3)
    out = F.alpha_dropout(cr.tensor(x), p, training=True).numpy()
    keep, a = _mask_and_constants(out, x, p)
    np.testing.assert_allclose(out[keep], a * x[keep] + a * ALPHA * p, rtol=1e-5)
    assert abs(1 - keep.mean() - p) < 0.05  # the drop rate
    cr.manual_seed(3)
    np.testing.assert_array_equal(F.alpha_dropout(cr.tensor(x), p, training=True).numpy(), out)  # seeded


def test_alpha_dropout_keeps_mean_and_variance_like_torch():
    x = np.random.default_rng(1).standard_normal(200_000).astype(np.float32)
    cr.manual_seed(0)
    out = F.alpha_dropout(cr.tensor(x), 0.3, training=True).numpy()
    ref = TF.alpha_dropout(torch.tensor(x), 0.3, training=True).numpy()
    for stat in (np.mean, np.std):
        assert abs(stat(out) - stat(ref)) < 0.02 and abs(stat(out) - stat(x)) < 0.02


def test_alpha_dropout_identity_cases_and_gradient():
    x = cr.randn(4, 5)
    assert F.alpha_dropout(x, 0.5) is x  # training=False is the default, as PyTorch
    assert F.alpha_dropout(x, 0.0, training=True) is x
    assert_close(F.alpha_dropout(x, 1.0, training=True), TF.alpha_dropout(torch.tensor(x.numpy()), 1.0, True))
    m = cr.nn.AlphaDropout(0.4)
    assert repr(m) == repr(torch.nn.AlphaDropout(0.4))
    assert m.eval()(x) is x
    xg = cr.tensor(x.numpy(), requires_grad=True)
    cr.manual_seed(5)
    out = m.train()(xg)
    out.sum().backward()
    keep, a = _mask_and_constants(out.detach().numpy(), x.numpy(), 0.4)
    np.testing.assert_allclose(xg.grad.numpy(), np.where(keep, a, 0.0), rtol=1e-6)  # d out / dx = a·m

    def fixed_mask(t):
        cr.manual_seed(5)  # the same mask at every evaluation of the finite differences
        return F.alpha_dropout(t, 0.4, training=True)

    gradcheck_op(fixed_mask, [(3, 4)])


def test_feature_alpha_dropout_drops_whole_channels():
    x = np.random.default_rng(2).standard_normal((8, 6, 5)).astype(np.float32)
    cr.manual_seed(1)
    out = cr.nn.FeatureAlphaDropout(0.5)(cr.tensor(x)).numpy()
    keep, a = _mask_and_constants(out, x, 0.5)
    assert (keep == keep[:, :, :1]).all()  # one draw per (sample, channel)
    assert 0 < keep.mean() < 1
    np.testing.assert_allclose(out[keep], a * x[keep] + a * ALPHA * 0.5, rtol=1e-5)


def test_alpha_dropout_errors():
    with pytest.raises(ValueError, match="alpha_dropout: dropout probability has to be between 0 and 1"):
        F.alpha_dropout(cr.ones(3), 1.5, training=True)
    with pytest.raises(ValueError, match="AlphaDropout: dropout probability has to be between 0 and 1"):
        cr.nn.AlphaDropout(-0.1)
    with pytest.raises(
        RuntimeError, match="feature_alpha_dropout: feature dropout needs an input of at least 2"
    ):
        F.feature_alpha_dropout(cr.ones(3), 0.5, training=True)
