"""Lesson 15: a body trained on digits 0-4, reused for 5-9 with 5 labels per class."""

import numpy as np


def test_transfer(lesson):
    m = lesson("15_transfer")
    runs = [m.run(quick=True, seed=s) for s in (0, 1, 2)]
    summary = runs[0]["summary_frozen"]
    assert runs[0]["trainable_frozen"] == 64 * 5 + 5  # only the new head trains
    assert "Trainable params: 325" in summary and "Non-trainable params: 23,296" in summary
    for r in runs:
        assert r["source_accuracy"] > 0.9
        assert r["feature extraction"] > 0.45  # chance is 0.2: the 0-4 features say something about 5-9
    mean = {k: np.mean([r[k] for r in runs]) for k in ("feature extraction", "fine-tuned")}
    assert mean["fine-tuned"] > mean["feature extraction"] + 0.03  # unfreezing helps
