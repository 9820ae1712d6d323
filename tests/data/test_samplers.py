"""Samplers: coverage, weights (statistics at a fixed seed), batch lengths, generators, argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
from chainrule.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    random_split,
)


def test_sequential_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(5))) == 5


def test_sampler_base_needs_iter():
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(Sampler())


def test_random_sampler_is_a_fresh_permutation_each_pass():
    s = RandomSampler(range(20))
    a, b = list(s), list(s)
    assert sorted(a) == sorted(b) == list(range(20)) and a != b
    assert len(s) == 20


def test_random_sampler_num_samples_and_replacement():
    s = RandomSampler(range(5), num_samples=12)
    out = list(s)
    assert len(s) == len(out) == 12
    assert sorted(out[:5]) == sorted(out[5:10]) == list(range(5))  # whole permutations, then a part
    assert len(set(out[10:])) == 2
    draws = list(
        RandomSampler(range(4), replacement=True, num_samples=4000, generator=cr.Generator().manual_seed(1))
    )
    counts = np.bincount(draws, minlength=4)
    assert counts.sum() == 4000 and np.all(np.abs(counts / 4000 - 0.25) < 0.03)


def test_subset_random_sampler_covers_its_indices():
    s = SubsetRandomSampler([10, 20, 30, 40])
    out = list(s)
    assert sorted(out) == [10, 20, 30, 40] and len(s) == 4


def test_weighted_random_sampler_statistics():
    w = [1.0, 2.0, 0.0, 7.0]
    g = cr.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler(w, num_samples=20000, generator=g))
    freq = np.bincount(draws, minlength=4) / 20000
    np.testing.assert_allclose(freq, np.array(w) / 10, atol=0.01)
    assert freq[2] == 0
    no_rep = list(WeightedRandomSampler(w, num_samples=3, replacement=False))
    assert sorted(no_rep) == [0, 1, 3]
    assert list(WeightedRandomSampler([0.0, 5.0, 0.0], 3, replacement=False))[0] == 1  # zeros last
    # without replacement, heavier indices come first more often
    firsts = [
        list(WeightedRandomSampler([1.0, 9.0], 2, replacement=False, generator=g))[0] for _ in range(2000)
    ]
    assert abs(np.mean(firsts) - 0.9) < 0.03
    assert len(WeightedRandomSampler(cr.tensor([1.0, 1.0]), 5)) == 5


def test_batch_sampler_lengths_match_torch():
    for n in (0, 1, 7, 8, 9):
        for bs in (1, 3, 4, 8):
            for drop_last in (False, True):
                ours = BatchSampler(SequentialSampler(range(n)), bs, drop_last)
                theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop_last)
                assert list(ours) == list(theirs) and len(ours) == len(theirs) == len(list(ours))


def test_generators_make_orders_reproducible():
    def orders(seed):
        g = cr.Generator().manual_seed(seed)
        return (
            list(RandomSampler(range(30), generator=g)),
            list(RandomSampler(range(30), replacement=True, generator=g)),
            list(SubsetRandomSampler(list(range(30)), generator=g)),
            list(WeightedRandomSampler(np.arange(1.0, 31.0), 30, generator=g)),
            [list(p.indices) for p in random_split(range(30), [10, 20], generator=g)],
        )

    assert orders(3) == orders(3)
    assert orders(3) != orders(4)
    cr.manual_seed(5)
    a = list(RandomSampler(range(30)))
    cr.manual_seed(5)
    assert list(RandomSampler(range(30))) == a


def test_random_split_with_a_generator():
    g = cr.Generator().manual_seed(0)
    a, b = random_split(range(10), [0.5, 0.5], generator=g)
    assert len(a) == len(b) == 5 and sorted([*a.indices, *b.indices]) == list(range(10))
    with pytest.raises(TypeError, match="generator"):
        random_split(range(10), [5, 5], generator=42)
    with pytest.raises(ValueError, match="fraction at index 0"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="index 2 is 0"):
        random_split(range(3), [0.5, 0.5, 0.0])


# (constructor, arguments): each is accepted or refused by chainrule exactly when PyTorch does.
SAMPLER_CASES = [
    ("RandomSampler", (range(5),), {}),
    ("RandomSampler", (range(5),), {"replacement": 1}),
    ("RandomSampler", (range(5),), {"num_samples": 0}),
    ("RandomSampler", (range(5),), {"num_samples": 2.5}),
    ("RandomSampler", (range(5),), {"num_samples": 8}),
    ("RandomSampler", (range(0),), {}),
    ("RandomSampler", (range(5),), {"replacement": True, "num_samples": 3}),
    ("WeightedRandomSampler", ([1.0, 2.0],), {"num_samples": 2}),
    ("WeightedRandomSampler", ([1.0, 2.0],), {"num_samples": 0}),
    ("WeightedRandomSampler", ([1.0, 2.0],), {"num_samples": True}),
    ("WeightedRandomSampler", ([1.0, 2.0],), {"num_samples": 2, "replacement": "yes"}),
    ("WeightedRandomSampler", ([[1.0, 2.0]],), {"num_samples": 2}),
    ("WeightedRandomSampler", ([1.0, 2.0],), {"num_samples": 3, "replacement": False}),
    ("WeightedRandomSampler", ([1.0, 0.0],), {"num_samples": 2, "replacement": False}),
    ("WeightedRandomSampler", ([1.0, -1.0],), {"num_samples": 2}),
    ("WeightedRandomSampler", ([0.0, 0.0],), {"num_samples": 2}),
    ("WeightedRandomSampler", ([1.0, float("nan")],), {"num_samples": 2}),
    ("BatchSampler", (range(5), 2, False), {}),
    ("BatchSampler", (range(5), 0, False), {}),
    ("BatchSampler", (range(5), True, False), {}),
    ("BatchSampler", (range(5), 2.0, False), {}),
    ("BatchSampler", (range(5), 2, 1), {}),
]


def _outcome(module, name, args, kwargs):
    """None when constructing and iterating succeed, else the exception type."""
    try:
        list(getattr(module, name)(*args, **kwargs))
    except Exception as e:  # noqa: BLE001
        return type(e)
    return None


@pytest.mark.parametrize(("name", "args", "kwargs"), SAMPLER_CASES, ids=lambda v: repr(v)[:30])
def test_sampler_checks_match_torch(name, args, kwargs):
    ours = _outcome(cr.data, name, args, kwargs)
    theirs = _outcome(tud, name, args, kwargs)
    assert (ours is None) == (theirs is None), f"chainrule: {ours}, torch: {theirs}"
    if theirs in (ValueError, TypeError):  # the argument checks raise PyTorch's types
        assert ours is theirs


def test_generator_type_is_checked():
    with pytest.raises(TypeError, match="RandomSampler: generator must be a cr.Generator"):
        RandomSampler(range(3), generator=torch.Generator())
    with pytest.raises(TypeError, match="SubsetRandomSampler"):
        SubsetRandomSampler([1], generator=0)
