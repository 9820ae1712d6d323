"""Pooling, nearest upsampling and Dropout2d vs PyTorch: values, gradients (ties!), modules, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import assert_close, check, check_second_order, gradcheck_op

rng = np.random.default_rng(0)


def _ties(shape, levels=3, seed=0):
    """Small integers as floats: most windows hold several equal maxima."""
    return np.random.default_rng(seed).integers(0, levels, shape).astype(np.float32)


# (kwargs, input shape)
MAX2D_CASES = [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=2), (1, 2, 7, 9)),  # odd sizes: last row/col dropped
    (dict(kernel_size=3, stride=1), (2, 2, 6, 7)),  # overlapping windows
    (dict(kernel_size=3, stride=2, padding=1), (2, 2, 7, 8)),
    (dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1)), (2, 3, 6, 5)),
    (dict(kernel_size=3, stride=2, ceil_mode=True), (2, 2, 8, 7)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (1, 2, 6, 9)),
    (dict(kernel_size=2, stride=2, dilation=2), (2, 2, 9, 9)),
    (dict(kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=2), (1, 3, 9, 10)),
    (dict(kernel_size=4, stride=3, ceil_mode=True), (1, 1, 11, 10)),
    (dict(kernel_size=1), (2, 3, 4, 4)),
    (dict(kernel_size=5), (2, 2, 5, 5)),  # one window
]


@pytest.mark.parametrize("kw,shape", MAX2D_CASES, ids=str)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_matches_torch(kw, shape, ties):
    x = _ties(shape) if ties else rng.standard_normal(shape).astype(np.float32)
    check(lambda a: F.max_pool2d(a, **kw), lambda a: TF.max_pool2d(a, **kw), [x])
    check(
        lambda a: F.max_pool2d(a, return_indices=True, **kw),
        lambda a: TF.max_pool2d(a, return_indices=True, **kw),
        [x],
    )


def test_max_pool_ties_go_to_the_first_maximum():
    x = cr.tensor(np.ones((1, 1, 2, 4), np.float32), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    np.testing.assert_array_equal(idx.numpy(), [[[[0, 2]]]])
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_after_relu_all_zero_windows():
    # after a ReLU whole windows are 0: the gradient still goes to exactly one (the first) element
    x = np.maximum(rng.standard_normal((4, 8, 12, 12)).astype(np.float32) - 1.0, 0)
    check(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [x])


@pytest.mark.parametrize(
    "kw,shape",
    [
        (dict(kernel_size=2), (2, 3, 9)),
        (dict(kernel_size=3, stride=1, padding=1), (2, 2, 7)),
        (dict(kernel_size=3, stride=2, ceil_mode=True, dilation=2), (1, 2, 12)),
    ],
    ids=str,
)
def test_max_pool1d_matches_torch(kw, shape):
    for x in (rng.standard_normal(shape).astype(np.float32), _ties(shape)):
        check(
            lambda a: F.max_pool1d(a, return_indices=True, **kw),
            lambda a: TF.max_pool1d(a, return_indices=True, **kw),
            [x],
        )


@pytest.mark.parametrize(
    "kw,shape",
    [
        (dict(kernel_size=2), (2, 2, 4, 5, 6)),
        (dict(kernel_size=3, stride=(1, 2, 2), padding=1, ceil_mode=True), (1, 2, 5, 6, 7)),
        (dict(kernel_size=(1, 2, 3), dilation=(1, 2, 1)), (1, 1, 3, 6, 6)),
    ],
    ids=str,
)
def test_max_pool3d_matches_torch(kw, shape):
    for x in (rng.standard_normal(shape).astype(np.float32), _ties(shape)):
        check(
            lambda a: F.max_pool3d(a, return_indices=True, **kw),
            lambda a: TF.max_pool3d(a, return_indices=True, **kw),
            [x],
        )


AVG2D_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=2, stride=3, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=3, padding=1, divisor_override=4),
]


@pytest.mark.parametrize("kw", AVG2D_CASES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 8, 7), (1, 2, 5, 5)], ids=str)
def test_avg_pool2d_matches_torch(kw, shape):
    check(lambda a: F.avg_pool2d(a, **kw), lambda a: TF.avg_pool2d(a, **kw), [shape])


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=3),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ],
    ids=str,
)
def test_avg_pool1d_and_3d_match_torch(kw):
    check(lambda a: F.avg_pool1d(a, **kw), lambda a: TF.avg_pool1d(a, **kw), [(2, 3, 10)])
    check(lambda a: F.avg_pool3d(a, **kw), lambda a: TF.avg_pool3d(a, **kw), [(1, 2, 5, 6, 4)])


@pytest.mark.parametrize("size", [1, 2, (4, 3), (3, 5), (None, 2), (7, 1), (9, 8)], ids=str)
def test_adaptive_avg_pool2d_matches_torch(size):
    check(lambda a: F.adaptive_avg_pool2d(a, size), lambda a: TF.adaptive_avg_pool2d(a, size), [(2, 3, 9, 8)])


def test_unbatched_pooling():
    check(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [(3, 6, 6)])
    check(lambda a: F.avg_pool2d(a, 3, 2, 1), lambda a: TF.avg_pool2d(a, 3, 2, 1), [(3, 6, 6)])
    check(lambda a: F.adaptive_avg_pool2d(a, 3), lambda a: TF.adaptive_avg_pool2d(a, 3), [(3, 7, 6)])


@pytest.mark.parametrize(
    "kw,shape",
    [
        (dict(scale_factor=2), (2, 3, 4, 5)),
        (dict(scale_factor=3), (1, 2, 3, 3)),
        (dict(scale_factor=(2, 1)), (1, 2, 3, 4)),
        (dict(scale_factor=1.5), (2, 2, 5, 4)),
        (dict(scale_factor=0.5), (1, 2, 8, 6)),
        (dict(scale_factor=2.3), (1, 1, 3, 7)),
        (dict(size=(7, 10)), (2, 2, 4, 5)),
        (dict(size=(8, 15)), (1, 2, 4, 5)),
        (dict(size=3), (1, 2, 7, 9)),
        (dict(scale_factor=2), (2, 3, 5)),
        (dict(size=(4, 6, 5)), (1, 2, 2, 3, 4)),
        (dict(scale_factor=1.5, recompute_scale_factor=True), (1, 2, 5, 3)),
    ],
    ids=str,
)
def test_interpolate_nearest_matches_torch(kw, shape):
    check(lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, mode="nearest", **kw), [shape])


def test_upsample_module():
    check(
        lambda a: cr.nn.Upsample(scale_factor=2)(a),
        lambda a: torch.nn.Upsample(scale_factor=2)(a),
        [(2, 3, 4, 4)],
    )
    check(
        lambda a: cr.nn.Upsample(size=(5, 7))(a), lambda a: torch.nn.Upsample(size=(5, 7))(a), [(2, 3, 4, 4)]
    )
    assert repr(cr.nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    with pytest.raises(ValueError, match="Upsample: mode must be one of 'nearest'"):
        cr.nn.Upsample(scale_factor=2, mode="bicubic")


# ----------------------------------------------------------------------------- gradchecks


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: F.max_pool2d(a, 2),
        lambda a: F.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True),
        lambda a: F.max_pool1d(a.reshape(1, 2, -1), 3, stride=1, dilation=2),
        lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        lambda a: F.avg_pool2d(a, 2, stride=1),
        lambda a: F.adaptive_avg_pool2d(a, (4, 3)),
        lambda a: F.interpolate(a, scale_factor=2),
        lambda a: F.interpolate(a, scale_factor=1.5),
    ],
    ids=range(8),
)
def test_pooling_gradcheck(fn):
    gradcheck_op(fn, [(1, 2, 6, 5)])


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: F.max_pool2d(a, 3, stride=2, padding=1),
        lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=False),
        lambda a: F.interpolate(a, scale_factor=2),
        lambda a: F.interpolate(a, scale_factor=1.5),
        lambda a: F.adaptive_avg_pool2d(a, (3, 2)),
    ],
    ids=range(5),
)
def test_pooling_second_order_gradcheck(fn):
    def first_grad(a):
        with cr.enable_grad():
            out = fn(a)
            (g,) = cr.autograd.grad((out * out * out).sum(), [a], create_graph=True)
        return g

    gradcheck_op(first_grad, [(1, 2, 5, 5)])


# ----------------------------------------------------------------------------- modules


@pytest.mark.parametrize(
    "cls,kwargs,shape",
    [
        ("MaxPool1d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 9)),
        ("MaxPool2d", dict(kernel_size=2), (2, 3, 8, 8)),
        ("MaxPool2d", dict(kernel_size=3, stride=2, ceil_mode=True, dilation=1), (2, 3, 8, 8)),
        ("MaxPool3d", dict(kernel_size=2, stride=1), (1, 2, 4, 4, 4)),
        ("AvgPool1d", dict(kernel_size=2), (2, 3, 9)),
        ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 3, 8, 8)),
        ("AvgPool3d", dict(kernel_size=2, ceil_mode=True), (1, 2, 5, 5, 5)),
        ("AdaptiveAvgPool2d", dict(output_size=(3, 2)), (2, 3, 8, 7)),
    ],
    ids=str,
)
def test_pool_modules_match_torch(cls, kwargs, shape):
    m, tm = getattr(cr.nn, cls)(**kwargs), getattr(torch.nn, cls)(**kwargs)
    check(lambda a: m(a), lambda a: tm(a), [shape])
    assert repr(m) == repr(tm)
    if cls.startswith("Max"):
        assert m.stride == tm.stride  # stride defaults to kernel_size


def test_max_pool_module_return_indices():
    m, tm = cr.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxPool2d(2, return_indices=True)
    check(lambda a: m(a), lambda a: tm(a), [_ties((2, 2, 6, 6))])


# ----------------------------------------------------------------------------- Dropout2d


def test_dropout2d_zeroes_whole_channels_and_scales():
    cr.manual_seed(0)
    x = cr.tensor(np.ones((64, 16, 5, 5), np.float32), requires_grad=True)
    m = cr.nn.Dropout2d(0.25)
    out = m(x)
    v = out.detach().numpy()
    per_channel = v.reshape(64, 16, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # each map all-zero or all-kept
    kept = per_channel[:, :, 0]
    assert set(np.unique(kept)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((kept == 0).mean() - 0.25) < 0.05
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), v)  # d out / d x = the mask itself
    m.eval()
    assert m(x) is x
    assert F.dropout2d(x, 0.0) is x
    assert not F.dropout2d(x, 1.0).detach().numpy().any()
    assert repr(m) == repr(torch.nn.Dropout2d(0.25)) == "Dropout2d(p=0.25, inplace=False)"


def test_dropout2d_is_seeded_and_matches_torch_statistics():
    cr.manual_seed(3)
    a = F.dropout2d(cr.ones(8, 32, 2, 2), 0.5).numpy()
    cr.manual_seed(3)
    b = F.dropout2d(cr.ones(8, 32, 2, 2), 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    t = TF.dropout2d(torch.ones(8, 32, 2, 2), 0.5).numpy()
    assert set(np.unique(a)) == set(np.unique(t)) == {0.0, 2.0}
    with pytest.warns(UserWarning, match="3-D"):
        out = F.dropout2d(cr.ones(4, 8, 5), 0.5)
    assert np.all(out.numpy().min(-1) == out.numpy().max(-1))
    with pytest.raises(ValueError, match="dropout2d: dropout probability"):
        F.dropout2d(cr.ones(1, 2, 2, 2), 1.5)


# ----------------------------------------------------------------------------- errors


def test_pooling_errors():
    x = cr.randn(1, 2, 6, 6)
    with pytest.raises(ValueError, match=r"max_pool2d: padding should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: padding should be at most half"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match=r"max_pool2d: given input of shape \(1, 2, 2, 2\).*too small"):
        F.max_pool2d(cr.randn(1, 2, 2, 2), 3)
    with pytest.raises(ValueError, match=r"max_pool2d: expected 3-D \(unbatched\) or 4-D"):
        F.max_pool2d(cr.randn(6, 6), 2)
    with pytest.raises(TypeError, match="max_pool2d: kernel_size must be"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size"):
        F.adaptive_avg_pool2d(x, 0)
    with pytest.raises(ValueError, match="interpolate: exactly one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(NotImplementedError, match="interpolate: mode must be one of 'nearest'"):
        F.interpolate(x, scale_factor=2, mode="bicubic")


def test_pool_output_keeps_values_for_downstream_ops():
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    out = F.max_pool2d(F.conv2d(cr.tensor(x), cr.ones(4, 3, 1, 1)), 2)
    ref = TF.max_pool2d(TF.conv2d(torch.from_numpy(x), torch.ones(4, 3, 1, 1)), 2)
    assert_close(out.flatten(1), ref.flatten(1))


def test_max_pool_with_more_than_255_offsets():
    x = _ties((1, 2, 17, 18), levels=4)
    check(
        lambda a: F.max_pool2d(a, 16, stride=1, return_indices=True),
        lambda a: TF.max_pool2d(a, 16, stride=1, return_indices=True),
        [x],
    )


def test_max_pool_indices_of_windows_without_input_match_torch():
    # dilation 2 and padding 1 on a length-1 dim: some windows see only padding (value -inf)
    x = rng.standard_normal((2, 2, 1, 5)).astype(np.float32)
    kw = dict(kernel_size=2, stride=(1, 3), padding=1, dilation=(2, 1), return_indices=True)
    out, idx = F.max_pool2d(cr.tensor(x), **kw)
    tout, tidx = TF.max_pool2d(torch.from_numpy(x), **kw)
    assert_close(out, tout)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_avg_pool3d_refuses_inputs_smaller_than_the_kernel():
    with pytest.raises(RuntimeError, match=r"avg_pool3d: input of shape \(1, 1, 4, 1, 4\) is smaller than"):
        F.avg_pool3d(cr.randn(1, 1, 4, 1, 4), (1, 2, 1), padding=(0, 1, 0))


@pytest.mark.parametrize(
    "shape,kw",
    [
        ((1, 2, 5), dict(scale_factor=1.06)),  # size unchanged, but the scale still picks the sources
        ((1, 2, 2), dict(scale_factor=1.48)),
        ((1, 1, 4, 5, 2), dict(scale_factor=(1.03, 1.91, 2.08))),
        ((1, 2, 5, 5), dict(scale_factor=(1.06, 2.1))),  # the 2-D kernel: identity, then i >> 1
    ],
    ids=str,
)
def test_interpolate_forward_matches_torch_and_backward_is_its_adjoint(shape, kw):
    # PyTorch's 1-D/3-D nearest *backward* disagrees with its own forward in such cases (it maps as
    # the 2-D kernel does); ours is the exact adjoint of the forward, which matches PyTorch's
    x = rng.standard_normal(shape).astype(np.float32)
    xc = cr.tensor(x, requires_grad=True)
    out = F.interpolate(xc, **kw)
    src = TF.interpolate(torch.arange(x.size, dtype=torch.float64).reshape(shape), mode="nearest", **kw)
    assert_close(out, TF.interpolate(torch.from_numpy(x), mode="nearest", **kw))
    up = rng.standard_normal(tuple(src.shape)).astype(np.float32)
    out.backward(cr.tensor(up))
    expected = np.zeros(x.size)
    np.add.at(expected, src.long().flatten().numpy(), up.ravel())
    np.testing.assert_allclose(xc.grad.numpy().ravel(), expected, rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------- Sequential's ReLU → max-pool rewrite


@pytest.mark.parametrize(
    "pool",
    [
        lambda nn: nn.MaxPool2d(2),
        lambda nn: nn.MaxPool2d(3, stride=2, ceil_mode=True),
        lambda nn: nn.MaxPool1d(2),
        lambda nn: nn.MaxPool3d(2),
    ],
)
def test_sequential_relu_max_pool_equals_torch_with_ties_and_nan(pool):
    """ReLU → MaxPool in a Sequential: PyTorch's values and gradients, including all-negative
    windows, tied maxima (zeros) and NaN; the pool runs last, as written."""
    probe = pool(cr.nn)
    nd = {cr.nn.MaxPool1d: 1, cr.nn.MaxPool2d: 2, cr.nn.MaxPool3d: 3}[type(probe)]
    rng = np.random.default_rng(0)
    shape = (3, 2, *([6] * nd))
    x = rng.integers(-2, 3, shape).astype(np.float32)  # many ties, zero maxima, negative windows
    x.reshape(-1)[[5, 20]] = np.nan
    g = rng.standard_normal((3, 2, *pool(torch.nn)(torch.zeros(shape)).shape[2:])).astype(np.float32)

    model = cr.nn.Sequential(cr.nn.ReLU(), probe)
    tmodel = torch.nn.Sequential(torch.nn.ReLU(), pool(torch.nn))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = model(xc), tmodel(xt)
    assert out.grad_fn.name() == "MaxPoolNd"  # no hidden reordering
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    out.backward(cr.tensor(g))
    tout.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())


def test_sequential_keeps_relu_max_pool_order_when_hooked_or_padded():
    seen = []
    relu = cr.nn.ReLU()
    relu.register_forward_hook(lambda m, inp, out: seen.append(tuple(out.shape)))
    x = cr.randn(1, 1, 4, 4)
    out = cr.nn.Sequential(relu, cr.nn.MaxPool2d(2))(x)
    assert seen == [(1, 1, 4, 4)] and out.shape == (1, 1, 2, 2)  # the hook saw the ReLU's real output
    padded = cr.nn.Sequential(cr.nn.ReLU(), cr.nn.MaxPool2d(2, padding=1))(x.requires_grad_())
    assert padded.grad_fn.name() != "ReLU"
    indices = cr.nn.Sequential(cr.nn.ReLU(), cr.nn.MaxPool2d(2, return_indices=True))(x)
    assert isinstance(indices, tuple)


@pytest.mark.parametrize(
    "values", [[1.0, np.nan, 3.0, 0.0], [np.nan, 2.0, np.nan, 5.0], [-np.inf, np.nan, 7.0, 7.0]]
)
def test_max_pool_nan_wins_its_window_as_torch(values):
    x = np.array(values, np.float32).reshape(1, 1, 2, 2)
    check(lambda a: cr.nn.functional.max_pool2d(a, 2), lambda a: torch.nn.functional.max_pool2d(a, 2), [x])


# ----------------------------------------------------------------------------- adaptive max/avg 1d, unpooling


@pytest.mark.parametrize(
    "shape,size", [((2, 3, 7, 5), (3, 2)), ((1, 2, 4, 4), 2), ((2, 1, 5, 9), (None, 4)), ((3, 6, 5), (2, 3))]
)
def test_adaptive_max_pool2d_matches_torch(shape, size):
    for x in (rng.standard_normal(shape).astype(np.float32), _ties(shape)):
        check(
            lambda a: F.adaptive_max_pool2d(a, size, return_indices=True),
            lambda a: TF.adaptive_max_pool2d(a, size, return_indices=True),
            [x],
        )
    m, t = nn_pair("AdaptiveMaxPool2d", size)
    check(m, t, [shape])


def nn_pair(name, *args, **kw):
    return getattr(cr.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)


@pytest.mark.parametrize(
    "nd,shape,size",
    [
        (1, (2, 3, 7), 3),
        (1, (2, 11), 4),
        (1, (1, 2, 6), 6),
        (1, (2, 2, 5), 1),
        (3, (2, 2, 5, 4, 6), (2, 3, 4)),
        (3, (2, 3, 4, 4, 4), 2),
        (3, (2, 3, 5, 4), (None, 3, 2)),
    ],
)
def test_adaptive_pools_1d_3d_match_torch(nd, shape, size):
    fmax, tmax = getattr(F, f"adaptive_max_pool{nd}d"), getattr(TF, f"adaptive_max_pool{nd}d")
    favg, tavg = getattr(F, f"adaptive_avg_pool{nd}d"), getattr(TF, f"adaptive_avg_pool{nd}d")
    for x in (rng.standard_normal(shape).astype(np.float32), _ties(shape)):
        check(lambda a: fmax(a, size, return_indices=True), lambda a: tmax(a, size, return_indices=True), [x])
    check(lambda a: favg(a, size), lambda a: tavg(a, size), [shape])
    for name in (f"AdaptiveAvgPool{nd}d", f"AdaptiveMaxPool{nd}d"):
        m, t = nn_pair(name, size)
        assert repr(m) == repr(t)
        check(m, t, [shape])
    gradcheck_op(lambda a: favg(a, size), [shape])


def test_adaptive_max_pool_nan_is_the_maximum_as_torch():
    x = np.array([[[np.nan, 1, np.nan, 3, 2, np.nan, 0]]], np.float32)
    check(
        lambda a: F.adaptive_max_pool1d(a, 3, return_indices=True),
        lambda a: TF.adaptive_max_pool1d(a, 3, return_indices=True),
        [x],
    )


def test_adaptive_pools_gradcheck_and_second_order():
    gradcheck_op(lambda a: F.adaptive_max_pool2d(a, (3, 2)), [(2, 2, 7, 5)])
    gradcheck_op(lambda a: F.adaptive_max_pool1d(a, 3), [(2, 2, 7)])
    gradcheck_op(lambda a: F.adaptive_avg_pool1d(a, 3), [(2, 2, 7)])
    check_second_order(
        lambda a: F.adaptive_max_pool2d(a, (2, 3)) ** 2,
        lambda a: TF.adaptive_max_pool2d(a, (2, 3)) ** 2,
        [(1, 2, 5, 7)],
    )


def test_adaptive_pool_errors():
    with pytest.raises(ValueError, match=r"adaptive_max_pool2d: expected 3-D \(unbatched\) or 4-D"):
        F.adaptive_max_pool2d(cr.ones(4, 4), 2)
    with pytest.raises(ValueError, match="adaptive_max_pool1d: output_size must be one int"):
        F.adaptive_max_pool1d(cr.ones(1, 2, 4), (2, 3))
    with pytest.raises(ValueError, match="adaptive_avg_pool1d: expected 2-D"):
        F.adaptive_avg_pool1d(cr.ones(1, 2, 3, 4), 2)
    with pytest.raises(ValueError, match="adaptive_max_pool2d: output_size must hold positive ints"):
        F.adaptive_max_pool2d(cr.ones(1, 2, 3, 4), (0, 2))
    with pytest.raises(ValueError, match="AdaptiveMaxPool2d: output_size must be an int or a tuple of 2"):
        cr.nn.AdaptiveMaxPool2d((1, 2, 3))
    with pytest.raises(ValueError, match="AdaptiveAvgPool1d: output_size must be an int >= 1"):
        cr.nn.AdaptiveAvgPool1d(0)


@pytest.mark.parametrize(
    "nd,kw,shape,out_size",
    [
        (2, dict(kernel_size=2), (2, 3, 6, 6), None),
        (2, dict(kernel_size=2), (2, 3, 7, 7), (7, 7)),
        (2, dict(kernel_size=3, stride=2, padding=1), (1, 2, 7, 8), (7, 8)),
        (2, dict(kernel_size=2), (3, 4, 4), (1, 3, 4, 4)),
        (1, dict(kernel_size=2), (2, 3, 9), (9,)),
        (1, dict(kernel_size=3, stride=1), (2, 2, 6), None),
    ],
    ids=str,
)
def test_max_unpool_matches_torch(nd, kw, shape, out_size):
    pool_t = getattr(TF, f"max_pool{nd}d")
    out, idx = pool_t(torch.tensor(rng.standard_normal(shape).astype(np.float32)), return_indices=True, **kw)
    unpool = getattr(F, f"max_unpool{nd}d")
    unpool_t = getattr(TF, f"max_unpool{nd}d")
    check(
        lambda a, i: unpool(a, i, output_size=out_size, **kw),
        lambda a, i: unpool_t(a, i, output_size=out_size, **kw),
        [out.numpy(), idx.numpy()],
    )
    m, t = nn_pair(f"MaxUnpool{nd}d", **kw)
    assert repr(m) == repr(t)
    check(lambda a, i: m(a, i, out_size), lambda a, i: t(a, i, out_size), [out.numpy(), idx.numpy()])
    flat = idx.numpy().reshape(-1, idx.shape[-nd:].numel())
    if all(len(np.unique(r)) == len(r) for r in flat):  # a repeated index keeps one value: no derivative
        gradcheck_op(lambda a: unpool(a, cr.tensor(idx.numpy()), output_size=out_size, **kw), [out.numpy()])


def test_max_unpool_errors():
    x, idx = F.max_pool2d(cr.randn(2, 3, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"max_unpool2d: invalid output_size \(7, 7\)"):
        F.max_unpool2d(x, idx, 2, output_size=(7, 7))
    with pytest.raises(ValueError, match="max_unpool2d: output_size should be a sequence of 2 or 4"):
        F.max_unpool2d(x, idx, 2, output_size=(1, 2, 3))
    with pytest.raises(RuntimeError, match="max_unpool2d: found an invalid max index"):
        F.max_unpool2d(x, idx * 10, 2)
    with pytest.raises(RuntimeError, match="max_unpool2d: indices should be int64"):
        F.max_unpool2d(x, idx.float(), 2)
    with pytest.raises(RuntimeError, match=r"max_unpool2d: indices of shape \(2, 2, 2, 2\)"):
        F.max_unpool2d(x, idx[:, :2], 2)
    with pytest.raises(ValueError, match=r"max_unpool2d: expected 3-D \(unbatched\) or 4-D"):
        F.max_unpool2d(x[0, 0], idx[0, 0], 2)
    with pytest.raises(ValueError, match="MaxUnpool2d: kernel_size must be"):
        cr.nn.MaxUnpool2d(0)


@pytest.mark.parametrize(
    "name,args,kw,shape",
    [
        ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9)),
        ("MaxPool2d", (2,), dict(return_indices=True), (2, 3, 6, 5)),
        ("MaxPool3d", (2,), dict(stride=1, dilation=(1, 2, 1)), (1, 2, 3, 5, 3)),
        ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 8)),
        ("AvgPool2d", (2,), dict(ceil_mode=True, divisor_override=3), (2, 2, 5, 5)),
        ("AvgPool3d", (2,), dict(padding=1), (1, 2, 4, 3, 4)),
        ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 2, 5, 7)),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_pool_module_reprs_match_torch(name, args, kw, shape):
    m, t = nn_pair(name, *args, **kw)
    assert repr(m) == repr(t)
    check(m, t, [shape])


# ----------------------------------------------------------------------------- 3-d pools, LP pools, dropout


def test_max_unpool3d_matches_torch():
    out, idx = TF.max_pool3d(
        torch.tensor(rng.standard_normal((2, 2, 4, 5, 4)).astype(np.float32)), 2, return_indices=True
    )
    m, t = nn_pair("MaxUnpool3d", 2)
    assert repr(m) == repr(t)
    check(lambda a, i: m(a, i, (4, 5, 4)), lambda a, i: t(a, i, (4, 5, 4)), [out.numpy(), idx.numpy()])
    check(
        lambda a, i: F.max_unpool3d(a, i, 2, output_size=(4, 5, 4)),
        lambda a, i: TF.max_unpool3d(a, i, 2, output_size=(4, 5, 4)),
        [out.numpy(), idx.numpy()],
    )


@pytest.mark.parametrize("p", [1, 2, 3.5, float("inf")])
@pytest.mark.parametrize(
    "nd,shape,kw", [(1, (2, 3, 9), dict(stride=2)), (2, (2, 2, 5, 4), {}), (3, (1, 2, 4, 4, 5), {})]
)
def test_lp_pool_matches_torch(p, nd, shape, kw):
    # positive inputs: a negative sum of powers is clamped to 0 and its p-th root has no gradient
    fn, tfn = getattr(F, f"lp_pool{nd}d"), getattr(TF, f"lp_pool{nd}d")
    check(lambda a: fn(a, p, 2, **kw), lambda a: tfn(a, p, 2, **kw), [shape], low=0.1, high=2.0)
    m, t = nn_pair(f"LPPool{nd}d", p, 2, **kw)
    assert repr(m) == repr(t)
    check(m, t, [shape], low=0.1, high=2.0)


def test_lp_pool_errors():
    with pytest.raises(ValueError, match="lp_pool2d: norm_type must be a nonzero number"):
        F.lp_pool2d(cr.ones(1, 1, 2, 2), 0, 2)
    with pytest.raises(ValueError, match="LPPool1d: kernel_size must be"):
        cr.nn.LPPool1d(2, 0)


@pytest.mark.parametrize("nd", [1, 3])
def test_dropout1d_3d_drop_whole_channels(nd):
    shape = (8, 6) + (3,) * nd
    fn = getattr(F, f"dropout{nd}d")
    x = cr.tensor(rng.uniform(1, 2, shape).astype(np.float32), requires_grad=True)
    cr.manual_seed(0)
    out = fn(x, 0.5)
    kept = out.detach().numpy() != 0
    assert (kept == kept.reshape(8, 6, -1)[:, :, :1].reshape((8, 6) + (1,) * nd)).all()  # per channel
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(out.detach().numpy()[kept], 2 * x.detach().numpy()[kept], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * kept, rtol=1e-6)
    assert fn(x, 0.5, training=False) is x
    m = getattr(cr.nn, f"Dropout{nd}d")(0.3)
    assert repr(m) == repr(getattr(torch.nn, f"Dropout{nd}d")(0.3))
    assert m.eval()(x) is x
    assert tuple(fn(x[0], 0.5).shape) == shape[1:]  # unbatched
    with pytest.raises(
        RuntimeError, match=f"dropout{nd}d: expected {nd + 1}D \\(unbatched\\) or {nd + 2}D input"
    ):
        fn(cr.ones(2), 0.5)
    with pytest.raises(ValueError, match=f"Dropout{nd}d: dropout probability has to be between 0 and 1"):
        getattr(cr.nn, f"Dropout{nd}d")(2.0)
