"""cr.summary's mult-adds (against PyTorch's FLOP counter), memory estimates (against the sizes
of PyTorch's tensors for the same model) and the nested view of sub-modules."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import chainrule as cr
from chainrule import nn

BATCH = 2  # summary's dummy batch


def _torch_macs(mt, shape):
    with FlopCounterMode(display=False) as counter:
        mt(torch.zeros((BATCH, *shape)))
    return counter.get_total_flops() // 2  # a multiply-add is two FLOPs


def _cnn(lib):
    return lib.Sequential(
        lib.Conv2d(3, 8, 3, padding=1),
        lib.ReLU(),
        lib.Sequential(lib.Conv2d(8, 16, 3, stride=2, groups=2), lib.ReLU()),
        lib.ConvTranspose2d(16, 4, 2, stride=2),
        lib.Flatten(),
        lib.Linear(4 * 14 * 14, 10),
    )


def _conv1d(lib):
    return lib.Sequential(lib.Conv1d(2, 6, 5, padding=2), lib.Tanh(), lib.Flatten(), lib.Linear(6 * 9, 3))


@pytest.mark.parametrize(("build", "shape"), [(_cnn, (3, 15, 15)), (_conv1d, (2, 9))])
def test_mult_adds_match_torch_flop_counter(build, shape):
    s = cr.summary(build(nn), shape)
    want = _torch_macs(build(torch.nn), shape)
    assert want > 0 and s.total_mult_adds * BATCH == want
    assert sum(r.mult_adds for r in s.rows) == s.total_mult_adds
    assert s.rows[1].mult_adds == 0  # ReLU


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_mult_adds_are_weights_times_steps(kind):
    m = getattr(nn, kind)(4, 6, num_layers=2, bidirectional=True)
    mt = getattr(torch.nn, kind)(4, 6, num_layers=2, bidirectional=True)
    s = cr.summary(m, (BATCH, 4))  # (T=2, N=2, F): the dummy batch of 2 is the sequence here
    weights = sum(p.numel() for name, p in mt.named_parameters() if name.startswith("weight"))
    assert s.total_mult_adds * BATCH == weights * BATCH * BATCH


def test_memory_estimates_match_torch_tensor_sizes():
    shape = (3, 15, 15)
    m, mt = _cnn(nn), _cnn(torch.nn)
    s = cr.summary(m, shape)
    assert s.param_bytes == sum(p.numel() * p.element_size() for p in mt.parameters())
    outputs = []
    hooks = [
        mod.register_forward_hook(lambda mod, a, out: outputs.append(out.numel() * out.element_size()))
        for mod in mt.modules()
        if not list(mod.children())
    ]
    mt(torch.zeros((BATCH, *shape)))
    for h in hooks:
        h.remove()
    assert s.activation_bytes == 2 * sum(outputs) // BATCH  # every leaf output and its gradient
    assert s.input_bytes == 3 * 15 * 15 * 4
    assert s.total_bytes == s.input_bytes + s.activation_bytes + s.param_bytes
    text = str(s)
    for piece in (
        "Mult-adds",
        "Mult-adds per sample:",
        "Params size:",
        "Forward/backward pass size per sample:",
    ):
        assert piece in text


def test_nested_view():
    m, mt = _cnn(nn), _cnn(torch.nn)
    s = cr.summary(m, (3, 15, 15))
    tree = {r.name: r for r in s.tree}
    assert [r.depth for r in s.tree] == [0, 1, 1, 1, 2, 2, 1, 1, 1]
    assert tree["Sequential"].params == sum(p.numel() for p in mt.parameters())
    assert tree["2"].params == sum(p.numel() for p in mt[2].parameters())
    assert tree["2"].output_shape == (None, 16, 7, 7)
    assert tree["2"].mult_adds == tree["2.0"].mult_adds > 0
    assert tree["Sequential"].mult_adds == s.total_mult_adds
    full, top = s.nested(None), s.nested(1)
    assert "└─0 (Conv2d)" in full and "    └─0 (Conv2d)" in full  # the inner Conv2d, one level deeper
    assert "    └─" not in top and "└─2 (Sequential)" in top
    assert s.nested(0).splitlines()[2].startswith("Sequential ")
    with pytest.raises(ValueError, match="depth"):
        s.nested(-1)
