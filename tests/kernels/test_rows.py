"""kernels.rows: parallel_rows cuts every row into exactly one block, on one thread or several, in
cache-sized blocks or not; the reference is the plain call fn(*arrays) (the suite runs with
threading forced on for arrays of 2+ rows, see conftest.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend
from chainrule.kernels import rows


@pytest.fixture
def threads():
    """Restore the suite's thread count after a test changes it."""
    before = backend.get_num_threads()
    yield
    backend.set_num_threads(before)


def test_parallel_rows_covers_every_row_once_on_several_threads(threads):
    backend.set_num_threads(3)
    x = np.arange(70.0).reshape(7, 10)
    out = np.zeros_like(x)
    seen = []

    meet = threading.Barrier(2, timeout=10)
    lock = threading.Lock()

    def fn(o, a):
        with lock:
            first = all(t != threading.get_ident() for t, _ in seen)
            seen.append((threading.get_ident(), a.shape[0]))
            wait = first and len({t for t, _ in seen}) <= 2
        if wait:  # the first two threads to take a block wait for each other: a second one must come
            meet.wait()
        o += 2 * a  # adds, so a row done twice would show

    rows.parallel_rows(fn, out, x)
    np.testing.assert_array_equal(out, 2 * x)
    assert sum(n for _, n in seen) == 7
    assert len({t for t, _ in seen}) >= 2  # the caller and at least one worker


def test_parallel_rows_single_call_when_small_or_one_thread(threads, monkeypatch):
    calls = []
    x = np.ones((4, 3))
    backend.set_num_threads(1)
    rows.parallel_rows(lambda a: calls.append(a.shape), x)
    backend.set_num_threads(2)
    monkeypatch.setattr(rows, "PARALLEL_MIN_ELEMENTS", 1000)
    rows.parallel_rows(lambda a: calls.append(a.shape), x)
    rows.parallel_rows(lambda a: calls.append(a.shape), np.float64(1.0))  # 0-d: no rows to split
    assert calls == [(4, 3), (4, 3), ()]


def test_parallel_rows_raises_the_workers_error(threads):
    backend.set_num_threads(2)

    def fn(a):
        if a[0, 0] > 0:  # only the second block (run by the worker) fails
            raise ValueError("block failed")

    with pytest.raises(ValueError, match="block failed"):
        rows.parallel_rows(fn, np.arange(8.0).reshape(4, 2))


@pytest.mark.parametrize("n", [1, 2])
def test_parallel_rows_cache_blocks_cover_every_row_once(threads, monkeypatch, n):
    cr.set_num_threads(n)
    monkeypatch.setattr(rows, "BLOCK_ELEMENTS", 100)
    x = np.arange(3000.0).reshape(300, 10)
    out = np.zeros_like(x)
    sizes = []

    def fn(o, a):
        sizes.append(a.shape[0])
        o += 2 * a

    rows.parallel_rows(fn, out, x, cache_blocks=True)
    np.testing.assert_array_equal(out, 2 * x)
    assert sum(sizes) == 300
    assert max(sizes) <= 11  # ~100 elements of the largest array per block
    sizes.clear()
    rows.parallel_rows(fn, out, x)  # without cache_blocks: one call (1 thread) or a few per thread
    assert len(sizes) == (1 if n == 1 else 4 * n)


def test_parallel_copy_copies_every_row(threads):
    backend.set_num_threads(2)
    src = np.arange(60.0).reshape(12, 5)
    dst = np.zeros_like(src)
    rows.parallel_copy(dst, src)
    np.testing.assert_array_equal(dst, src)
