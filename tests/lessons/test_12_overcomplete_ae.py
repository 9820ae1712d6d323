"""Lesson 12: an overcomplete autoencoder copies its input; sparse and denoising ones do not."""

import pytest


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overcomplete_codes(lesson, seed):
    r = lesson("12_overcomplete_ae").run(quick=True, seed=seed)
    mse, r2, active = r["recon_mse"], r["noise_r2"], r["active_fraction"]
    assert mse["plain"] < 0.1 * min(mse["sparse"], mse["denoising"])  # near-perfect copy of digits
    assert r2["plain"] > 0.15  # ... and it copies part of random noise too
    assert r2["sparse"] < 0 and r2["denoising"] < 0  # these turn noise into digit-like images
    assert active["sparse"] < 0.5 * active["plain"]  # L1 switches most code units off
