"""DataLoader worker processes: same batches as without workers, seeding, sharding, errors, shutdown."""

from __future__ import annotations

import gc
import os
import random
import time

import numpy as np
import pytest
import torch.utils.data as tud
from torch.utils.data._utils.worker import _generate_state as torch_generate_state

import chainrule as cr
from chainrule.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from chainrule.data._worker import _generate_state
from tests.data.test_collate import _same

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the tests fork worker processes")


class Samples(Dataset):
    def __init__(self, n=20):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full((2,), i, np.float32), "y": i, "name": f"s{i}"}


class WhoAmI(Dataset):
    """Each sample says which process made it and what that process's generators give."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "pid": os.getpid(),
            "id": -1 if info is None else info.id,
            "seed": -1 if info is None else info.seed,
            "numpy": np.random.random(),
            "cr": float(cr.rand(()).item()),
            "random": random.random(),
            "init": os.environ.get("CR_TEST_WORKER_INIT", ""),
        }


def _gone(pid):
    """The process has exited and was reaped (a zombie would still answer signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _wait_gone(pids, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not all(_gone(p) for p in pids):
        time.sleep(0.02)
    return [p for p in pids if not _gone(p)]


def _epoch(loader):
    return [b for b in loader]


@pytest.mark.parametrize(
    "kwargs",
    [{"batch_size": 3, "shuffle": True}, {"batch_size": None}, {"batch_size": 4, "prefetch_factor": 1}],
)
def test_workers_give_the_batches_of_the_main_process(kwargs):
    ds = Samples(20)
    cr.manual_seed(3)
    expected = _epoch(DataLoader(ds, **{k: v for k, v in kwargs.items() if k != "prefetch_factor"}))
    cr.manual_seed(3)
    got = _epoch(DataLoader(ds, num_workers=2, **kwargs))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(b[k], cr.Tensor):
                np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
                assert a[k].dtype == b[k].dtype
            else:
                assert a[k] == b[k]


def test_workers_with_tensor_dataset_fast_path_and_generator():
    x, y = np.arange(60, dtype=np.float32).reshape(20, 3), np.arange(20)
    ds = TensorDataset(x, y)
    expected = _epoch(DataLoader(ds, batch_size=6, shuffle=True, generator=cr.Generator().manual_seed(1)))
    got = _epoch(
        DataLoader(ds, batch_size=6, shuffle=True, num_workers=2, generator=cr.Generator().manual_seed(1))
    )
    assert [b[1].tolist() for b in got] == [b[1].tolist() for b in expected]
    for xb, yb in got:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_out_of_order_delivery_gives_every_batch():
    got = _epoch(DataLoader(Samples(12), batch_size=2, num_workers=2, in_order=False))
    assert sorted(b["y"].tolist() for b in got) == [[i, i + 1] for i in range(0, 12, 2)]


def test_generate_state_is_pytorchs():
    for base, wid in [(0, 0), (12345678901234, 1), (2**63 - 5, 3)]:
        assert _generate_state(base, wid) == torch_generate_state(base, wid)


def test_each_worker_is_seeded_from_the_base_seed_as_pytorch(monkeypatch):
    def init(worker_id):
        os.environ["CR_TEST_WORKER_INIT"] = f"ran in {worker_id}"

    cr.manual_seed(11)
    batches = _epoch(DataLoader(WhoAmI(), batch_size=2, num_workers=2, worker_init_fn=init))
    by_worker = {}
    for b in batches:
        for i in range(2):
            by_worker.setdefault(int(b["id"][i]), []).append({k: b[k][i] for k in b})
    assert sorted(by_worker) == [0, 1]  # round-robin: both workers made batches
    seeds = {w: int(s[0]["seed"]) for w, s in by_worker.items()}
    assert seeds[1] == seeds[0] + 1
    base = seeds[0]
    for w, samples in by_worker.items():
        assert all(s["init"] == f"ran in {w}" for s in samples)
        # the first draws in each worker are those of generators seeded PyTorch's way
        np_first = np.random.RandomState(_generate_state(base, w)).random_sample()
        assert float(samples[0]["numpy"]) == pytest.approx(np_first)
        assert float(samples[0]["random"]) == pytest.approx(random.Random(base + w).random())
        cr_first = cr.rand((), generator=cr.Generator().manual_seed(base + w)).item()
        assert float(samples[0]["cr"]) == pytest.approx(cr_first)
    draws = [float(s["numpy"]) for s in by_worker[0]] + [float(s["numpy"]) for s in by_worker[1]]
    assert len(set(draws)) == len(draws)  # workers do not repeat each other's random streams
    assert "CR_TEST_WORKER_INIT" not in os.environ
    # the base seed comes from cr.manual_seed (or the loader's generator): same seed, same draws
    cr.manual_seed(11)
    again = _epoch(DataLoader(WhoAmI(), batch_size=2, num_workers=2, worker_init_fn=init))
    assert [b["numpy"].tolist() for b in again] == [b["numpy"].tolist() for b in batches]
    assert get_worker_info() is None


class Shards(IterableDataset, tud.IterableDataset):
    """An iterable dataset that shards itself over the workers (as PyTorch's documentation shows)."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info() or tud.get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = -(-(self.end - self.start) // info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))


@pytest.mark.parametrize(
    "kwargs", [{"batch_size": 2}, {"batch_size": 2, "drop_last": True}, {"batch_size": None}]
)
def test_iterable_dataset_sharded_by_worker_info_as_torch(kwargs):
    ours = _epoch(DataLoader(Shards(3, 10), num_workers=2, **kwargs))
    theirs = _epoch(tud.DataLoader(Shards(3, 10), num_workers=2, **kwargs))
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        _same(a, b, f"batch {i}")
    if "drop_last" not in kwargs:
        flat = np.concatenate([np.atleast_1d(b.numpy() if isinstance(b, cr.Tensor) else b) for b in ours])
        assert sorted(flat.tolist()) == list(range(3, 10))


class Fails(Dataset):
    def __init__(self, exc):
        self.exc = exc

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 7:
            raise self.exc
        return i


class TwoArgError(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


def test_a_worker_exception_is_raised_with_its_traceback():
    with pytest.raises(ValueError) as info:
        _epoch(DataLoader(Fails(ValueError("bad sample 7")), batch_size=2, num_workers=2))
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1." in msg  # batch [6, 7]: task 3, worker 1
    assert "Original Traceback (most recent call last):" in msg
    assert "in __getitem__" in msg and "raise self.exc" in msg and "ValueError: bad sample 7" in msg
    with pytest.raises(KeyError, match="Caught KeyError") as info:
        _epoch(DataLoader(Fails(KeyError("k")), batch_size=2, num_workers=2))
    assert "\n" in str(info.value)  # readable, not a repr of the message
    with pytest.raises(RuntimeError, match="Caught TwoArgError"):
        _epoch(DataLoader(Fails(TwoArgError(1, 2)), batch_size=2, num_workers=2))


def test_worker_init_fn_failure_and_unpicklable_batch_are_reported():
    def bad_init(worker_id):
        raise OSError(f"cannot open shard {worker_id}")

    with pytest.raises(OSError, match="cannot open shard 0"):
        _epoch(DataLoader(Samples(4), batch_size=2, num_workers=2, worker_init_fn=bad_init))
    with pytest.raises(Exception, match="while pickling its result"):
        _epoch(DataLoader(Samples(4), batch_size=2, num_workers=2, collate_fn=lambda b: lambda: b))


class Pids(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        return os.getpid()


def test_no_worker_left_alive_after_break_exhaustion_error_or_collection():
    loader = DataLoader(Pids(), batch_size=2, num_workers=2)
    pids = set()
    for b in loader:  # break out of the loop: the iterator is dropped
        pids.update(b.tolist())
        if len(pids) == 2:
            break
    assert len(pids) == 2 and os.getpid() not in pids
    assert _wait_gone(pids) == []
    it = iter(loader)
    pids = {int(next(it)[0]), int(next(it)[0])}
    del it
    gc.collect()
    assert _wait_gone(pids) == []
    it = iter(loader)  # an iterator collected as part of a reference cycle still stops its workers at once
    pids = {int(next(it)[0]), int(next(it)[0])}
    cycle = {"it": it}
    cycle["self"] = cycle
    del it, cycle
    t0 = time.monotonic()
    gc.collect()
    assert _wait_gone(pids) == [] and time.monotonic() - t0 < 3
    pids = {p for b in loader for p in b.tolist()}  # a whole pass
    assert _wait_gone(pids) == []
    with pytest.raises(ValueError):
        _epoch(DataLoader(Fails(ValueError("x")), batch_size=1, num_workers=2))
    gc.collect()
    import multiprocessing

    assert multiprocessing.active_children() == []


def test_persistent_workers_are_reused_and_shut_down_with_the_loader():
    loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2, persistent_workers=True)
    first = _epoch(loader)
    it = iter(loader)
    next(it)  # leave a pass in the middle: its pending batches must not leak into the next one
    second = _epoch(loader)
    assert [len(b["pid"]) for b in second] == [2, 2, 2, 2]
    pids = {int(p) for b in first for p in b["pid"].tolist()}
    assert {int(p) for b in second for p in b["pid"].tolist()} == pids and len(pids) == 2
    assert [b["id"].tolist() for b in second] == [b["id"].tolist() for b in first]
    del loader, it
    gc.collect()
    assert _wait_gone(pids) == []


def test_persistent_workers_equal_no_workers_over_epochs():
    ds = Samples(9)
    plain = DataLoader(ds, batch_size=4)
    persistent = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True)
    for _ in range(2):
        for a, b in zip(_epoch(persistent), _epoch(plain)):
            assert a["y"].tolist() == b["y"].tolist() and a["name"] == b["name"]
    assert len(_epoch(DataLoader(Shards(0, 5), batch_size=2, num_workers=2, persistent_workers=True))) == 3


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            time.sleep(0.6)
        return i


class Dies(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            os._exit(3)
        return i


def test_timeout_and_a_worker_that_dies():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        _epoch(DataLoader(Slow(), batch_size=2, num_workers=2, timeout=0.2))
    t0 = time.monotonic()
    with pytest.raises(
        RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+ with exit code 3\) exited unexpectedly"
    ):
        _epoch(DataLoader(Dies(), batch_size=2, num_workers=2))
    assert time.monotonic() - t0 < 4


def test_fit_with_workers_samplers_and_streams():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    ds = TensorDataset(x, y)

    class Stream(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return ((x[i], y[i]) for i in range(start, 64, step))

    loaders = [
        DataLoader(
            ds,
            batch_size=16,
            num_workers=2,
            persistent_workers=True,
            sampler=cr.data.WeightedRandomSampler(np.ones(64), 64),
        ),
        DataLoader(Stream(), batch_size=16, num_workers=2),
        Stream(),
    ]
    for train in loaders:
        model = cr.nn.Linear(4, 2)
        h = cr.fit(
            model,
            train,
            loss=cr.nn.CrossEntropyLoss(),
            optimizer=cr.optim.SGD(model.parameters(), lr=0.5),
            epochs=3,
            validation=DataLoader(ds, batch_size=32),
            progress=False,
        )
        assert h["loss"][-1] < h["loss"][0] and len(h["val_loss"]) == 3
