"""Lesson 09: features on different scales make the loss ill-conditioned; standardising fixes it."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_standardising_rounds_the_loss_surface(lesson, seed):
    r = lesson("09_data_normalization").run(quick=True, seed=seed)
    raw, std = r["raw"], r["standardised"]
    assert raw["condition_number"] > 1000 * std["condition_number"]
    assert std["condition_number"] < 5  # (1 + ρ)/(1 − ρ) = 3 for ρ = 0.5, up to sampling
    assert std["steps_to_converge"] is not None and std["steps_to_converge"] <= 50
    assert raw["steps_to_converge"] is None  # not within the quick run's 2000 steps
