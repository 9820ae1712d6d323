"""Lesson 02: a stack of linear layers equals the single Linear layer W' = W_o W_h, b' = W_o b_h + b_o."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_stack_collapses_to_one_logistic_regression(lesson, seed):
    r = lesson("02_linear_collapse").run(quick=True, seed=seed)
    for depth in (2, 5):
        # float32 rounding of logits of size ~5: a few ulps, nowhere near a real difference
        assert r[f"max_logit_diff_{depth}"] <= 1e-5 * max(1.0, r[f"max_logit_{depth}"])
        assert r[f"same_class_{depth}"] == 1.0
        # depth buys nothing: no better than a logistic regression trained directly
        assert r[f"accuracy_linear_{depth}"] <= r["accuracy_logistic"] + 0.03
