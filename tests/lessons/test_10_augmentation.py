"""Lesson 10: on 10% of the 8x8 digits, mirroring hurts and small rotations change little."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_augmentation_on_a_small_digit_subset(lesson, seed):
    acc = lesson("10_augmentation").run(quick=True, seed=seed)["test_accuracy"]
    assert acc["none"] > 0.85  # 180 training images are enough for a decent baseline
    assert acc["flip"] < acc["none"] - 0.01  # a mirrored digit is a different (or no) digit
    assert abs(acc["rotation ±15°"] - acc["none"]) < 0.04
