"""Lesson 05: gradients vanish through 20 sigmoid layers; ReLU+He, batch norm and residuals fix it."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_gradients_vanish_and_three_fixes_keep_them(lesson, seed):
    r = lesson("05_vanishing_gradients").run(quick=True, seed=seed)
    ratio = r["ratio_last_to_first"]
    assert ratio["sigmoid"] > 1e6  # the input-side layer's gradient is a millionth of the last one's
    for fix in ("relu+he", "sigmoid+batchnorm", "sigmoid+residual"):
        assert 0.1 < ratio[fix] < 10, fix
    plain, residual = r["relu plain losses"][-1], r["relu+residual losses"][-1]
    assert residual < 0.3 * plain
    assert r["relu+residual test_accuracy"] > r["relu plain test_accuracy"] + 0.2
