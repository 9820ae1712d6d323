"""Lesson 13: a 2-D autoencoder code groups digits by class; walks in it stay digit-like."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_latent_space(lesson, seed):
    r = lesson("13_latent_space").run(quick=True, seed=seed)
    assert r["knn_code"] > 0.7  # chance is 0.1; no label was used to train the code
    assert r["knn_code"] > r["knn_pca2"] + 0.1  # better than the best linear 2-D projection
    assert r["mid_distance_latent"] < 0.85 * r["mid_distance_pixel"]  # the morph stays near real digits
