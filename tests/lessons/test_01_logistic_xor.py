"""Lesson 01: logistic regression separates blobs but not XOR; a 2-layer tanh net does XOR."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_regression_fails_xor_where_a_hidden_layer_succeeds(lesson, seed):
    r = lesson("01_logistic_xor").run(quick=True, seed=seed)
    assert r["logistic_blobs"] >= 0.98
    assert r["logistic_xor"] <= 0.75
    assert r["mlp_xor"] >= 0.97
    assert r["mlp_xor"] - r["logistic_xor"] >= 0.25
