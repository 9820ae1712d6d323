"""EmbeddingBag and F.embedding_bag vs PyTorch: modes, offsets, per_sample_weights, padding_idx."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.helpers import check, check_module, check_second_order, gradcheck_op, to_torch

IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9, 4, 4])
BAGS = [  # (offsets, include_last_offset)
    (np.array([0, 4, 4, 8]), False),  # an empty bag
    (np.array([0, 3, 7, 10]), True),
    (np.array([0]), False),
]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets,last", BAGS, ids=str)
@pytest.mark.parametrize("padding_idx", [None, 4, -1])
def test_embedding_bag_matches_torch(mode, offsets, last, padding_idx):
    kw = dict(mode=mode, include_last_offset=last, padding_idx=padding_idx)
    check(
        lambda w: F.embedding_bag(cr.tensor(IDX), w, cr.tensor(offsets), **kw),
        lambda w: TF.embedding_bag(torch.tensor(IDX), w, torch.tensor(offsets), **kw),
        [(10, 3)],
    )


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_input_and_max_ties(mode):
    idx = IDX.reshape(2, 5)
    check(
        lambda w: F.embedding_bag(cr.tensor(idx), w, mode=mode),
        lambda w: TF.embedding_bag(torch.tensor(idx), w, mode=mode),
        [(10, 4)],
    )
    ties = np.random.default_rng(0).integers(0, 2, (10, 4)).astype(np.float32)  # the first maximum wins
    check(
        lambda w: F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0, 5]), mode=mode),
        lambda w: TF.embedding_bag(torch.tensor(IDX), w, torch.tensor([0, 5]), mode=mode),
        [ties],
    )


@pytest.mark.parametrize("idx,offsets", [(IDX, [0, 5, 5]), (IDX.reshape(5, 2), None)], ids=["1d", "2d"])
def test_embedding_bag_per_sample_weights(idx, offsets):
    off_c = None if offsets is None else cr.tensor(offsets)
    off_t = None if offsets is None else torch.tensor(offsets)
    check(
        lambda w, p: F.embedding_bag(
            cr.tensor(idx), w, off_c, mode="sum", per_sample_weights=p, padding_idx=2
        ),
        lambda w, p: TF.embedding_bag(
            torch.tensor(idx), w, off_t, mode="sum", per_sample_weights=p, padding_idx=2
        ),
        [(10, 3), idx.shape],
    )


def test_embedding_bag_gradcheck_and_second_order():
    gradcheck_op(
        lambda w, p: F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0, 5]), mode="sum", per_sample_weights=p),
        [(10, 3), (10,)],
    )
    psw = np.linspace(-1, 1, 10)

    def bags_t(w):  # torch has no second derivative of embedding_bag: the same sums spelled out
        rows = w[torch.tensor(IDX)] * torch.tensor(psw)[:, None]
        return torch.stack([rows[:5].sum(0), rows[5:].sum(0)])

    check_second_order(
        lambda w: (
            F.embedding_bag(
                cr.tensor(IDX), w, cr.tensor([0, 5]), mode="sum", per_sample_weights=cr.tensor(psw)
            )
            ** 2
        ),
        lambda w: bags_t(w) ** 2,
        [(10, 3)],
    )


@pytest.mark.parametrize("mode", ["mean", "max"])
def test_embedding_bag_gradcheck(mode):
    gradcheck_op(lambda w: F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0, 4, 4]), mode=mode), [(10, 3)])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module(mode):
    m = cr.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=4)
    t = torch.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=4)
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight"]
    assert (m.weight.detach().numpy()[4] == 0).all() and m.weight.shape == (10, 3)
    assert abs(float(m.weight.std()) - 1) < 0.5  # N(0, 1) init
    with torch.no_grad():
        t.weight.copy_(to_torch(m.weight))
    check_module(m, t, [IDX, np.array([0, 4, 8])])
    assert not m.weight.grad.numpy()[4].any()  # the padding row gets no gradient


def test_embedding_bag_from_pretrained_and_max_norm():
    table = np.random.default_rng(1).uniform(-2, 2, (10, 3)).astype(np.float32)
    m = cr.nn.EmbeddingBag.from_pretrained(cr.tensor(table), mode="sum", max_norm=1.0)
    t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="sum", max_norm=1.0)
    assert not m.weight.requires_grad
    check(
        lambda: m(cr.tensor(IDX), cr.tensor([0, 3])), lambda: t(torch.tensor(IDX), torch.tensor([0, 3])), []
    )
    np.testing.assert_allclose(m.weight.numpy(), t.weight.numpy(), rtol=1e-6)


def test_embedding_bag_errors():
    w = cr.randn(10, 3)
    with pytest.raises(RuntimeError, match="embedding_bag: offsets\\[0\\] has to be 0"):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([1, 4]))
    with pytest.raises(
        RuntimeError, match="embedding_bag: offsets\\[-1\\] can not be greater than input's length"
    ):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0, 11]))
    with pytest.raises(ValueError, match="embedding_bag: offsets must be non-decreasing"):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0, 5, 3]))
    with pytest.raises(ValueError, match="embedding_bag: offsets has to be a 1-D Tensor for a 1-D input"):
        F.embedding_bag(cr.tensor(IDX), w)
    with pytest.raises(ValueError, match="embedding_bag: a 2-D input is a batch of fixed-length bags"):
        F.embedding_bag(cr.tensor(IDX.reshape(2, 5)), w, cr.tensor([0, 2]))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0]), per_sample_weights=cr.ones(10))
    with pytest.raises(ValueError, match="embedding_bag: per_sample_weights of shape \\(9,\\)"):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0]), mode="sum", per_sample_weights=cr.ones(9))
    with pytest.raises(ValueError, match="embedding_bag: mode has to be one of"):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0]), mode="min")
    with pytest.raises(IndexError, match="embedding_bag: index 18 is out of range for 10 embeddings"):
        F.embedding_bag(cr.tensor(IDX * 2), w, cr.tensor([0]))
    with pytest.raises(TypeError, match="embedding_bag: expected integer indices"):
        F.embedding_bag(cr.tensor(IDX).float(), w, cr.tensor([0]))
    with pytest.raises(RuntimeError, match="embedding_bag: padding_idx must be within"):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0]), padding_idx=10)
    with pytest.raises(ValueError, match="EmbeddingBag: mode must be one of"):
        cr.nn.EmbeddingBag(10, 3, mode="min")
    with pytest.raises(ValueError, match="EmbeddingBag: padding_idx 10 must be within"):
        cr.nn.EmbeddingBag(10, 3, padding_idx=10)
