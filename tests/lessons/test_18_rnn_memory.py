"""Lesson 18: recall over a short gap, and exploding gradients tamed by clip_grad_norm_."""

import math

import numpy as np
import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recall_and_clipping(lesson, seed):
    r = lesson("18_rnn_memory").run(quick=True, seed=seed)
    for cell, (acc,) in r["recall"].items():
        assert acc > 0.9, cell  # every cell remembers a token over 10 steps (chance: 0.25)
    wild, clipped = r["exploding"]["no clipping"], r["exploding"]["clip_grad_norm_(1.0)"]
    assert len(wild["losses"]) < 10  # without clipping the loss overflows within a few SGD steps
    assert not np.isfinite(wild["losses"][-1]) or not np.isfinite(wild["grad_norms"][-1])
    assert max(clipped["grad_norms"]) > 100  # the same spikes happen with clipping ...
    assert len(clipped["losses"]) == 150 and np.isfinite(clipped["losses"]).all()  # ... but are harmless
    assert np.mean(clipped["losses"][-20:]) < math.log(4)  # and it learns (chance: ln 4)
