"""DataLoader against torch.utils.data.DataLoader: argument checks, len(), and the batches it yields."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
from chainrule.data import DataLoader, IterableDataset, SequentialSampler
from tests.data.test_collate import _same


class MapDS(cr.data.Dataset, tud.Dataset):
    """A map-style dataset both libraries can read (NumPy and Python values only)."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full((2,), i, np.float32), "y": i, "meta": (f"s{i}", float(i) / 2)}


class Stream(cr.data.IterableDataset, tud.IterableDataset):
    """An iterable-style dataset both libraries accept (a subclass of both base classes)."""

    def __init__(self, n=7, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter([(np.arange(2) + i, i) for i in range(self.n)])

    def __len__(self):
        if not self.with_len:
            raise TypeError("Stream has no len()")
        return self.n


def _id(kwargs):
    """A test id that is the same in every process (no memory addresses)."""
    return ",".join(f"{a}={getattr(v, '__name__', v)}" for a, v in kwargs.items()) or "defaults"


def _sampler(lib):
    return lib.SequentialSampler(range(10))


def _batch_sampler(lib):
    return lib.BatchSampler(lib.SequentialSampler(range(10)), 3, False)


# kwargs of DataLoader(MapDS(), ...); callables are given the library's module (samplers)
CASES = [
    {},
    {"batch_size": 4, "drop_last": True},
    {"batch_size": None},
    {"batch_size": None, "drop_last": True},
    {"batch_size": 0},
    {"batch_size": -2},
    {"batch_size": 2.0},
    {"drop_last": 1},
    {"shuffle": True, "sampler": _sampler},
    {"sampler": _sampler, "batch_size": 3},
    {"batch_sampler": _batch_sampler},
    {"batch_sampler": _batch_sampler, "batch_size": 2},
    {"batch_sampler": _batch_sampler, "shuffle": True},
    {"batch_sampler": _batch_sampler, "sampler": _sampler},
    {"batch_sampler": _batch_sampler, "drop_last": True},
    {"num_workers": -1},
    {"timeout": -1},
    {"timeout": 2},
    {"prefetch_factor": 2},
    {"prefetch_factor": -1, "num_workers": 2},
    {"persistent_workers": True},
    {"multiprocessing_context": "fork"},
    {"num_workers": 2, "multiprocessing_context": "no-such-method"},
    {"num_workers": 2, "multiprocessing_context": 3},
    {"num_workers": 2, "prefetch_factor": 3, "persistent_workers": True},
    {"pin_memory": True},
]


def _outcome(lib, dataset, kwargs, iterate=True):
    kwargs = {k: v(lib) if callable(v) else v for k, v in kwargs.items()}
    try:
        loader = lib.DataLoader(dataset, **kwargs)
        if iterate and kwargs.get("num_workers", 0) == 0:
            next(iter(loader))
    except Exception as e:  # noqa: BLE001
        return type(e)
    return None


@pytest.mark.filterwarnings("ignore:.*pin_memory.*:UserWarning")
@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: _id(k))
def test_map_style_arguments_accepted_and_refused_as_torch(kwargs):
    ours, theirs = _outcome(cr.data, MapDS(), kwargs), _outcome(tud, MapDS(), kwargs)
    assert (ours is None) == (theirs is None), f"chainrule: {ours}, torch: {theirs}"
    if theirs in (ValueError, TypeError):
        assert ours is theirs


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"shuffle": False}, {"shuffle": True}, {"sampler": _sampler}, {"batch_sampler": _batch_sampler}],
    ids=lambda k: _id(k),
)
def test_iterable_style_arguments_accepted_and_refused_as_torch(kwargs):
    ours, theirs = _outcome(cr.data, Stream(), kwargs), _outcome(tud, Stream(), kwargs)
    assert (ours is None) == (theirs is None) and ours is theirs


@pytest.mark.parametrize(
    "attr", ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"]
)
def test_attributes_fixed_after_init(attr):
    for lib in (cr.data, tud):
        loader = lib.DataLoader(MapDS(), batch_size=2)
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set"):
            setattr(loader, attr, None)
    loader = DataLoader(MapDS(), batch_size=2)
    loader.num_workers = 0  # others may change


LEN_CASES = [
    (MapDS(10), {}),
    (MapDS(10), {"batch_size": 3}),
    (MapDS(10), {"batch_size": 3, "drop_last": True}),
    (MapDS(10), {"batch_size": None}),
    (MapDS(10), {"batch_size": 4, "sampler": lambda lib: lib.SequentialSampler(range(6))}),
    (MapDS(10), {"batch_sampler": _batch_sampler}),
    (MapDS(0), {"batch_size": 4}),
    (Stream(7), {"batch_size": 2}),
    (Stream(7), {"batch_size": 2, "drop_last": True}),
    (Stream(7), {"batch_size": None}),
]


@pytest.mark.parametrize(
    ("dataset", "kwargs"), LEN_CASES, ids=[f"{type(d).__name__}({len(d)}),{_id(k)}" for d, k in LEN_CASES]
)
def test_len_and_batches_as_torch(dataset, kwargs):
    ours = DataLoader(dataset, **{k: v(cr.data) if callable(v) else v for k, v in kwargs.items()})
    theirs = tud.DataLoader(dataset, **{k: v(tud) if callable(v) else v for k, v in kwargs.items()})
    assert len(ours) == len(theirs)
    a, b = list(ours), list(theirs)
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        _same(x, y, f"batch {i}")


def test_iterable_dataset_without_len():
    for lib in (cr.data, tud):
        loader = lib.DataLoader(Stream(3, with_len=False), batch_size=2)
        with pytest.raises(TypeError):
            len(loader)
        assert [b[1].tolist() for b in loader] == [[0, 1], [2]]


def test_custom_collate_fn_and_batch_size_none_convert_as_torch():
    for kwargs in ({"batch_size": 3, "collate_fn": lambda b: [s["y"] for s in b]}, {"batch_size": None}):
        ours, theirs = list(DataLoader(MapDS(5), **kwargs)), list(tud.DataLoader(MapDS(5), **kwargs))
        for i, (x, y) in enumerate(zip(ours, theirs)):
            _same(x, y, f"batch {i}")


def test_tensor_dataset_fast_path_gives_torch_batches():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    ours = list(DataLoader(cr.data.TensorDataset(x, y), batch_size=4, sampler=SequentialSampler(range(10))))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        _same(a, b, f"batch {i}")


def test_generator_gives_the_same_order_for_the_same_seed():
    def order(seed, **kw):
        loader = DataLoader(
            MapDS(20), batch_size=5, shuffle=True, generator=cr.Generator().manual_seed(seed), **kw
        )
        return [b["y"].tolist() for b in loader]

    assert order(1) == order(1) != order(2)
    assert sorted(sum(order(1), [])) == list(range(20))
    with pytest.raises(TypeError, match="DataLoader: generator must be a cr.Generator"):
        DataLoader(MapDS(), generator=torch.Generator())


def test_shuffle_reproducible_by_manual_seed_and_fresh_each_pass():
    loader = DataLoader(MapDS(12), batch_size=4, shuffle=True)
    cr.manual_seed(7)
    first, second = [b["y"].tolist() for b in loader], [b["y"].tolist() for b in loader]
    cr.manual_seed(7)
    assert [b["y"].tolist() for b in loader] == first != second


def test_iterable_length_overrun_warns_as_torch():
    class Liar(Stream):
        def __len__(self):
            return 2

    loader = DataLoader(Liar(4), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="reported to be 2"):
        list(loader)


def test_utils_data_is_the_same_module():
    import chainrule.utils.data as d
    from chainrule.utils.data import DataLoader as DL

    assert d is cr.data and cr.utils.data is cr.data and DL is DataLoader
    assert isinstance(IterableDataset, type)


def test_stack_chain_and_concat_datasets_as_torch():
    a, b = MapDS(4), [10, 11, 12, 13]
    for args, kwargs in [((a, b), {}), ((), {"s": a, "t": b})]:
        ours, theirs = cr.data.StackDataset(*args, **kwargs), tud.StackDataset(*args, **kwargs)
        assert len(ours) == len(theirs) == 4 and str(ours[2]) == str(theirs[2])
        _same(list(DataLoader(ours, batch_size=3))[0], list(tud.DataLoader(theirs, batch_size=3))[0])
    for args, kwargs in [((a, [1]), {}), ((a,), {"t": b}), ((), {})]:
        with pytest.raises(ValueError):
            cr.data.StackDataset(*args, **kwargs)
        with pytest.raises(ValueError):
            tud.StackDataset(*args, **kwargs)
    chain = cr.data.ChainDataset([Stream(2), Stream(3)])
    theirs = tud.ChainDataset([Stream(2), Stream(3)])
    assert len(chain) == len(theirs) == 5 and [y for _, y in chain] == [y for _, y in theirs] == [
        0,
        1,
        0,
        1,
        2,
    ]
    assert [int(y) for _, y in Stream(2) + Stream(1)] == [0, 1, 0]
    assert [b[1].tolist() for b in DataLoader(chain, batch_size=4)] == [[0, 1, 0, 1], [2]]
    with pytest.raises(TypeError, match="ChainDataset only supports IterableDataset"):
        list(cr.data.ChainDataset([MapDS(2)]))
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        cr.data.ConcatDataset([Stream(2)])
    assert isinstance(MapDS(2) + MapDS(3), cr.data.ConcatDataset) and len(MapDS(2) + MapDS(3)) == 5
    assert "DataLoader(Stream of ?" in repr(DataLoader(Stream(2, with_len=False)))
