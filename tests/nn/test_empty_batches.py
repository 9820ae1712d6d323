"""Zero-size batches through convolutions, pooling and recurrent layers work as in PyTorch: output
and gradient shapes match (parameter gradients are zeros), and what PyTorch refuses we refuse."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from tests.helpers import assert_close


def copy_params(module, tmodule) -> None:
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(module.named_parameters(), tmodule.named_parameters()):
            assert name == tname
            tp.copy_(torch.from_numpy(p._data.copy()))


def run_both(module, tmodule, shape):
    copy_params(module, tmodule)
    x = cr.zeros(*shape, requires_grad=True)
    tx = torch.zeros(*shape, requires_grad=True)
    out, tout = module(x), tmodule(tx)
    out, tout = (out[0], tout[0]) if isinstance(out, tuple) else (out, tout)
    assert_close(out, tout)
    (out * 2.0).sum().backward()
    (tout * 2.0).sum().backward()
    assert_close(x.grad, tx.grad)
    for p, tp in zip(module.parameters(), tmodule.parameters()):
        assert_close(p.grad, tp.grad)
        assert not np.any(p.grad.numpy())


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.Conv1d(3, 4, 3, padding=1), (0, 3, 10)),
        (lambda m: m.Conv2d(3, 4, 3, stride=2), (0, 3, 8, 8)),
        (lambda m: m.Conv2d(4, 4, 3, groups=2, bias=False), (0, 4, 6, 6)),
        (lambda m: m.Conv3d(2, 3, 2), (0, 2, 4, 4, 4)),
        (lambda m: m.ConvTranspose1d(3, 4, 3, stride=2), (0, 3, 5)),
        (lambda m: m.ConvTranspose2d(3, 4, 3, stride=2, padding=1), (0, 3, 5, 5)),
        (lambda m: m.MaxPool1d(2), (0, 3, 8)),
        (lambda m: m.MaxPool2d(3, stride=2, padding=1), (0, 3, 8, 8)),
        (lambda m: m.AvgPool2d(2), (0, 3, 8, 8)),
        (lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (0, 3, 7, 7)),
    ],
)
def test_conv_and_pool_with_an_empty_batch_as_torch(make, shape):
    run_both(make(nn), make(torch.nn), shape)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_layers_with_an_empty_batch_as_torch(kind, batch_first):
    module = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    tmodule = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    run_both(module, tmodule, (0, 5, 3) if batch_first else (5, 0, 3))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_refuse_an_empty_sequence_as_torch(kind):
    with pytest.raises(RuntimeError):
        getattr(torch.nn, kind)(3, 4)(torch.zeros(0, 2, 3))
    with pytest.raises(ValueError, match=f"{kind}: expected a non-empty sequence"):
        getattr(nn, kind)(3, 4)(cr.zeros(0, 2, 3))


def test_conv_with_no_output_channels_is_built_but_refused_at_the_call_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "Initializing zero-element tensors is a no-op"
        tconv = torch.nn.Conv2d(1, 0, 3)
    conv = nn.Conv2d(1, 0, 3)
    assert tuple(conv.weight.shape) == tuple(tconv.weight.shape) == (0, 1, 3, 3)
    with pytest.raises(RuntimeError, match="at least 1"):
        tconv(torch.zeros(2, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"conv2d: expected a weight with at least 1 output channel"):
        conv(cr.zeros(2, 1, 5, 5))


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.AdaptiveMaxPool2d(2), (0, 2, 4, 4)),
        (lambda m: m.AdaptiveAvgPool1d(2), (0, 2, 4)),
        (lambda m: m.LocalResponseNorm(2), (0, 2, 4)),
        (lambda m: m.ReflectionPad1d(1), (0, 2, 3)),
        (lambda m: m.Unfold(2), (0, 2, 4, 4)),
        (lambda m: m.Upsample(scale_factor=2, mode="bilinear"), (0, 2, 3, 3)),
    ],
)
def test_more_layers_with_an_empty_batch_as_torch(make, shape):
    run_both(make(nn), make(torch.nn), shape)
