"""Lesson 14: features learned without labels, then 50 labelled digits."""

import numpy as np


def test_pretraining(lesson):
    m = lesson("14_pretraining")
    runs = [m.run(quick=True, seed=s) for s in (0, 1, 2)]
    for r in runs:  # same frozen architecture: only the pre-training differs
        assert r["pretrained, frozen"] > r["random, frozen"] + 0.3
    # the measured gain of fine-tuning is small (about +1 point, docs/lessons/14_pretraining.md)
    fine = np.mean([r["pretrained, fine-tuned"] for r in runs])
    assert fine > np.mean([r["scratch"] for r in runs]) - 0.02
    assert fine > 0.7
