"""Shared fixtures: every test starts from the same seeds and default autograd state.

- ``cr.manual_seed(0)``, ``torch.manual_seed(0)`` and NumPy's legacy global seed before each test,
- grad mode on and anomaly mode off before and after each test (a failing test can't leak them),
- torch limited to one thread (the suite runs in parallel with pytest-xdist),
- chainrule's row-block threading (``kernels.rows.parallel_rows``) switched on for any array of two
  rows or more, so every oracle test also checks the threaded path of the ops that use it,
- hypothesis profiles: ``ci`` (derandomized: the same examples on every run, 40 per test),
  selected when the ``CI`` environment variable is set (scripts/test.sh sets
  ``HYPOTHESIS_PROFILE=ci``); ``dev`` (random, 500 examples per test) for a longer local hunt,
  ``HYPOTHESIS_PROFILE=dev python -m pytest tests/test_properties.py``; otherwise ``quick``
  (random, 40 examples).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

import chainrule as cr
from chainrule import backend
from chainrule.autograd.grad_mode import State
from chainrule.kernels import rows

torch.set_num_threads(1)

_HYPOTHESIS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", derandomize=True, max_examples=40, database=None, print_blob=True, **_HYPOTHESIS
)
settings.register_profile(
    "dev", derandomize=False, max_examples=500, **_HYPOTHESIS
)  # explicit: under CI=1 Hypothesis's default is derandomized
settings.register_profile("quick", derandomize=False, max_examples=40, **_HYPOTHESIS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "quick"))
rows.PARALLEL_MIN_ELEMENTS = 2
backend.set_num_threads(2)


@pytest.fixture(autouse=True)
def _seed_and_reset():
    cr.manual_seed(0)
    torch.manual_seed(0)
    np.random.seed(0)
    State.grad_enabled, State.anomaly = True, False
    yield
    State.grad_enabled, State.anomaly = True, False


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh NumPy generator seeded with 0."""
    return np.random.default_rng(0)
