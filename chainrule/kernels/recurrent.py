"""The fused recurrent kernels.

The fused recurrent kernels: a whole sequence through one RNN, LSTM or GRU layer, and its
backward through time, on arrays.

PyTorch's formulas, gate order and weight layout (``w_ih`` (gates·H, I), ``w_hh`` (gates·H, H));
the references at the end are one step each, written as a textbook does (``lstm_step_reference``:
six lines).  The tuned versions differ only in how the arithmetic is laid out:

- **one product for all inputs**: ``W_ih @ x_tᵀ`` for every t at once, the bias folded in as a
  column of ones on x and a column b on W, then one copy to time-major blocks (``_project``);
- **feature-major** steps: gates and states are (gates·H, B) blocks, so the per-step product is
  ``(gates·H, H) @ (H, B)`` (the orientation BLAS runs fastest here) and every element-wise op runs
  on contiguous memory; hidden states are also copied once to batch-major (T+1, B, H) for the
  output and the weight gradient;
- **sigmoid gates in one block** (LSTM): inside the forward the gate rows run i, f, o, g and the
  sigmoid rows of the weights and biases are negated once, so one ``exp`` call gives exp(-z) for
  the three sigmoid gates, σ = 1/(1 + exp(-z)) (cheaper than ``tanh``);
- **one tanh for all gates** (GRU): σ(x) = ½·tanh(x/2) + ½, so the rows of the weights (and
  biases) that feed sigmoid gates are halved once, and one ``tanh`` call activates r and z;
- **derivative factors filled in forward** (LSTM): σ(1-σ), 1-tanh² and their products with the
  other gates are written while the step's data is in cache, so backward is a few multiplies a step;
- backward walks the steps in reverse, writing dL/d(pre-activations) into one (T, gates·H, B)
  buffer; at the end one product gives the input gradients of all steps and one per weight the
  weight gradients, summed over time and batch;
- **compiled step loops** (LSTM, with the optional JIT, ``kernels.jit``): the memory-bound
  multiply chains of a step (the cell update, the derivative factors, the backward's cell chain)
  run as one compiled call each, with the NumPy calls' bits; ``exp`` and ``tanh`` stay NumPy.

Inputs are time-major (T, B, I); ``reverse=True`` runs the sequence backwards (output[t] stays
aligned with x[t]); ``h0``/``c0`` of ``None`` mean zeros.  Forward returns the outputs and, when
asked to ``keep``, a dict of the buffers backward needs; backward returns the gradients of
(x, h0, c0, w_ih, w_hh, b_ih, b_hh), ``None`` where not needed (``need``: seven bools).
"""

from __future__ import annotations

from chainrule.backend import np, xp_of
from chainrule.kernels import jit

# Below this many gate values a step (4H·B) runs its NumPy calls: a compiled call's overhead is not worth it.
JIT_MIN_ELEMENTS = 4096

# ----------------------------------------------------------------------------- shared steps


def _sigmoid_scale(xp, n_gates: int, H: int, sigmoid_gates: tuple, dtype):
    """Per-row weight scale that turns sigmoid gates into tanh.

    Per-row scale of the weights, (rows, 1): ½ for the rows of sigmoid gates, 1 otherwise — then
    one tanh gives tanh(x/2) there, and σ(x) = ½ tanh(x/2) + ½.
    """
    scale = xp.ones((n_gates * H, 1), dtype)
    for k in sigmoid_gates:
        scale[k * H : (k + 1) * H] = 0.5
    return scale


def _project(xp, xd, w, b, scale=None):
    """All input projections in one matmul: (scale ⊙ W) (rows, I) @ x_tᵀ + b -> (T, rows, B).

    The bias rides along in the matmul: x gets a column of ones and W the column b (cheaper than
    adding b to the big result).  One (rows, T·B) product, then one copy to time-major blocks:
    faster than a stack of T (rows, B) products.  Returns the projections and the (augmented) input.
    """
    T, B, I = xd.shape
    if b is None:
        xa, wa = xd, (w if scale is None else w * scale)
    else:
        xa = xp.empty((T, B, I + 1), xd.dtype)
        xa[..., :I] = xd
        xa[..., I] = 1
        wa = xp.empty((w.shape[0], I + 1), w.dtype)
        if scale is None:
            wa[:, :I] = w
        else:
            xp.multiply(w, scale, out=wa[:, :I])
        wa[:, I] = b
    rows = wa.shape[0]
    flat = wa @ xa.reshape(T * B, xa.shape[2]).T  # (rows, T·B)
    out = xp.empty((T, rows, B), flat.dtype)
    out[...] = flat.reshape(rows, T, B).transpose(1, 0, 2)
    return out, xa


def _positions(T: int, reverse: bool):
    """The time index and state-buffer positions of each step.

    (t, prev, new) for each step: the time index, and the indices of h_{t-1} and h_t in the
    state buffers (forward: h_0 at 0, h_t at t+1; reverse: h_0 at T, h_t at t).
    """
    if reverse:
        return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
    return [(t, t, t + 1) for t in range(T)]


def _state_buffer(xp, T, B, H, dtype, s0, reverse):
    """A feature-major buffer of the hidden states.

    A feature-major (T+1, H, B) buffer of states with the initial one (given (B, H), or None for
    zeros) in place.
    """
    buf = xp.empty((T + 1, H, B), dtype)
    first = T if reverse else 0
    if s0 is None:
        buf[first] = 0
    else:
        buf[first] = s0.T
    return buf


def _batch_major(hs, reverse):
    """The hidden states as a batch-major array and its views.

    The hidden states as a batch-major (T+1, B, H) array (one transposing copy) and its views:
    output (T, B, H), previous states (T·B, H), h_n (B, H).
    """
    T = hs.shape[0] - 1
    bm = hs.transpose(0, 2, 1).copy()
    if reverse:
        out, prev, last = bm[:T], bm[1:], bm[0]
    else:
        out, prev, last = bm[1:], bm[:T], bm[T]
    return out, prev.reshape(T * bm.shape[1], bm.shape[2]), last


def _gather(dz):
    """dL/d(pre-activations) (T, rows, B) as one (rows, T·B) matrix (a single copy)."""
    T, rows, B = dz.shape
    return dz.transpose(1, 0, 2).reshape(rows, T * B)


def _input_and_weight_grads(saved, need, dz_in, dz_hidden, w_ih, grads):
    """The input and weight gradients at the end of a backward through time.

    The end of every backward: one matmul for the input gradients of all steps and one per
    weight for the weight gradients (summed over time and batch).

    dz_in / dz_hidden: dL/d(input projection) and dL/d(hidden projection), (T, rows, B).
    """
    xp = xp_of(dz_in)
    dzi = _gather(dz_in)
    dzh = dzi if dz_hidden is dz_in else _gather(dz_hidden)
    xa = saved["xa"]
    n, I = dzi.shape[1], w_ih.shape[1]
    if need[0]:
        grads[0] = (dzi.T @ w_ih).reshape(saved["x_shape"])
    has_bias = xa.shape[-1] == I + 1
    db = None
    if need[3] or (has_bias and need[5]):
        dw = dzi @ xa.reshape(n, xa.shape[-1])  # with the ones column: the bias gradient comes along
        if has_bias:
            db = dw[:, I].copy()
            dw = dw[:, :I].copy()
        if need[3]:
            grads[3] = dw
    if need[4]:
        grads[4] = dzh @ saved["hprev"]
    if need[5] or need[6]:
        if db is None:
            db = dzi @ xp.ones(n, dzi.dtype)
        if need[5]:
            grads[5] = db
        if need[6]:
            grads[6] = (db.copy() if need[5] else db) if dzh is dzi else dzh @ xp.ones(n, dzh.dtype)
    return tuple(grads)


def _grad_state(g):
    """dL/d(final state) (B, H) as a feature-major (H, B) array we may update in place."""
    return g.T.copy()


def _kept(x, reverse, hprev, xa, **buffers) -> dict:
    return {"x_shape": x.shape, "reverse": reverse, "hprev": hprev, "xa": xa, **buffers}


# ----------------------------------------------------------------------------- RNN


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse: bool, relu: bool, keep: bool):
    """h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) for every t -> (output (T, B, H), h_n, kept)."""
    xp, dt = xp_of(x), x.dtype
    T, B, _ = x.shape
    H = w_hh.shape[1]
    bias = None if b_ih is None else b_ih + b_hh
    pre, xa = _project(xp, x, w_ih, bias)  # (T, H, B)
    hs = _state_buffer(xp, T, B, H, dt, h0, reverse)
    rec = xp.empty((H, B), dt)
    for step, (t, p, n) in enumerate(_positions(T, reverse)):
        h = hs[n]
        if step or h0 is not None:
            xp.matmul(w_hh, hs[p], out=rec)
            xp.add(pre[t], rec, out=h)
        else:
            h[...] = pre[t]
        if relu:
            xp.maximum(h, 0, out=h)
        else:
            xp.tanh(h, out=h)
    out, hprev, h_n = _batch_major(hs, reverse)
    return out, h_n, (_kept(x, reverse, hprev, xa, hs=hs, relu=relu) if keep else None)


def rnn_backward(kept, w_ih, w_hh, grad_out, grad_hn, need):
    """dL/d(pre_t) = dL/dh_t ⊙ act'(h_t), with dL/dh_t = dL/dout_t + W_hhᵀ dL/d(pre_{t+1})."""
    xp = xp_of(grad_out)
    hs, reverse = kept["hs"], kept["reverse"]
    T = hs.shape[0] - 1
    out = hs[:T] if reverse else hs[1:]  # (T, H, B)
    if kept["relu"]:  # act'(pre) from the outputs, for all steps at once
        deriv = (out > 0).astype(out.dtype)
    else:
        deriv = out * out
        xp.subtract(1.0, deriv, out=deriv)
    dz = xp.empty_like(deriv)
    dh = _grad_state(grad_hn)
    whh_t = xp.ascontiguousarray(w_hh.T)  # a contiguous copy: faster per-step products than the view
    steps = _positions(T, reverse)[::-1]
    last = len(steps) - 1
    for k, (t, _, _) in enumerate(steps):
        dh += grad_out[t].T
        xp.multiply(dh, deriv[t], out=dz[t])
        if k < last or need[1]:
            xp.matmul(whh_t, dz[t], out=dh)
    grads = [None] * 7
    if need[1]:
        grads[1] = dh.T
    return _input_and_weight_grads(kept, need, dz, dz, w_ih, grads)


# ----------------------------------------------------------------------------- LSTM
#
# Inside the forward the gate rows run in the order i, f, o, g (PyTorch's is i, f, g, o): the three
# sigmoid gates are one contiguous block, whose weight rows are negated so that σ(z) = 1/(1+exp(u))
# with u = -z (a negation is exact).  The derivative factors k and dL/d(pre-activations) are in
# PyTorch's order, so backward and the weight gradients need no permutation.


def _lstm_loops(x, H: int, B: int):
    """The compiled LSTM step loops (``kernels.jit``) for NumPy float arrays of big enough steps, or None."""
    if type(x) is not np.ndarray or x.dtype.char not in "fd" or 4 * H * B < JIT_MIN_ELEMENTS:
        return None
    if jit.kernel("lstm_cell") is None:
        return None
    return jit.kernel("lstm_cell"), jit.kernel("lstm_hidden")


def _lstm_rows(xp, w, H: int):
    """PyTorch's gate rows (i, f, g, o) of ``w`` (rows first) as the forward's i, f, o, g, σ rows negated."""
    out = xp.empty_like(w)
    xp.negative(w[: 2 * H], out=out[: 2 * H])
    xp.negative(w[3 * H :], out=out[2 * H : 3 * H])
    out[3 * H :] = w[2 * H : 3 * H]
    return out


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse: bool, keep: bool):
    """An LSTM layer over the sequence -> (output (T, B, H), h_n, c_n, kept)."""
    xp, dt = xp_of(x), x.dtype
    T, B, _ = x.shape
    H = w_hh.shape[1]
    H2, H3 = 2 * H, 3 * H
    bias = None if b_ih is None else _lstm_rows(xp, b_ih + b_hh, H)
    loops = _lstm_loops(x, H, B)
    gates, xa = _project(xp, x, _lstm_rows(xp, w_ih, H), bias)  # (T, 4H, B), activated in place below
    whh = _lstm_rows(xp, w_hh, H)
    hs = _state_buffer(xp, T, B, H, dt, h0, reverse)
    cs = _state_buffer(xp, T, B, H, dt, c0, reverse)
    if keep:  # derivative factors for backward, computed while the step's data is in cache
        k = xp.empty((T, 4 * H, B), dt)
        a = xp.empty((T, H, B), dt)
    tc = xp.empty((H, B), dt)
    rec = xp.empty((4 * H, B), dt)
    ig = xp.empty((H, B), dt)
    with np.errstate(over="ignore"):  # exp(u) = inf gives σ = 0, as it should
        for step, (t, p, n) in enumerate(_positions(T, reverse)):
            g = gates[t]
            if step or h0 is not None:
                xp.matmul(whh, hs[p], out=rec)
                g += rec
            sig, gg = g[:H3], g[H3:]
            xp.exp(sig, out=sig)  # σ(z) = 1 / (1 + exp(-z)), the rows hold -z
            xp.tanh(gg, out=gg)
            c = cs[n]
            if loops is not None:
                loops[0](g, cs[p], c)
            else:
                sig += 1.0
                xp.divide(1.0, sig, out=sig)
                xp.multiply(g[H:H2], cs[p], out=c)
                xp.multiply(g[:H], gg, out=ig)
                c += ig
            xp.tanh(c, out=tc)
            if keep and loops is not None:
                loops[1](g, cs[p], tc, hs[n], k[t], a[t])
                continue
            i, o = g[:H], g[H2:H3]
            xp.multiply(o, tc, out=hs[n])
            if keep:
                # k (PyTorch's row order): dz = dc ⊙ k for the rows of i, f, g and dz = dh ⊙ k for o;
                # a: dc += dh ⊙ a
                kt = k[t]
                xp.subtract(1.0, g[:H2], out=kt[:H2])
                kt[:H2] *= g[:H2]  # σ(1-σ)
                kt[:H] *= gg  # i(1-i) g
                kt[H:H2] *= cs[p]  # f(1-f) c_{t-1}
                ko = kt[H3:]  # o(1-o) tanh c_t
                xp.subtract(1.0, o, out=ko)
                ko *= o
                ko *= tc
                kg = kt[H2:H3]  # (1-g²) i
                xp.multiply(gg, gg, out=kg)
                xp.subtract(1.0, kg, out=kg)
                kg *= i
                at = a[t]  # o (1 - tanh² c_t)
                xp.multiply(tc, tc, out=at)
                xp.subtract(1.0, at, out=at)
                at *= o
    out, hprev, h_n = _batch_major(hs, reverse)
    c_n = cs[0 if reverse else T].T
    kept = _kept(x, reverse, hprev, xa, gates=gates, k=k, a=a) if keep else None
    return out, h_n, c_n, kept


def lstm_backward(kept, w_ih, w_hh, grad_out, grad_hn, grad_cn, need):
    """An LSTM layer's backward through time.

    Backward through time, with dh, dc the gradients arriving at h_t, c_t:
    dc += dh ⊙ o ⊙ (1 - tanh²c_t)
    dz_i = dc ⊙ g ⊙ i(1-i),  dz_f = dc ⊙ c_{t-1} ⊙ f(1-f),  dz_g = dc ⊙ i ⊙ (1-g²),
    dz_o = dh ⊙ tanh c_t ⊙ o(1-o)
    dc_{t-1} = dc ⊙ f,  dh_{t-1} = W_hhᵀ dz (+ dL/dout_{t-1})
    """
    xp = xp_of(grad_out)
    gates, k, a, reverse = kept["gates"], kept["k"], kept["a"], kept["reverse"]
    T, H4, B = gates.shape
    H = H4 // 4
    H2, H3 = 2 * H, 3 * H
    f = gates[:, H:H2]  # the forward's gate order i, f, o, g
    step = jit.kernel("lstm_cell_backward") if _lstm_loops(grad_out, H, B) is not None else None
    dz = xp.empty_like(gates)
    dz4, k4 = dz.reshape(T, 4, H, B), k.reshape(T, 4, H, B)  # views: gates i, f, g as one axis
    dh = _grad_state(grad_hn)
    dc = _grad_state(grad_cn)
    tmp = xp.empty_like(dh)
    whh_t = xp.ascontiguousarray(w_hh.T)  # a contiguous copy: faster per-step products than the view
    steps = _positions(T, reverse)[::-1]
    last = len(steps) - 1
    for s, (t, _, _) in enumerate(steps):
        dzt = dz[t]
        if step is not None:
            step(dh, dc, grad_out[t], k[t], a[t], f[t], dzt)
        else:
            dh += grad_out[t].T
            xp.multiply(dh, k[t, H3:], out=dzt[H3:])
            xp.multiply(dh, a[t], out=tmp)
            dc += tmp
            xp.multiply(dc, k4[t, :3], out=dz4[t, :3])
            dc *= f[t]
        if s < last or need[1]:
            xp.matmul(whh_t, dzt, out=dh)
    grads = [None] * 7
    if need[1]:
        grads[1] = dh.T
    if need[2]:
        grads[2] = dc.T
    return _input_and_weight_grads(kept, need, dz, dz, w_ih, grads)


# ----------------------------------------------------------------------------- GRU


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse: bool, keep: bool):
    """A GRU layer over the whole sequence.

    A GRU layer over the sequence (r ⊙ (W_hn h + b_hn) inside the tanh, as PyTorch)
    -> (output (T, B, H), h_n, kept).
    """
    xp, dt = xp_of(x), x.dtype
    T, B, _ = x.shape
    H = w_hh.shape[1]
    H2 = 2 * H
    scale = _sigmoid_scale(xp, 3, H, (0, 1), dt)
    if b_ih is None:
        bias = b_hn = None
    else:
        bias = b_ih.copy()
        bias[:H2] += b_hh[:H2]  # the r, z rows of both biases simply add up
        bias *= scale[:, 0]
        # a full (H, B) array: a (H, 1) column operand would make NumPy loop row by row
        b_hn = xp.ascontiguousarray(xp.broadcast_to(b_hh[H2:, None], (H, B)))
    gates, xa = _project(xp, x, w_ih, bias, scale)  # (T, 3H, B), activated in place below
    whh = w_hh * scale
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
    return out, h_n, (_kept(x, reverse, hprev, xa, hs=hs, gates=gates, q=q) if keep else None)


def gru_backward(kept, w_ih, w_hh, grad_out, grad_hn, need):
    """A GRU layer's backward through time.

    Backward through time, with dh the gradient arriving at h_t and q = W_hn h_{t-1} + b_hn:
    dz_n = dh ⊙ (1-z) ⊙ (1-n²)           (input and hidden projection of n: dz_n and dz_n ⊙ r)
    dz_r = dz_n ⊙ q ⊙ r(1-r),  dz_z = dh ⊙ (h_{t-1} - n) ⊙ z(1-z)
    dh_{t-1} = dh ⊙ z + W_hhᵀ dz_hidden
    """
    xp = xp_of(grad_out)
    hs, gates, q, reverse = kept["hs"], kept["gates"], kept["q"], kept["reverse"]
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
    whh_t = xp.ascontiguousarray(w_hh.T)  # a contiguous copy: faster per-step products than the view
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
        if s < last or need[1]:
            xp.multiply(dh, z[t], out=tmp)
            xp.matmul(whh_t, dg, out=dh)
            dh += tmp
    dzi[:, :H2] = dzh[:, :H2]
    grads = [None] * 7
    if need[1]:
        grads[1] = dh.T
    return _input_and_weight_grads(kept, need, dzi, dzh, w_ih, grads)


# ----------------------------------------------------------------------------- references
#
# One step each, batch-major (B, features), as a textbook writes it; ``sequence_reference`` runs a
# step over the sequence.  The tuned backward is checked against the derivative of these
# (tests/kernels/test_recurrent.py).


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def rnn_step_reference(x, h, w_ih, w_hh, b_ih, b_hh, relu=False):
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), x (B, I), h (B, H)."""
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return np.maximum(z, 0) if relu else np.tanh(z)


def lstm_step_reference(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step -> (h', c'), gates in PyTorch's order i, f, g, o."""
    i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
    i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c


def gru_step_reference(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step -> h', gates in PyTorch's order r, z, n (r applied to W_hn h + b_hn)."""
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, axis=1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def sequence_reference(step, x, states, reverse=False):
    """Run ``step(x_t, *states) -> new state(s)`` over x (T, B, I) -> (outputs (T, B, H), final states)."""
    outs = [None] * len(x)
    for t in reversed(range(len(x))) if reverse else range(len(x)):
        new = step(x[t], *states)
        states = new if isinstance(new, tuple) else (new,)
        outs[t] = states[0]
    return np.stack(outs), states
