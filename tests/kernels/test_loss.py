"""kernels.loss: cross-entropy rows (one unshifted exp pass, bad rows redone) against the shifted
textbook log-softmax, and the softmax backward read against softmax minus one-hot."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels import loss as K


def rows_of_every_kind(rng, dtype):
    x = rng.standard_normal((12, 7)).astype(dtype)
    x[1] += 200  # overflows an unshifted exp
    x[2] -= 200  # every term subnormal or zero unshifted
    x[3, 2] = 95.0  # one big score
    x[4] = -np.inf
    x[4, 0] = 0.5  # one finite score among -inf
    x[5] *= 30
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["random", "every kind of row"])
def test_log_softmax_rows_match_reference(dtype, kind, rng):
    x = (
        (rng.standard_normal((40, 11)) * 3).astype(dtype)
        if kind == "random"
        else rows_of_every_kind(rng, dtype)
    )
    e, total, lse = K.softmax_rows(x)
    with np.errstate(invalid="ignore"):
        ref = K.log_softmax_reference(x.astype(np.float64))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    finite = np.isfinite(x)
    np.testing.assert_allclose((x - lse[:, None])[finite], ref[finite], rtol=tol, atol=tol)
    np.testing.assert_allclose(K.scaled_softmax(e, total), np.exp(ref), rtol=tol, atol=tol)


def test_scaled_softmax_is_the_row_scale_times_softmax(rng):
    x, s = rng.standard_normal((6, 5)), rng.standard_normal(6)
    e, total, _ = K.softmax_rows(x)
    np.testing.assert_allclose(K.scaled_softmax(e, total, s), s[:, None] * np.exp(K.log_softmax_reference(x)))


@pytest.mark.parametrize("m, c", [(1, 1), (5, 3), (64, 10), (0, 4)])
def test_cross_entropy_gradient_is_softmax_minus_one_hot(m, c, rng):
    x = rng.standard_normal((m, c))
    t = rng.integers(0, c, m)
    e, total, _ = K.softmax_rows(x)
    grad = K.scaled_softmax(e, total)
    grad[np.arange(m), t] -= 1
    np.testing.assert_allclose(grad, K.cross_entropy_grad_reference(x, t), rtol=1e-12, atol=1e-15)


def test_nan_rows_stay_nan(rng):
    x = rng.standard_normal((3, 4))
    x[1, 2] = np.nan
    _, _, lse = K.softmax_rows(x)
    assert np.isnan(lse[1]) and np.isfinite(lse[[0, 2]]).all()
