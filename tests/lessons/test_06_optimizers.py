"""Lesson 06: momentum beats plain SGD in valleys; Adagrad's step size only shrinks; schedules."""

import pytest

from tests.lessons.conftest import load_lesson


def test_momentum_goes_further_than_sgd_in_the_rosenbrock_valley():
    m = load_lesson("06_optimizers")
    final = {}
    for surface, (f, start, _) in m.SURFACES.items():
        for name in ("SGD", "momentum", "Nesterov"):
            final[surface, name] = m.best_path(f, start, name, [1e-3, 1e-2], 200)[0]
    # Rosenbrock's narrow curved valley is where momentum pays; on Beale it is no worse
    assert final["Rosenbrock", "momentum"] < 0.2 * final["Rosenbrock", "SGD"]
    assert final["Rosenbrock", "Nesterov"] < 0.2 * final["Rosenbrock", "SGD"]
    assert final["Beale", "momentum"] <= 1.01 * final["Beale", "SGD"]
    assert final["Beale", "Nesterov"] <= 1.01 * final["Beale", "SGD"]


def test_adagrad_step_size_never_grows_where_adams_recovers():
    m = load_lesson("06_optimizers")
    f, start, _ = m.SURFACES["Rosenbrock"]
    adagrad = m.best_path(f, start, "Adagrad", [0.1], 200)[3]
    adam = m.best_path(f, start, "Adam", [0.1], 200)[3]
    assert max(adagrad[50:]) < 2 * adagrad[0]
    assert adam[-1] > 3 * adam[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adaptive_methods_train_the_mlp_faster_than_sgd_and_step_decay_freezes(lesson, seed):
    r = lesson("06_optimizers").run(quick=True, seed=seed, surfaces=False)
    net = r["net"]
    for name in ("Adagrad", "RMSprop", "Adadelta"):
        assert net[name]["losses"][-1] < net["SGD"]["losses"][-1], name
    for name, c in net.items():
        assert c["losses"][-1] < c["losses"][0], name
    step = r["schedules"]["step (x0.1 every third)"]["losses"]
    assert abs(step[-1] - step[-2]) < 0.05 * step[-2]  # lr down to 5e-5: training has stopped
