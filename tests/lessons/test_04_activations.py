"""Lesson 04: ReLU-family activations train a deep MLP where sigmoid stalls; high rates kill ReLUs."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_family_trains_a_deep_net_where_sigmoid_stalls(lesson, seed):
    r = lesson("04_activations").run(quick=True, seed=seed)
    curves, epochs = r["curves"], r["epochs_to_target"]
    assert curves["sigmoid"][-1] > 2.0  # still at chance (ln 10 = 2.30) after 5 epochs
    for act in ("ReLU", "leaky ReLU", "ELU", "PReLU", "GELU"):
        assert epochs[act] is not None and epochs[act] <= 4, act
        assert curves[act][-1] < 0.1 * curves["sigmoid"][-1], act
    # ReLU at least as fast as tanh (the lectures' "several times faster" is not seen here)
    assert epochs["ReLU"] <= epochs["tanh"]
    dead = r["dead"]["ReLU"]
    assert dead["silent_after_high_lr"] > 0.02  # the high-rate epoch silences some units
    assert dead["revived"] < 0.5  # and most of them stay dead
