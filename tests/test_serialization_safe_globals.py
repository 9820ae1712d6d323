"""``weights_only=True`` loads whole objects only with the classes allowed by safe_globals, as PyTorch."""

from __future__ import annotations

import pickle

import pytest
import torch

import chainrule as cr


class Net(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = cr.nn.Embedding(5, 3)
        self.rnn = cr.nn.LSTM(3, 4)
        self.out = cr.nn.Linear(4, 2)


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.out = torch.nn.Linear(4, 2)


ALLOWED = [Net, cr.nn.Embedding, cr.nn.LSTM, cr.nn.Linear]


def test_a_whole_module_loads_inside_safe_globals_and_not_outside(tmp_path):
    net = Net()
    cr.save(net, tmp_path / "net.pt")
    with pytest.raises(pickle.UnpicklingError, match="needs .*Net"):
        cr.load(tmp_path / "net.pt")
    with cr.serialization.safe_globals(ALLOWED):
        back = cr.load(tmp_path / "net.pt")
    assert isinstance(back, Net) and back.out.weight.tolist() == net.out.weight.tolist()
    with pytest.raises(pickle.UnpicklingError):  # the context ended: refused again
        cr.load(tmp_path / "net.pt")


def test_a_class_left_out_is_named_in_the_error(tmp_path):
    cr.save(Net(), tmp_path / "net.pt")
    with cr.serialization.safe_globals([Net, cr.nn.Embedding, cr.nn.Linear]):
        with pytest.raises(pickle.UnpicklingError, match=r"chainrule\.nn\.rnn\.LSTM"):
            cr.load(tmp_path / "net.pt")


def test_add_safe_globals_is_process_wide_as_pytorch(tmp_path):
    torch.save(TorchNet(), tmp_path / "t.pt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "t.pt")
    cr.save(Net(), tmp_path / "net.pt")
    try:
        cr.serialization.add_safe_globals(ALLOWED)
        assert set(ALLOWED) <= set(cr.serialization.get_safe_globals())
        assert isinstance(cr.load(tmp_path / "net.pt"), Net)
    finally:
        cr.serialization.clear_safe_globals()
    assert cr.serialization.get_safe_globals() == []
