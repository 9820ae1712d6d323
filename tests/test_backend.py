"""The thread-count controls (the suite runs with threading forced on for arrays of 2+ rows;
see conftest.py); malloc tuning is opt-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import backend
from chainrule.kernels import rows


@pytest.fixture
def threads():
    """Restore the suite's thread count after a test changes it."""
    before = backend.get_num_threads()
    yield
    backend.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_non_positive_ints(bad):
    before = backend.get_num_threads()
    with pytest.raises((TypeError, ValueError), match="set_num_threads"):
        cr.set_num_threads(bad)
    assert backend.get_num_threads() == before


@pytest.mark.parametrize("n", [1, 2, 4])
def test_threaded_ops_equal_torch_for_any_thread_count(threads, n):
    """A conv → ReLU → max-pool → Adam step on 2 x 2 threads' worth of rows gives PyTorch's numbers."""
    cr.set_num_threads(n)
    assert cr.get_num_threads() == n
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 12, 12)).astype(np.float32)
    conv, tconv = cr.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(conv.weight._data))
        tconv.bias.copy_(torch.from_numpy(conv.bias._data))
    opt, topt = cr.optim.Adam(conv.parameters(), lr=0.1), torch.optim.Adam(tconv.parameters(), lr=0.1)
    for _ in range(2):
        out = cr.nn.functional.max_pool2d(cr.relu(conv(cr.tensor(x))), 2)
        tout = torch.nn.functional.max_pool2d(torch.relu(tconv(torch.from_numpy(x))), 2)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
        opt.zero_grad()
        topt.zero_grad()
        (out * out).sum().backward()
        (tout * tout).sum().backward()
        np.testing.assert_allclose(conv.weight.grad.numpy(), tconv.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
        opt.step()
        topt.step()
    np.testing.assert_allclose(conv.weight._data, tconv.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [1, 2])
def test_adam_on_cache_blocks_equals_torch(threads, n):
    """A parameter big enough for Adam's cache-sized blocks (2 x BLOCK_ELEMENTS and more)."""
    cr.set_num_threads(n)
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((300, 700)).astype(np.float32)
    assert w0.size > 2 * rows.BLOCK_ELEMENTS
    w, tw = cr.tensor(w0.copy(), requires_grad=True), torch.tensor(w0.copy(), requires_grad=True)
    opt, topt = cr.optim.Adam([w], lr=0.01), torch.optim.Adam([tw], lr=0.01)
    for _ in range(3):
        g = rng.standard_normal(w0.shape).astype(np.float32)
        w.grad, tw.grad = cr.tensor(g), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=1e-6, atol=1e-7)
    v, tv = opt.state[w]["exp_avg_sq"]._data, topt.state[tw]["exp_avg_sq"].numpy()
    np.testing.assert_allclose(v, tv, rtol=1e-6)


def test_element_wise_work_runs_on_one_thread_by_default():
    """Out of the box chainrule adds no threads of its own (the suite itself forces two, conftest.py)."""
    import subprocess
    import sys

    code = "import chainrule as cr; print(cr.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


_MALLOPT_SPY = """
import ctypes, json, sys
seen = []
real = ctypes.CDLL

class Spy:
    def __init__(self, name, *args, **kwargs):
        self._lib = real(name, *args, **kwargs)

    def __getattr__(self, attr):
        seen.append(attr)
        return getattr(self._lib, attr)

ctypes.CDLL = Spy
import chainrule as cr
import chainrule.nn, chainrule.optim, chainrule.train
print(json.dumps({"mallopt": "mallopt" in seen, "tuned": cr.backend.malloc_tuned}))
"""


def _import_in_fresh_interpreter(env_value):
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_TUNE_MALLOC"}
    if env_value is not None:
        env["CHAINRULE_TUNE_MALLOC"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", _MALLOPT_SPY], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("env_value", [None, "0", ""])
def test_import_chainrule_leaves_the_allocator_alone(env_value):
    assert _import_in_fresh_interpreter(env_value) == {"mallopt": False, "tuned": False}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")
def test_malloc_tuning_is_opt_in_through_the_environment():
    """The positive control of the test above: the spy does see mallopt when asked for it."""
    assert _import_in_fresh_interpreter("1") == {"mallopt": True, "tuned": True}
