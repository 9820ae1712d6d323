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
is a single ``Function`` for the whole sequence whose forward and hand-written
backward through time (BPTT) run in ``chainrule/kernels/recurrent.py`` on arrays:
one product projects the inputs of all steps, then each step is one small product
and a few in-place element-wise ops (layout and tricks are described there, beside
a six-line reference step each kernel is tested against).

Inputs are time-major ``(T, B, I)``; ``reverse=True`` runs the sequence backwards
(the second direction of a bidirectional layer; output[t] is still aligned with
x[t]).  ``h0`` / ``c0`` of ``None`` mean zeros.  Gradients flow to the input
sequence, the initial states and every weight and bias, from the output sequence
and from the final states (h_n, c_n).

Second derivatives through these ops are not supported: their backward runs on
arrays, so ``create_graph=True`` raises a RuntimeError naming the op.
"""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import State
from chainrule.kernels import recurrent as K


def _data(t):
    """The array of an optional Tensor argument."""
    return None if t is None else t._data


class _SequenceFunction(Function):
    """Base of the fused sequence ops.

    Base of the fused sequence ops: ``(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)`` ->
    (output, h_n[, c_n]); backward through the kernels on arrays only.
    """

    array_backward = True

    @staticmethod
    def _keep(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, kept) -> None:
        if ctx.recorded:
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)  # in-place modification checks
            ctx.kept = kept

    def _weights(self) -> tuple:
        """(w_ih, w_hh) as arrays; raises for create_graph=True (the BPTT kernels are not recorded)."""
        if State.grad_enabled:
            raise RuntimeError(
                f"{self.name()}: second derivatives (create_graph=True) through the fused recurrent op are "
                "not supported; its backward through time runs on arrays"
            )
        _, _, _, w_ih, w_hh, _, _ = self.saved_tensors
        return w_ih, w_hh

    def _need(self) -> tuple:
        return tuple(self.needs_input_grad[:7])

    def release(self) -> None:
        super().release()
        self.kept = None


class RNNTanhSequence(_SequenceFunction):
    """A whole sequence through an Elman RNN layer, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)`` with x (T, B, I), h0 (B, H) or None,
    c0 always None -> (output (T, B, H), h_n (B, H)).
    Backward: dL/d(pre_t) = (dL/dh_t) ⊙ act'(h_t) where dL/dh_t = dL/dout_t + W_hhᵀ dL/d(pre_{t+1}).
    """

    relu = False

    @classmethod
    def _forward(cls, ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        out, h_n, kept = K.rnn_forward(
            x._data,
            _data(h0),
            w_ih._data,
            w_hh._data,
            _data(b_ih),
            _data(b_hh),
            reverse,
            cls.relu,
            ctx.recorded,
        )
        _SequenceFunction._keep(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, kept)
        return out, h_n

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        return RNNTanhSequence._forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)

    @staticmethod
    def backward(ctx, grad_out, grad_hn):
        w_ih, w_hh = ctx._weights()
        return (*K.rnn_backward(ctx.kept, w_ih, w_hh, grad_out, grad_hn, ctx._need()), None)


class RNNReluSequence(RNNTanhSequence):
    """As ``RNNTanhSequence`` with h_t = relu(...) (act' = 1 where h_t > 0)."""

    relu = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        return RNNReluSequence._forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)


class LSTMSequence(_SequenceFunction):
    """A whole sequence through an LSTM layer.

    A whole sequence through an LSTM layer (gate order input, forget, cell, output):
    i, f, g, o = σ, σ, tanh, σ of (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),
    c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t).

    ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)`` -> (output (T, B, H), h_n, c_n).
    Backward through time: ``kernels.recurrent.lstm_backward``.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        out, h_n, c_n, kept = K.lstm_forward(
            x._data,
            _data(h0),
            _data(c0),
            w_ih._data,
            w_hh._data,
            _data(b_ih),
            _data(b_hh),
            reverse,
            ctx.recorded,
        )
        _SequenceFunction._keep(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, kept)
        return out, h_n, c_n

    @staticmethod
    def backward(ctx, grad_out, grad_hn, grad_cn):
        w_ih, w_hh = ctx._weights()
        return (*K.lstm_backward(ctx.kept, w_ih, w_hh, grad_out, grad_hn, grad_cn, ctx._need()), None)


class GRUSequence(_SequenceFunction):
    """A whole sequence through a GRU layer.

    A whole sequence through a GRU layer (gate order reset, update, new; PyTorch's formula):
    r, z = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr), σ(... z rows ...),
    n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn)),  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.

    ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)`` with c0 None -> (output (T, B, H), h_n).
    Backward through time: ``kernels.recurrent.gru_backward``.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        out, h_n, kept = K.gru_forward(
            x._data, _data(h0), w_ih._data, w_hh._data, _data(b_ih), _data(b_hh), reverse, ctx.recorded
        )
        _SequenceFunction._keep(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, kept)
        return out, h_n

    @staticmethod
    def backward(ctx, grad_out, grad_hn):
        w_ih, w_hh = ctx._weights()
        return (*K.gru_backward(ctx.kept, w_ih, w_hh, grad_out, grad_hn, ctx._need()), None)
