"""cr.summary: per-layer output shapes and parameter counts, totals equal to PyTorch's parameter
counts for the same model, frozen parameters counted as non-trainable, the model left as it was."""

from __future__ import annotations

import pytest
import torch

import chainrule as cr
from chainrule import nn


def torch_counts(mt):
    total = sum(p.numel() for p in mt.parameters())
    trainable = sum(p.numel() for p in mt.parameters() if p.requires_grad)
    return total, trainable


def test_mlp_counts_shapes_and_table():
    m = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    mt = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.5),
        torch.nn.Linear(8, 3),
    )
    m[0].requires_grad_(False)
    mt[0].requires_grad_(False)
    s = cr.summary(m, (4,))
    total, trainable = torch_counts(mt)
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (
        total,
        trainable,
        total - trainable,
    )
    assert (total, trainable) == (83, 43)
    assert [r.name for r in s.rows] == ["0", "1", "2", "3", "4"]
    assert [r.type for r in s.rows] == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert [r.output_shape for r in s.rows] == [(None, 8)] * 4 + [(None, 3)]
    assert [r.params for r in s.rows] == [40, 16, 0, 0, 27]
    assert s.rows[0].trainable == 0 and s.rows[1].trainable == 16
    text = str(s)
    for piece in (
        "Layer (type)",
        "Output shape",
        "Param #",
        "0 (Linear)",
        "(None, 8)",
        "(None, 3)",
        "Total params: 83",
        "Trainable params: 43",
        "Non-trainable params: 40",
    ):
        assert piece in text, piece
    assert repr(s) == text


def _build(self, lib, tensor):
    self.emb = lib.Embedding(50, 8, padding_idx=0)
    self.rnn = lib.LSTM(8, 16, batch_first=True)
    self.head = lib.Linear(16, 5)
    self.temperature = lib.Parameter(tensor([1.0]))


class Tagger(nn.Module):
    """Embedding -> LSTM -> Linear, plus a parameter of its own."""

    def __init__(self):
        super().__init__()
        _build(self, nn, cr.tensor)

    def forward(self, idx):
        out, _ = self.rnn(self.emb(idx))
        return self.head(out) * self.temperature


class TorchTagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        _build(self, torch.nn, torch.tensor)


def test_nested_model_with_tuple_outputs_and_own_parameters():
    m, mt = Tagger(), TorchTagger()
    m.emb.weight.requires_grad_(False)
    mt.emb.weight.requires_grad_(False)
    s = cr.summary(m, (7,))  # integer input picked automatically for a leading Embedding
    total, trainable = torch_counts(mt)
    assert (s.total_params, s.trainable_params) == (total, trainable)
    rows = {r.name: r for r in s.rows}
    assert rows["emb"].output_shape == (None, 7, 8) and rows["emb"].trainable == 0
    assert rows["rnn"].output_shape == [(None, 7, 16), [(1, 2, 16), (1, 2, 16)]]  # h_n, c_n: (layers, N, H)
    assert rows["rnn"].params == sum(p.numel() for p in mt.rnn.parameters())
    assert rows["head"].output_shape == (None, 7, 5)
    assert rows["Tagger"].params == 1  # the root's own parameter gets a row
    assert sum(r.params for r in s.rows) == total


def test_model_state_is_restored_and_hooks_removed():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    m.train()
    m[1].eval()
    cr.summary(m, (2,))
    assert m.training and not m[1].training and m[0].training
    assert all(not mod._forward_hooks for mod in m.modules())
    with pytest.raises(
        ValueError,
        match=r"summary: the forward pass on a dummy batch of shape \[\(2, 3\)\] failed: "
        r"linear: input has 3 features",
    ):
        cr.summary(m, (3,))
    assert all(not mod._forward_hooks for mod in m.modules())
    assert m.training


def test_several_inputs_and_bad_shape_argument():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 2), nn.Linear(4, 2)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    s = cr.summary(Two(), [(3,), (4,)])
    assert s.total_params == 8 + 10 and [r.name for r in s.rows] == ["a", "b"]
    with pytest.raises(TypeError, match="summary: input_shape must be an int, a tuple of non-negative ints"):
        cr.summary(Two(), ("a", "b"))
    with pytest.raises(TypeError, match="summary: expected a Module"):
        cr.summary(torch.nn.Linear(2, 2), (2,))


def test_cnn_counts_like_torch():
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 8, 3, padding=1),
            lib.BatchNorm2d(8),
            lib.ReLU(),
            lib.MaxPool2d(2),
            lib.Conv2d(8, 16, 3),
            lib.ReLU(),
            lib.Flatten(),
            lib.Dropout(0.25),
            lib.Linear(16 * 2 * 2, 10),
        )

    m, mt = build(nn), build(torch.nn)
    s = cr.summary(m, (1, 8, 8))
    assert (s.total_params, s.trainable_params) == torch_counts(mt) == (1914, 1914)
    shapes = [tuple(r.output_shape) for r in s.rows]
    assert shapes == [(None, 8, 8, 8)] * 3 + [(None, 8, 4, 4)] + [(None, 16, 2, 2)] * 2 + [(None, 64)] * 2 + [
        (None, 10)
    ]
    assert [r.params for r in s.rows] == [sum(p.numel() for p in layer.parameters()) for layer in mt]
    line = next(x for x in str(s).splitlines() if x.startswith("2 (ReLU)"))
    assert line.split()[-2:] == ["0", "-"]


def test_shared_layer_called_twice_counts_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(self.fc(x))

    s = cr.summary(Twice(), (3,))
    assert [r.name for r in s.rows] == ["fc", "fc"]
    assert [r.params for r in s.rows] == [12, 0] and s.total_params == 12
