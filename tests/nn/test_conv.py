"""Convolutions vs PyTorch: conv1d/2d/3d, conv_transpose, the Conv modules, gradients, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import assert_close, check, gradcheck_op, to_torch

# (input shape, weight shape, stride, padding, dilation, groups)
CONV2D_CASES = [
    ((2, 3, 7, 8), (4, 3, 3, 3), 1, 0, 1, 1),
    ((2, 3, 7, 8), (4, 3, 3, 3), 1, 1, 1, 1),
    ((1, 3, 9, 6), (5, 3, 3, 2), 2, 1, 1, 1),  # batch 1, non-square kernel, stride 2
    ((2, 2, 11, 10), (3, 2, 5, 5), (2, 3), (2, 1), 1, 1),  # tuple stride / padding, odd sizes
    ((2, 4, 9, 9), (6, 2, 3, 3), 1, 2, 2, 2),  # dilation + groups
    ((2, 4, 8, 7), (4, 1, 3, 3), 1, 1, 1, 4),  # depthwise
    ((2, 6, 7, 7), (9, 2, 2, 3), (1, 2), (0, 1), (2, 1), 3),
    ((3, 5, 6, 6), (7, 5, 1, 1), 1, 0, 1, 1),  # 1x1 kernel
    ((2, 5, 6, 6), (7, 5, 1, 1), 2, 0, 1, 1),  # 1x1 kernel, strided
    ((2, 3, 5, 5), (2, 3, 5, 5), 1, 0, 1, 1),  # kernel = input: 1x1 output
    ((2, 3, 4, 4), (2, 3, 3, 3), 3, 1, 1, 1),  # stride larger than the input leftovers
    ((2, 3, 6, 7), (4, 3, 3, 3), 1, "same", 1, 1),
    ((2, 3, 6, 7), (4, 3, 4, 2), 1, "same", (1, 2), 1),  # even kernel: asymmetric 'same'
    ((2, 3, 6, 7), (4, 3, 3, 3), 2, "valid", 1, 1),
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 1, 1),
    # a first layer: the tall weight-gradient product runs in 256-row blocks plus a remainder
    ((3, 1, 30, 30), (4, 1, 3, 3), 1, 1, 1, 1),
    ((2, 8, 6, 6), (5, 8, 3, 3), 1, 1, 1, 1),  # 73-wide patch rows, stored padded to 80
    ((2, 14, 5, 5), (4, 7, 3, 3), 1, 1, 1, 2),  # groups, 126-wide rows padded to 128
    # small images: kernel offsets that read only padding are left out of the products
    ((3, 8, 1, 1), (6, 8, 3, 3), 1, 1, 1, 1),
    ((3, 8, 2, 2), (6, 8, 3, 3), 2, 1, 1, 1),
    ((2, 4, 1, 3), (6, 2, 3, 3), 1, 1, 1, 2),
]


def _conv2d_pair(stride, padding, dilation, groups):
    def crf(x, w, b):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    def tf(x, w, b):
        return TF.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    return crf, tf


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CONV2D_CASES, ids=str)
def test_conv2d_matches_torch(xs, ws, stride, padding, dilation, groups):
    crf, tf = _conv2d_pair(stride, padding, dilation, groups)
    check(crf, tf, [xs, ws, (ws[0],)], low=-1, high=1)
    # without bias
    check(lambda x, w: crf(x, w, None), lambda x, w: tf(x, w, None), [xs, ws], low=-1, high=1)


@pytest.mark.parametrize(
    "xs,ws,stride,padding,dilation,groups",
    [
        ((2, 3, 11), (4, 3, 3), 1, 0, 1, 1),
        ((1, 4, 10), (6, 2, 4), 2, 2, 1, 2),
        ((2, 3, 9), (5, 3, 2), 1, "same", 3, 1),
        ((2, 3, 9), (5, 3, 1), 3, 0, 1, 1),
    ],
    ids=str,
)
def test_conv1d_matches_torch(xs, ws, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    check(
        lambda x, w, b: F.conv1d(x, w, b, **kw),
        lambda x, w, b: TF.conv1d(x, w, b, **kw),
        [xs, ws, (ws[0],)],
        low=-1,
        high=1,
    )


@pytest.mark.parametrize(
    "xs,ws,stride,padding,dilation,groups",
    [
        ((2, 3, 5, 6, 4), (4, 3, 3, 2, 2), 1, 1, 1, 1),
        ((1, 4, 6, 5, 7), (4, 2, 2, 3, 3), (1, 2, 2), (1, 0, 1), (2, 1, 1), 2),
        ((2, 2, 5, 5, 5), (3, 2, 3, 3, 3), 1, "same", 1, 1),
    ],
    ids=str,
)
def test_conv3d_matches_torch(xs, ws, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    check(
        lambda x, w, b: F.conv3d(x, w, b, **kw),
        lambda x, w, b: TF.conv3d(x, w, b, **kw),
        [xs, ws, (ws[0],)],
        low=-1,
        high=1,
    )


# (input shape, weight shape (C_in, C_out/groups, *k), stride, padding, output_padding, groups, dilation)
CONV_T2D_CASES = [
    ((2, 3, 5, 6), (3, 4, 3, 3), 1, 0, 0, 1, 1),
    ((2, 3, 5, 6), (3, 4, 3, 3), 2, 1, 1, 1, 1),  # the usual 2x upsampling layer
    ((1, 4, 4, 5), (4, 3, 3, 2), (2, 3), (1, 0), (1, 2), 2, 1),  # groups, tuple output_padding
    ((2, 2, 5, 4), (2, 3, 3, 3), 1, 1, 1, 1, 2),  # output_padding < dilation
    ((2, 3, 4, 4), (3, 2, 4, 4), 2, 1, 0, 1, 1),  # kernel 4 stride 2 (DCGAN)
    ((2, 3, 4, 4), (3, 5, 1, 1), 1, 0, 0, 1, 1),
]


@pytest.mark.parametrize("xs,ws,stride,padding,output_padding,groups,dilation", CONV_T2D_CASES, ids=str)
def test_conv_transpose2d_matches_torch(xs, ws, stride, padding, output_padding, groups, dilation):
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    check(
        lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw),
        [xs, ws, (ws[1] * groups,)],
        low=-1,
        high=1,
    )
    check(
        lambda x, w: F.conv_transpose2d(x, w, **kw),
        lambda x, w: TF.conv_transpose2d(x, w, **kw),
        [xs, ws],
        low=-1,
        high=1,
    )


def test_conv_transpose1d_and_3d_match_torch():
    kw = dict(stride=2, padding=1, output_padding=1)
    check(
        lambda x, w, b: F.conv_transpose1d(x, w, b, **kw),
        lambda x, w, b: TF.conv_transpose1d(x, w, b, **kw),
        [(2, 3, 7), (3, 4, 3), (4,)],
        low=-1,
        high=1,
    )
    check(
        lambda x, w, b: F.conv_transpose3d(x, w, b, **kw),
        lambda x, w, b: TF.conv_transpose3d(x, w, b, **kw),
        [(1, 2, 3, 4, 3), (2, 3, 3, 2, 3), (3,)],
        low=-1,
        high=1,
    )


def test_conv_unbatched_and_float64():
    check(
        lambda x, w, b: F.conv2d(x, w, b, padding=1),
        lambda x, w, b: TF.conv2d(x, w, b, padding=1),
        [(3, 6, 5), (4, 3, 3, 3), (4,)],
    )
    check(
        lambda x, w: F.conv_transpose2d(x, w, stride=2),
        lambda x, w: TF.conv_transpose2d(x, w, stride=2),
        [(3, 4, 4), (3, 2, 3, 3)],
    )
    check(
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
        lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1, groups=2),
        [(2, 4, 7, 6), (6, 2, 3, 3), (6,)],
        dtype=np.float64,
        rtol=1e-10,
        atol=1e-12,
    )


def test_lecture_example_feature_map():
    image = np.array(
        [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], np.float32
    )
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], np.float32)
    out = F.conv2d(cr.tensor(image).reshape(1, 1, 5, 5), cr.tensor(kernel).reshape(1, 1, 3, 3))
    assert out.shape == (1, 1, 3, 3)
    assert out[0, 0, 0, 0].item() == 4.0
    np.testing.assert_array_equal(out.numpy()[0, 0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    expected = TF.conv2d(
        torch.from_numpy(image).reshape(1, 1, 5, 5), torch.from_numpy(kernel).reshape(1, 1, 3, 3)
    )
    assert_close(out, expected, rtol=0, atol=0)


def test_output_layout_is_usable_downstream():
    # conv outputs are channels-last in memory behind a PyTorch-shaped view: every consumer must see
    # PyTorch's logical order (flatten, reshape, indexing, numpy, a second conv)
    rng = np.random.default_rng(0)
    x, w = (
        rng.standard_normal((2, 3, 5, 4)).astype(np.float32),
        rng.standard_normal((6, 3, 3, 3)).astype(np.float32),
    )
    out = F.conv2d(cr.tensor(x), cr.tensor(w), padding=1)
    ref = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1)
    assert_close(out.flatten(1), ref.flatten(1))
    assert_close(out.reshape(2, 6, -1), ref.reshape(2, 6, -1))
    assert_close(out[:, 2:4, 1], ref[:, 2:4, 1])
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    w2 = rng.standard_normal((2, 6, 2, 2)).astype(np.float32)
    assert_close(F.conv2d(out, cr.tensor(w2)), TF.conv2d(ref, torch.from_numpy(w2)))


def test_empty_batch():
    out = F.conv2d(cr.zeros(0, 3, 5, 5), cr.zeros(4, 3, 3, 3))
    assert out.shape == (0, 4, 3, 3)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    "fn,shapes",
    [
        (lambda x, w, b: F.conv2d(x, w, b), [(1, 2, 4, 4), (3, 2, 2, 2), (3,)]),
        (
            lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=1),
            [(2, 2, 5, 4), (2, 2, 3, 3), (2,)],
        ),
        (
            lambda x, w, b: F.conv2d(x, w, b, padding=(1, 2), dilation=2, groups=2),
            [(1, 4, 5, 5), (2, 2, 2, 2), (2,)],
        ),
        (lambda x, w, b: F.conv2d(x, w, b, padding="same"), [(1, 2, 4, 3), (2, 2, 2, 3), (2,)]),
        (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 2, 7), (3, 2, 3), (3,)]),
        (lambda x, w, b: F.conv3d(x, w, b, padding=1), [(1, 2, 3, 3, 3), (2, 2, 2, 2, 2), (2,)]),
        (
            lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
            [(1, 2, 3, 3), (2, 3, 3, 3), (3,)],
        ),
        (
            lambda x, w, b: F.conv_transpose2d(x, w, b, groups=2, dilation=2),
            [(1, 4, 3, 2), (4, 1, 2, 2), (2,)],
        ),
    ],
    ids=range(8),
)
def test_conv_gradcheck(fn, shapes):
    gradcheck_op(fn, shapes)


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_second_derivatives_match_torch(transposed):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((4, 2, 3, 2))
    b = rng.standard_normal(4)
    if transposed:

        def op(F_, x, w, b):
            return F_.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)
    else:

        def op(F_, x, w, b):
            return F_.conv2d(x, w, b, stride=2, padding=1, groups=2)

    def run(lib, F_, x, w, b):
        out = op(F_, x, w, b)
        gx, gw, gb = lib.autograd.grad((out * out).sum(), [x, w, b], create_graph=True)
        s = (gx * gx).sum() + (gw * gw * gw).sum() + (gb * gb).sum() + (gx * x).sum()
        s.backward()
        return s, x.grad, w.grad, b.grad

    got = run(cr, F, *(cr.tensor(a, requires_grad=True) for a in (x, w, b)))
    want = run(torch, TF, *(torch.tensor(a, requires_grad=True) for a in (x, w, b)))
    for g, t in zip(got, want):
        assert_close(g, t, rtol=1e-9, atol=1e-9)


def test_conv_gradcheck_second_order():
    def first_grads(x, w):
        with cr.enable_grad():
            out = F.conv2d(x, w, stride=2, padding=1)
            gx, gw = cr.autograd.grad((out * out).sum(), [x, w], create_graph=True)
        return gx, gw

    gradcheck_op(first_grads, [(1, 2, 4, 4), (2, 2, 3, 3)])


def test_frozen_weight_and_input_only_gradients():
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    F.conv2d(x, w, padding=1).sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    TF.conv2d(tx, torch.from_numpy(w.numpy()), padding=1).sum().backward()
    assert_close(x.grad, tx.grad)
    assert w.grad is None
    with cr.no_grad():
        assert not F.conv2d(x, w).requires_grad


# ----------------------------------------------------------------------------- modules


@pytest.mark.parametrize(
    "cls,args,kwargs,shape",
    [
        ("Conv1d", (3, 6, 3), dict(stride=2, padding=1), (2, 3, 9)),
        ("Conv2d", (4, 6, (3, 2)), dict(padding="same", dilation=2, groups=2), (2, 4, 7, 6)),
        ("Conv2d", (3, 5, 3), dict(padding=1, bias=False), (1, 3, 6, 6)),
        ("Conv3d", (2, 4, 2), dict(stride=(1, 2, 1)), (1, 2, 4, 5, 3)),
        ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 4)),
        ("ConvTranspose1d", (3, 2, 4), dict(stride=2, padding=1), (2, 3, 5)),
        ("ConvTranspose3d", (2, 3, 2), dict(stride=2), (1, 2, 2, 3, 2)),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_modules_match_torch(cls, args, kwargs, shape):
    m = getattr(cr.nn, cls)(*args, **kwargs)
    tm = getattr(torch.nn, cls)(*args, **kwargs)
    names = [n for n, _ in m.named_parameters()]
    assert names == [n for n, _ in tm.named_parameters()]
    for (_, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        assert tuple(p.shape) == tuple(tp.shape)
    tm.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in m.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out, tout = m(cr.tensor(x)), tm(torch.from_numpy(x))
    assert_close(out, tout)
    up = np.random.default_rng(1).standard_normal(tout.shape).astype(np.float32)
    out.backward(cr.tensor(up))
    tout.backward(torch.from_numpy(up))
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        assert_close(p.grad, tp.grad, what=n)
    assert repr(m) == repr(tm)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(mode):
    m = cr.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
    tm = torch.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
    tm.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in m.state_dict().items()})
    check(lambda x: m(x), lambda x: tm(x), [(2, 2, 5, 6)])


def test_conv_transpose2d_output_size():
    m = cr.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tm.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in m.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 4)).astype(np.float32)
    for size in [(7, 7), (8, 8), (7, 8)]:
        out = m(cr.tensor(x), output_size=size)
        assert out.shape[-2:] == size
        assert_close(out, tm(torch.from_numpy(x), output_size=size))
    with pytest.raises(ValueError, match="output size"):
        m(cr.tensor(x), output_size=(10, 10))


def test_default_initialisation_bounds():
    cr.manual_seed(0)
    m = cr.nn.Conv2d(16, 32, 3, groups=2)
    fan_in = 8 * 9
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=√5) = U(±1/√fan_in)
    w = m.weight.detach().numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # std of U(-a, a) is a/√3
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    t = cr.nn.ConvTranspose2d(6, 4, 3, groups=2)  # fan_in from weight dim 1: 2·9
    assert tuple(t.weight.shape) == (6, 2, 3, 3)
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(18)
    assert np.abs(t.bias.detach().numpy()).max() <= 1 / math.sqrt(18)


def test_small_cnn_trains_like_torch():
    cr.manual_seed(0)
    nn, tnn = cr.nn, torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(6, 3),
    )
    tmodel = tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(4, 6, 3, stride=2, padding=1),
        tnn.ReLU(),
        tnn.AvgPool2d(2),
        tnn.Flatten(),
        tnn.Linear(6, 3),
    )
    tmodel.load_state_dict(
        {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in model.state_dict().items()}
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    for _ in range(5):
        opt.zero_grad()
        topt.zero_grad()
        loss = F.cross_entropy(model(cr.tensor(x)), cr.tensor(y))
        tloss = TF.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
        assert abs(loss.item() - tloss.item()) < 1e-5
    for (n, p), (_, tp) in zip(model.named_parameters(), tmodel.named_parameters()):
        assert_close(p, tp, rtol=1e-4, atol=1e-5, what=n)


# ----------------------------------------------------------------------------- errors


def test_errors_name_op_and_shapes():
    x, w = cr.randn(2, 3, 8, 8), cr.randn(4, 5, 3, 3)
    with pytest.raises(
        RuntimeError,
        match=r"conv2d: expected input with 5 channels.*\(4, 5, 3, 3\).*3 channels.*"
        r"\(2, 3, 8, 8\)",
    ):
        F.conv2d(x, w)
    with pytest.raises(RuntimeError, match=r"conv2d: kernel size \(9, 9\).*padded input size \(8, 8\)"):
        F.conv2d(x, cr.randn(4, 3, 9, 9))
    with pytest.raises(RuntimeError, match=r"conv1d: kernel size \(7,\)"):
        F.conv1d(cr.randn(1, 2, 4), cr.randn(1, 2, 7), padding=1)
    with pytest.raises(ValueError, match="conv2d: padding='same' is not supported for strided"):
        F.conv2d(x, cr.randn(4, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="conv2d: padding must be"):
        F.conv2d(x, cr.randn(4, 3, 3, 3), padding="full")
    with pytest.raises(ValueError, match=r"conv2d: bias has shape \(3,\)"):
        F.conv2d(x, cr.randn(4, 3, 3, 3), cr.randn(3))
    with pytest.raises(TypeError, match="conv2d: input dtype float64 and weight dtype float32"):
        F.conv2d(x.double(), cr.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D weight.*\(4, 3, 3\)"):
        F.conv2d(x, cr.randn(4, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: expected 3-D \(unbatched\) or 4-D"):
        F.conv2d(cr.randn(3, 8), cr.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="conv2d: expected input with 4 channels"):
        F.conv2d(cr.randn(1, 3, 5, 5), cr.randn(4, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="conv_transpose2d: output_padding"):
        F.conv_transpose2d(cr.randn(1, 3, 4, 4), cr.randn(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(
        RuntimeError, match=r"conv_transpose2d: expected input with 5 channels.*\(1, 3, 4, 4\)"
    ):
        F.conv_transpose2d(cr.randn(1, 3, 4, 4), cr.randn(5, 2, 3, 3))
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)"):
        cr.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: padding_mode"):
        cr.nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_failed_call_leaves_gradients_untouched():
    m = cr.nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError):
        m(cr.randn(1, 2, 5, 5))
    assert m.weight.grad is None


def test_to_torch_roundtrip_of_conv_output():
    out = F.conv2d(cr.randn(2, 3, 4, 4), cr.randn(5, 3, 1, 1))
    t = to_torch(out)
    assert tuple(t.shape) == (2, 5, 4, 4)


def test_conv_accepts_strided_and_flipped_views():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((2, 5, 9, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    for view in (base[:, 1:4, ::-1, ::2], base.transpose(0, 1, 3, 2)[:, :3], base[:, ::-2][:, :3]):
        x = cr.Tensor._make(view)  # a strided view as the tensor's data, no copy
        expected = TF.conv2d(torch.from_numpy(view.copy()), torch.from_numpy(w), padding=1)
        assert_close(F.conv2d(x, cr.tensor(w), padding=1), expected)
    # the same inside the engine: a flipped, strided slice of a leaf, and its gradient
    leaf = cr.tensor(base, requires_grad=True)
    F.conv2d(leaf[:, 1:4, ::-1, ::2], cr.tensor(w)).sum().backward()
    tleaf = torch.tensor(base, requires_grad=True)
    TF.conv2d(tleaf[:, 1:4].flip(2)[..., ::2], torch.from_numpy(w)).sum().backward()
    assert_close(leaf.grad, tleaf.grad)


@pytest.mark.parametrize("bias", [True, False])
def test_inference_in_blocks_of_images_matches_torch(bias):
    # under no_grad a large batch is lowered a block of images at a time (blocks of ~16 MiB of columns)
    from chainrule.kernels import conv as conv_ops

    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 8, 30, 30)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32) if bias else None
    per_image_bytes = 28 * 28 * (8 * 9 + 1) * 4
    assert conv_ops._COLS_BLOCK_BYTES // per_image_bytes < 150  # really split into blocks
    with cr.no_grad():
        out = F.conv2d(cr.tensor(x), cr.tensor(w), None if b is None else cr.tensor(b), stride=1, padding=0)
    expected = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b))
    assert_close(out, expected, rtol=1e-4, atol=1e-4)


def test_one_channel_inference_in_blocks_matches_torch():
    # a one-channel input's columns are filled offset-major and read transposed, also block by block
    from chainrule.kernels import conv as conv_ops

    rng = np.random.default_rng(0)
    x = rng.standard_normal((700, 1, 30, 30)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    assert conv_ops._COLS_BLOCK_BYTES // (28 * 28 * 10 * 4) < 700  # really split into blocks
    with cr.no_grad():
        out = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b))
    expected = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b))
    assert_close(out, expected, rtol=1e-4, atol=1e-4)
