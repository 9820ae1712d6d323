"""Recurrent ops: one layer of an RNN, LSTM or GRU over a whole sequence, in one direction.

A recurrent layer applies the same cell at every time step t, feeding it the
input x_t and its own previous hidden state h_{t-1}:

    RNN   h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)            act = tanh or relu
    LSTM  i, f, g, o = σ, σ, tanh, σ of (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)  (gate order i f g o)
          c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
    GRU   r, z = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr), σ(... z rows ...)   (gate order r z n)
          n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn))
          h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

(PyTorch's formulas, gate order and weight layout: ``w_ih`` is (gates·H, I), ``w_hh``
(gates·H, H).)

Building this from small Tensor ops would leave ~20 graph nodes per time step;
backprop through time over thousands of them is slow.  Instead each class below
is a single ``Function`` for the whole sequence, with a hand-written backward
through time (BPTT) working on arrays:

- forward: one (batched) matrix multiply projects the inputs of *all* steps at
  once (W_ih @ x_tᵀ for every t); then each step needs only one small matmul
  W_hh @ h_{t-1} and a few in-place element-wise ops on preallocated buffers;
- backward: walks the steps in reverse, carrying dL/dh (and dL/dc) from step to
  step; each step writes dL/d(pre-activations) into a preallocated buffer and
  does one matmul for the recurrent gradient (W_hhᵀ @ dZ_t).  At the end, one
  matmul gives the input gradients of all steps (dZᵀ @ W_ih) and one matmul per
  weight gives the weight gradients (dZ @ X, dZ @ H_prev), summed over time and batch.

Layout (measured, see docs/performance.md): inside a step, gates and states are
*feature-major* (gates·H, B) blocks — the per-step matmul W_hh @ h_{t-1} then has
the shape OpenBLAS runs fastest ((gates·H, H) @ (H, B): ~1.7× faster than
(B, H) @ (H, gates·H) for B=32, H=256) and every element-wise op runs on
contiguous memory.  The hidden states are also kept batch-major, (T+1, B, H), so
the output is a plain view and H_prev a plain (T·B, H) matrix; dZ is gathered
once into (gates·H, T·B) for the final matmuls.

The sigmoid gates use σ(x) = ½ tanh(x/2) + ½: the forward halves the rows of the
weights (and biases) that feed sigmoid gates, so one ``tanh`` call activates all
gates of a step.  The derivative factors backward needs (σ(1-σ), 1-tanh², ...)
are computed for all steps at once before the backward loop.

Inputs are time-major ``(T, B, I)``; ``reverse=True`` runs the sequence backwards
(the second direction of a bidirectional layer; output[t] is still aligned with
x[t]).  ``h0`` / ``c0`` of ``None`` mean zeros.  Gradients flow to the input
sequence, the initial states and every weight and bias, from the output sequence
and from the final states (h_n, c_n).

Second derivatives through these ops are not supported (backward runs on arrays,
so ``create_graph=True`` raises).
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import State
from chainrule.backend import xp_of
from chainrule.tensor import Tensor

# ----------------------------------------------------------------------------- helpers


def _arr(g):
    """The array behind a gradient (the engine passes arrays or Tensors)."""
    return g._data if isinstance(g, Tensor) else g


def _no_double_backward(ctx) -> None:
    if State.grad_enabled:
        raise RuntimeError(
            f"{ctx.name()}: second derivatives (create_graph=True) through the fused recurrent op are not "
            "supported; its backward through time runs on arrays"
        )


def _sigmoid_scale(xp, n_gates: int, H: int, sigmoid_gates: tuple, dtype):
    """Per-row scale of the weights, (rows, 1): ½ for the rows of sigmoid gates, 1 otherwise — then
    one tanh gives tanh(x/2) there, and σ(x) = ½ tanh(x/2) + ½."""
    scale = xp.ones((n_gates * H, 1), dtype)
    for k in sigmoid_gates:
        scale[k * H : (k + 1) * H] = 0.5
    return scale


def _project(xp, xd, w, b, scale=None):
    """All input projections in one batched matmul: (scale ⊙ W) (rows, I) @ x_tᵀ + b -> (T, rows, B).

    The bias rides along in the matmul: x gets a column of ones and W the column b (cheaper than
    adding b to the big result).  Returns the projections and the (augmented) input."""
    T, B, I = xd.shape
    if b is None:
        return xp.matmul(w if scale is None else w * scale, xd.transpose(0, 2, 1)), xd
    xa = xp.empty((T, B, I + 1), xd.dtype)
    xa[..., :I] = xd
    xa[..., I] = 1
    wa = xp.empty((w.shape[0], I + 1), w.dtype)
    if scale is None:
        wa[:, :I] = w
    else:
        xp.multiply(w, scale, out=wa[:, :I])
    wa[:, I] = b
    return xp.matmul(wa, xa.transpose(0, 2, 1)), xa


def _positions(T: int, reverse: bool):
    """(t, prev, new) for each step: the time index, and the indices of h_{t-1} and h_t in the
    state buffers (forward: h_0 at 0, h_t at t+1; reverse: h_0 at T, h_t at t)."""
    if reverse:
        return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
    return [(t, t, t + 1) for t in range(T)]


def _state_buffer(xp, T, B, H, dtype, s0, reverse):
    """A feature-major (T+1, H, B) buffer of states with the initial one (given (B, H), or None for
    zeros) in place."""
    buf = xp.empty((T + 1, H, B), dtype)
    first = T if reverse else 0
    if s0 is None:
        buf[first] = 0
    else:
        buf[first] = s0._data.T
    return buf


def _batch_major(hs, reverse):
    """The hidden states as a batch-major (T+1, B, H) array (one transposing copy) and its views:
    output (T, B, H), previous states (T·B, H), h_n (B, H)."""
    T = hs.shape[0] - 1
    bm = hs.transpose(0, 2, 1).copy()
    if reverse:
        out, prev, last = bm[:T], bm[1:], bm[0]
    else:
        out, prev, last = bm[1:], bm[:T], bm[T]
    return out, prev.reshape(T * bm.shape[1], -1), last


def _gather(dz):
    """dL/d(pre-activations) (T, rows, B) as one (rows, T·B) matrix (a single copy)."""
    T, rows, B = dz.shape
    return dz.transpose(1, 0, 2).reshape(rows, T * B)


def _input_and_weight_grads(ctx, dz_in, dz_hidden, w_ih, grads):
    """The end of every backward: one matmul for the input gradients of all steps and one per
    weight for the weight gradients (summed over time and batch).

    dz_in / dz_hidden: dL/d(input projection) and dL/d(hidden projection), (T, rows, B)."""
    xp = xp_of(dz_in)
    dzi = _gather(dz_in)
    dzh = dzi if dz_hidden is dz_in else _gather(dz_hidden)
    need = ctx.needs_input_grad
    n, I = dzi.shape[1], w_ih.shape[1]
    if need[0]:
        grads[0] = (dzi.T @ w_ih).reshape(ctx.x_shape)
    has_bias = ctx.xa.shape[-1] == I + 1
    db = None
    if need[3] or (has_bias and need[5]):
        dw = dzi @ ctx.xa.reshape(n, -1)  # with the ones column: the bias gradient comes along
        if has_bias:
            db = dw[:, I].copy()
            dw = dw[:, :I].copy()
        if need[3]:
            grads[3] = dw
    if need[4]:
        grads[4] = dzh @ ctx.hprev
    if need[5] or need[6]:
        if db is None:
            db = dzi @ xp.ones(n, dzi.dtype)
        if need[5]:
            grads[5] = db
        if need[6]:
            grads[6] = (db.copy() if need[5] else db) if dzh is dzi else dzh @ xp.ones(n, dzh.dtype)
    return tuple(grads)


def _recording(ctx) -> bool:
    """False when forward runs unrecorded (no_grad, or no input requires grad): nothing to keep."""
    return ctx.recorded


def _save(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, hprev, xa):
    ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)  # in-place modification checks
    ctx.x_shape = x.shape
    ctx.xa = xa
    ctx.reverse = reverse
    ctx.hprev = hprev


def _start(x, w_hh):
    xd = x._data
    T, B, _ = xd.shape
    return xd, xp_of(xd), xd.dtype, T, B, w_hh.shape[1]


def _grad_state(g):
    """dL/d(final state) (B, H) as a feature-major (H, B) array we may update in place."""
    return g.T.copy()


class _SequenceFunction(Function):
    """Base of the fused sequence ops: ``release`` also drops the per-step buffers kept for backward."""

    array_backward = True
    _buffers = ("xa", "hprev", "hs", "gates", "k", "a", "q")

    def release(self) -> None:
        super().release()
        for name in self._buffers:
            self.__dict__.pop(name, None)


# ----------------------------------------------------------------------------- RNN


def _rnn_forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, relu):
    """Forward of ``RNNTanhSequence`` / ``RNNReluSequence``."""
    xd, xp, dt, T, B, H = _start(x, w_hh)
    bias = None if b_ih is None else b_ih._data + b_hh._data
    pre, xa = _project(xp, xd, w_ih._data, bias)  # (T, H, B)
    hs = _state_buffer(xp, T, B, H, dt, h0, reverse)
    whh = w_hh._data
    rec = xp.empty((H, B), dt)
    for step, (t, p, n) in enumerate(_positions(T, reverse)):
        h = hs[n]
        if step or h0 is not None:
            xp.matmul(whh, hs[p], out=rec)
            xp.add(pre[t], rec, out=h)
        else:
            h[...] = pre[t]
        if relu:
            xp.maximum(h, 0, out=h)
        else:
            xp.tanh(h, out=h)
    out, hprev, h_n = _batch_major(hs, reverse)
    if _recording(ctx):
        _save(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, hprev, xa)
        ctx.hs = hs
    return out, h_n


class RNNTanhSequence(_SequenceFunction):
    """A whole sequence through an Elman RNN layer, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)`` with x (T, B, I), h0 (B, H) or None,
    c0 always None -> (output (T, B, H), h_n (B, H)).
    Backward: dL/d(pre_t) = (dL/dh_t) ⊙ act'(h_t) where dL/dh_t = dL/dout_t + W_hhᵀ dL/d(pre_{t+1}).
    """

    array_backward = True
    relu = False

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        return _rnn_forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, relu=False)

    @staticmethod
    def backward(ctx, grad_out, grad_hn):
        _no_double_backward(ctx)
        _, _, _, w_ih, w_hh, _, _ = ctx.saved_tensors
        w_ih, w_hh = _arr(w_ih), _arr(w_hh)
        grad_out, grad_hn = _arr(grad_out), _arr(grad_hn)
        xp = xp_of(grad_out)
        hs, reverse = ctx.hs, ctx.reverse
        T = hs.shape[0] - 1
        out = hs[:T] if reverse else hs[1:]  # (T, H, B)
        # act'(pre) from the outputs, for all steps at once
        if ctx.relu:
            deriv = (out > 0).astype(out.dtype)
        else:
            deriv = out * out
            xp.subtract(1.0, deriv, out=deriv)
        dz = xp.empty_like(deriv)
        dh = _grad_state(grad_hn)
        whh_t = xp.ascontiguousarray(w_hh.T)  # measured ~15% faster per-step matmuls than the view
        steps = _positions(T, reverse)[::-1]
        last = len(steps) - 1
        for k, (t, _, _) in enumerate(steps):
            dh += grad_out[t].T
            xp.multiply(dh, deriv[t], out=dz[t])
            if k < last or ctx.needs_input_grad[1]:
                xp.matmul(whh_t, dz[t], out=dh)
        grads = [None] * 8
        if ctx.needs_input_grad[1]:
            grads[1] = dh.T
        return _input_and_weight_grads(ctx, dz, dz, w_ih, grads)


class RNNReluSequence(RNNTanhSequence):
    """As ``RNNTanhSequence`` with h_t = relu(...) (act' = 1 where h_t > 0)."""

    relu = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        return _rnn_forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, relu=True)


# ----------------------------------------------------------------------------- LSTM


class LSTMSequence(_SequenceFunction):
    """A whole sequence through an LSTM layer (gate order input, forget, cell, output).

    ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)`` -> (output (T, B, H), h_n, c_n).

    Backward through time, with dh, dc the gradients arriving at h_t, c_t:
        dc += dh ⊙ o ⊙ (1 - tanh²c_t)
        dz_i = dc ⊙ g ⊙ i(1-i),  dz_f = dc ⊙ c_{t-1} ⊙ f(1-f),  dz_g = dc ⊙ i ⊙ (1-g²),
        dz_o = dh ⊙ tanh c_t ⊙ o(1-o)
        dc_{t-1} = dc ⊙ f,  dh_{t-1} = W_hhᵀ dz (+ dL/dout_{t-1})
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        xd, xp, dt, T, B, H = _start(x, w_hh)
        H2, H3 = 2 * H, 3 * H
        scale = _sigmoid_scale(xp, 4, H, (0, 1, 3), dt)
        bias = None if b_ih is None else (b_ih._data + b_hh._data) * scale[:, 0]
        gates, xa = _project(xp, xd, w_ih._data, bias, scale)  # (T, 4H, B), activated in place below
        whh = w_hh._data * scale
        hs = _state_buffer(xp, T, B, H, dt, h0, reverse)
        cs = _state_buffer(xp, T, B, H, dt, c0, reverse)
        keep = _recording(ctx)
        if keep:  # derivative factors for backward, computed while the step's data is in cache
            k = xp.empty((T, 4 * H, B), dt)
            a = xp.empty((T, H, B), dt)
        tc = xp.empty((H, B), dt)
        rec = xp.empty((4 * H, B), dt)
        ig = xp.empty((H, B), dt)
        for step, (t, p, n) in enumerate(_positions(T, reverse)):
            g = gates[t]
            if step or h0 is not None:
                xp.matmul(whh, hs[p], out=rec)
                g += rec
            xp.tanh(g, out=g)  # tanh of the halved sigmoid pre-activations ...
            for sig in (g[:H2], g[H3:]):  # ... -> σ = ½ tanh(x/2) + ½ (scalars on contiguous blocks:
                sig *= 0.5  # a (rows, 1) column operand would make NumPy loop row by row, ~4× slower)
                sig += 0.5
            c = cs[n]
            xp.multiply(g[H:H2], cs[p], out=c)
            xp.multiply(g[:H], g[H2:H3], out=ig)
            c += ig
            xp.tanh(c, out=tc)
            xp.multiply(g[H3:], tc, out=hs[n])
            if keep:
                # k: dz = dc ⊙ k for the rows of i, f, g and dz = dh ⊙ k for o;  a: dc += dh ⊙ a
                kt = k[t]
                xp.subtract(1.0, g, out=kt)
                kt *= g  # σ(1-σ); the g rows are overwritten below
                kt[:H] *= g[H2:H3]  # i(1-i) g
                kt[H:H2] *= cs[p]  # f(1-f) c_{t-1}
                kt[H3:] *= tc  # o(1-o) tanh c_t
                kg = kt[H2:H3]  # (1-g²) i
                xp.multiply(g[H2:H3], g[H2:H3], out=kg)
                xp.subtract(1.0, kg, out=kg)
                kg *= g[:H]
                at = a[t]  # o (1 - tanh² c_t)
                xp.multiply(tc, tc, out=at)
                xp.subtract(1.0, at, out=at)
                at *= g[H3:]
        out, hprev, h_n = _batch_major(hs, reverse)
        c_n = cs[0 if reverse else T].T
        if keep:
            _save(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, hprev, xa)
            ctx.gates, ctx.k, ctx.a = gates, k, a
        return out, h_n, c_n

    @staticmethod
    def backward(ctx, grad_out, grad_hn, grad_cn):
        _no_double_backward(ctx)
        _, _, _, w_ih, w_hh, _, _ = ctx.saved_tensors
        w_ih, w_hh = _arr(w_ih), _arr(w_hh)
        grad_out, grad_hn, grad_cn = _arr(grad_out), _arr(grad_hn), _arr(grad_cn)
        xp = xp_of(grad_out)
        gates, k, a, reverse = ctx.gates, ctx.k, ctx.a, ctx.reverse
        T, H4, B = gates.shape
        H = H4 // 4
        H2, H3 = 2 * H, 3 * H
        f = gates[:, H:H2]
        dz = xp.empty_like(gates)
        dz4, k4 = dz.reshape(T, 4, H, B), k.reshape(T, 4, H, B)  # views: gates i, f, g as one axis
        dh = _grad_state(grad_hn)
        dc = _grad_state(grad_cn)
        tmp = xp.empty_like(dh)
        whh_t = xp.ascontiguousarray(w_hh.T)  # measured ~15% faster per-step matmuls than the view
        steps = _positions(T, reverse)[::-1]
        last = len(steps) - 1
        for s, (t, _, _) in enumerate(steps):
            dh += grad_out[t].T
            dzt = dz[t]
            xp.multiply(dh, k[t, H3:], out=dzt[H3:])
            xp.multiply(dh, a[t], out=tmp)
            dc += tmp
            xp.multiply(dc, k4[t, :3], out=dz4[t, :3])
            dc *= f[t]
            if s < last or ctx.needs_input_grad[1]:
                xp.matmul(whh_t, dzt, out=dh)
        grads = [None] * 8
        if ctx.needs_input_grad[1]:
            grads[1] = dh.T
        if ctx.needs_input_grad[2]:
            grads[2] = dc.T
        return _input_and_weight_grads(ctx, dz, dz, w_ih, grads)


# ----------------------------------------------------------------------------- GRU


class GRUSequence(_SequenceFunction):
    """A whole sequence through a GRU layer (gate order reset, update, new; PyTorch's formula with
    r ⊙ (W_hn h + b_hn) inside the tanh).

    ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)`` with c0 None -> (output (T, B, H), h_n).

    Backward through time, with dh the gradient arriving at h_t and q = W_hn h_{t-1} + b_hn:
        dz_n = dh ⊙ (1-z) ⊙ (1-n²)           (input and hidden projection of n: dz_n and dz_n ⊙ r)
        dz_r = dz_n ⊙ q ⊙ r(1-r),  dz_z = dh ⊙ (h_{t-1} - n) ⊙ z(1-z)
        dh_{t-1} = dh ⊙ z + W_hhᵀ dz_hidden
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        xd, xp, dt, T, B, H = _start(x, w_hh)
        H2 = 2 * H
        scale = _sigmoid_scale(xp, 3, H, (0, 1), dt)
        if b_ih is None:
            bias = b_hn = None
        else:
            bias = b_ih._data.copy()
            bias[:H2] += b_hh._data[:H2]  # the r, z rows of both biases simply add up
            bias *= scale[:, 0]
            b_hn = xp.ascontiguousarray(xp.broadcast_to(b_hh._data[H2:, None], (H, B)))  # full (H, B):
            # a (H, 1) column operand would make NumPy loop row by row
        gates, xa = _project(xp, xd, w_ih._data, bias, scale)  # (T, 3H, B), activated in place below
        whh = w_hh._data * scale
        hs = _state_buffer(xp, T, B, H, dt, h0, reverse)
        q = xp.empty((T, H, B), dt)  # W_hn h_{t-1} + b_hn, kept for backward
        rec = xp.empty((3 * H, B), dt)
        tmp = xp.empty((H, B), dt)
        for step, (t, p, n) in enumerate(_positions(T, reverse)):
            g = gates[t]
            grz, gn = g[:H2], g[H2:]
            if step or h0 is not None:
                xp.matmul(whh, hs[p], out=rec)
                grz += rec[:H2]
                if b_hn is None:
                    q[t] = rec[H2:]
                else:
                    xp.add(rec[H2:], b_hn, out=q[t])
            else:
                q[t] = 0 if b_hn is None else b_hn
            xp.tanh(grz, out=grz)
            grz *= 0.5
            grz += 0.5
            xp.multiply(g[:H], q[t], out=tmp)  # r ⊙ (W_hn h + b_hn)
            gn += tmp
            xp.tanh(gn, out=gn)
            h = hs[n]  # h = n + z ⊙ (h_prev - n)
            xp.subtract(hs[p], gn, out=h)
            h *= g[H:H2]
            h += gn
        out, hprev, h_n = _batch_major(hs, reverse)
        if _recording(ctx):
            _save(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, hprev, xa)
            ctx.hs, ctx.gates, ctx.q = hs, gates, q
        return out, h_n

    @staticmethod
    def backward(ctx, grad_out, grad_hn):
        _no_double_backward(ctx)
        _, _, _, w_ih, w_hh, _, _ = ctx.saved_tensors
        w_ih, w_hh = _arr(w_ih), _arr(w_hh)
        grad_out, grad_hn = _arr(grad_out), _arr(grad_hn)
        xp = xp_of(grad_out)
        hs, gates, q, reverse = ctx.hs, ctx.gates, ctx.q, ctx.reverse
        T, H3, B = gates.shape
        H = H3 // 3
        H2 = 2 * H
        hprev = hs[1:] if reverse else hs[:T]  # (T, H, B)
        r, z, n = gates[:, :H], gates[:, H:H2], gates[:, H2:]

        # factors for all steps: k_r = q ⊙ r(1-r), k_z = (h_prev - n) ⊙ z(1-z), k_n = (1-z)(1-n²)
        k = 1.0 - gates
        k[:, :H2] *= gates[:, :H2]
        k[:, :H] *= q
        k[:, H:H2] *= hprev - n
        kn = k[:, H2:]
        xp.multiply(n, n, out=kn)
        xp.subtract(1.0, kn, out=kn)
        kn *= 1.0 - z

        dzi = xp.empty_like(gates)  # dL/d(input projection)
        dzh = xp.empty_like(gates)  # dL/d(hidden projection)
        dh = _grad_state(grad_hn)
        tmp = xp.empty_like(dh)
        whh_t = xp.ascontiguousarray(w_hh.T)  # measured ~15% faster per-step matmuls than the view
        steps = _positions(T, reverse)[::-1]
        last = len(steps) - 1
        for s, (t, _, _) in enumerate(steps):
            dh += grad_out[t].T
            kt, dg = k[t], dzh[t]
            dn = dzi[t, H2:]
            xp.multiply(dh, kt[H2:], out=dn)
            xp.multiply(dh, kt[H:H2], out=dg[H:H2])
            xp.multiply(dn, kt[:H], out=dg[:H])
            xp.multiply(dn, r[t], out=dg[H2:])
            if s < last or ctx.needs_input_grad[1]:
                xp.multiply(dh, z[t], out=tmp)
                xp.matmul(whh_t, dg, out=dh)
                dh += tmp
        dzi[:, :H2] = dzh[:, :H2]
        grads = [None] * 8
        if ctx.needs_input_grad[1]:
            grads[1] = dh.T
        return _input_and_weight_grads(ctx, dzi, dzh, w_ih, grads)
