"""Recurrent layers and cells.

Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and the single-step cells ``RNNCell``, ``LSTMCell``,
``GRUCell``, as PyTorch (arguments, parameter names and shapes, gate order, initialisation).

A recurrent layer reads a sequence one step at a time and keeps a hidden state
h_t that summarises what it has seen (the LSTM adds a cell state c_t).  The
formulas and the backward through time are in ``chainrule/kernels/recurrent.py``:
each layer and direction runs as one fused op over the whole sequence.

Shapes (T = sequence length, B = batch, D = 2 if bidirectional else 1,
L = num_layers):

    input    (T, B, input_size), or (B, T, input_size) with batch_first=True,
             or (T, input_size) unbatched
    h_0, c_0 (D·L, B, hidden_size) (unbatched: (D·L, hidden_size)); zeros when omitted
    output   (T, B, D·hidden_size) ((B, T, ...) with batch_first=True): the last layer's h_t for
             every t (both directions concatenated)
    h_n, c_n (D·L, B, hidden_size): the final states of every layer and direction

The input may also be a ``PackedSequence`` (``cr.nn.utils.rnn``), a batch of sequences of
different lengths: the output is then packed the same way, and h_n/c_n hold each sequence's state
at its own last step (the reverse direction starts there).  An LSTM with ``proj_size`` P > 0
projects each h_t to P features (h_0, h_n and the output use P; c keeps hidden_size).

Example, a sequence-to-one classifier::

    lstm = nn.LSTM(input_size=8, hidden_size=32, batch_first=True)
    head = nn.Linear(32, 2)
    output, (h_n, c_n) = lstm(x)          # x: (B, T, 8)
    logits = head(h_n[-1])                # the last layer's final state

Truncated backpropagation through time (long sequences, e.g. a language model):
split the sequence into chunks, carry the hidden state from one chunk to the
next, and cut the graph between chunks with ``.detach()`` so each backward
only goes back to the start of its chunk (the state's *value* still flows on)::

    state = None
    for chunk, target in chunks:                      # chunk: (35, B) token ids
        output, state = lstm(embed(chunk), state)
        state = tuple(s.detach() for s in state)      # GRU/RNN: state = state.detach()
        loss = loss_fn(head(output).reshape(-1, V), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(lstm.parameters(), 0.25)   # usual for RNNs
        optimizer.step()

Gradients flow to the input, the initial states and every weight, from ``output``
and from ``h_n``/``c_n``.  Second derivatives (``create_graph=True``) through the
recurrent layers are not supported.
"""

from __future__ import annotations

import math
import warnings

from chainrule import backend
from chainrule.backend import np
from chainrule.nn import init
from chainrule.nn.module import Module, new_parameter
from chainrule.nn.utils.rnn import PackedSequence
from chainrule.ops import _args
from chainrule.ops import recurrent as _ops
from chainrule.ops.dropout import drop
from chainrule.ops.shape import cat, stack
from chainrule.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_OPS = {
    "RNN_TANH": _ops.RNNTanhSequence,
    "RNN_RELU": _ops.RNNReluSequence,
    "LSTM": _ops.LSTMSequence,
    "GRU": _ops.GRUSequence,
}


def _check_dtype(name: str, x: Tensor, w: Tensor) -> None:
    if x.dtype != w.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} does not match the weights' dtype {w.dtype}")


class RNNBase(Module):
    """The common machinery of ``RNN``, ``LSTM`` and ``GRU``.

    ``mode`` (``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``) picks the cell; the other
    arguments are those of the layers. Each layer and direction runs as one fused op over the whole
    sequence (``chainrule/kernels/recurrent.py``), with its backward through time.

    Args:
        mode: the cell: ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
        input_size: the features of each input step.
        hidden_size: the features of the hidden state.
        num_layers: stacked layers (default 1).
        bias: learn the biases (default True).
        batch_first: (B, T, *) instead of (T, B, *) (default False).
        dropout: dropout between layers (default 0).
        bidirectional: add a backward direction (default False).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Example:
        >>> isinstance(cr.nn.LSTM(2, 3), cr.nn.RNNBase)
        True
        >>> [name for name, _ in cr.nn.GRU(2, 3).named_parameters()]
        ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        name = type(self).__name__
        _args.integer(name, "input_size", input_size, 1)
        _args.integer(name, "hidden_size", hidden_size, 1)
        _args.integer(name, "num_layers", num_layers, 1)
        _args.integer(name, "proj_size", proj_size, 0)
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size={proj_size} is only supported by LSTM")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size={proj_size} must be smaller than hidden_size={hidden_size}")
        _args.number(name, "dropout", dropout, minimum=0, maximum=1)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} and num_layers=1; dropout only acts between layers, "
                "so it has no effect here",
                stacklevel=3,
            )
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size = int(proj_size)
        rows = _GATES[mode] * hidden_size
        D = 2 if bidirectional else 1
        out_size = proj_size or hidden_size  # the size of h (c keeps hidden_size)
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else out_size * D
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (rows, layer_in)), ("weight_hh", (rows, out_size))]
                if bias:
                    shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for pname, shape in shapes:
                    setattr(self, pname + sfx, new_parameter(type(self).__name__, shape, device, dtype))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/√hidden_size, 1/√hidden_size), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op, for PyTorch compatibility (cuDNN's weight packing)."""

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...]."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[i : i + per] for i in range(0, len(flat), per)]

    # -- checks ------------------------------------------------------------------------------
    def _check_input(self, x) -> bool:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{name}: expected input to be 2-D (unbatched) or 3-D, got {x.ndim}-D tensor of "
                f"shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has {x.shape[-1]} features but input_size is {self.input_size} "
                f"(input shape {tuple(x.shape)})"
            )
        _check_dtype(name, x, self.weight_ih_l0)
        if x.ndim == 3 and x.shape[1 if self.batch_first else 0] == 0:  # an empty batch is fine, as PyTorch
            raise ValueError(f"{name}: expected a non-empty sequence, got input shape {tuple(x.shape)}")
        if x.ndim == 2 and x.shape[0] == 0:
            raise ValueError(f"{name}: expected a non-empty sequence, got input shape {tuple(x.shape)}")
        return x.ndim == 3

    def _check_state(self, state, label: str, batched: bool, batch: int, dtype) -> None:
        name = type(self).__name__
        if not isinstance(state, Tensor):
            raise TypeError(f"{name}: {label} must be a Tensor, got {type(state).__name__}")
        D = 2 if self.bidirectional else 1
        size, what = self.hidden_size, "hidden_size"
        if self.proj_size and label == "h_0":
            size, what = self.proj_size, "proj_size"
        if batched:
            expected = (D * self.num_layers, batch, size)
            hint = f"(num_layers * num_directions, batch, {what})"
        else:
            expected = (D * self.num_layers, size)
            hint = f"(num_layers * num_directions, {what}) for unbatched input"
        if tuple(state.shape) != expected:
            raise ValueError(f"{name}: {label} has shape {tuple(state.shape)} but expected {expected} {hint}")
        if state.dtype != dtype:
            raise TypeError(f"{name}: {label} dtype {state.dtype} does not match the input dtype {dtype}")

    # -- forward -----------------------------------------------------------------------------
    def _initial_states(self, hx, batched: bool, B: int, dtype):
        """Check ``hx`` and return (h_0, c_0) as (D·L, B, ·) tensors or None."""
        name = type(self).__name__
        if hx is None:
            return None, None
        h0 = c0 = None
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            h0, c0 = hx
            self._check_state(h0, "h_0", batched, B, dtype)
            self._check_state(c0, "c_0", batched, B, dtype)
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
            h0 = hx
            self._check_state(h0, "h_0", batched, B, dtype)
        if not batched:
            h0 = h0.unsqueeze(1)
            c0 = c0.unsqueeze(1) if c0 is not None else None
        return h0, c0

    def _weights(self, layer: int, d: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
        b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
        w_hr = getattr(self, "weight_hr" + sfx) if self.proj_size else None
        return getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx), b_ih, b_hh, w_hr

    def _run(self, x, h0, c0, layer: int, d: int):
        """One layer and direction over a time-major x (T, B, I) -> (output, h_n, c_n or None)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
        if w_hr is not None:
            return _lstm_projected(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bool(d))
        res = _OPS[self.mode].apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, bool(d))
        return res[0], res[1], res[2] if self.mode == "LSTM" else None

    def _all_layers(self, x, h0, c0, run):
        """Run every layer and direction in turn.

        ``run(x, h_0, c_0, layer, direction)`` gives (output, h_n, c_n) of one; the directions' outputs are
        concatenated on the last dim, with dropout between layers.  Returns (output, h_n, c_n) with the states
        stacked (D·L, B, ·).
        """
        D = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                out, h, c = run(x, None if h0 is None else h0[k], None if c0 is None else c0[k], layer, d)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if D == 1 else cat(outs, outs[0].ndim - 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = drop(x, self.dropout, x.shape)
        return x, _stack(h_n), (_stack(c_n) if self.mode == "LSTM" else None)

    def forward(self, input: Tensor, hx=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        is_lstm = self.mode == "LSTM"
        batched = self._check_input(input)
        x = input
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        h0, c0 = self._initial_states(hx, batched, x.shape[1], x.dtype)

        output, hn, cn = self._all_layers(x, h0, c0, self._run)
        if not batched:
            output, hn = output.squeeze(1), hn.squeeze(1)
            cn = cn.squeeze(1) if cn is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (hn, cn)) if is_lstm else (output, hn)

    def _forward_packed(self, packed: PackedSequence, hx):
        """Run the layers over a PackedSequence.

        Each run of steps with the same number of live sequences goes through the fused op at once; a
        sequence's final state is taken when it ends (forward direction), and the reverse direction starts
        each sequence at its last real step.
        """
        name = type(self).__name__
        data = packed.data
        if data.ndim != 2 or data.shape[1] != self.input_size:
            raise ValueError(
                f"{name}: the packed data must be (sum of lengths, input_size={self.input_size}), "
                f"got shape {tuple(data.shape)}"
            )
        _check_dtype(name, data, self.weight_ih_l0)
        sizes = np.asarray(backend.to_device(packed.batch_sizes._data, "cpu"), dtype=np.int64)
        B = int(sizes[0])
        h0, c0 = self._initial_states(hx, True, B, data.dtype)
        if packed.sorted_indices is not None:  # states are given in batch order: sort them as the data
            h0 = None if h0 is None else h0.index_select(1, packed.sorted_indices)
            c0 = None if c0 is None else c0.index_select(1, packed.sorted_indices)
        bounds = np.flatnonzero(np.diff(sizes)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [sizes.size]])
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        segments = [
            (int(offsets[a]), int(offsets[e]), int(e - a), int(sizes[a])) for a, e in zip(starts, ends)
        ]

        def run(x, h, c, layer, d):
            return (_packed_reverse if d else _packed_forward)(self, x, segments, h, c, layer)

        out, hn, cn = self._all_layers(data, h0, c0, run)
        if packed.unsorted_indices is not None:
            hn = hn.index_select(1, packed.unsorted_indices)
            cn = None if cn is None else cn.index_select(1, packed.unsorted_indices)
        output = PackedSequence(out, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        return (output, (hn, cn)) if self.mode == "LSTM" else (output, hn)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


def _stack(states: list) -> Tensor:
    return states[0].unsqueeze(0) if len(states) == 1 else stack(states, 0)


def _zeros(like: Tensor, rows: int, cols: int) -> Tensor:
    return Tensor._make(backend.xp_of(like._data).zeros((rows, cols), like.dtype))


def _packed_forward(m: RNNBase, x: Tensor, segments: list, h0, c0, layer: int):
    """The forward direction of one layer over packed rows x (N, I).

    Runs of equal batch size go at once; sequences that end leave their final state behind.
    """
    outs, h_done, c_done = [], [], []
    h, c = h0, c0
    for r0, r1, steps, b in segments:
        if h is not None and h.shape[0] > b:  # the sequences from b on have ended
            h_done.append(h[b:])
            h = h[:b]
            if c is not None:
                c_done.append(c[b:])
                c = c[:b]
        out, h, c = m._run(x[r0:r1].reshape((steps, b, x.shape[1])), h, c, layer, 0)
        outs.append(out.reshape((steps * b, out.shape[2])))
    h_n = cat([h, *reversed(h_done)], 0) if h_done else h
    c_n = None if c is None else (cat([c, *reversed(c_done)], 0) if c_done else c)
    return (outs[0] if len(outs) == 1 else cat(outs, 0)), h_n, c_n


def _packed_reverse(m: RNNBase, x: Tensor, segments: list, h0, c0, layer: int):
    """The reverse direction of one layer over packed rows.

    From the last step back, sequences join (with their initial state) at their own last step.
    """
    outs = []
    h = c = None
    for r0, r1, steps, b in reversed(segments):
        if h is None:
            h = None if h0 is None else h0[:b]
            c = None if c0 is None else c0[:b]
        elif h.shape[0] < b:  # sequences whose last step is in this run start here
            n = h.shape[0]
            h = cat([h, h0[n:b] if h0 is not None else _zeros(h, b - n, h.shape[1])], 0)
            if c is not None:
                c = cat([c, c0[n:b] if c0 is not None else _zeros(c, b - n, c.shape[1])], 0)
        out, h, c = m._run(x[r0:r1].reshape((steps, b, x.shape[1])), h, c, layer, 1)
        outs.append(out.reshape((steps * b, out.shape[2])))
    outs.reverse()
    return (outs[0] if len(outs) == 1 else cat(outs, 0)), h, c


def _lstm_projected(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, reverse: bool):
    """An LSTM layer with a projection (``proj_size``), step by step from differentiable ops.

    gates = W_ih x_t + b_ih + W_hh h + b_hh; c' = σ(f) c + σ(i) tanh(g); h' = W_hr (σ(o) tanh(c')).
    """
    T, B, _ = x.shape
    H = w_hh.shape[0] // 4
    xw = (x.reshape((T * B, x.shape[2])) @ w_ih.T).reshape((T, B, 4 * H))
    if b_ih is not None:
        xw = xw + (b_ih + b_hh)
    if h is None:
        h = _zeros(x, B, w_hr.shape[0])
    if c is None:
        c = _zeros(x, B, H)
    outs = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        gates = xw[t] + h @ w_hh.T
        i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = (o.sigmoid() * c.tanh()) @ w_hr.T
        outs[t] = h
    return stack(outs, 0), h, c


class RNN(RNNBase):
    r"""Elman recurrent layer, as ``torch.nn.RNN``: ``rnn(input, h_0=None) -> (output, h_n)``.

    $$
    h_t = \tanh\left(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)
    $$

    (ReLU instead of tanh with ``nonlinearity='relu'``). Parameters ``weight_ih_l{k}`` (H, I) (H, D·H beyond
    the first layer), ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (H,), with a
    ``_reverse`` suffix for the backward direction, all initialised U(−1/√H, 1/√H) as PyTorch.

    Args:
        input_size: the features of each input step, I.
        hidden_size: the features of the hidden state, H.
        num_layers: stacked layers, each reading the previous one's output (default 1).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: learn the biases b_ih, b_hh (default True).
        batch_first: input and output are (B, T, *) instead of (T, B, *) (default False).
        dropout: dropout probability on the outputs of every layer but the last (default 0).
        bidirectional: add a layer reading the sequence backwards; outputs are concatenated
            (default False).
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (T, B, I), or (B, T, I) with ``batch_first=True``, or (T, I) unbatched.
        - h_0: (D·L, B, H), or (D·L, H) unbatched; zeros when omitted (D = 2 if bidirectional
          else 1, L = ``num_layers``).
        - Output: (T, B, D·H) (or (B, T, D·H)): the last layer's h_t for every t.
        - h_n: (D·L, B, H), the final states of every layer and direction.

    Example:
        >>> rnn = cr.nn.RNN(input_size=8, hidden_size=16, num_layers=2, batch_first=True)
        >>> output, h_n = rnn(cr.randn(4, 10, 8))
        >>> output.shape, h_n.shape
        ((4, 10, 16), (2, 4, 16))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    r"""Long short-term memory layer, as ``torch.nn.LSTM``: ``lstm(x, (h_0, c_0)) -> (output, (h_n, c_n))``.

    $$
    \begin{aligned}
    i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
    f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
    g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
    o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
    c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
    h_t &= o_t \odot \tanh(c_t)
    \end{aligned}
    $$

    The cell state c_t carries information across many steps through the forget gate f_t, which is why an LSTM
    remembers longer than an Elman RNN. Gate order in the weights: input, forget, cell, output. Parameters
    ``weight_ih_l{k}`` (4H, I) (4H, D·H beyond the first layer), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}``
    and ``bias_hh_l{k}`` (4H,), with a ``_reverse`` suffix for the backward direction, all initialised
    U(−1/√H, 1/√H) as PyTorch.

    Args:
        input_size: the features of each input step, I.
        hidden_size: the features of the hidden state, H.
        num_layers: stacked layers, each reading the previous one's output (default 1).
        bias: learn the biases b_ih, b_hh (default True).
        batch_first: input and output are (B, T, *) instead of (T, B, *) (default False).
        dropout: dropout probability on the outputs of every layer but the last (default 0).
        bidirectional: add a layer reading the sequence backwards; outputs are concatenated
            (default False).
        proj_size: P > 0 projects each h_t to P features, h_t = W_hr (o_t ⊙ tanh(c_t)), with
            ``weight_hr_l{k}`` (P, H); ``weight_hh_l{k}`` is then (4H, P) and h_0, h_n and the
            output have P features (c keeps H) (default 0).
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (T, B, I), or (B, T, I) with ``batch_first=True``, or (T, I) unbatched, or a
          ``PackedSequence`` (the output is then one too, h_n and c_n each sequence's last state).
        - h_0, c_0: (D·L, B, H), or (D·L, H) unbatched; zeros when omitted (D = 2 if bidirectional
          else 1, L = ``num_layers``).
        - Output: (T, B, D·H) (or (B, T, D·H)): the last layer's h_t for every t.
        - h_n, c_n: (D·L, B, H), the final states of every layer and direction.

    Example:
        >>> lstm = cr.nn.LSTM(input_size=8, hidden_size=32, batch_first=True)
        >>> output, (h_n, c_n) = lstm(cr.randn(4, 10, 8))
        >>> output.shape, h_n.shape, c_n.shape
        ((4, 10, 32), (1, 4, 32), (1, 4, 32))
        >>> cr.nn.Linear(32, 2)(h_n[-1]).shape
        (4, 2)
        >>> out, (h_n, c_n) = cr.nn.LSTM(4, 8, proj_size=3)(cr.zeros(5, 2, 4))
        >>> out.shape, h_n.shape, c_n.shape
        ((5, 2, 3), (1, 2, 3), (1, 2, 8))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class GRU(RNNBase):
    r"""Gated recurrent unit layer, as ``torch.nn.GRU``: ``gru(input, h_0=None) -> (output, h_n)``.

    $$
    \begin{aligned}
    r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
    z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
    n_t &= \tanh\left(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\right) \\
    h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
    \end{aligned}
    $$

    Gate order in the weights: reset, update, new. Parameters ``weight_ih_l{k}`` (3H, I) (3H, D·H beyond the
    first layer), ``weight_hh_l{k}`` (3H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (3H,), with a ``_reverse``
    suffix for the backward direction, all initialised U(−1/√H, 1/√H) as PyTorch.

    Args:
        input_size: the features of each input step, I.
        hidden_size: the features of the hidden state, H.
        num_layers: stacked layers, each reading the previous one's output (default 1).
        bias: learn the biases b_ih, b_hh (default True).
        batch_first: input and output are (B, T, *) instead of (T, B, *) (default False).
        dropout: dropout probability on the outputs of every layer but the last (default 0).
        bidirectional: add a layer reading the sequence backwards; outputs are concatenated
            (default False).
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (T, B, I), or (B, T, I) with ``batch_first=True``, or (T, I) unbatched.
        - h_0: (D·L, B, H), or (D·L, H) unbatched; zeros when omitted (D = 2 if bidirectional
          else 1, L = ``num_layers``).
        - Output: (T, B, D·H) (or (B, T, D·H)): the last layer's h_t for every t.
        - h_n: (D·L, B, H), the final states of every layer and direction.

    Example:
        >>> gru = cr.nn.GRU(input_size=8, hidden_size=16, bidirectional=True)
        >>> output, h_n = gru(cr.randn(10, 4, 8))
        >>> output.shape, h_n.shape
        ((10, 4, 32), (2, 4, 16))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )


# ----------------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """Base of the single-step recurrent cells.

    One time step of a recurrent layer (parameters ``weight_ih``, ``weight_hh``, ``bias_ih``,
    ``bias_hh``); input (B, input_size) or unbatched (input_size,).
    """

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        name = type(self).__name__
        _args.integer(name, "input_size", input_size, 1)
        _args.integer(name, "hidden_size", hidden_size, 1)
        self.mode = mode
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        rows = _GATES[mode] * hidden_size
        self.weight_ih = new_parameter(name, (rows, input_size), device, dtype)
        self.weight_hh = new_parameter(name, (rows, hidden_size), device, dtype)
        if bias:
            self.bias_ih = new_parameter(name, (rows,), device, dtype)
            self.bias_hh = new_parameter(name, (rows,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/√hidden_size, 1/√hidden_size), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _check(self, x, states: tuple) -> bool:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
        if x.ndim not in (1, 2):
            raise ValueError(
                f"{name}: expected input to be 1-D (unbatched) or 2-D, got {x.ndim}-D tensor of "
                f"shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has {x.shape[-1]} features but input_size is {self.input_size} "
                f"(input shape {tuple(x.shape)})"
            )
        _check_dtype(name, x, self.weight_ih)
        batched = x.ndim == 2
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for label, s in states:
            if s is None:
                continue
            if not isinstance(s, Tensor):
                raise TypeError(f"{name}: {label} must be a Tensor, got {type(s).__name__}")
            if tuple(s.shape) != expected:
                raise ValueError(
                    f"{name}: {label} has shape {tuple(s.shape)} but expected {expected} "
                    f"for input of shape {tuple(x.shape)}"
                )
            if s.dtype != x.dtype:
                raise TypeError(f"{name}: {label} dtype {s.dtype} does not match the input dtype {x.dtype}")
        return batched

    def _step(self, x, h, c):
        """Run the fused op for one step: x (B, I), h, c (B, H) or None."""
        return _OPS[self.mode].apply(
            x.unsqueeze(0), h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, False
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    r"""One step of an Elman RNN, as ``torch.nn.RNNCell``: ``cell(input, hx=None) -> h'``.

    $$
    h' = \tanh\left(W_{ih} x + b_{ih} + W_{hh} h + b_{hh}\right)
    $$

    (ReLU instead of tanh with ``nonlinearity='relu'``). Parameters ``weight_ih`` (H, I), ``weight_hh`` (H,
    H), ``bias_ih`` and ``bias_hh`` (H,), initialised U(−1/√H, 1/√H) as PyTorch.

    Args:
        input_size: the features of the input, I.
        hidden_size: the features of the hidden state, H.
        bias: learn the biases b_ih, b_hh (default True).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (B, I), or (I,) unbatched.
        - Hidden: (B, H), or (H,); zeros when omitted.
        - Output: h', (B, H) or (H,).

    Example:
        >>> cell = cr.nn.RNNCell(3, 5)
        >>> h = None
        >>> for x_t in cr.randn(6, 2, 3):
        ...     h = cell(x_t, h)
        >>> h.shape
        (2, 5)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias, device, dtype
        )
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        batched = self._check(input, (("hx", hx),))
        x = input if batched else input.unsqueeze(0)
        h = hx if hx is None or batched else hx.unsqueeze(0)
        h1 = self._step(x, h, None)[1]
        return h1 if batched else h1.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""One step of an LSTM, as ``torch.nn.LSTMCell``: ``cell(input, (h, c)=None) -> (h', c')``.

    $$
    \begin{aligned}
    i &= \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}), \quad
    f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
    g &= \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}), \quad
    o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
    c' &= f \odot c + i \odot g, \qquad h' = o \odot \tanh(c')
    \end{aligned}
    $$

    Gate order in the weights: input, forget, cell, output. Parameters ``weight_ih`` (4H, I), ``weight_hh``
    (4H, H), ``bias_ih`` and ``bias_hh`` (4H,), initialised U(−1/√H, 1/√H) as PyTorch.

    Args:
        input_size: the features of the input, I.
        hidden_size: the features of the hidden state, H.
        bias: learn the biases b_ih, b_hh (default True).
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (B, I), or (I,) unbatched.
        - Hidden: a pair (h, c), each (B, H) or (H,); zeros when omitted.
        - Output: the pair (h', c'), each (B, H) or (H,).

    Example:
        >>> cell = cr.nn.LSTMCell(3, 5)
        >>> state = None
        >>> for x_t in cr.randn(6, 2, 3):
        ...     state = cell(x_t, state)
        >>> h, c = state
        >>> h.shape, c.shape
        ((2, 5), (2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx=None):  # noqa: A002
        h = c = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
            h, c = hx
        batched = self._check(input, (("h", h), ("c", c)))
        if not batched:
            input = input.unsqueeze(0)  # noqa: A001
            h = None if h is None else h.unsqueeze(0)
            c = None if c is None else c.unsqueeze(0)
        _, h1, c1 = self._step(input, h, c)
        return (h1, c1) if batched else (h1.squeeze(0), c1.squeeze(0))


class GRUCell(RNNCellBase):
    r"""One step of a GRU, as ``torch.nn.GRUCell``: ``cell(input, hx=None) -> h'``.

    $$
    \begin{aligned}
    r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \quad
    z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
    n &= \tanh\left(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\right), \quad
    h' = (1 - z) \odot n + z \odot h
    \end{aligned}
    $$

    Gate order in the weights: reset, update, new. Parameters ``weight_ih`` (3H, I), ``weight_hh`` (3H, H),
    ``bias_ih`` and ``bias_hh`` (3H,), initialised U(−1/√H, 1/√H) as PyTorch.

    Args:
        input_size: the features of the input, I.
        hidden_size: the features of the hidden state, H.
        bias: learn the biases b_ih, b_hh (default True).
        device: where the parameters live.
        dtype: the parameters' dtype (default float32).

    Shape:
        - Input: (B, I), or (I,) unbatched.
        - Hidden: (B, H), or (H,); zeros when omitted.
        - Output: h', (B, H) or (H,).

    Example:
        >>> cell = cr.nn.GRUCell(3, 5)
        >>> cell(cr.randn(2, 3)).shape
        (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        batched = self._check(input, (("hx", hx),))
        x = input if batched else input.unsqueeze(0)
        h = hx if hx is None or batched else hx.unsqueeze(0)
        h1 = self._step(x, h, None)[1]
        return h1 if batched else h1.squeeze(0)
