"""Lesson 08: batch norm trains where the plain net diverges, faster; train and eval modes differ."""

import math

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_norm_trains_at_a_rate_that_breaks_the_plain_net(lesson, seed):
    r = lesson("08_batch_norm").run(quick=True, seed=seed)
    plain, bn = r["high_lr"]["plain lr 2"], r["high_lr"]["batch norm lr 2"]
    # lr 2 is at the plain net's edge: it diverges or crawls, depending on the seed
    assert math.isnan(plain["losses"][-1]) or plain["losses"][-1] > 1.0
    assert bn["test_accuracy"][-1] > 0.9
    assert bn["test_accuracy"][-1] > plain["test_accuracy"][-1] + 0.2
    normal = r["normal_lr"]
    assert normal["batch norm"]["epochs_to_target"] is not None
    assert normal["batch norm"]["epochs_to_target"] <= 4
    assert normal["plain"]["epochs_to_target"] is None  # not within the 6 quick epochs
    assert normal["layer norm"]["test_accuracy"][-1] > normal["plain"]["test_accuracy"][-1] + 0.1
    modes = r["modes"]
    assert modes["train_vs_eval_max_diff"] > 1e-2  # batch statistics vs running statistics
    assert modes["train_mode_batch_dependence"] > 1e-3  # in train mode the company matters
    assert modes["eval_by_hand_max_diff"] < 1e-4  # eval = (z - running_mean)/sqrt(running_var + eps)·γ + β
