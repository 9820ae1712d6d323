"""cr.onnx.export: every layer family exported, run in onnxruntime and compared with chainrule's output,
on the example and on other batch sizes / sequence lengths (dynamic axes)."""

import io
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.onnx import UnsupportedOperatorError


def _flat(out, acc):
    if isinstance(out, cr.Tensor):
        acc.append(out.numpy())
    elif isinstance(out, (tuple, list)):
        for o in out:
            _flat(o, acc)
    return acc


def _session(data: bytes):
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def roundtrip(model, args, dynamic_axes=None, others=(), rtol=1e-4, atol=1e-5, **kw):
    """Export ``model`` on ``args``; check onnxruntime's outputs against chainrule's on ``args`` and on
    each argument tuple of ``others``.  Returns the ONNX model proto."""
    args = args if isinstance(args, tuple) else (args,)
    buf = io.BytesIO()
    cr.onnx.export(model, args, buf, dynamic_axes=dynamic_axes, **kw)
    sess = _session(buf.getvalue())
    if isinstance(model, nn.Module):
        model.eval()
    for a in (args, *others):
        a = a if isinstance(a, tuple) else (a,)
        with cr.no_grad():
            expected = _flat(model(*a), [])
        feeds = {i.name: t for i, t in zip(sess.get_inputs(), _flat(a, []))}
        got = sess.run(None, feeds)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
    return onnx.load_from_string(buf.getvalue())


def op_types(proto) -> set:
    return {n.op_type for n in proto.graph.node}


BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(0)
    np.random.seed(0)


# -- dense ---------------------------------------------------------------------------------------
def test_mlp_with_dynamic_batch():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
    proto = roundtrip(model, cr.randn(4, 3, 4), BATCH, others=[cr.randn(7, 3, 4), cr.randn(1, 3, 4)])
    assert op_types(proto) >= {"MatMul", "Relu"}
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


class Mixer(nn.Module):
    """A forward with the everyday tensor code: shape arithmetic, slicing, concatenation, reductions."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 5)
        self.scale = nn.Parameter(cr.randn(5))

    def forward(self, x):  # x (B, T, 4)
        B, T, _ = x.shape
        y = cr.cat([x, x[:, :, :2] * 2.0 - 1.0, x[..., -2:].exp()], dim=-1)  # (B, T, 8)
        h = self.fc(y).tanh() * self.scale + 0.5  # (B, T, 5)
        h = h.transpose(1, 2).reshape(B, -1)  # (B, 5·T)
        pooled = h.view(B, 5, T).mean(dim=2) / (h.std(dim=1, keepdim=True) + 1)
        first = x[:, 0].unsqueeze(1).squeeze(1)
        return cr.stack([pooled.max(dim=1)[0], first.sum(-1)], dim=1), pooled.clamp(min=-0.2, max=0.3) ** 2


def test_user_forward_arithmetic_reshape_concat_with_dynamic_batch_and_length():
    dyn = {"input": {0: "batch", 1: "time"}, "output_0": {0: "batch"}, "output_1": {0: "batch"}}
    roundtrip(Mixer(), cr.randn(3, 6, 4), dyn, others=[cr.randn(5, 9, 4), cr.randn(2, 2, 4)])


def test_indexing_with_an_index_tensor_and_new_axes():
    class Pick(nn.Module):
        def forward(self, x, idx):
            return x[:, idx] + x[..., None, 1:3].sum(), x[-1, ::2]

    args = (cr.randn(3, 5, 4), cr.tensor([4, 0, 2]))
    roundtrip(Pick(), args, {"input_0": [0], "input_1": [0]}, others=[(cr.randn(6, 5, 4), cr.tensor([1, 1]))])


def test_indexing_with_several_index_tensors_and_ints():
    class Pick(nn.Module):
        def forward(self, x, i, j):
            adjacent = x[:, i, j] + x[:, 0, j] + x[:, i, 2]  # broadcast dims in place of the indexed axes
            apart = x[i, :, j]  # indexed axes apart: broadcast dims first
            return adjacent, apart, x[i[:, None], j], x[-1, i], x[1:, i, 2]

    args = (cr.randn(4, 5, 6), cr.tensor([0, 3, -1]), cr.tensor([1, 2, 3]))
    axes = {"input_0": [0], "input_1": [0], "input_2": [0]}
    others = [(cr.randn(7, 5, 6), cr.tensor([1, 4]), cr.tensor([0, -2]))]
    proto = roundtrip(Pick(), args, axes, others=others)
    assert "GatherND" in op_types(proto)


def test_gather_topk_and_finiteness():
    class Pick(nn.Module):
        def forward(self, x, idx):
            top = x.topk(2, dim=1)
            clean = cr.where(x.isfinite(), x, cr.zeros_like(x))
            return x.gather(1, idx), top.values, top.indices, clean, cr.isnan(x).float() + x.isinf().float()

    x = cr.tensor([[1.0, float("nan"), 3.0, -2.0], [float("inf"), 0.5, -1.0, 2.0]])
    idx = cr.tensor([[0, 0, 3], [2, 1, 0]])
    roundtrip(
        Pick(),
        (x, idx),
        {"input_0": [0], "input_1": [0]},
        others=[(cr.randn(5, 4), cr.randint(0, 4, (5, 3)))],
    )


def test_constant_output_and_model_returning_its_input():
    class Two(nn.Module):
        def forward(self, x):
            return x, cr.ones(2) * 3

    roundtrip(Two(), cr.randn(2, 3))


# -- convolution and pooling ---------------------------------------------------------------------
def test_conv1d_with_dynamic_length():
    model = nn.Sequential(
        nn.Conv1d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv1d(4, 2, 2, dilation=2, bias=False)
    )
    dyn = {"input": {0: "batch", 2: "length"}, "output": {0: "batch", 2: "length_out"}}
    roundtrip(model, cr.randn(2, 3, 10), dyn, others=[cr.randn(3, 3, 11), cr.randn(1, 3, 16)])


def test_conv2d_groups_and_conv_transpose():
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.Conv2d(4, 4, 3, stride=2, padding=(1, 0), groups=2),
        nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
        nn.Sigmoid(),
    )
    roundtrip(model, cr.randn(2, 2, 9, 8), BATCH, others=[cr.randn(4, 2, 9, 8)])
    proto = roundtrip(
        nn.ConvTranspose1d(3, 2, 3, stride=2), cr.randn(2, 3, 5), BATCH, others=[cr.randn(3, 3, 5)]
    )
    assert "ConvTranspose" in op_types(proto)


def test_functional_conv_with_padding_mode():
    model = nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
    roundtrip(model, cr.randn(2, 2, 6, 6), BATCH, others=[cr.randn(3, 2, 6, 6)])


@pytest.mark.parametrize(
    "pool",
    [
        nn.MaxPool2d(2),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.MaxPool2d(3, stride=2, ceil_mode=True),
        nn.AvgPool2d(2),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        nn.AdaptiveAvgPool2d(1),
        nn.AdaptiveAvgPool2d((2, 3)),
        nn.MaxPool1d(2),
        nn.AvgPool1d(3, stride=2),
    ],
    ids=lambda p: repr(p),
)
def test_pooling(pool):
    x = cr.randn(2, 3, 7, 9) if "2d" in type(pool).__name__ else cr.randn(2, 3, 9)
    roundtrip(pool, x, BATCH, others=[cr.randn(3, *x.shape[1:])])


def test_pooling_layers_with_dynamic_length():
    model = nn.Sequential(
        nn.Conv1d(2, 3, 3, padding=1),
        nn.MaxPool1d(3, stride=2, padding=1),
        nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
        nn.AvgPool1d(2),
    )
    dyn = {"input": {0: "batch", 2: "length"}, "output": {0: "batch", 2: "length_out"}}
    roundtrip(model, cr.randn(2, 2, 10), dyn, others=[cr.randn(3, 2, 11), cr.randn(1, 2, 17)])


def test_conv3d_and_max_pool3d():
    model = nn.Sequential(nn.Conv3d(1, 2, 3, padding=1, stride=(1, 2, 2)), nn.MaxPool3d(2))
    roundtrip(model, cr.randn(2, 1, 4, 6, 6), BATCH, others=[cr.randn(3, 1, 4, 6, 6)])


# -- normalization ----------------------------------------------------------------------------------
def _trained_stats(bn):
    bn.running_mean._data[...] = np.random.randn(*bn.running_mean.shape).astype(np.float32)
    bn.running_var._data[...] = np.random.rand(*bn.running_var.shape).astype(np.float32) + 0.5
    bn.weight._data[...] = np.random.randn(*bn.weight.shape).astype(np.float32)
    bn.bias._data[...] = np.random.randn(*bn.bias.shape).astype(np.float32)
    return bn


def test_batchnorm_in_eval_layernorm_groupnorm():
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        _trained_stats(nn.BatchNorm2d(4)),
        nn.GroupNorm(2, 4),
        nn.Flatten(),
        nn.Linear(64, 6),
        _trained_stats(nn.BatchNorm1d(6)),
        nn.LayerNorm(6),
    )
    model.train()  # export evaluates the model and then restores its mode
    cr.onnx.export(model, cr.randn(3, 2, 6, 6), io.BytesIO())
    assert model.training and model[1].training
    roundtrip(model, cr.randn(3, 2, 6, 6), BATCH, others=[cr.randn(5, 2, 6, 6)])


def test_batchnorm1d_on_sequences():
    roundtrip(
        _trained_stats(nn.BatchNorm1d(3)), cr.randn(2, 3, 5), {"input": [0, 2]}, others=[cr.randn(4, 3, 8)]
    )


# -- activations and dropout -------------------------------------------------------------------------
ACTIVATIONS = [
    nn.ReLU(),
    nn.Sigmoid(),
    nn.Tanh(),
    nn.Softmax(dim=1),
    nn.LogSoftmax(dim=-1),
    nn.GELU(),
    nn.GELU(approximate="tanh"),
    nn.LeakyReLU(0.1),
    nn.ELU(0.7),
    nn.SELU(),  # the ELU op's scale and input scale (a graph that ignored them ran, with wrong values)
    nn.CELU(0.6),
    nn.SiLU(),
    nn.Softplus(),
    nn.Softplus(beta=2.0, threshold=3.0),
    nn.PReLU(6),
    nn.Dropout(0.3),
]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: repr(a))
def test_activation(act):
    model = nn.Sequential(nn.Linear(4, 6), act)
    model.train()
    roundtrip(model, cr.randn(3, 4) * 3, BATCH, others=[cr.randn(8, 4) * 3])


def test_functional_activations_and_math():
    class F(nn.Module):
        def forward(self, x):
            f = nn.functional
            y = f.relu(x) + f.leaky_relu(x, 0.2) + f.elu(x) + f.gelu(x) + f.silu(x) + f.softplus(x)
            y = y + x.sigmoid() * x.abs().sqrt() - x.exp().log1p() + cr.maximum(x, -x).floor()
            y = y + cr.where(x > 0, x, x * 0.5) + (x >= 0.2).float() + x.pow(2).neg()
            y = y.masked_fill(x < -1.0, -3.0) + cr.logaddexp(x, y) * x.sign()
            return f.softmax(y, dim=-1), f.log_softmax(y, dim=0), cr.amax(y, dim=1), y.argmax(1), y.argmin()

    x = cr.randn(3, 5)
    roundtrip(F(), x, {"input": [0]}, others=[cr.randn(6, 5)])


# -- embedding -----------------------------------------------------------------------------------------
def test_embedding_with_dynamic_batch_and_length():
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Linear(4, 2))
    idx = cr.tensor([[1, 2, 3], [4, 0, 9]])
    dyn = {"input": {0: "batch", 1: "time"}, "output": {0: "batch", 1: "time"}}
    roundtrip(model, idx, dyn, others=[cr.tensor([[5, 6, 7, 8, 0]] * 4)])


# -- recurrent layers ------------------------------------------------------------------------------------
CONFIGS = [
    dict(),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=2, bias=False),
    dict(bidirectional=True),
]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("kind", ["RNN", "RNN_RELU", "LSTM", "GRU"])
def test_recurrent(kind, config):
    cls = {"RNN": nn.RNN, "RNN_RELU": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind]
    extra = {"nonlinearity": "relu"} if kind == "RNN_RELU" else {}
    model = cls(4, 5, **config, **extra)
    bf = config.get("batch_first", False)
    x = cr.randn(3, 6, 4) if bf else cr.randn(6, 3, 4)
    other = cr.randn(2, 9, 4) if bf else cr.randn(9, 2, 4)
    dyn = {"input": {0: "a", 1: "b"}}
    proto = roundtrip(model, x, dyn, others=[other])
    assert (kind.split("_")[0]) in op_types(proto)


def test_lstm_and_gru_with_initial_states():
    lstm = nn.LSTM(4, 5, num_layers=2, bidirectional=True)
    args = (cr.randn(6, 3, 4), (cr.randn(4, 3, 5), cr.randn(4, 3, 5)))
    others = [(cr.randn(8, 2, 4), (cr.randn(4, 2, 5), cr.randn(4, 2, 5)))]
    dyn = {"input_0": [0, 1], "input_1": [1], "input_2": [1]}
    buf = io.BytesIO()
    cr.onnx.export(lstm, args, buf, dynamic_axes=dyn)
    sess = _session(buf.getvalue())
    assert [i.name for i in sess.get_inputs()] == ["input_0", "input_1", "input_2"]
    for x, (h, c) in [args, *others]:
        out, (hn, cn) = lstm(x, (h, c))
        got = sess.run(None, {"input_0": x.numpy(), "input_1": h.numpy(), "input_2": c.numpy()})
        for g, e in zip(got, (out, hn, cn)):
            np.testing.assert_allclose(g, e.detach().numpy(), rtol=1e-4, atol=1e-5)
    gru = nn.GRU(4, 5, batch_first=True)
    roundtrip(gru, (cr.randn(2, 6, 4), cr.randn(1, 2, 5)), {"input_0": [0, 1], "input_1": [1]},
              others=[(cr.randn(3, 4, 4), cr.randn(1, 3, 5))])  # fmt: skip


def test_unbatched_rnn_input():
    roundtrip(nn.GRU(3, 4), cr.randn(5, 3), {"input": [0]}, others=[cr.randn(8, 3)])


# -- attention and Transformer layers ------------------------------------------------------------------
def test_multihead_attention_batch_first_with_weights():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    q, k, v = cr.randn(2, 5, 8), cr.randn(2, 4, 8), cr.randn(2, 4, 8)
    dyn = {"input_0": [0, 1], "input_1": [0, 1], "input_2": [0, 1]}
    proto = roundtrip(mha, (q, k, v), dyn, others=[(cr.randn(3, 7, 8), cr.randn(3, 2, 8), cr.randn(3, 2, 8))])
    assert len(proto.graph.output) == 2  # output and the head-averaged weights


def test_multihead_attention_masks_and_separate_kv_dims():
    mha = nn.MultiheadAttention(8, 4, kdim=6, vdim=5)

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, q, k, v, pad):
            causal = cr.triu(cr.ones(q.shape[0], k.shape[0]), diagonal=1).bool()
            return self.mha(q, k, v, key_padding_mask=pad, attn_mask=causal, need_weights=True,
                            average_attn_weights=False)  # fmt: skip

    pad = cr.tensor([[False, False, False, True], [False, False, False, False]])
    args = (cr.randn(4, 2, 8), cr.randn(4, 2, 6), cr.randn(4, 2, 5), pad)
    pad3 = cr.tensor([[False, True, True, True], [False, False, True, True], [False] * 4])
    others = [(cr.randn(4, 3, 8), cr.randn(4, 3, 6), cr.randn(4, 3, 5), pad3)]
    roundtrip(Masked(), args, {f"input_{i}": [1] if i < 3 else [0] for i in range(4)}, others=others)


def test_scaled_dot_product_attention_causal_and_masked():
    class Attend(nn.Module):
        def forward(self, q, k, v, bias):
            f = nn.functional
            a = f.scaled_dot_product_attention(q, k, v, is_causal=True)
            return a + f.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=0.3)

    def make(b, t):
        return cr.randn(b, 2, t, 4), cr.randn(b, 2, t, 4), cr.randn(b, 2, t, 4), cr.randn(t, t)

    dyn = {"input_0": [0, 2], "input_1": [0, 2], "input_2": [0, 2], "input_3": [0, 1]}
    roundtrip(Attend(), make(2, 5), dyn, others=[make(3, 7), make(1, 2)])


def test_transformer_encoder_stack():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, activation="gelu")
    model = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(8))
    dyn = {"input": {0: "batch", 1: "time"}, "output": {0: "batch", 1: "time"}}
    roundtrip(model, cr.randn(2, 5, 8), dyn, others=[cr.randn(3, 9, 8)])
    pre = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, norm_first=True)
    roundtrip(pre, cr.randn(5, 2, 8), {"input": [0, 1]}, others=[cr.randn(3, 4, 8)])


def test_transformer_decoder_stack():
    layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    model = nn.TransformerDecoder(layer, num_layers=2)
    dyn = {"input_0": [0, 1], "input_1": [0, 1]}
    roundtrip(
        model, (cr.randn(2, 5, 8), cr.randn(2, 3, 8)), dyn, others=[(cr.randn(3, 6, 8), cr.randn(3, 4, 8))]
    )


def test_transformer_decoder_layer_with_mask_input():
    class Decode(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)

        def forward(self, tgt, memory, tgt_mask):
            return self.layer(tgt, memory, tgt_mask=tgt_mask)

    def make(t, s, b):
        mask = cr.triu(cr.full((t, t), float("-inf")), diagonal=1)
        return cr.randn(t, b, 8), cr.randn(s, b, 8), mask

    dyn = {"input_0": [0, 1], "input_1": [0, 1], "input_2": [0, 1]}
    roundtrip(Decode(), make(5, 4, 2), dyn, others=[make(7, 3, 3)])


class _TinyGPT(nn.Module):
    """Token and position embeddings, a causal pre-norm encoder stack with a mask built from the
    length, a language-model head."""

    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(20, 16), nn.Embedding(32, 16)
        layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(16, 20)

    def forward(self, idx):
        B, T = idx.shape
        h = self.tok(idx) + self.pos(cr.arange(T))
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        return self.head(self.blocks(h, mask=mask, is_causal=True)).log_softmax(-1)


def test_tiny_language_model_with_a_causal_mask_built_from_the_length():
    dyn = {"input": {0: "batch", 1: "time"}, "output": {0: "batch", 1: "time"}}
    others = [cr.randint(0, 20, (3, 12)), cr.randint(0, 20, (1, 3))]
    proto = roundtrip(_TinyGPT(), cr.randint(0, 20, (2, 7)), dyn, others=others)
    assert "Trilu" in op_types(proto)


# -- the export interface ---------------------------------------------------------------------------------
def test_input_and_output_names_path_and_file_object(tmp_path):
    model = nn.LSTM(3, 4, batch_first=True)
    x = cr.randn(2, 5, 3)
    path = tmp_path / "lstm.onnx"
    names = dict(input_names=["tokens"], output_names=["seq", "h", "c"])
    cr.onnx.export(
        model, (x,), str(path), dynamic_axes={"tokens": {0: "batch"}, "seq": {0: "batch"}}, **names
    )
    with open(tmp_path / "lstm2.onnx", "wb") as fh:
        cr.onnx.export(model, x, fh, **names)
    cr.onnx.export(model, x, tmp_path / "lstm3.onnx", **names)  # a pathlib.Path
    for p in ("lstm.onnx", "lstm2.onnx", "lstm3.onnx"):
        sess = _session(str(tmp_path / p))
        assert [i.name for i in sess.get_inputs()] == ["tokens"]
        assert [o.name for o in sess.get_outputs()] == ["seq", "h", "c"]
        got = sess.run(["h"], {"tokens": x.numpy()})[0]
        np.testing.assert_allclose(got, model(x)[1][0].detach().numpy(), rtol=1e-4, atol=1e-5)
    proto = onnx.load(str(path))
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_parameters_become_named_initializers():
    model = nn.Sequential(nn.Linear(3, 2))
    buf = io.BytesIO()
    cr.onnx.export(model, cr.randn(1, 3), buf)
    names = {
        i.name: onnx.numpy_helper.to_array(i) for i in onnx.load_from_string(buf.getvalue()).graph.initializer
    }
    np.testing.assert_array_equal(names["0.weight"], model[0].weight.detach().numpy())


def test_opset_versions():
    model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.Softmax(dim=-1))
    x = cr.randn(3, 4)
    proto = roundtrip(model, x, BATCH)
    assert proto.opset_import[0].version == cr.onnx.DEFAULT_OPSET == 17
    for opset in (13, 18, 21):
        proto = roundtrip(model, x, BATCH, others=[cr.randn(5, 4)], opset_version=opset)
        assert proto.opset_import[0].version == opset
    for bad in (12, 22, "17", 17.0, True):
        with pytest.raises(ValueError, match="opset_version must be an int from 13 to 21"):
            cr.onnx.export(model, x, io.BytesIO(), opset_version=bad)


class _Einsum(nn.Module):
    def forward(self, x):
        return cr.einsum("ij,kj->ik", x, x)


class _Item(nn.Module):
    def forward(self, x):
        return x * float(x.sum())


class _Branch(nn.Module):
    def forward(self, x):
        return x if (x > 0).any() else -x


class _Untraced(nn.Module):
    def forward(self, x):
        return cr.where(cr.isclose(x, x * 2), cr.zeros(3, 4), x)


def test_unsupported_op_raises_naming_it():
    with pytest.raises(UnsupportedOperatorError, match="Einsum"):
        cr.onnx.export(_Einsum(), cr.randn(3, 4), io.BytesIO())
    assert issubclass(UnsupportedOperatorError, RuntimeError)


@pytest.mark.parametrize(
    "model, what", [(_Item(), "__float__"), (_Branch(), "__bool__"), (_Untraced(), "isclose")]
)
def test_values_the_graph_cannot_reproduce_raise(model, what):
    with pytest.raises(RuntimeError, match=what):
        cr.onnx.export(model, cr.randn(3, 4), io.BytesIO())


class _InPlace(nn.Module):
    def forward(self, x):
        h = x * 2
        h += 1
        return h


class _SetItem(nn.Module):
    def forward(self, x):
        h = x * 2
        h[0] = 0.0
        return h


@pytest.mark.parametrize("model", [_InPlace(), _SetItem()])
def test_in_place_changes_of_traced_tensors_raise(model):
    with pytest.raises(RuntimeError, match="in place"):
        cr.onnx.export(model, cr.randn(3, 4), io.BytesIO())


def test_a_constant_changed_in_place_between_uses():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("step", cr.ones(4))

        def forward(self, x):
            y = x + self.step
            with cr.no_grad():
                self.step.add_(1.0)
            return y * self.step

    model = Counter()
    x = cr.randn(3, 4)
    buf = io.BytesIO()
    cr.onnx.export(model, x, buf)
    got = _session(buf.getvalue()).run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, ((x + 1) * 2).numpy(), rtol=1e-6)


def test_tracer_is_switched_off_after_an_error():
    with pytest.raises(UnsupportedOperatorError):
        cr.onnx.export(_Einsum(), cr.randn(3, 4), io.BytesIO())
    x = cr.randn(3, 4)
    assert float((x * 2).sum()) == pytest.approx(float(x.sum()) * 2, rel=1e-5)
    assert cr.autograd.Function.apply.__func__.__qualname__ == "Function.apply"
    cr.onnx.export(Mixer(), cr.randn(3, 6, 4), io.BytesIO(), dynamic_axes={"input": [0, 1]})
    assert type(x.shape[0]) is int and type(x.size(1)) is int and cr.Tensor._make(x._data).shape == (3, 4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_names=["a", "b"]), "input_names"),
        (dict(output_names=["y", "z"]), "output_names"),
        (dict(dynamic_axes={"nope": [0]}), "nope"),
        (dict(dynamic_axes={"input": [2]}), "axis 2"),
        (dict(input_names=["x"], output_names=["x"]), "both an input and an output"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cr.onnx.export(nn.Linear(4, 2), cr.randn(3, 4), io.BytesIO(), **kwargs)


def test_bad_destination_and_args():
    with pytest.raises(TypeError, match="file path or a binary file object"):
        cr.onnx.export(nn.Linear(4, 2), cr.randn(3, 4), 42)
    with pytest.raises(TypeError, match="args must be a Tensor or a tuple"):
        cr.onnx.export(nn.Linear(4, 2), np.ones((3, 4), np.float32), io.BytesIO())


def test_import_chainrule_does_not_import_onnx_and_a_missing_onnx_is_a_clear_import_error():
    code = (
        "import sys; import chainrule as cr; assert 'onnx' not in sys.modules, 'onnx imported'\n"
        "sys.modules['onnx'] = None\n"
        "try:\n"
        "    cr.onnx.export(cr.nn.Linear(2, 1), cr.randn(1, 2), 'unused.onnx')\n"
        "except ImportError as e:\n"
        "    assert 'pip install onnx' in str(e), e\n"
        "    print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() == "ok", res.stderr


class _SizesFromShape(nn.Module):
    """Sizes read from x.shape: a buffer sliced to the length, a class token expanded to the batch,
    positions up to the length, zero padding, a mean written by hand."""

    def __init__(self):
        super().__init__()
        self.cls = nn.Parameter(cr.randn(1, 1, 4))
        self.pos = nn.Embedding(16, 4)
        self.register_buffer("pe", cr.randn(1, 16, 4))

    def forward(self, x):  # (B, T, 4)
        B, T = x.size(0), x.shape[1]
        x = x + self.pe[:, :T]
        h = cr.cat([self.cls.expand(B, -1, -1), x + self.pos(cr.arange(T))], dim=1)  # (B, T + 1, 4)
        h = cr.cat([h, cr.zeros(B, 1, 4), cr.ones_like(x[:, :1])], dim=1)  # (B, T + 3, 4)
        return h.sum(dim=1) / (T + 3), h.reshape(B * (T + 3), 4).reshape(B, T + 3, 4)


def test_sizes_from_shape_are_computed_at_run_time():
    dyn = {"input": {0: "batch", 1: "time"}}
    proto = roundtrip(
        _SizesFromShape(), cr.randn(2, 5, 4), dyn, others=[cr.randn(3, 8, 4), cr.randn(4, 2, 4)]
    )
    assert {"Range", "ConstantOfShape", "Expand"} <= op_types(proto)


def test_static_export_bakes_the_example_sizes():
    buf = io.BytesIO()
    cr.onnx.export(_SizesFromShape(), cr.randn(2, 5, 4), buf)
    sess = _session(buf.getvalue())
    assert [d for d in sess.get_inputs()[0].shape] == [2, 5, 4]
    assert "Range" not in op_types(onnx.load_from_string(buf.getvalue()))


def test_user_names_that_equal_parameter_names():
    model = nn.Linear(3, 2)  # parameters "weight" and "bias"
    x = cr.randn(4, 3)
    buf = io.BytesIO()
    cr.onnx.export(model, x, buf, input_names=["weight"], output_names=["bias"])
    got = _session(buf.getvalue()).run(None, {"weight": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5)


def test_a_users_function_named_like_a_chainrule_op_is_not_translated():
    class Exp(cr.autograd.Function):  # not chainrule's Exp: it doubles
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class Model(nn.Module):
        def forward(self, x):
            return Exp.apply(x)

    with pytest.raises(UnsupportedOperatorError, match="Exp"):
        cr.onnx.export(Model(), cr.randn(2, 3), io.BytesIO())
