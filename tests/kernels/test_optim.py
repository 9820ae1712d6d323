"""The optimizer kernels (``chainrule/kernels/optim.py``): each tuned kernel against its reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from chainrule.kernels import jit, rows
from chainrule.kernels.optim import (
    adam_,
    adam_many_,
    adam_reference,
    flush_subnormals_,
    lerp_,
    lerp_reference,
)

# 0-d, one row, a vector, a matrix and a 3-d array whose rows split into several cache blocks
SHAPES = [(), (1, 7), (33,), (40, 30), (50, 3, 4)]
TOL = {np.float64: dict(rtol=1e-12, atol=1e-15), np.float32: dict(rtol=2e-5, atol=1e-7)}


@pytest.fixture
def small_blocks(monkeypatch):
    """Cache blocks of ~16 elements, so that the shapes above run through several row blocks."""
    monkeypatch.setattr(rows, "BLOCK_ELEMENTS", 16)


@pytest.mark.parametrize("w", [0.1, 0.5, 0.9])
def test_lerp_matches_the_reference_and_torch(w, rng):
    m0 = rng.standard_normal((64, 5)).astype(np.float32)
    g = rng.standard_normal((64, 5)).astype(np.float32)
    m, ref = m0.copy(), m0.copy()
    lerp_(m, g, w, np.empty_like(m))
    lerp_reference(ref, g, w)
    expected = torch.from_numpy(m0.copy()).lerp_(torch.from_numpy(g), w).numpy()
    np.testing.assert_allclose(m, ref, rtol=1e-6, atol=1e-6)  # (the other branch rounds elsewhere)
    np.testing.assert_allclose(m, expected, rtol=1e-6, atol=1e-7)  # (PyTorch rounds once less: an FMA)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_adam_matches_the_reference(shape, amsgrad, dtype, rng, small_blocks):
    def draw():
        return np.asarray(rng.standard_normal(shape), dtype=dtype)

    param = draw()
    state = [np.zeros(shape, dtype) for _ in range(3 if amsgrad else 2)]
    tuned = [param.copy(), *(s.copy() for s in state)]
    ref = [param.copy(), *(s.copy() for s in state)]
    options = dict(lr=0.05, beta1=0.8, beta2=0.95, eps=1e-6)
    for step in range(1, 6):
        grad = draw()
        if amsgrad and step == 5:
            grad *= 0.01  # v shrinks: the running maximum then differs from v
        adam_(tuned[0], grad, *tuned[1:], **options, step=step)
        adam_reference(ref[0], grad, *ref[1:], **options, step=step)
    for name, a, b in zip(["param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"], tuned, ref):
        np.testing.assert_allclose(a, b, **TOL[dtype], err_msg=name)
    assert np.abs(tuned[0] - param).max() > 1e-3  # the parameter moved: the comparison proves something
    if amsgrad:
        assert np.any(tuned[3] > tuned[2])


def test_adam_splits_rows_into_cache_blocks(monkeypatch, rng):
    """The tuned kernel really runs on row blocks (the reference comparison covers their result)."""
    calls = []
    real = rows.parallel_rows

    def spy(fn, *arrays, cache_blocks=False):
        calls.append(cache_blocks)
        real(fn, *arrays, cache_blocks=cache_blocks)

    monkeypatch.setattr("chainrule.kernels.optim.parallel_rows", spy)
    monkeypatch.setitem(jit._state, "enabled", False)  # the NumPy path (the JIT's loop needs no blocks)
    p, g = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    adam_(p, g, np.zeros_like(p), np.zeros_like(p), lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, step=1)
    assert calls == [True]


def test_flush_subnormals_zeroes_exactly_the_subnormals():
    tiny = np.finfo(np.float32).tiny
    a = np.array([1.0, -2.5, tiny, -tiny, tiny / 2, -tiny / 8, 1e-45, 0.0, np.inf, -np.inf], np.float32)
    expected = a.copy()
    expected[4:7] = 0
    flush_subnormals_(a)
    np.testing.assert_array_equal(a, expected)
    b = np.array([[np.nan, 1e-310]], np.float64)  # float64 subnormal; NaN stays NaN
    flush_subnormals_(b)
    assert np.isnan(b[0, 0]) and b[0, 1] == 0


@pytest.mark.parametrize("jit_on", [True, False])
def test_adam_many_gives_the_bits_of_one_adam_call_per_parameter(jit_on, rng):
    shapes = [(8, 2), (8,), (), (5, 3)]
    params = [np.asarray(rng.standard_normal(s), np.float32) for s in shapes]
    params.append(np.asarray(rng.standard_normal((6, 4)), np.float32)[:, ::2])  # not contiguous: adam_'s rows
    options = dict(lr=0.05, beta1=0.9, beta2=0.95, eps=1e-6)
    previous = jit.set_enabled(jit_on)
    try:
        one = [p.copy() for p in params]
        many = [p.copy() for p in params]
        state_one = [(np.zeros(p.shape, p.dtype), np.zeros(p.shape, p.dtype)) for p in params]
        state_many = [(np.zeros(p.shape, p.dtype), np.zeros(p.shape, p.dtype)) for p in params]
        for step in range(1, 4):
            grads = [np.asarray(rng.standard_normal(p.shape), np.float32) for p in params]
            steps = [step] * (len(params) - 1) + [step + 2]  # a parameter whose count differs
            for p, g, (m, v), t in zip(one, grads, state_one, steps):
                adam_(p, g, m, v, **options, step=t)
            ms, vs = [m for m, _ in state_many], [v for _, v in state_many]
            adam_many_(many, grads, ms, vs, **options, steps=steps)
    finally:
        jit.set_enabled(previous)
    for a, b, (m1, v1), (m2, v2) in zip(one, many, state_one, state_many):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(m1, m2)
        np.testing.assert_array_equal(v1, v2)
    assert all(np.abs(a - p).max() > 1e-3 for a, p in zip(many, params))
