"""Unfold/Fold and PixelShuffle/PixelUnshuffle (modules and functional forms) vs PyTorch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import check, check_second_order, gradcheck_op

UNFOLD_CASES = [  # (input shape, kwargs)
    ((2, 3, 5, 6), dict(kernel_size=2)),
    ((1, 2, 6, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2))),
    ((2, 1, 5, 5), dict(kernel_size=3, padding=1)),
    ((3, 4, 4), dict(kernel_size=2, stride=2)),  # unbatched
    ((2, 3, 4, 4), dict(kernel_size=1)),
]


def _blocks(shape, kw):
    return TF.unfold(torch.zeros(shape), **kw).shape


@pytest.mark.parametrize("shape,kw", UNFOLD_CASES, ids=str)
def test_unfold_and_fold_match_torch(shape, kw):
    check(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), [shape])
    size = shape[-2:]
    check(lambda c: F.fold(c, size, **kw), lambda c: TF.fold(c, size, **kw), [tuple(_blocks(shape, kw))])
    m, t = cr.nn.Unfold(**kw), torch.nn.Unfold(**kw)
    assert repr(m) == repr(t)
    check(m, t, [shape])
    m, t = cr.nn.Fold(size, **kw), torch.nn.Fold(size, **kw)
    assert repr(m) == repr(t)
    check(m, t, [tuple(_blocks(shape, kw))])


def test_fold_unfold_gradcheck_and_second_order():
    kw = dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0))
    gradcheck_op(lambda x: F.unfold(x, **kw), [(2, 2, 4, 5)])
    gradcheck_op(lambda c: F.fold(c, (4, 5), **kw), [tuple(_blocks((2, 2, 4, 5), kw))])
    check_second_order(lambda x: F.unfold(x, **kw) ** 3, lambda x: TF.unfold(x, **kw) ** 3, [(1, 2, 4, 5)])
    shape = tuple(_blocks((1, 2, 4, 5), kw))
    check_second_order(
        lambda c: F.fold(c, (4, 5), **kw) ** 3, lambda c: TF.fold(c, (4, 5), **kw) ** 3, [shape]
    )


def test_fold_unfold_errors():
    with pytest.raises(
        ValueError, match=r"unfold: only 3-D or 4-D input is supported, got input of shape \(2, 3\)"
    ):
        F.unfold(cr.ones(2, 3), 2)
    with pytest.raises(RuntimeError, match=r"unfold: given a spatial size \(3, 3\), kernel_size=\(4, 4\)"):
        F.unfold(cr.ones(1, 2, 3, 3), 4)
    with pytest.raises(RuntimeError, match="fold: expected size of input's dimension 1 to be divisible"):
        F.fold(cr.ones(1, 5, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match=r"fold: given output_size=\(4, 4\).* 3 \* 3 = 9"):
        F.fold(cr.ones(1, 8, 8), (4, 4), 2)
    with pytest.raises(ValueError, match="fold: only 2-D or 3-D input"):
        F.fold(cr.ones(2, 8, 9, 1), (4, 4), 2)
    with pytest.raises(ValueError, match="Unfold: kernel_size must be"):
        cr.nn.Unfold(0)
    with pytest.raises(ValueError, match="Fold: output_size must be"):
        cr.nn.Fold(0, 2)


@pytest.mark.parametrize(
    "shape,r", [((2, 8, 3, 2), 2), ((1, 9, 2, 2), 3), ((2, 3, 8, 2, 2), 2), ((4, 3, 3), 1)]
)
def test_pixel_shuffle_matches_torch(shape, r):
    check(lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r), [shape])
    m, t = cr.nn.PixelShuffle(r), torch.nn.PixelShuffle(r)
    assert repr(m) == repr(t)
    check(m, t, [shape])
    out = TF.pixel_shuffle(torch.zeros(shape), r).shape
    check(lambda x: F.pixel_unshuffle(x, r), lambda x: TF.pixel_unshuffle(x, r), [tuple(out)])
    m, t = cr.nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r)
    assert repr(m) == repr(t)
    check(m, t, [tuple(out)])
    x = cr.randn(*shape)
    assert (F.pixel_unshuffle(F.pixel_shuffle(x, r), r) == x).all()
    gradcheck_op(lambda x: F.pixel_shuffle(x, r), [shape])


def test_pixel_shuffle_errors():
    with pytest.raises(RuntimeError, match="pixel_shuffle: expected the channel dim to be divisible by"):
        F.pixel_shuffle(cr.ones(2, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match="pixel_unshuffle: expected height and width divisible"):
        F.pixel_unshuffle(cr.ones(2, 5, 3, 2), 2)
    with pytest.raises(RuntimeError, match="pixel_shuffle: expected an input with at least 3 dims"):
        F.pixel_shuffle(cr.ones(5, 2), 2)
    with pytest.raises(ValueError, match="pixel_shuffle: upscale_factor must be a positive int"):
        F.pixel_shuffle(cr.ones(1, 4, 2, 2), 0)
    with pytest.raises(ValueError, match="PixelShuffle: upscale_factor must be an int >= 1"):
        cr.nn.PixelShuffle(0)


@pytest.mark.parametrize("shape,g", [((2, 6, 3), 2), ((1, 6, 2, 2), 3), ((2, 4, 2, 1, 2), 4)])
def test_channel_shuffle_matches_torch(shape, g):
    m, t = cr.nn.ChannelShuffle(g), torch.nn.ChannelShuffle(g)
    assert repr(m) == repr(t)
    check(m, t, [shape])
    check(lambda x: F.channel_shuffle(x, g), lambda x: TF.channel_shuffle(x, g), [shape])
    with pytest.raises(
        RuntimeError, match="channel_shuffle: the number of channels \\(5\\) must be divisible"
    ):
        F.channel_shuffle(cr.ones(2, 5, 3), 2)
    with pytest.raises(ValueError, match="ChannelShuffle: groups must be an int >= 1"):
        cr.nn.ChannelShuffle(0)
