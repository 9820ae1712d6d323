"""Lesson 11: a linear autoencoder finds PCA's subspace; a deep one reconstructs better."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_autoencoder_spans_the_principal_subspace(lesson, seed):
    r = lesson("11_autoencoder_pca").run(quick=True, seed=seed)
    assert r["linear_max_angle"][0] < 2.0  # degrees, to PCA's top-4 directions
    assert r["linear"][0] == pytest.approx(r["pca"][0], rel=0.01)  # PCA's error is the floor
    assert r["deep"][0] < 0.8 * r["pca"][0]  # a non-linear code does better at the same size
