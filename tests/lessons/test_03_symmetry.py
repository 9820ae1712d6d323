"""Lesson 03: zero init keeps hidden units identical; the init scale decides whether a deep net trains."""

import math

import pytest


@pytest.fixture(scope="module", params=[0, 1, 2])
def results(request):
    from tests.lessons.conftest import load_lesson

    return load_lesson("03_symmetry").run(quick=True, seed=request.param)


def test_zero_init_leaves_hidden_units_identical(results):
    exact = results["symmetry_zeros_float64"]
    assert all(d == 0.0 for d in exact["diff_per_epoch"])
    # float32: rounding splits the units, but after a few epochs only by a hair
    assert results["symmetry_zeros"]["max_pairwise_diff"] < 1e-3
    assert results["symmetry_random"]["max_pairwise_diff"] > 0.3
    assert exact["test_accuracy"] < results["symmetry_random"]["test_accuracy"] - 0.4


def test_small_init_vanishes_and_learns_nothing(results):
    for act in ("tanh", "relu"):
        r = results[f"{act} N(0, 0.01²)"]
        assert r["act_std"][-1] < 1e-6 * r["act_std"][0]
        assert r["losses"][-1] > 2.2  # ln 10 = 2.30: chance level


def test_unit_normal_init_explodes_relu_and_saturates_tanh(results):
    relu = results["relu N(0, 1)"]
    assert relu["act_std"][-1] > 1e4 * relu["act_std"][0]
    assert math.isnan(relu["losses"][-1]) or relu["losses"][-1] > 2.0
    tanh = results["tanh N(0, 1)"]
    assert tanh["act_std"][-1] > 0.9  # tanh outputs pinned near ±1
    assert tanh["losses"][-1] > 1.0


def test_xavier_for_tanh_and_he_for_relu_keep_the_signal_and_train(results):
    xavier = results["tanh Xavier"]
    assert 0.1 < xavier["act_std"][-1] < 1.0
    assert xavier["losses"][-1] < 0.2
    he = results["relu He"]
    assert 0.3 < he["act_std"][-1] / he["act_std"][0] < 3
    assert he["losses"][-1] < 0.3
    # Xavier under-scales ReLU layers: the signal halves layer after layer
    assert results["relu Xavier"]["act_std"][-1] < 0.1 * results["relu Xavier"]["act_std"][0]
