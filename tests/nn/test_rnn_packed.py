"""Packed sequences (cr.nn.utils.rnn) and LSTM proj_size, against torch.nn.utils.rnn and torch.nn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as tru

import chainrule as cr
import chainrule.nn.utils.rnn as cru
from chainrule.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t._data if isinstance(t, cr.Tensor) else np.asarray(t)


def _close(a, b, rtol=1e-10, atol=1e-12, msg=""):
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, err_msg=msg)
    assert _np(a).shape == _np(b).shape


def _pair(values):
    return cr.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


# ------------------------------------------------------------------------------ utilities


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 5], [4, 4, 4, 4]])
def test_pack_and_pad_round_trip_match_torch(batch_first, lengths):
    rng = np.random.default_rng(0)
    shape = (4, 5, 3, 2) if batch_first else (5, 4, 3, 2)
    x, tx = _pair(rng.normal(size=shape))
    enforce = lengths == sorted(lengths, reverse=True)
    p = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce)
    tp = tru.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce)
    _close(p.data, tp.data)
    assert p.batch_sizes.tolist() == tp.batch_sizes.tolist() and p.batch_sizes.dtype == cr.int64
    for ours, theirs in ((p.sorted_indices, tp.sorted_indices), (p.unsorted_indices, tp.unsorted_indices)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.tolist() == theirs.tolist()
    y, n = pad_packed_sequence(p, batch_first=batch_first, padding_value=-3.0, total_length=7)
    ty, tn = tru.pad_packed_sequence(tp, batch_first=batch_first, padding_value=-3.0, total_length=7)
    _close(y, ty)
    assert n.tolist() == tn.tolist() == lengths
    w = rng.normal(size=tuple(y.shape))
    (y * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    _close(x.grad, tx.grad)  # padding positions get no gradient


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    rng = np.random.default_rng(1)
    pairs = [_pair(rng.normal(size=(n, 2, 3))) for n in (3, 6, 1)]
    y = cru.pad_sequence([a for a, _ in pairs], batch_first, 0.5, padding_side)
    ty = tru.pad_sequence([b for _, b in pairs], batch_first, 0.5, padding_side)
    _close(y, ty)
    w = rng.normal(size=tuple(y.shape))
    (y * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for a, b in pairs:
        _close(a.grad, b.grad)


def test_pack_sequence_unpack_and_unpad_match_torch():
    rng = np.random.default_rng(2)
    seqs = [rng.normal(size=(n, 3)) for n in (2, 4, 4, 1)]
    p = cru.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False)
    tp = tru.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    _close(p.data, tp.data)
    assert p.sorted_indices.tolist() == tp.sorted_indices.tolist()
    for ours, s in zip(cru.unpack_sequence(p), seqs):
        _close(ours, s)
    padded = cru.pad_sequence([cr.tensor(s) for s in seqs], batch_first=True)
    for ours, s in zip(cru.unpad_sequence(padded, [2, 4, 4, 1], batch_first=True), seqs):
        _close(ours, s)
    assert isinstance(p, tuple) and p._fields == tp._fields
    assert p.to(cr.float32).data.dtype == cr.float32 and p.double() is p and not p.is_cuda


def test_packing_errors():
    x = cr.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order.*enforce_sorted=False"):
        pack_padded_sequence(x, [1, 3, 2])
    with pytest.raises(ValueError, match="must be > 0"):
        pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(ValueError, match=r"a length \(5\) exceeds the 4 steps"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="non-empty batch"):
        pack_padded_sequence(cr.zeros(3, 0, 2), [])
    with pytest.raises(ValueError, match="got 2 lengths for a batch of 3"):
        pack_padded_sequence(x, [3, 2])
    with pytest.raises(TypeError, match="lengths must be a 1-D sequence of integers"):
        pack_padded_sequence(x, [3.5, 2, 1])
    p = pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length=3 is less than the longest sequence"):
        pad_packed_sequence(p, total_length=3)
    with pytest.raises(ValueError, match="padding_side='middle'"):
        cru.pad_sequence([cr.zeros(2)], padding_side="middle")
    with pytest.raises(ValueError, match=r"sequences\[1\] has shape \(2, 3\)"):
        cru.pad_sequence([cr.zeros(2, 2), cr.zeros(2, 3)])
    with pytest.raises(ValueError, match="non-increasing"):
        PackedSequence(cr.zeros(3), cr.tensor([1, 2]))


# ------------------------------------------------------------------------------ recurrent layers


def _layers(mode, **kw):
    if mode == "LSTM-proj":
        return cr.nn.LSTM(3, 5, proj_size=2, **kw).double(), torch.nn.LSTM(3, 5, proj_size=2, **kw).double()
    return getattr(cr.nn, mode)(3, 5, **kw).double(), getattr(torch.nn, mode)(3, 5, **kw).double()


def _copy(m, tm):
    for (name, p), (tname, tp) in zip(m.named_parameters(), tm.named_parameters()):
        assert name == tname and tuple(p.shape) == tuple(tp.shape), (name, tname)
        p._data[...] = tp.detach().numpy()


def _states(out):
    return list(out[1]) if isinstance(out[1], tuple) else [out[1]]


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU", "LSTM-proj"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed_input_matches_torch(mode, bidirectional, with_state):
    """Outputs, each sequence's final state, and every gradient, as torch (unsorted lengths)."""
    rng = np.random.default_rng(3)
    batch_first = with_state  # both layouts get covered
    m, tm = _layers(mode, num_layers=2, bidirectional=bidirectional, batch_first=batch_first)
    _copy(m, tm)
    lengths, B, T = [4, 6, 1, 4, 2], 5, 6
    x, tx = _pair(rng.normal(size=(B, T, 3) if batch_first else (T, B, 3)))
    D, H = (2 if bidirectional else 1), (2 if mode == "LSTM-proj" else 5)
    hx = thx = None
    if with_state:
        (h0, th0), (c0, tc0) = _pair(rng.normal(size=(2 * D, B, H))), _pair(rng.normal(size=(2 * D, B, 5)))
        hx, thx = ((h0, c0), (th0, tc0)) if mode.startswith("LSTM") else (h0, th0)
    p = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    tp = tru.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=False)
    out, tout = m(p, hx), tm(tp, thx)
    assert isinstance(out[0], PackedSequence) and out[0].batch_sizes.tolist() == tout[0].batch_sizes.tolist()
    _close(out[0].data, tout[0].data)
    for s, ts in zip(_states(out), _states(tout)):
        _close(s, ts)  # h_n: the state of each sequence at its own last real step
    y = pad_packed_sequence(out[0], batch_first=batch_first)[0]
    ty = tru.pad_packed_sequence(tout[0], batch_first=batch_first)[0]
    w = rng.normal(size=tuple(y.shape))
    loss = (y * cr.tensor(w)).sum() + sum((s * s).sum() for s in _states(out))
    tloss = (ty * torch.tensor(w)).sum() + sum((s * s).sum() for s in _states(tout))
    loss.backward()
    tloss.backward()
    _close(x.grad, tx.grad, rtol=1e-9, atol=1e-11)
    if with_state:
        _close(h0.grad, th0.grad, rtol=1e-9, atol=1e-11)
    for (name, a), (_, b) in zip(m.named_parameters(), tm.named_parameters()):
        _close(a.grad, b.grad, rtol=1e-9, atol=1e-11, msg=name)


def test_sorted_packed_input_equals_per_sequence_runs():
    """enforce_sorted=True input; h_n of each sequence equals running it alone, unpadded."""
    rng = np.random.default_rng(4)
    m = cr.nn.GRU(2, 4, bidirectional=True).double()
    seqs = [cr.tensor(rng.normal(size=(n, 2))) for n in (5, 3, 3, 1)]
    out, h_n = m(cru.pack_sequence(seqs))
    padded, _ = pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        alone, h_alone = m(s)  # unbatched
        _close(padded[: s.shape[0], b], alone)
        _close(h_n[:, b], h_alone)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_proj_size_unpacked_matches_torch(bidirectional):
    rng = np.random.default_rng(5)
    m, tm = _layers("LSTM-proj", num_layers=2, bidirectional=bidirectional)
    _copy(m, tm)
    names = [n for n, _ in m.named_parameters()]
    assert "weight_hr_l0" in names and tuple(m.weight_hr_l0.shape) == (2, 5)
    assert tuple(m.weight_hh_l0.shape) == (20, 2) and tuple(m.weight_ih_l1.shape) == (
        20,
        2 * (1 + bidirectional),
    )
    x, tx = _pair(rng.normal(size=(4, 3, 3)))
    (y, (h, c)), (ty, (th, tc)) = m(x), tm(tx)
    assert tuple(h.shape)[-1] == 2 and tuple(c.shape)[-1] == 5
    for a, b in ((y, ty), (h, th), (c, tc)):
        _close(a, b)
    (y.sum() + (c * c).sum()).backward()
    (ty.sum() + (tc * tc).sum()).backward()
    _close(x.grad, tx.grad, rtol=1e-9, atol=1e-11)
    for (name, a), (_, b) in zip(m.named_parameters(), tm.named_parameters()):
        _close(a.grad, b.grad, rtol=1e-9, atol=1e-11, msg=name)
    unbatched = m(x[:, 0])
    _close(unbatched[0], ty[:, 0])
    assert "proj_size=2" in repr(m)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "LSTM-proj"])
def test_packed_gradcheck(mode):
    """float64 gradcheck through pack -> bidirectional layer -> pad, from the input and h_0."""
    rng = np.random.default_rng(6)
    m = _layers(mode, bidirectional=True)[0]
    lengths = [3, 1, 2]
    H = 2 if mode == "LSTM-proj" else 5
    c0 = cr.tensor(rng.normal(size=(2, 3, 5)))

    def f(x, h0):
        hx = (h0, c0) if mode.startswith("LSTM") else h0
        out, state = m(pack_padded_sequence(x, lengths, enforce_sorted=False), hx)
        states = state if isinstance(state, tuple) else (state,)
        return pad_packed_sequence(out)[0].sum() + sum((s * s).sum() for s in states)

    x = cr.tensor(rng.normal(size=(3, 3, 3)), requires_grad=True)
    h0 = cr.tensor(rng.normal(size=(2, 3, H)), requires_grad=True)
    assert cr.autograd.gradcheck(f, (x, h0), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_packed_dropout_and_errors():
    m = cr.nn.LSTM(3, 4, num_layers=2, dropout=0.5).double()
    p = cru.pack_sequence([cr.randn(4, 3, dtype=cr.float64), cr.randn(2, 3, dtype=cr.float64)])
    out, _ = m(p)  # training mode: dropout between layers on the packed data, a new mask each call
    assert out.data.shape == (6, 4) and not np.array_equal(out.data._data, m(p)[0].data._data)
    m.eval()
    assert np.array_equal(m(p)[0].data._data, m(p)[0].data._data)
    with pytest.raises(ValueError, match=r"h_0 has shape \(2, 3, 4\) but expected \(2, 2, 4\)"):
        m(p, (cr.zeros(2, 3, 4, dtype=cr.float64), cr.zeros(2, 2, 4, dtype=cr.float64)))
    with pytest.raises(ValueError, match=r"input_size=3"):
        m(cru.pack_sequence([cr.zeros(2, 5, dtype=cr.float64)]))
    with pytest.raises(TypeError, match="dtype"):
        m(cru.pack_sequence([cr.zeros(2, 3)]))
    with pytest.raises(ValueError, match="proj_size=4 must be smaller than hidden_size=4"):
        cr.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size"):
        cr.nn.LSTM(3, 4, proj_size=-1)
    proj = cr.nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match=r"\(num_layers \* num_directions, batch, proj_size\)"):
        proj(cr.zeros(2, 1, 3), (cr.zeros(1, 1, 4), cr.zeros(1, 1, 4)))


def test_torch_alias_resolves_utils_rnn():
    """``from torch.nn.utils.rnn import ...`` in a script run by ``chainrule torch`` gets these."""
    from chainrule import compat

    compat.install_torch()
    try:
        from torch.nn.utils.rnn import PackedSequence as Aliased
        from torch.nn.utils.rnn import pack_padded_sequence as aliased_pack

        assert Aliased is PackedSequence and aliased_pack is pack_padded_sequence
    finally:
        compat.uninstall_torch()
    assert tru.PackedSequence is not PackedSequence  # the real torch is back
