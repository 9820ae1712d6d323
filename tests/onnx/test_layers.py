"""cr.onnx.export over the layer and activation list of cr.nn: each layer, built with small arguments,
is exported with a dynamic batch axis and run in onnxruntime at the example's batch size and at
another one; its outputs must match chainrule's (float32 tolerance).  What has no translation must
raise UnsupportedOperatorError naming what is missing, never give a wrong graph.
"""

import io

import numpy as np
import onnxruntime as ort
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.onnx import UnsupportedOperatorError


def _r(*shape):
    return cr.randn(*shape)


def _idx(high, *shape):
    return cr.tensor(np.random.randint(0, high, size=shape))


class _Call(nn.Module):
    def __init__(self, fn, **layers):
        super().__init__()
        self.fn = fn
        for k, v in layers.items():
            setattr(self, k, v)

    def forward(self, *args):
        return self.fn(self, *args)


def _padded_bags(n):
    idx = np.random.randint(0, 4, size=(n, 3))
    idx[0] = 2  # a bag of padding only
    return cr.tensor(idx)


class _PoolUnpool(nn.Module):
    def forward(self, x):
        y, idx = nn.functional.max_pool3d(x, 2, return_indices=True)
        return nn.functional.max_unpool3d(y, idx, 2), idx


class _Bags(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(cr.randn(4, 3))

    def forward(self, idx, w):
        f = nn.functional
        return (
            f.embedding_bag(idx, self.weight, mode="sum", per_sample_weights=w, padding_idx=2),
            f.embedding_bag(idx, self.weight, mode="mean", padding_idx=2),  # a bag of padding only: zeros
            f.embedding_bag(idx, self.weight, mode="max", padding_idx=-2),
        )


# name -> (layer factory, inputs for a batch size n, whether the batch axis can vary)
LAYERS = {
    "Identity": (lambda: nn.Identity(), lambda n: (_r(n, 4),), True),
    "Flatten": (lambda: nn.Flatten(), lambda n: (_r(n, 2, 3),), True),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda n: (_r(n, 6),), True),
    "Linear": (lambda: nn.Linear(4, 3), lambda n: (_r(n, 4),), True),
    "Bilinear": (lambda: nn.Bilinear(3, 4, 2), lambda n: (_r(n, 3), _r(n, 4)), True),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3, padding=1), lambda n: (_r(n, 2, 7),), True),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, stride=2), lambda n: (_r(n, 2, 7, 6),), True),
    "Conv2d-same": (lambda: nn.Conv2d(2, 3, 3, padding="same"), lambda n: (_r(n, 2, 5, 6),), True),
    "Conv2d-reflect": (
        lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
        lambda n: (_r(n, 2, 5, 6),),
        True,
    ),
    "Conv3d": (lambda: nn.Conv3d(2, 2, 2), lambda n: (_r(n, 2, 3, 4, 3),), True),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), lambda n: (_r(n, 2, 5),), True),
    "ConvTranspose2d": (
        lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
        lambda n: (_r(n, 2, 4, 3),),
        True,
    ),
    "ConvTranspose3d": (lambda: nn.ConvTranspose3d(2, 2, 2), lambda n: (_r(n, 2, 2, 3, 2),), True),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), lambda n: (_r(n, 2, 7),), True),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1), lambda n: (_r(n, 2, 7, 6),), True),
    "MaxPool3d": (lambda: nn.MaxPool3d(2), lambda n: (_r(n, 2, 4, 4, 5),), True),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2), lambda n: (_r(n, 2, 7),), True),
    "AvgPool2d": (lambda: nn.AvgPool2d(2, padding=1), lambda n: (_r(n, 2, 5, 6),), True),
    "AvgPool3d": (lambda: nn.AvgPool3d(2), lambda n: (_r(n, 2, 4, 4, 5),), True),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(3), lambda n: (_r(n, 2, 7),), True),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda n: (_r(n, 2, 5, 7),), True),
    "AdaptiveAvgPool3d": (lambda: nn.AdaptiveAvgPool3d((2, 1, 3)), lambda n: (_r(n, 2, 3, 4, 5),), True),
    "AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(3), lambda n: (_r(n, 2, 7),), True),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d((2, 3)), lambda n: (_r(n, 2, 5, 7),), True),
    "AdaptiveMaxPool2d-global": (lambda: nn.AdaptiveMaxPool2d(1), lambda n: (_r(n, 2, 5, 7),), True),
    "AdaptiveMaxPool2d-indices": (
        lambda: nn.AdaptiveMaxPool2d((2, 3), return_indices=True),
        lambda n: (_r(n, 2, 5, 7),),
        True,
    ),
    "AdaptiveMaxPool1d-indices-unbatched": (
        lambda: nn.AdaptiveMaxPool1d(3, return_indices=True),
        lambda n: (_r(2, 7),),
        False,
    ),
    "AdaptiveMaxPool3d-indices": (
        lambda: nn.AdaptiveMaxPool3d((2, 1, 3), return_indices=True),
        lambda n: (_r(n, 2, 3, 4, 5),),
        True,
    ),
    "AdaptiveMaxPool3d": (lambda: nn.AdaptiveMaxPool3d((2, 1, 3)), lambda n: (_r(n, 2, 3, 4, 5),), True),
    "LPPool2d": (lambda: nn.LPPool2d(2, 2), lambda n: (_r(n, 2, 4, 6),), True),
    "Dropout": (lambda: nn.Dropout(0.3), lambda n: (_r(n, 4),), True),
    "Dropout1d": (lambda: nn.Dropout1d(0.3), lambda n: (_r(n, 3, 4),), True),
    "Dropout2d": (lambda: nn.Dropout2d(0.3), lambda n: (_r(n, 3, 4, 4),), True),
    "Dropout3d": (lambda: nn.Dropout3d(0.3), lambda n: (_r(n, 3, 2, 2, 2),), True),
    "AlphaDropout": (lambda: nn.AlphaDropout(0.3), lambda n: (_r(n, 4),), True),
    "FeatureAlphaDropout": (lambda: nn.FeatureAlphaDropout(0.3), lambda n: (_r(n, 3, 4, 4),), True),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), lambda n: (_r(n, 3, 5),), True),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), lambda n: (_r(n, 3, 4, 4),), True),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(3), lambda n: (_r(n, 3, 2, 3, 2),), True),
    "LayerNorm": (lambda: nn.LayerNorm([3, 4]), lambda n: (_r(n, 3, 4),), True),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), lambda n: (_r(n, 4, 5),), True),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True), lambda n: (_r(n, 3, 6),), True),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3), lambda n: (_r(n, 3, 4, 5),), True),
    "InstanceNorm2d-stats": (
        lambda: nn.InstanceNorm2d(3, track_running_stats=True),
        lambda n: (_r(n, 3, 4, 5),),
        True,
    ),
    "InstanceNorm3d": (lambda: nn.InstanceNorm3d(2, affine=True), lambda n: (_r(n, 2, 3, 2, 4),), True),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3), lambda n: (_r(n, 5, 4, 3),), True),
    "Embedding": (lambda: nn.Embedding(10, 3, padding_idx=0), lambda n: (_idx(10, n, 4),), True),
    "EmbeddingBag-mean": (lambda: nn.EmbeddingBag(10, 3), lambda n: (_idx(10, n, 4),), True),
    "EmbeddingBag-sum": (lambda: nn.EmbeddingBag(10, 3, mode="sum"), lambda n: (_idx(10, n, 4),), True),
    "EmbeddingBag-max": (lambda: nn.EmbeddingBag(10, 3, mode="max"), lambda n: (_idx(10, n, 4),), True),
    "Upsample-nearest": (lambda: nn.Upsample(scale_factor=2), lambda n: (_r(n, 2, 3, 4),), True),
    "Upsample-linear": (
        lambda: nn.Upsample(size=7, mode="linear"),
        lambda n: (_r(n, 2, 4),),
        True,
    ),
    "Upsample-bilinear": (
        lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
        lambda n: (_r(n, 2, 3, 4),),
        True,
    ),
    "Upsample-bilinear-corners": (
        lambda: nn.Upsample(size=(5, 3), mode="bilinear", align_corners=True),
        lambda n: (_r(n, 2, 3, 4),),
        True,
    ),
    "Upsample-trilinear": (
        lambda: nn.Upsample(scale_factor=1.5, mode="trilinear"),
        lambda n: (_r(n, 1, 2, 3, 4),),
        True,
    ),
    "UpsamplingNearest2d": (lambda: nn.UpsamplingNearest2d(size=(5, 3)), lambda n: (_r(n, 2, 3, 4),), True),
    "UpsamplingBilinear2d": (
        lambda: nn.UpsamplingBilinear2d(scale_factor=2),
        lambda n: (_r(n, 2, 3, 3),),
        True,
    ),
    "ZeroPad1d": (lambda: nn.ZeroPad1d((1, 2)), lambda n: (_r(n, 2, 4),), True),
    "ZeroPad2d": (lambda: nn.ZeroPad2d((1, 0, 2, 1)), lambda n: (_r(n, 2, 3, 4),), True),
    "ConstantPad1d": (lambda: nn.ConstantPad1d(2, 3.5), lambda n: (_r(n, 2, 4),), True),
    "ConstantPad2d": (lambda: nn.ConstantPad2d((1, 2, 0, 1), -1.0), lambda n: (_r(n, 2, 3, 4),), True),
    "ConstantPad3d": (lambda: nn.ConstantPad3d(1, 0.5), lambda n: (_r(n, 2, 2, 3, 2),), True),
    "ReflectionPad1d": (lambda: nn.ReflectionPad1d((2, 1)), lambda n: (_r(n, 2, 4),), True),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d((1, 2, 2, 0)), lambda n: (_r(n, 2, 3, 4),), True),
    "ReflectionPad3d": (lambda: nn.ReflectionPad3d(1), lambda n: (_r(n, 2, 2, 3, 2),), True),
    "ReplicationPad1d": (lambda: nn.ReplicationPad1d((2, 1)), lambda n: (_r(n, 2, 4),), True),
    "ReplicationPad2d": (lambda: nn.ReplicationPad2d((1, 2, 2, 0)), lambda n: (_r(n, 2, 3, 4),), True),
    "ReplicationPad3d": (lambda: nn.ReplicationPad3d(1), lambda n: (_r(n, 2, 2, 3, 2),), True),
    "CircularPad1d": (lambda: nn.CircularPad1d((2, 1)), lambda n: (_r(n, 2, 4),), True),
    "CircularPad2d": (lambda: nn.CircularPad2d((1, 2, 2, 0)), lambda n: (_r(n, 2, 3, 4),), True),
    "CircularPad3d": (lambda: nn.CircularPad3d(1), lambda n: (_r(n, 2, 2, 3, 2),), True),
    "PixelShuffle": (lambda: nn.PixelShuffle(2), lambda n: (_r(n, 8, 2, 3),), True),
    "PixelUnshuffle": (lambda: nn.PixelUnshuffle(2), lambda n: (_r(n, 2, 4, 6),), True),
    "ChannelShuffle": (lambda: nn.ChannelShuffle(2), lambda n: (_r(n, 4, 2, 3),), True),
    "Unfold": (lambda: nn.Unfold(2, padding=1, stride=2), lambda n: (_r(n, 2, 4, 5),), True),
    "Fold": (lambda: nn.Fold((4, 5), 2, stride=(2, 1)), lambda n: (_r(n, 8, 8),), True),
    "MaxUnpool1d": (
        lambda: nn.MaxUnpool1d(2),
        lambda n: nn.functional.max_pool1d(_r(n, 2, 6), 2, return_indices=True),
        True,
    ),
    "MaxUnpool2d": (
        lambda: nn.MaxUnpool2d(2),
        lambda n: nn.functional.max_pool2d(_r(n, 2, 4, 6), 2, return_indices=True),
        True,
    ),
    "MaxPool2d-indices": (
        lambda: nn.MaxPool2d(3, stride=2, padding=1, return_indices=True),
        lambda n: (_r(n, 2, 5, 6),),
        True,
    ),
    "MaxPool3d-indices-unpool": (lambda: _PoolUnpool(), lambda n: (_r(n, 2, 4, 4, 6),), True),
    "LPPool3d-inf": (lambda: nn.LPPool3d(float("inf"), 2), lambda n: (_r(n, 2, 4, 4, 4),), True),
    "LPPool1d": (lambda: nn.LPPool1d(3, 2), lambda n: (cr.rand(n, 2, 6),), True),
    "Unfold-dilated": (
        lambda: nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)),
        lambda n: (_r(n, 2, 5, 6),),
        True,
    ),
    "Fold-dilated": (
        lambda: nn.Fold((5, 6), 2, dilation=2, padding=1, stride=(1, 2)),
        lambda n: (_r(n, 8, 15),),
        True,
    ),
    "Fold-unbatched": (lambda: nn.Fold((4, 5), 2), lambda n: (_r(8, 12),), False),
    "AdaptiveMaxPool2d-unbatched": (lambda: nn.AdaptiveMaxPool2d((2, 3)), lambda n: (_r(2, 5, 7),), False),
    "EmbeddingBag-weights-padding": (lambda: _Bags(), lambda n: (_padded_bags(n), _r(n, 3)), True),
    "Upsample-nearest-exact": (
        lambda: nn.Upsample(size=(5, 7), mode="nearest-exact"),
        lambda n: (_r(n, 2, 3, 4),),
        True,
    ),
    "Upsample-bilinear-scales": (
        lambda: nn.Upsample(scale_factor=(1.7, 0.6), mode="bilinear"),
        lambda n: (_r(n, 2, 4, 5),),
        True,
    ),
    "CosineSimilarity": (lambda: nn.CosineSimilarity(), lambda n: (_r(n, 5), _r(n, 5)), True),
    "PairwiseDistance": (lambda: nn.PairwiseDistance(), lambda n: (_r(n, 5), _r(n, 5)), True),
    "PairwiseDistance-p0": (lambda: nn.PairwiseDistance(p=0.0), lambda n: (_r(n, 5), _r(n, 5)), True),
    "PairwiseDistance-p3": (lambda: nn.PairwiseDistance(p=3.0), lambda n: (_r(n, 5), _r(n, 5)), True),
    "PairwiseDistance-inf": (
        lambda: nn.PairwiseDistance(p=float("inf")),
        lambda n: (_r(n, 5), _r(n, 5)),
        True,
    ),
    "normalize": (
        lambda: _Call(lambda m, x: nn.functional.normalize(x, p=3.0, dim=1)),
        lambda n: (_r(n, 5),),
        True,
    ),
    "PairwiseDistance-p1": (
        lambda: nn.PairwiseDistance(p=1.0, keepdim=True),
        lambda n: (_r(n, 5), _r(n, 5)),
        True,
    ),
    "GradientReversal": (lambda: nn.GradientReversal(), lambda n: (_r(n, 4),), True),
    "RNNCell": (lambda: nn.RNNCell(3, 4), lambda n: (_r(n, 3), _r(n, 4)), True),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), lambda n: (_r(n, 3),), True),
    "GRUCell": (lambda: nn.GRUCell(3, 4), lambda n: (_r(n, 3),), True),
    "LSTM-proj": (lambda: nn.LSTM(3, 4, proj_size=2), lambda n: (_r(5, n, 3),), False),
    "LSTM-proj-batch": (lambda: nn.LSTM(3, 4, proj_size=2, batch_first=True), lambda n: (_r(n, 5, 3),), True),
}

ACTIVATIONS = {
    "ReLU": nn.ReLU,
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "Softplus": lambda: nn.Softplus(beta=2.0, threshold=3.0),
    "LeakyReLU": lambda: nn.LeakyReLU(0.2),
    "PReLU": lambda: nn.PReLU(4, init=0.1),
    "ELU": lambda: nn.ELU(0.7),
    "GELU": nn.GELU,
    "GELU-tanh": lambda: nn.GELU(approximate="tanh"),
    "SiLU": nn.SiLU,
    "Softmax": lambda: nn.Softmax(dim=1),
    "LogSoftmax": lambda: nn.LogSoftmax(dim=-1),
    "SELU": nn.SELU,
    "CELU": lambda: nn.CELU(0.6),
    "Mish": nn.Mish,
    "Hardtanh": lambda: nn.Hardtanh(-0.5, 1.5),
    "ReLU6": nn.ReLU6,
    "Hardsigmoid": nn.Hardsigmoid,
    "Hardswish": nn.Hardswish,
    "LogSigmoid": nn.LogSigmoid,
    "Softsign": nn.Softsign,
    "Softmin": lambda: nn.Softmin(dim=1),
    "Tanhshrink": nn.Tanhshrink,
    "Threshold": lambda: nn.Threshold(0.1, -2.0),
    "Hardshrink": lambda: nn.Hardshrink(0.6),
    "Softshrink": lambda: nn.Softshrink(0.6),
    "GLU": lambda: nn.GLU(dim=1),
}
for _name, _make in ACTIVATIONS.items():  # wide inputs reach every branch (kinks at ±3, 6, thresholds)
    LAYERS[_name] = (_make, lambda n: (_r(n, 4, 3) * 4,), True)
LAYERS["Softmax2d"] = (nn.Softmax2d, lambda n: (_r(n, 3, 2, 4),), True)


def _arrays(values):
    return [v.numpy() for v in values if isinstance(v, cr.Tensor)]


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_onnxruntime(name):
    make, inputs, dynamic = LAYERS[name]
    cr.manual_seed(0)
    np.random.seed(0)
    model = make()
    for p in model.parameters():  # away from the default initialisation (biases, affine norms at 0/1)
        p.data = p.data + cr.randn(*p.shape) * 0.1
    for b_name, b in model.named_buffers():
        if b is not None and b_name.startswith("running_"):
            b.data = cr.rand(*b.shape) + 0.5
    model.eval()
    args = tuple(inputs(3))
    n_in = len(_arrays(args))
    in_names = [f"in{i}" for i in range(n_in)]
    with cr.no_grad():
        n_out = len(_arrays(_outputs(model(*args))))
    out_names = [f"out{i}" for i in range(n_out)]
    axes = {k: {0: "batch"} for k in in_names + out_names} if dynamic else None
    buf = io.BytesIO()
    cr.onnx.export(model, args, buf, input_names=in_names, output_names=out_names, dynamic_axes=axes)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for batch in (3, 5) if dynamic else (3,):
        a = args if batch == 3 else tuple(inputs(batch))
        with cr.no_grad():
            expected = _arrays(_outputs(model(*a)))
        got = sess.run(None, dict(zip(in_names, _arrays(a))))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape, (batch, g.shape, e.shape)
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=f"{name} at batch {batch}")


def _outputs(out):
    if isinstance(out, cr.Tensor):
        return [out]
    acc = []
    for o in out:
        acc.extend(_outputs(o) if isinstance(o, (tuple, list)) else [o])
    return acc


def _packed_lstm(m, x):
    packed = nn.utils.rnn.pack_padded_sequence(x, cr.tensor([4, 2, 1]), batch_first=True)
    return m.lstm(packed)[0].data


_F = nn.functional
# what the graph cannot hold, and the words of the error that names it
REFUSED = {
    "EmbeddingBag-offsets": (
        lambda: _Call(lambda m, x: m.bag(x, cr.tensor([0, 2])), bag=nn.EmbeddingBag(10, 3)),
        lambda: (_idx(10, 5),),
        "embedding_bag with offsets",
    ),
    "EmbeddingBag-max_norm": (
        lambda: nn.EmbeddingBag(10, 3, max_norm=1.0),
        lambda: (_idx(10, 2, 3),),
        "embedding_bag with max_norm",
    ),
    "pack_padded_sequence": (
        lambda: _Call(_packed_lstm, lstm=nn.LSTM(3, 4, batch_first=True)),
        lambda: (_r(3, 4, 3),),
        "pack_padded_sequence: a packed sequence",
    ),
    "LSTM-on-PackedSequence": (
        lambda: nn.LSTM(3, 4),
        lambda: (nn.utils.rnn.pack_sequence([_r(3, 3), _r(2, 3)]),),
        "LSTM on a PackedSequence",
    ),
    "grid_sample": (
        lambda: _Call(lambda m, x, g: _F.grid_sample(x, g, align_corners=False)),
        lambda: (_r(2, 3, 4, 5), cr.rand(2, 3, 3, 2) * 2 - 1),
        "grid_sample has no ONNX translation",
    ),
    "affine_grid": (
        lambda: _Call(lambda m, t: _F.affine_grid(t, (2, 3, 4, 5), align_corners=False)),
        lambda: (_r(2, 2, 3),),
        "affine_grid has no ONNX translation",
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_has_no_translation_raises_naming_it(name):
    make, inputs, message = REFUSED[name]
    np.random.seed(0)
    with pytest.raises(UnsupportedOperatorError, match=message):
        cr.onnx.export(make(), inputs(), io.BytesIO())
