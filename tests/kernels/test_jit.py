"""The optional JIT (``chainrule/kernels/jit.py``): each compiled loop gives the NumPy kernel's bits.

Every test runs the kernel twice, JIT on and off, and compares the results bit for bit; and
against the plain reference within rounding.  Without numba the compiled side is skipped (the
NumPy side is covered by the other kernel tests).
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from chainrule.kernels import activation as K
from chainrule.kernels import jit
from chainrule.kernels import recurrent as R
from chainrule.kernels.embedding import sum_rows_by_index, sum_rows_by_index_reference
from chainrule.kernels.optim import adam_, adam_reference

numba = pytest.importorskip("numba", reason="the optional JIT extra (pip install chainrule[jit])")


def both(fn):
    """``fn()`` with the JIT on, then off; the previous setting restored."""
    previous = jit.set_enabled(True)
    try:
        on = fn()
        jit.set_enabled(False)
        off = fn()
    finally:
        jit.set_enabled(previous)
    return on, off


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta1", [0.9, 0.3])  # lerp_'s two branches
@pytest.mark.parametrize("shape", [(), (1,), (37, 5), (4, 3, 2)], ids=str)
def test_adam_compiled_gives_the_numpy_kernels_bits(shape, beta1, dtype, rng):
    param = np.asarray(rng.standard_normal(shape), dtype)
    grads = [np.asarray(rng.standard_normal(shape), dtype) for _ in range(6)]
    options = dict(lr=0.05, beta1=beta1, beta2=0.95, eps=1e-6)

    def run(kernel):
        p, m, v = param.copy(), np.zeros(shape, dtype), np.zeros(shape, dtype)
        for step, g in enumerate(grads, 1):
            kernel(p, g, m, v, **options, step=step)
        return p, m, v

    on, off = both(lambda: run(adam_))
    ref = run(adam_reference)
    for name, a, b, r in zip(["param", "exp_avg", "exp_avg_sq"], on, off, ref):
        np.testing.assert_array_equal(a, b, err_msg=name)
        np.testing.assert_allclose(a, r, rtol=2e-5 if dtype == np.float32 else 1e-12, atol=1e-7, err_msg=name)
    assert np.abs(on[0] - param).max() > 1e-3  # the parameter moved


def test_adam_compiled_loop_is_used(monkeypatch, rng):
    calls = []
    real = jit.kernel

    def spy(name):
        calls.append(name)
        return real(name)

    monkeypatch.setattr(jit, "kernel", spy)
    p = rng.standard_normal((3, 4)).astype(np.float32)
    previous = jit.set_enabled(True)
    try:
        adam_(
            p, p.copy(), np.zeros_like(p), np.zeros_like(p), lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, step=1
        )
    finally:
        jit.set_enabled(previous)
    assert calls == ["adam"] and jit.kernel("adam") is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("repeats", [1, 3, 40])  # a text batch, and the > 16 passes path
def test_sum_rows_by_index_compiled_numpy_and_reference_agree(repeats, dtype, rng):
    idx = rng.integers(0, 7, 5 * repeats)
    rows = rng.standard_normal((idx.size, 6)).astype(dtype)
    on, off = both(lambda: sum_rows_by_index(rows, idx, 9))
    if repeats <= 16:  # sums in the order of the rows, as the loop
        np.testing.assert_array_equal(on, off)
    else:  # NumPy's segmented sum (add.reduceat) rounds in another order
        np.testing.assert_allclose(on, off, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(on, sum_rows_by_index_reference(rows, idx, 9))  # add.at: in order too
    assert on.shape == (9, 6) and not on[7:].any() and on.any()


def test_sum_rows_by_index_non_contiguous_and_empty(rng):
    rows = rng.standard_normal((6, 8)).astype(np.float32)[:, ::2]
    idx = np.array([[1, 0, 1], [3, 3, 1]])
    on, off = both(lambda: sum_rows_by_index(rows, idx.reshape(-1), 4))
    np.testing.assert_array_equal(on, off)
    np.testing.assert_allclose(on, sum_rows_by_index_reference(rows, idx.reshape(-1), 4), rtol=1e-6)
    empty = sum_rows_by_index(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), 2)
    assert empty.shape == (2, 3) and not empty.any()


def test_import_chainrule_does_not_import_numba():
    code = "import sys, chainrule; assert 'numba' not in sys.modules, 'numba imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_switched_off_kernel_is_none():
    previous = jit.set_enabled(False)
    try:
        assert jit.kernel("adam") is None and not jit.enabled()
    finally:
        jit.set_enabled(previous)
    assert jit.available()


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


SPECIAL = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, -1.5, 2.5], np.float32)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy's inf·0, on purpose
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "channels-last view"])
def test_relu_compiled_gives_numpys_bits(layout, dtype, rng):
    x = rng.standard_normal((4, 9, 12, 10)).astype(dtype)  # 4320 elements: above JIT_MIN_ELEMENTS
    x.reshape(-1)[: SPECIAL.size] = SPECIAL
    g = rng.standard_normal(x.shape).astype(dtype)
    g.reshape(-1)[: SPECIAL.size] = SPECIAL[::-1]
    if layout != "contiguous":  # (N, H, W, C) memory seen as (N, C, H, W), as convolutions return it
        x, g = x.transpose(0, 3, 1, 2), g.transpose(0, 3, 1, 2)
    y_on, y_off = both(lambda: K.relu(x))
    np.testing.assert_array_equal(bits(y_on), bits(y_off))  # -0 and NaN too
    np.testing.assert_array_equal(y_on, K.relu_reference(x))
    assert y_on.strides == x.strides
    d_on, d_off = both(lambda: K.relu_backward(g, y_on))
    np.testing.assert_array_equal(bits(d_on), bits(d_off))
    finite = np.isfinite(g)  # (the reference's where() turns NaN·0 into 0, NumPy's product keeps NaN)
    np.testing.assert_array_equal(d_on[finite], K.relu_backward_reference(g, y_on)[finite])


def test_relu_compiled_loop_runs_only_where_it_can(monkeypatch, rng):
    calls = []
    real = jit.kernel
    monkeypatch.setattr(jit, "kernel", lambda name: calls.append(name) or real(name))
    big = rng.standard_normal((64, 100)).astype(np.float32)
    K.relu(big)
    K.relu(big[:, ::2])  # memory with gaps: NumPy
    K.relu(big[:2])  # small: NumPy
    K.relu_backward(big, K.relu(big.T.copy()).T)  # grad and output laid out differently: NumPy
    assert calls == ["relu", "relu"]
    assert K.flat_view(big[:, ::2]) is None and K.flat_view(big.T) is not None


def lstm_operands(dtype, rng, T=3, B=32, I=5, H=32, scale=0.5):
    """An LSTM layer's arrays; 4H·B = 4096 gate values a step, enough for the compiled loops."""
    w = [rng.standard_normal(s) * scale for s in [(4 * H, I), (4 * H, H), (4 * H,), (4 * H,)]]
    x, h0, c0 = rng.standard_normal((T, B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    return [np.asarray(a, dtype) for a in [x, h0, c0, *w]]


def lstm_run(args, reverse, initial, grad_out):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = args
    h0, c0 = (h0, c0) if initial else (None, None)
    out, h_n, c_n, kept = R.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, True)
    need = (True, initial, initial, True, True, True, True)
    grads = R.lstm_backward(kept, w_ih, w_hh, grad_out, 0.5 * h_n, 0.25 * c_n, need)
    return [out, h_n, c_n, *(g for g in grads if g is not None)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("initial", [True, False])
def test_lstm_compiled_steps_give_the_numpy_kernels_bits(initial, reverse, dtype, rng):
    args = lstm_operands(dtype, rng)
    grad_out = rng.standard_normal((3, 32, 32)).astype(dtype)
    on, off = both(lambda: lstm_run(args, reverse, initial, grad_out))
    assert len(on) == len(off) == (10 if initial else 8)
    for i, (a, b) in enumerate(zip(on, off)):
        np.testing.assert_array_equal(bits(a), bits(b), err_msg=f"result {i}")
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = args
    h, c = (h0, c0) if initial else (np.zeros_like(h0), np.zeros_like(c0))
    step = lambda x_t, h, c: R.lstm_step_reference(x_t, h, c, w_ih, w_hh, b_ih, b_hh)  # noqa: E731
    out, (h_n, c_n) = R.sequence_reference(step, x, (h, c), reverse)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for got, ref in zip(on, [out, h_n, c_n]):
        np.testing.assert_allclose(got, ref, **tol)


def test_lstm_compiled_steps_saturated_gates_and_strided_upstream(rng):
    args = lstm_operands(np.float32, rng, scale=40.0)  # exp(-z) overflows to inf: σ = 0, no warning
    grad_out = rng.standard_normal((32, 3, 64)).astype(np.float32).transpose(1, 0, 2)[:, :, ::2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        on, off = both(lambda: lstm_run(args, False, True, grad_out))
    for i, (a, b) in enumerate(zip(on, off)):
        np.testing.assert_array_equal(bits(a), bits(b), err_msg=f"result {i}")
        assert np.isfinite(a).all()
    assert (np.abs(on[0]) > 0.999).any()  # some outputs saturated


def test_lstm_compiled_steps_run_only_where_they_can(monkeypatch, rng):
    calls = []
    real = jit.kernel
    monkeypatch.setattr(jit, "kernel", lambda name: calls.append(name) or real(name))
    previous = jit.set_enabled(True)
    try:
        lstm_run(lstm_operands(np.float32, rng), False, True, np.ones((3, 32, 32), np.float32))
        big = set(calls)
        calls.clear()
        small = lstm_operands(np.float32, rng, B=4)  # 512 gate values a step: NumPy
        lstm_run(small, False, True, np.ones((3, 4, 32), np.float32))
    finally:
        jit.set_enabled(previous)
    assert big >= {"lstm_cell", "lstm_hidden", "lstm_cell_backward"} and not calls
