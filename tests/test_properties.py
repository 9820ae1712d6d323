"""Property tests (hypothesis): broadcasting and reductions on random shapes agree with NumPy and torch.

How many examples and whether they are random comes from the hypothesis profile (tests/conftest.py):
derandomized in CI, ``HYPOTHESIS_PROFILE=dev`` for a longer local run."""

import os

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from tests.helpers import assert_close

floats = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def broadcastable_pair(draw):
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4)
    )
    a = draw(hnp.arrays(np.float32, shapes.input_shapes[0], elements=floats))
    b = draw(hnp.arrays(np.float32, shapes.input_shapes[1], elements=floats))
    return a, b


@st.composite
def array_and_dims(draw):
    a = draw(
        hnp.arrays(
            np.float32, hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), elements=floats
        )
    )
    dims = draw(
        st.lists(
            st.integers(-a.ndim, a.ndim - 1), min_size=1, max_size=a.ndim, unique_by=lambda d: d % a.ndim
        )
    )
    keepdim = draw(st.booleans())
    return a, tuple(dims), keepdim


OPS = [
    lambda x, y: x + y,
    lambda x, y: x - y,
    lambda x, y: x * y,
    lambda x, y: cr.maximum(x, y) if isinstance(x, cr.Tensor) else torch.maximum(x, y),
]


@given(broadcastable_pair(), st.integers(0, len(OPS) - 1))
def test_broadcast_binary_forward_and_grad_shapes(pair, k):
    a, b = pair
    op = OPS[k]
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = op(x, y), op(tx, ty)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    assert_close(out, tout)
    up = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    out.backward(cr.tensor(up))
    tout.backward(torch.tensor(up))
    assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-4)
    assert_close(y.grad, ty.grad, rtol=1e-4, atol=1e-4)


@given(broadcastable_pair())
def test_broadcast_division_and_comparison(pair):
    a, b = pair
    b = np.where(np.abs(b) < 0.1, 1.0, b).astype(np.float32)
    assert_close(cr.tensor(a) / cr.tensor(b), np.asarray(a / b, np.float32), rtol=1e-6)
    assert_close(cr.tensor(a) < cr.tensor(b), a < b)
    assert_close(cr.where(cr.tensor(a) > 0, cr.tensor(a), cr.tensor(b)), np.where(a > 0, a, b))


@given(array_and_dims())
def test_sum_mean_amax_over_random_dims(case):
    a, dims, keepdim = case
    for name in ("sum", "mean", "amax", "amin"):
        x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, tout = getattr(x, name)(dims, keepdim=keepdim), getattr(tx, name)(dims, keepdim=keepdim)
        assert_close(out, tout, rtol=1e-5, atol=1e-5)
        up = np.random.default_rng(1).standard_normal(tout.shape).astype(np.float32)
        out.backward(cr.tensor(up))
        tout.backward(torch.tensor(up))
        assert_close(x.grad, tx.grad, rtol=1e-5, atol=1e-5)


@given(array_and_dims())
def test_var_logsumexp_over_random_dims(case):
    a, dims, keepdim = case
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    n = int(np.prod([a.shape[d] for d in dims]))
    parts = [(x.logsumexp(dims, keepdim), tx.logsumexp(dims, keepdim))]
    if n > 1:
        parts.append((x.var(dims, keepdim=keepdim), tx.var(dims, keepdim=keepdim)))
    for out, tout in parts:
        assert_close(out, tout, rtol=1e-4, atol=1e-5)
    sum(o.sum() for o, _ in parts).backward()
    sum(o.sum() for _, o in parts).backward()
    assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-4)


@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), elements=floats),
    st.data(),
)
def test_max_argmax_along_dim(a, data):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    keepdim = data.draw(st.booleans())
    v, i = cr.tensor(a).max(dim, keepdim)
    tv, ti = torch.tensor(a).max(dim, keepdim)
    assert_close(v, tv)
    assert_close(i, ti)
    assert_close(cr.tensor(a).argmin(dim, keepdim), torch.tensor(a).argmin(dim, keepdim))


@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), elements=floats),
    st.data(),
)
def test_reshape_permute_roundtrip(a, data):
    perm = data.draw(st.permutations(range(a.ndim)))
    x = cr.tensor(a, requires_grad=True)
    y = x.permute(*perm).reshape(-1)
    assert_close(y, torch.tensor(a).permute(*perm).reshape(-1))
    (y * cr.arange(float(y.shape[0]))).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    (tx.permute(*perm).reshape(-1) * torch.arange(float(y.shape[0]))).sum().backward()
    assert_close(x.grad, tx.grad)


@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), elements=floats),
    st.data(),
)
def test_integer_indexing_with_repeats(a, data):
    n = a.shape[0]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=8)), np.int64)
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = x[cr.tensor(idx)], tx[torch.tensor(idx)]
    assert_close(out, tout)
    up = np.random.default_rng(2).standard_normal(tout.shape).astype(np.float32)
    out.backward(cr.tensor(up))
    tout.backward(torch.tensor(up))
    assert_close(x.grad, tx.grad, rtol=1e-5, atol=1e-5)


@st.composite
def basic_index(draw, shape):
    """A random basic index (ints, slices with steps, None, Ellipsis) valid for ``shape``."""
    parts, dim = [], 0
    while dim < len(shape) and draw(st.booleans()):
        kind = draw(st.sampled_from(["int", "slice", "none"]))
        n = shape[dim]
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
            dim += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n - 1, n + 1))
            stop = draw(st.none() | st.integers(-n - 1, n + 1))
            step = draw(st.none() | st.sampled_from([1, 2, 3, -1, -2]))
            parts.append(slice(start, stop, step))
            dim += 1
        else:
            parts.append(None)
    if draw(st.booleans()):  # anywhere when the parts index every dim (it then spans none), else last
        parts.insert(draw(st.integers(0, len(parts))) if dim == len(shape) else len(parts), Ellipsis)
    return tuple(parts)


@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), elements=floats),
    st.data(),
)
def test_basic_indexing_and_setitem(a, data):
    index = data.draw(basic_index(a.shape))
    if any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in index):
        # torch has no negative steps: compare with NumPy (values, gradient scattered back)
        x = cr.tensor(a, requires_grad=True)
        out = x[index]
        assert_close(out, a[index])
        out.sum().backward()
        expected = np.zeros_like(a)
        np.add.at(expected, index, 1.0)
        assert_close(x.grad, expected)
        return
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = x[index], tx[index]
    assert_close(out, tout)
    up = np.random.default_rng(3).standard_normal(tout.shape).astype(np.float32)
    out.backward(cr.tensor(up))
    tout.backward(torch.tensor(up))
    assert_close(x.grad, tx.grad)
    y, ty = cr.tensor(a), torch.tensor(a)
    y[index] = 7.0
    ty[index] = 7.0
    assert_close(y, ty)


UNARY_PROGRAM_OPS = [
    lambda t: t.tanh(),
    lambda t: t.sin(),
    lambda t: t.sigmoid(),
    lambda t: t * 1.5,
    lambda t: -t,
    lambda t: t.T if t.ndim == 2 else t,
    lambda t: t.exp() * 0.1,
    lambda t: t.relu(),
    lambda t: t[..., :1] * 2.0 if t.ndim else t,
]
BINARY_PROGRAM_OPS = [lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: y + x]


def _apply_program(program, leaves, unary, binary) -> list:
    """Run a random program of (is_unary, op, i, j) steps: each appends ``unary[op](vals[i])`` or
    ``binary[op](vals[i], vals[j])`` to the values (the leaves first); a binary step whose operands
    do not broadcast is skipped.  Returns every value, for the caller to reduce."""
    vals = list(leaves)
    for is_unary, k, i, j in program:
        if is_unary:
            vals.append(unary[k % len(unary)](vals[i % len(vals)]))
            continue
        x, y = vals[i % len(vals)], vals[j % len(vals)]
        try:
            np.broadcast_shapes(tuple(x.shape), tuple(y.shape))
        except ValueError:
            continue
        vals.append(binary[k % len(binary)](x, y))
    return vals


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 2**16),
)
def test_random_graphs_reusing_tensors_match_torch(program, seed):
    """Random DAGs in which leaves and intermediates feed several ops: gradient accumulation and
    aliasing of gradient arrays (e.g. x + f(x)) must give torch's gradients."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1, 1, (3, 3)).astype(np.float32), rng.uniform(-1, 1, (3, 3)).astype(np.float32)

    def run(m, leaves):
        vals = _apply_program(program, leaves, UNARY_PROGRAM_OPS, BINARY_PROGRAM_OPS)
        total = vals[-1] * 2.0 + vals[0] * vals[len(vals) // 2]
        return total.sum() if total.ndim else total

    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = run(cr, [x, y]), run(torch, [tx, ty])
    assert_close(out, tout, rtol=1e-4, atol=1e-4)
    out.backward()
    tout.backward()
    for c, t in ((x, tx), (y, ty)):
        if t.grad is None:
            assert c.grad is None
        else:
            assert_close(c.grad, t.grad, rtol=1e-4, atol=1e-4)


def _mod(t):
    return cr if isinstance(t, cr.Tensor) else torch


def _square_matmul(t):
    return t @ t.T * 0.2 if t.ndim == 2 and t.shape[0] == t.shape[1] else t


RICH_UNARY = UNARY_PROGRAM_OPS + [
    lambda t: t.sum(0, keepdim=True) * 0.5,
    lambda t: t.mean(-1, keepdim=True),
    lambda t: t.amax(0) * 1.0,
    lambda t: t.logsumexp(-1, keepdim=True),
    _square_matmul,
    lambda t: t.reshape(-1)[:3].reshape(1, 3) if t.numel() >= 3 else t,
    lambda t: _mod(t).cat([t, t], 0)[1 : 1 + t.shape[0]] if t.ndim else t,
    lambda t: t.clamp(-0.5, 0.5),
    lambda t: t.abs() + 0.1,
    lambda t: t.var(0, keepdim=True) if t.ndim and t.shape[0] > 1 else t,
    lambda t: t.std(-1) if t.ndim and t.shape[-1] > 1 else t,
    lambda t: t.norm() * t,
    lambda t: (t * t + 0.5).sqrt(),
    lambda t: (t * t + 0.5).log(),
    lambda t: t.max(0)[0] if t.ndim else t,
    lambda t: t.min(-1, keepdim=True).values if t.ndim else t,
    lambda t: t[np.array([0, 0, -1])] if t.ndim else t,
    lambda t: t.expand(2, *t.shape).sum(0),
    lambda t: (t.abs() + 0.5) ** 1.5,
    lambda t: (t.abs() + 0.5) ** t,
    lambda t: _mod(t).stack([t, t * 2], -1).sum(-1),
    lambda t: t.unsqueeze(0).squeeze(0).flatten(),
    lambda t: t.repeat(*([2] * max(t.ndim, 1))),
    lambda t: t.permute(*reversed(range(t.ndim))) if t.ndim else t,  # torch's permute() needs a dim
    lambda t: _mod(t).where(t > 0, t, 0.0),
    lambda t: 1.0 / (t * t + 1.0),
    lambda t: 2.0 - t,
]
RICH_BINARY = BINARY_PROGRAM_OPS + [
    lambda x, y: _mod(x).maximum(x, y),
    lambda x, y: _mod(x).where(x > y, x, y * 2.0),
    lambda x, y: x / (y * y + 1.0),
]


def _run_program(program, leaves):
    vals = _apply_program(program, leaves, RICH_UNARY, RICH_BINARY)
    return (vals[-1] * vals[-1]).sum() + (vals[len(vals) // 2] * 0.5).sum()


PROGRAM = st.lists(
    st.tuples(st.booleans(), st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)),
    min_size=1,
    max_size=10,
)


@given(PROGRAM, st.integers(0, 2**16))
def test_random_rich_graphs_first_and_second_order_match_torch(program, seed):
    """Random DAGs over broadcasting, reductions, matmul, indexing and cat, with a (3, 3) and a (3,)
    leaf: gradients, and a Hessian-vector product (create_graph) in float64, as torch."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, 3)
    v = rng.standard_normal((3, 3))
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = _run_program(program, [x, y]), _run_program(program, [tx, ty])
    assert_close(out, tout, rtol=1e-9, atol=1e-9)
    gs = cr.autograd.grad(out, [x, y], create_graph=True, allow_unused=True)
    tgs = torch.autograd.grad(tout, [tx, ty], create_graph=True, allow_unused=True)
    for g, tg in zip(gs, tgs):
        assert (g is None) == (tg is None) or (g is not None and not np.any(g.detach().numpy()))
        if tg is not None:
            assert_close(g, tg, rtol=1e-9, atol=1e-9)
    if tgs[0] is None or not tgs[0].requires_grad:
        return
    if not gs[0].requires_grad:  # chainrule knows the gradient is constant; torch's HVP must be 0
        (th,) = torch.autograd.grad((tgs[0] * torch.tensor(v)).sum(), [tx], allow_unused=True)
        assert th is None or not th.any()
        return
    (h,) = cr.autograd.grad((gs[0] * cr.tensor(v)).sum(), [x], allow_unused=True)
    (th,) = torch.autograd.grad((tgs[0] * torch.tensor(v)).sum(), [tx], allow_unused=True)
    if th is None or (h is None and not th.any()):  # None (unused) means zeros, as for first order
        assert h is None or not np.any(h.numpy())
    else:
        assert_close(h, th, rtol=1e-8, atol=1e-9)


def test_the_hypothesis_profile_follows_the_environment():
    """CI runs derandomized (the same examples every run); see tests/conftest.py."""
    name = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "quick")
    profile = settings.get_profile(name)
    assert settings.default.derandomize == profile.derandomize
    assert settings.default.max_examples == profile.max_examples
    assert settings.get_profile("ci").derandomize and not settings.get_profile("dev").derandomize
