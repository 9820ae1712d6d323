"""DataLoader, TensorDataset, Subset, random_split, default_collate."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _xy(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return x, y


class ListDataset(Dataset):
    """A dataset with no batch fast path."""

    def __init__(self, n):
        self.x, self.y = _xy(n)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def test_batches_in_order_and_lengths():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(t, cr.Tensor) for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    np.testing.assert_array_equal(batches[1][0].numpy(), x[4:8])
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[0].shape[0] for b in loader] == [4, 4]
    assert len(DataLoader(TensorDataset(x, y), batch_size=5, drop_last=True)) == 2


def test_shuffle_is_a_permutation_reproducible_and_fresh_each_epoch():
    x, y = _xy(50)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    cr.manual_seed(3)
    e1 = np.concatenate([b[1].numpy() for b in loader])
    e2 = np.concatenate([b[1].numpy() for b in loader])
    cr.manual_seed(3)
    e1_again = np.concatenate([b[1].numpy() for b in loader])
    assert sorted(e1) == list(range(50))
    assert not np.array_equal(e1, np.arange(50))
    assert not np.array_equal(e1, e2)
    np.testing.assert_array_equal(e1, e1_again)
    # inputs stay paired with their labels
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_slow_path_matches_fast_path():
    fast = DataLoader(TensorDataset(*_xy(23)), batch_size=5, shuffle=True)
    slow = DataLoader(ListDataset(23), batch_size=5, shuffle=True)
    cr.manual_seed(1)
    a = [(xb.numpy(), yb.numpy()) for xb, yb in fast]
    cr.manual_seed(1)
    b = [(xb.numpy(), yb.numpy()) for xb, yb in slow]
    assert len(a) == len(b) == 5
    for (xa, ya), (xb_, yb_) in zip(a, b):
        np.testing.assert_array_equal(xa, xb_)
        np.testing.assert_array_equal(ya, yb_)
        assert yb_.dtype == np.int64


def test_fast_path_does_not_loop_over_samples():
    class Counting(TensorDataset):
        batches = 0

        def _get_batch(self, indices):
            Counting.batches += 1
            return super()._get_batch(indices)

        def __getitem__(self, i):
            raise AssertionError("the fast path must not read sample by sample")

    Counting.__getitem__ = TensorDataset.__getitem__  # same __getitem__ as the class offering _get_batch
    loader = DataLoader(Counting(*_xy(100)), batch_size=10, shuffle=True)
    assert sum(b[0].shape[0] for b in loader) == 100
    assert Counting.batches == 10


def test_overridden_getitem_is_not_bypassed():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    x, y = _xy(6)
    xb, yb = next(iter(DataLoader(Doubled(x, y), batch_size=6)))
    np.testing.assert_array_equal(xb.numpy(), x * 2)
    sub = Subset(Doubled(x, y), [5, 1])
    xb, yb = next(iter(DataLoader(sub, batch_size=2)))
    np.testing.assert_array_equal(xb.numpy(), x[[5, 1]] * 2)


def test_collate_fn_sees_samples():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return np.stack([s[0] for s in samples]).sum()

    out = list(DataLoader(TensorDataset(*_xy(7)), batch_size=3, collate_fn=collate))
    assert seen == [3, 3, 1]
    x, _ = _xy(7)
    assert out[0] == pytest.approx(x[:3].sum())


def test_default_collate_types():
    batch = default_collate([(np.ones(2, np.float32), 1, 0.5, "a"), (np.zeros(2, np.float32), 2, 1.5, "b")])
    xb, ib, fb, sb = batch
    assert xb.shape == (2, 2) and xb.dtype == np.float32
    assert ib.dtype == np.int64 and ib.tolist() == [1, 2]
    assert fb.dtype == np.float64
    assert sb == ("a", "b")  # as PyTorch: the field of tuple samples, unchanged
    d = default_collate([{"a": cr.tensor([1.0]), "b": 3}, {"a": cr.tensor([2.0]), "b": 4}])
    assert d["a"].shape == (2, 1) and d["b"].tolist() == [3, 4]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])


def test_tensor_dataset_checks_and_tensors():
    x = cr.randn(6, 2)
    ds = TensorDataset(x, cr.arange(6))
    assert len(ds) == 6
    np.testing.assert_array_equal(ds[2][0], x.numpy()[2])
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


def test_transform_applied_to_inputs_per_batch():
    x, y = _xy(8)
    ds = TensorDataset(x, y, transform=lambda a: a * 0 - 1)
    xb, yb = next(iter(DataLoader(ds, batch_size=8)))
    assert (xb.numpy() == -1).all() and yb.tolist() == list(range(8))
    assert (ds[0][0] == -1).all()


def test_random_split_counts_and_fractions():
    ds = TensorDataset(*_xy(10))
    a, b = random_split(ds, [7, 3])
    assert len(a) == 7 and len(b) == 3
    idx = np.concatenate([a.indices, b.indices])
    assert sorted(idx) == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(TensorDataset(*_xy(11)), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]
    cr.manual_seed(5)
    i1 = random_split(ds, [5, 5])[0].indices
    cr.manual_seed(5)
    i2 = random_split(ds, [5, 5])[0].indices
    np.testing.assert_array_equal(i1, i2)
    with pytest.raises(ValueError, match="random_split"):
        random_split(ds, [4, 4])


def test_subset_fast_path_and_concat():
    x, y = _xy(10)
    sub = Subset(TensorDataset(x, y), [9, 0, 4])
    xb, yb = next(iter(DataLoader(sub, batch_size=3)))
    assert yb.tolist() == [9, 0, 4]
    np.testing.assert_array_equal(xb.numpy(), x[[9, 0, 4]])
    cat = ConcatDataset([sub, TensorDataset(x[:2], y[:2])])
    assert len(cat) == 5 and int(cat[3][1]) == 0 and int(cat[-1][1]) == 1
    with pytest.raises(IndexError):
        cat[5]
