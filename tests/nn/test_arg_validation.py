"""Invalid layer and functional arguments fail at construction (or at the call, for shape-dependent
ones) with an error naming the layer, the argument and the allowed range, instead of a wrong
output, a NaN later or a NumPy message."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

# (constructor, the argument the message must name); each must raise ValueError or TypeError
BAD_LAYERS = [
    (lambda: nn.Conv2d(1, 1, kernel_size=0), "kernel_size must be an int >= 1"),
    (lambda: nn.Conv2d(1, 1, -3), "kernel_size must be an int >= 1"),
    (lambda: nn.Conv2d(1, 1, (3, 0)), "kernel_size"),
    (lambda: nn.Conv2d(1, 1, 3.0), "kernel_size"),
    (lambda: nn.Conv2d(1, 1, 3, stride=0), "stride must be an int >= 1"),
    (lambda: nn.Conv2d(1, 1, 3, stride=-1), "stride"),
    (lambda: nn.Conv2d(1, 1, 3, padding=-1), "padding must be an int >= 0"),
    (lambda: nn.Conv2d(1, 1, 3, padding="full"), "padding must be one of 'same', 'valid'"),
    (lambda: nn.Conv2d(1, 1, 3, dilation=0), "dilation must be an int >= 1"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"in_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), "groups must be an int >= 1"),
    (lambda: nn.Conv2d(-1, 1, 3), "in_channels must be an int >= 0"),
    (lambda: nn.Conv1d(1, 1, 0), "Conv1d: kernel_size"),
    (lambda: nn.Conv3d(1, 1, 3, stride=(1, 0, 1)), "Conv3d: stride"),
    (lambda: nn.ConvTranspose2d(1, 1, 0), "ConvTranspose2d: kernel_size"),
    (lambda: nn.ConvTranspose2d(1, 1, 3, stride=0), "stride"),
    (lambda: nn.ConvTranspose2d(1, 1, 3, padding=-1), "padding"),
    (lambda: nn.ConvTranspose2d(1, 1, 3, output_padding=-1), "output_padding must be an int >= 0"),
    (lambda: nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2), "output_padding .* smaller than"),
    (lambda: nn.ConvTranspose1d(1, 1, 3, output_padding=1), "ConvTranspose1d: output_padding"),
    (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size must be an int >= 1"),
    (lambda: nn.MaxPool2d(-2), "kernel_size"),
    (lambda: nn.MaxPool2d(2, stride=0), "MaxPool2d: stride must be an int >= 1"),
    (lambda: nn.MaxPool2d(2, padding=-1), "padding must be an int >= 0"),
    (lambda: nn.MaxPool2d(2, padding=2), "padding should be at most half of the effective kernel size"),
    (lambda: nn.MaxPool2d(2, dilation=0), "dilation"),
    (lambda: nn.MaxPool1d(0), "MaxPool1d: kernel_size"),
    (lambda: nn.MaxPool3d(2, stride=(2, 0, 2)), "MaxPool3d: stride"),
    (lambda: nn.AvgPool2d(0), "AvgPool2d: kernel_size"),
    (lambda: nn.AvgPool2d(2, stride=0), "stride"),
    (lambda: nn.AvgPool2d(2, padding=2), "padding should be at most half"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), "divisor_override must be an int >= 1"),
    (lambda: nn.AvgPool1d(0), "AvgPool1d: kernel_size"),
    (lambda: nn.AvgPool3d(0), "AvgPool3d: kernel_size"),
    (lambda: nn.AdaptiveAvgPool2d(-1), "AdaptiveAvgPool2d: output_size must be an int >= 1"),
    (lambda: nn.Upsample(scale_factor=0), "Upsample: scale_factor must be a number > 0"),
    (lambda: nn.Upsample(scale_factor=-2), "scale_factor"),
    (lambda: nn.Upsample(size=0), "Upsample: size must be an int >= 1"),
    (lambda: nn.BatchNorm1d(3, eps=0), r"BatchNorm1d: eps must be a number > 0, got 0"),
    (lambda: nn.BatchNorm2d(3, eps=-1e-5), "BatchNorm2d: eps"),
    (lambda: nn.BatchNorm2d(3, momentum=-0.5), r"momentum must be a number in \[0, 1\] or None"),
    (lambda: nn.BatchNorm2d(3, momentum=2), "momentum"),
    (lambda: nn.LayerNorm(3, eps=-1e-5), "LayerNorm: eps must be a number >= 0"),
    (lambda: nn.Embedding(5, 3, max_norm=-1.0), "Embedding: max_norm must be a number > 0"),
    (lambda: nn.Embedding(-1, 3), "num_embeddings must be an int >= 0"),
    (lambda: nn.Linear(3, -1), "Linear: out_features must be an int >= 0"),
    (lambda: nn.Linear(3.5, 2), "in_features"),
    (lambda: nn.RNN(3, 0), "RNN: hidden_size must be an int >= 1"),
    (lambda: nn.LSTM(3, 4, num_layers=0), "LSTM: num_layers must be an int >= 1"),
    (lambda: nn.GRU(3, 4, dropout=1.5), r"GRU: dropout must be a number in \[0, 1\]"),
    (lambda: nn.Dropout(1.5), "Dropout: dropout probability has to be between 0 and 1"),
    (lambda: nn.Dropout2d(-0.1), "Dropout2d"),
    (lambda: nn.Softplus(beta=0), "Softplus: beta must be a nonzero number"),
    (lambda: nn.LeakyReLU(negative_slope="x"), "LeakyReLU: negative_slope must be a number"),
    (lambda: nn.ELU(alpha=None), "ELU: alpha must be a number"),
    (lambda: nn.Softmax(dim=1.5), "Softmax: dim must be an int"),
    (lambda: nn.LogSoftmax(dim="1"), "LogSoftmax: dim must be an int"),
    (lambda: nn.Flatten(start_dim=1.5), "Flatten: start_dim must be an int"),
    (lambda: nn.Unflatten(1, (2, -3)), "Unflatten: unflattened_size must be an int >= -1"),
    (lambda: nn.Unflatten(1, (-1, -1)), "at most one -1"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), r"label_smoothing must be a number in \[0, 1\]"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), "label_smoothing"),
    (lambda: nn.HuberLoss(delta=0), "HuberLoss: delta must be a number > 0"),
    (lambda: nn.MultiMarginLoss(margin="x"), "MultiMarginLoss: margin must be a number"),
    (lambda: nn.NLLLoss(ignore_index=1.5), "NLLLoss: ignore_index must be an int"),
]


@pytest.mark.parametrize("build, message", BAD_LAYERS, ids=[m for _, m in BAD_LAYERS])
def test_bad_constructor_arguments_raise_naming_layer_argument_and_range(build, message):
    with pytest.raises((ValueError, TypeError), match=message) as err:
        build()
    text = str(err.value)
    assert text.split(":")[0][0].isupper()  # starts with the layer's name
    assert "got" in text or "must be" in text


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_conv_kernel_size_zero_was_a_bigger_output():
    # the silent failure this guards against: PyTorch refuses at the first call, we at construction
    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(1, 1, kernel_size=0)(torch.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match="Conv2d: kernel_size"):
        nn.Conv2d(1, 1, kernel_size=0)
    with pytest.raises(ValueError, match="conv2d: the kernel size must be positive"):
        F.conv2d(cr.zeros(1, 1, 5, 5), cr.zeros(1, 1, 0, 0))
    with pytest.raises(ValueError, match="conv_transpose2d: the kernel size must be positive"):
        F.conv_transpose2d(cr.zeros(1, 2, 4, 4), cr.zeros(2, 3, 0, 3))


def test_batch_norm_eps_as_torch():
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="eps must be positive"):
        torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True, eps=0)
    with pytest.raises(ValueError, match="batch_norm: eps must be positive during training, got 0"):
        F.batch_norm(cr.tensor(x), None, None, training=True, eps=0)
    F.batch_norm(cr.tensor(x), cr.zeros(3), cr.ones(3), training=False, eps=0)  # eval: allowed, as torch


@pytest.mark.parametrize("pad", [(-7, 0), (-8, 1), (0, -7), (-4, -3), (0, 0, -7, 2)])
def test_negative_pad_beyond_the_size_raises_as_torch(pad):
    x = np.zeros((2, 3, 6, 6), np.float32)
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.tensor(x), pad)
    with pytest.raises(ValueError, match=r"pad: the input size 6 of dim [23], plus negative padding"):
        F.pad(cr.tensor(x), pad)


@pytest.mark.parametrize("pad", [(-6, 0), (-3, -3), (-2, 1), (0, 0, -1, -5)])
def test_negative_pad_within_the_size_crops_as_torch(pad):
    x = np.arange(2 * 3 * 6 * 6, dtype=np.float32).reshape(2, 3, 6, 6)
    ours = F.pad(cr.tensor(x), pad).numpy()
    np.testing.assert_array_equal(ours, torch.nn.functional.pad(torch.tensor(x), pad).numpy())


def test_pad_widths_must_be_ints():
    with pytest.raises(TypeError, match=r"pad: padding widths must be ints, got \(1.5, 1\)"):
        F.pad(cr.zeros(2, 3), (1.5, 1))


X2 = np.random.default_rng(0).random((4, 3)).astype(np.float32)
Y = np.array([0, 1, 2, 0])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda F, lib: F.leaky_relu(lib.tensor(X2), "x"),
            TypeError,
            "leaky_relu: negative_slope must be a number",
        ),
        (lambda F, lib: F.elu(lib.tensor(X2), "x"), TypeError, "elu: alpha must be a number"),
        (
            lambda F, lib: F.softplus(lib.tensor(X2), beta="x"),
            TypeError,
            "softplus: beta must be a number",
        ),
        (
            lambda F, lib: F.huber_loss(lib.tensor(X2), lib.tensor(X2), delta="x"),
            TypeError,
            "huber_loss: delta",
        ),
        (
            lambda F, lib: F.pad(lib.tensor(X2), (1, 1), value="x"),
            TypeError,
            "pad: value must be a number",
        ),
        (
            lambda F, lib: F.softmax(lib.tensor(X2), 1.5),
            TypeError,
            "softmax: dim must be an int, got float",
        ),
        (lambda F, lib: F.log_softmax(lib.tensor(X2), "1"), TypeError, "log_softmax: dim must be an int"),
        (
            lambda F, lib: F.cross_entropy(lib.tensor(X2), lib.tensor(Y), ignore_index=1.5),
            TypeError,
            "cross_entropy: ignore_index must be an int",
        ),
        (
            lambda F, lib: F.multi_margin_loss(lib.tensor(X2), lib.tensor(Y), margin="x"),
            TypeError,
            "multi_margin_loss: margin must be a number",
        ),
        (
            # a silent wrong loss before: targets outside [0, 1]
            lambda F, lib: F.binary_cross_entropy(lib.tensor(X2), lib.tensor(X2 * 2)),
            ValueError,
            "binary_cross_entropy: all elements of target should be between 0 and 1",
        ),
    ],
)
def test_functional_arguments_raise_our_message_where_torch_raises(call, error, message):
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        call(torch.nn.functional, torch)
    with pytest.raises(error, match=message):
        call(F, cr)


def test_valid_arguments_still_build_as_torch():
    # the checks accept what PyTorch accepts: tuples, 'same', None stride, zero-size layers
    nn.Conv2d(2, 4, (3, 1), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    nn.Conv1d(1, 1, 3, padding="same", dilation=2)
    nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=1)
    nn.ConvTranspose2d(1, 1, 3, dilation=3, output_padding=2)
    nn.MaxPool2d((3, 2), stride=None, padding=(1, 1), dilation=(1, 2))
    nn.AvgPool1d(3, padding=1)
    nn.AdaptiveAvgPool2d((None, 2))
    nn.Upsample(scale_factor=(2, 1.5))
    nn.BatchNorm1d(3, momentum=None)
    nn.LayerNorm(3, eps=0)
    nn.Linear(0, 2)
    nn.Embedding(0, 3)
    nn.Unflatten(1, (2, -1))
    nn.LeakyReLU(np.float32(0.2))
