"""kernels.recurrent: the fused RNN/LSTM/GRU sequence kernels against the one-step textbook
references, forward directly and backward against central differences of the reference (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels import recurrent as K

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def operands(kind, T, B, I, H, bias, initial, rng):
    g = GATES[kind]
    w_ih, w_hh = rng.standard_normal((g * H, I)) * 0.5, rng.standard_normal((g * H, H)) * 0.5
    b_ih, b_hh = (
        (rng.standard_normal(g * H) * 0.5, rng.standard_normal(g * H) * 0.5) if bias else (None, None)
    )
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal((B, H)) if initial else None
    c0 = rng.standard_normal((B, H)) if initial and kind == "lstm" else None
    return [x, h0, c0, w_ih, w_hh, b_ih, b_hh]


def tuned(kind, args, reverse, keep=False):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = args
    if kind == "lstm":
        return K.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, keep)
    if kind == "gru":
        return K.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, keep)
    return K.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, kind == "rnn_relu", keep)


def reference(kind, args, reverse):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = args
    B, H = x.shape[1], w_hh.shape[1]
    g = GATES[kind]
    b_ih = np.zeros(g * H) if b_ih is None else b_ih
    b_hh = np.zeros(g * H) if b_hh is None else b_hh
    h = np.zeros((B, H)) if h0 is None else h0
    if kind == "lstm":
        c = np.zeros((B, H)) if c0 is None else c0
        step = lambda x_t, h, c: K.lstm_step_reference(x_t, h, c, w_ih, w_hh, b_ih, b_hh)  # noqa: E731
        out, (h_n, c_n) = K.sequence_reference(step, x, (h, c), reverse)
        return out, h_n, c_n
    if kind == "gru":
        step = lambda x_t, h: K.gru_step_reference(x_t, h, w_ih, w_hh, b_ih, b_hh)  # noqa: E731
    else:
        step = lambda x_t, h: K.rnn_step_reference(x_t, h, w_ih, w_hh, b_ih, b_hh, kind == "rnn_relu")  # noqa: E731
    out, (h_n,) = K.sequence_reference(step, x, (h,), reverse)
    return out, h_n


SHAPES = [(4, 3, 5, 6), (1, 1, 1, 1), (3, 0, 2, 4)]  # (T, B, I, H); B = 0: an empty batch


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("initial", [True, False])
def test_forward_matches_reference(kind, shape, reverse, bias, initial, rng):
    args = operands(kind, *shape, bias, initial, rng)
    got = tuned(kind, args, reverse)[:-1]
    for a, b in zip(got, reference(kind, args, reverse)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def backward(kind, kept, args, grads, need):
    _, _, _, w_ih, w_hh, _, _ = args
    if kind == "lstm":
        return K.lstm_backward(kept, w_ih, w_hh, *grads, need)
    if kind == "gru":
        return K.gru_backward(kept, w_ih, w_hh, *grads, need)
    return K.rnn_backward(kept, w_ih, w_hh, *grads, need)


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_backward_matches_the_derivative_of_the_reference(kind, reverse, bias, rng):
    args = operands(kind, 3, 2, 3, 2, bias, True, rng)
    if kind == "rnn_relu":
        args[0] += 2.0  # keep pre-activations away from relu's kink, where differences are one-sided
    outs = tuned(kind, args, reverse, keep=True)
    kept = outs[-1]
    upstream = [rng.standard_normal(o.shape) for o in outs[:-1]]
    need = tuple(a is not None for a in args)
    got = backward(kind, kept, args, upstream, need)

    def loss():
        return sum((o * u).sum() for o, u in zip(reference(kind, args, reverse), upstream))

    eps = 1e-6
    for i, a in enumerate(args):
        if a is None:
            assert got[i] is None
            continue
        numeric = np.zeros_like(a)
        for j in np.ndindex(a.shape):
            keep = a[j]
            a[j] = keep + eps
            up = loss()
            a[j] = keep - eps
            numeric[j] = (up - loss()) / (2 * eps)
            a[j] = keep
        np.testing.assert_allclose(got[i], numeric, rtol=1e-6, atol=1e-7, err_msg=f"argument {i}")


@pytest.mark.parametrize("kind", list(GATES))
def test_backward_of_an_empty_batch(kind, rng):
    args = operands(kind, 3, 0, 2, 4, True, True, rng)
    outs = tuned(kind, args, False, keep=True)
    upstream = [np.zeros(o.shape) for o in outs[:-1]]
    got = backward(kind, outs[-1], args, upstream, tuple(a is not None for a in args))
    for g, a in zip(got, args):
        if a is not None:
            np.testing.assert_array_equal(g, np.zeros_like(a))
