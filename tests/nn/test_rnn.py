"""RNN, LSTM, GRU and their cells against PyTorch with identical weights (state_dict copied across):
outputs, final states and the gradients of the input, the initial states and every parameter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.ops import recurrent as R
from tests.helpers import assert_close

KINDS = {
    "rnn_tanh": (
        lambda *a, **k: nn.RNN(*a, nonlinearity="tanh", **k),
        lambda *a, **k: torch.nn.RNN(*a, nonlinearity="tanh", **k),
    ),
    "rnn_relu": (
        lambda *a, **k: nn.RNN(*a, nonlinearity="relu", **k),
        lambda *a, **k: torch.nn.RNN(*a, nonlinearity="relu", **k),
    ),
    "lstm": (nn.LSTM, torch.nn.LSTM),
    "gru": (nn.GRU, torch.nn.GRU),
}
CELLS = {
    "rnn_tanh": (
        lambda *a, **k: nn.RNNCell(*a, nonlinearity="tanh", **k),
        lambda *a, **k: torch.nn.RNNCell(*a, nonlinearity="tanh", **k),
    ),
    "rnn_relu": (
        lambda *a, **k: nn.RNNCell(*a, nonlinearity="relu", **k),
        lambda *a, **k: torch.nn.RNNCell(*a, nonlinearity="relu", **k),
    ),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell),
    "gru": (nn.GRUCell, torch.nn.GRUCell),
}


def copy_weights(cr_module, torch_module, dtype=np.float32):
    sd = {k: cr.tensor(v.detach().numpy().astype(dtype)) for k, v in torch_module.state_dict().items()}
    cr_module.load_state_dict(sd)


def leaf(arr):
    """The same values as a chainrule and a torch leaf that require grad."""
    return cr.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)


def pair(kind, *args, dtype=np.float32, **kwargs):
    make_cr, make_torch = KINDS[kind]
    tm = make_torch(*args, **kwargs)
    if dtype == np.float64:
        tm = tm.double()
    cm = make_cr(*args, dtype=dtype, **kwargs)
    copy_weights(cm, tm, dtype)
    return cm, tm


def compare_run(kind, cm, tm, x_shape, with_state, rng, rtol=1e-4, atol=1e-5):
    """Run both modules on the same input (and initial state), backpropagate the same random upstream
    gradients from the output and the final state(s), compare everything."""
    is_lstm = kind == "lstm"
    D = 2 if tm.bidirectional else 1
    unbatched = len(x_shape) == 2
    B = None if unbatched else (x_shape[0] if tm.batch_first else x_shape[1])
    state_shape = (D * tm.num_layers, tm.hidden_size) if unbatched else (D * tm.num_layers, B, tm.hidden_size)
    cx, tx = leaf(rng.standard_normal(x_shape).astype(np.float32))
    c_args, t_args = [cx], [tx]
    states = []
    if with_state:
        ch, th = leaf(rng.standard_normal(state_shape).astype(np.float32))
        states.append((ch, th))
        if is_lstm:
            cc, tc = leaf(rng.standard_normal(state_shape).astype(np.float32))
            states.append((cc, tc))
            c_args.append((ch, cc))
            t_args.append((th, tc))
        else:
            c_args.append(ch)
            t_args.append(th)
    c_out, c_state = cm(*c_args)
    t_out, t_state = tm(*t_args)
    c_finals = list(c_state) if is_lstm else [c_state]
    t_finals = list(t_state) if is_lstm else [t_state]
    assert_close(c_out, t_out, rtol, atol, what="output")
    for c, t in zip(c_finals, t_finals):
        assert_close(c, t, rtol, atol, what="final state")
    g_out = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
    g_fin = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in t_finals]
    c_loss = (c_out * cr.tensor(g_out)).sum()
    t_loss = (t_out * torch.tensor(g_out)).sum()
    for c, t, g in zip(c_finals, t_finals, g_fin):
        c_loss = c_loss + (c * cr.tensor(g)).sum()
        t_loss = t_loss + (t * torch.tensor(g)).sum()
    c_loss.backward()
    t_loss.backward()
    assert_close(cx.grad, tx.grad, rtol, atol, what="input gradient")
    for i, (c, t) in enumerate(states):
        assert_close(c.grad, t.grad, rtol, atol, what=f"initial state {i} gradient")
    t_params = dict(tm.named_parameters())
    c_params = dict(cm.named_parameters())
    assert list(c_params) == list(t_params)
    for name, p in t_params.items():
        assert_close(c_params[name].grad, p.grad, rtol, atol, what=f"gradient of {name}")


# ----------------------------------------------------------------------------- layers


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (1, True), (2, False), (2, True)])
@pytest.mark.parametrize("batch_first,with_state", list(itertools.product([False, True], [False, True])))
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, with_state, rng):
    cm, tm = pair(kind, 5, 7, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    T, B = 6, 3
    shape = (B, T, 5) if batch_first else (T, B, 5)
    compare_run(kind, cm, tm, shape, with_state, rng)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("with_state", [False, True])
def test_sequence_length_one(kind, with_state, rng):
    cm, tm = pair(kind, 4, 6, num_layers=2, bidirectional=True)
    compare_run(kind, cm, tm, (1, 3, 4), with_state, rng)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(kind, with_state, batch_first, rng):
    cm, tm = pair(kind, 4, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    compare_run(kind, cm, tm, (7, 4), with_state, rng)


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_bias(kind, rng):
    cm, tm = pair(kind, 4, 5, num_layers=2, bias=False)
    names = ["weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"]
    assert [n for n, _ in cm.named_parameters()] == names
    compare_run(kind, cm, tm, (6, 2, 4), True, rng)


@pytest.mark.parametrize("kind", list(KINDS))
def test_longer_sequence_and_batch(kind, rng):
    cm, tm = pair(kind, 16, 32)
    compare_run(kind, cm, tm, (40, 8, 16), True, rng, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("kind", list(KINDS))
def test_parameters_names_shapes_and_init(kind):
    make_cr, make_torch = KINDS[kind]
    cm = make_cr(10, 20, num_layers=2, bidirectional=True)
    tm = make_torch(10, 20, num_layers=2, bidirectional=True)
    assert_init_as_torch(cm, tm, 20)


def assert_init_as_torch(cm, tm, hidden: int) -> None:
    """Same parameter names, shapes and state_dict keys as the torch module, float32 values drawn
    from U(-1/√H, 1/√H) (bounded, not constant)."""
    c_named = [(n, tuple(p.shape)) for n, p in cm.named_parameters()]
    t_named = [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert c_named == t_named
    bound = 1 / np.sqrt(hidden)
    for name, p in cm.named_parameters():
        v = p.detach().numpy()
        assert v.dtype == np.float32, name
        assert np.all(np.abs(v) <= bound) and v.std() > bound / 3, name
    assert list(cm.state_dict()) == list(tm.state_dict())


def test_sequence_to_one_gradient_only_through_h_n(rng):
    """A classifier reading h_n only: gradients arrive through the final state alone."""
    cm, tm = pair("lstm", 3, 8, batch_first=True)
    cx, tx = leaf(rng.standard_normal((4, 9, 3)).astype(np.float32))
    _, (ch, _) = cm(cx)
    _, (th, _) = tm(tx)
    (ch[-1] ** 2).sum().backward()
    (th[-1] ** 2).sum().backward()
    assert_close(cx.grad, tx.grad, what="input gradient")
    for name, p in tm.named_parameters():
        assert_close(getattr(cm, name).grad, p.grad, what=f"gradient of {name}")


def test_float64(rng):
    cm, tm = pair("gru", 3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    x = rng.standard_normal((5, 2, 3))
    cx, tx = leaf(x)
    cy, _ = cm(cx)
    ty, _ = tm(tx)
    assert cy.dtype == np.float64
    assert_close(cy, ty, rtol=1e-10, atol=1e-12)
    cy.sum().backward()
    ty.sum().backward()
    assert_close(cx.grad, tx.grad, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- cells


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize(
    "batched,with_state,bias",
    [(b, s, True) for b, s in itertools.product([True, False], [True, False])]
    + [(True, True, False), (False, False, False)],
)
def test_cell_matches_torch(kind, batched, with_state, bias, rng):
    make_cr, make_torch = CELLS[kind]
    tm = make_torch(4, 6, bias=bias)
    cm = make_cr(4, 6, bias=bias)
    copy_weights(cm, tm)
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    B = 3
    xs = (B, 4) if batched else (4,)
    hs = (B, 6) if batched else (6,)
    cx, tx = leaf(rng.standard_normal(xs).astype(np.float32))
    c_args, t_args, states = [cx], [tx], []
    if with_state:
        ch, th = leaf(rng.standard_normal(hs).astype(np.float32))
        states.append((ch, th))
        if kind == "lstm":
            cc, tc = leaf(rng.standard_normal(hs).astype(np.float32))
            states.append((cc, tc))
            c_args.append((ch, cc))
            t_args.append((th, tc))
        else:
            c_args.append(ch)
            t_args.append(th)
    c_res, t_res = cm(*c_args), tm(*t_args)
    c_res = list(c_res) if kind == "lstm" else [c_res]
    t_res = list(t_res) if kind == "lstm" else [t_res]
    c_loss = t_loss = 0
    for c, t in zip(c_res, t_res):
        assert_close(c, t, what="cell output")
        g = rng.standard_normal(tuple(t.shape)).astype(np.float32)
        c_loss = c_loss + (c * cr.tensor(g)).sum()
        t_loss = t_loss + (t * torch.tensor(g)).sum()
    c_loss.backward()
    t_loss.backward()
    assert_close(cx.grad, tx.grad, what="input gradient")
    for c, t in states:
        assert_close(c.grad, t.grad, what="state gradient")
    for name, p in tm.named_parameters():
        assert_close(getattr(cm, name).grad, p.grad, what=f"gradient of {name}")


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_default_init_as_torch(kind):
    """Every cell parameter starts as PyTorch's: U(-1/sqrt(H), 1/sqrt(H)) (std 1/sqrt(3H))."""
    H = 64
    cr.manual_seed(0)
    cm = CELLS[kind][0](32, H)
    assert_init_as_torch(cm, CELLS[kind][1](32, H), H)
    uniform_std = 1 / np.sqrt(3 * H)
    for name, p in cm.named_parameters():
        assert abs(p._data.std() - uniform_std) < 0.15 * uniform_std, name


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_cell_unrolled_equals_layer(kind, rng):
    """Running the cell step by step gives the layer's output (same weights)."""
    make_cell = CELLS[kind][0]
    layer = KINDS[kind][0](3, 5)
    cell = make_cell(3, 5)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = cr.tensor(rng.standard_normal((4, 2, 3)).astype(np.float32))
    out, _ = layer(x)
    state = None
    for t in range(4):
        state = cell(x[t], state)
        h = state[0] if kind == "lstm" else state
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- truncated BPTT


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_truncated_bptt_matches_torch(kind, rng):
    """Three chunks, the state carried across with .detach(): per-chunk gradients equal PyTorch's."""
    cm, tm = pair(kind, 4, 6, num_layers=2)
    head_t = torch.nn.Linear(6, 1)
    head_c = nn.Linear(6, 1)
    copy_weights(head_c, head_t)
    seq = rng.standard_normal((3 * 5, 2, 4)).astype(np.float32)
    c_state = t_state = None
    for k in range(3):
        chunk = seq[5 * k : 5 * (k + 1)]
        c_out, c_state = cm(cr.tensor(chunk), c_state)
        t_out, t_state = tm(torch.tensor(chunk), t_state)
        c_loss = (head_c(c_out) ** 2).mean()
        t_loss = (head_t(t_out) ** 2).mean()
        cm.zero_grad()
        tm.zero_grad()
        c_loss.backward()
        t_loss.backward()
        assert_close(c_loss, t_loss, what=f"chunk {k} loss")
        for name, p in tm.named_parameters():
            assert_close(getattr(cm, name).grad, p.grad, what=f"chunk {k} gradient of {name}")
        if kind == "lstm":
            c_state = tuple(s.detach() for s in c_state)
            t_state = tuple(s.detach() for s in t_state)
        else:
            c_state, t_state = c_state.detach(), t_state.detach()
        assert not (c_state[0] if kind == "lstm" else c_state).requires_grad


def test_without_detach_backward_reaches_previous_chunk(rng):
    """Without .detach() the second chunk's loss backpropagates into the first chunk's input."""
    lstm = nn.LSTM(3, 4)
    x1 = cr.tensor(rng.standard_normal((2, 1, 3)).astype(np.float32), requires_grad=True)
    x2 = cr.tensor(rng.standard_normal((2, 1, 3)).astype(np.float32))
    _, state = lstm(x1)
    out, _ = lstm(x2, state)
    out.sum().backward()
    assert x1.grad is not None and np.abs(x1.grad.numpy()).sum() > 0


# ----------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_dropout_eval_mode_matches_torch(kind, rng):
    cm, tm = pair(kind, 4, 6, num_layers=3, dropout=0.5)
    cm.eval()
    tm.eval()
    compare_run(kind, cm, tm, (5, 2, 4), True, rng)


def test_dropout_one_zeroes_the_next_layers_input(rng):
    """p = 1 is deterministic: every layer above the first sees zeros (train mode), as PyTorch."""
    cm, tm = pair("lstm", 4, 6, num_layers=2, dropout=1.0)
    compare_run("lstm", cm, tm, (5, 2, 4), True, rng)


def test_dropout_train_mode_masks():
    """Train mode: the masked layer input is 0 or x / (1 - p), with about p of it zeroed."""
    from chainrule.ops.dropout import drop

    x = cr.ones(200, 10, 30)
    y = drop(x, 0.3, x.shape).numpy()
    assert y.shape == (200, 10, 30) and y.dtype == np.float32
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((y == 0).mean() - 0.3) < 0.01
    lstm = nn.LSTM(4, 6, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 4)
    a, _ = lstm(x)
    b, _ = lstm(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # fresh masks each call
    lstm.eval()
    c, _ = lstm(x)
    d, _ = lstm(x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())
    cr.manual_seed(3)
    e, _ = nn.LSTM(4, 6, num_layers=2, dropout=0.5)(x)
    cr.manual_seed(3)
    f, _ = nn.LSTM(4, 6, num_layers=2, dropout=0.5)(x)
    np.testing.assert_array_equal(e.detach().numpy(), f.detach().numpy())  # reproducible by seed


def test_dropout_single_layer_warns():
    with pytest.warns(UserWarning, match="dropout"):
        nn.GRU(3, 4, dropout=0.2)


# ----------------------------------------------------------------------------- gradcheck


@pytest.mark.parametrize("op", [R.RNNTanhSequence, R.RNNReluSequence, R.LSTMSequence, R.GRUSequence])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_fused_ops(op, reverse, rng):
    T, B, I, H = 3, 2, 2, 3
    rows = {R.LSTMSequence: 4, R.GRUSequence: 3}.get(op, 1) * H

    def t(*shape):
        return cr.tensor(rng.uniform(-0.8, 0.8, shape), requires_grad=True)

    x, h0, w_ih, w_hh, b_ih, b_hh = t(T, B, I), t(B, H), t(rows, I), t(rows, H), t(rows), t(rows)
    c0 = t(B, H) if op is R.LSTMSequence else None
    if op is R.RNNReluSequence:  # keep pre-activations away from relu's kink
        with cr.no_grad():
            b_ih._data += 2.0
    inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    assert cr.autograd.gradcheck(lambda *a: op.apply(*a, reverse), inputs)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gradcheck_module_float64(kind, rng):
    m = KINDS[kind][0](2, 3, num_layers=2, bidirectional=True, dtype=np.float64)
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    if kind == "lstm":
        c = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)

        def f(x, h, c):
            out, (hn, cn) = m(x, (h, c))
            return out, hn, cn

        assert cr.autograd.gradcheck(f, (x, h, c))
    else:
        assert cr.autograd.gradcheck(lambda x, h: m(x, h), (x, h))


def test_second_derivative_raises():
    lstm = nn.LSTM(2, 3)
    x = cr.randn(2, 1, 2, requires_grad=True)
    out, _ = lstm(x)
    with pytest.raises(RuntimeError, match="second derivatives"):
        cr.autograd.grad(out.sum(), [x], create_graph=True)


# ----------------------------------------------------------------------------- errors


def test_errors_name_the_op_and_shapes():
    lstm = nn.LSTM(10, 20, num_layers=2)
    with pytest.raises(
        ValueError, match=r"LSTM: input has 7 features but input_size is 10 \(input shape \(5, 3, 7\)\)"
    ):
        lstm(cr.randn(5, 3, 7))
    with pytest.raises(ValueError, match=r"LSTM: h_0 has shape \(1, 3, 20\) but expected \(2, 3, 20\)"):
        lstm(cr.randn(5, 3, 10), (cr.zeros(1, 3, 20), cr.zeros(2, 3, 20)))
    with pytest.raises(ValueError, match=r"LSTM: c_0 has shape \(2, 3, 21\) but expected \(2, 3, 20\)"):
        lstm(cr.randn(5, 3, 10), (cr.zeros(2, 3, 20), cr.zeros(2, 3, 21)))
    with pytest.raises(TypeError, match="LSTM: hx must be a tuple"):
        lstm(cr.randn(5, 3, 10), cr.zeros(2, 3, 20))
    gru = nn.GRU(4, 6, batch_first=True)
    with pytest.raises(ValueError, match=r"GRU: h_0 has shape \(1, 5, 6\) but expected \(1, 3, 6\)"):
        gru(cr.randn(3, 5, 4), cr.zeros(1, 5, 6))
    with pytest.raises(ValueError, match=r"GRU: expected input to be 2-D \(unbatched\) or 3-D, got 4-D"):
        gru(cr.randn(3, 5, 4, 1))
    with pytest.raises(ValueError, match=r"RNN: h_0 has shape \(1, 2, 6\) but expected \(1, 6\)"):
        nn.RNN(4, 6)(cr.randn(5, 4), cr.zeros(1, 2, 6))
    with pytest.raises(TypeError, match="RNN: input dtype float64 does not match"):
        nn.RNN(4, 6)(cr.randn(5, 4, dtype=cr.float64))
    with pytest.raises(ValueError, match="RNN: unknown nonlinearity 'sigmoid'"):
        nn.RNN(4, 6, nonlinearity="sigmoid")
    with pytest.raises(
        ValueError, match=r"GRUCell: input has 3 features but input_size is 4 \(input shape \(2, 3\)\)"
    ):
        nn.GRUCell(4, 6)(cr.randn(2, 3))
    with pytest.raises(ValueError, match=r"LSTMCell: c has shape \(2, 5\) but expected \(2, 6\)"):
        nn.LSTMCell(4, 6)(cr.randn(2, 4), (cr.zeros(2, 6), cr.zeros(2, 5)))
    with pytest.raises(ValueError, match=r"LSTM: dropout must be a number in \[0, 1\]"):
        nn.LSTM(4, 6, dropout=1.5)


def test_failed_call_changes_nothing():
    lstm = nn.LSTM(4, 6)
    before = {k: v.numpy().copy() for k, v in lstm.state_dict().items()}
    with pytest.raises(ValueError):
        lstm(cr.randn(5, 3, 5))
    for k, v in lstm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


# ----------------------------------------------------------------------------- training pieces


def test_gradient_clipping_works_with_lstm(rng):
    from chainrule.nn.utils import clip_grad_norm_

    cm, tm = pair("lstm", 4, 8, num_layers=2)
    x = rng.standard_normal((6, 3, 4)).astype(np.float32)
    (cm(cr.tensor(x))[0] ** 2).sum().backward()
    (tm(torch.tensor(x))[0] ** 2).sum().backward()
    c_norm = clip_grad_norm_(cm.parameters(), 0.1)
    t_norm = torch.nn.utils.clip_grad_norm_(tm.parameters(), 0.1)
    assert_close(c_norm, t_norm)
    for name, p in tm.named_parameters():
        assert_close(getattr(cm, name).grad, p.grad, what=f"clipped gradient of {name}")


def test_retain_graph_and_freed_buffers():
    gru = nn.GRU(3, 4, num_layers=2)
    x = cr.randn(5, 2, 3, requires_grad=True)
    out, _ = gru(x)
    out.sum().backward(retain_graph=True)
    first = x.grad.numpy().copy()
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="GRUSequence: trying to backward through the graph a second time"):
        out.sum().backward()
    assert not hasattr(out.grad_fn, "gates")  # the per-step buffers were released
