"""Scalers and augmentations: statistics, geometry, per-image draws, seeding, shapes and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import transforms as T


def test_standardize_statistics():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(500, 4)) * [1, 2, 3, 0] + [5, -1, 0, 7]).astype(np.float32)
    s = T.Standardize().fit(x)
    z = s(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :3].std(0), 1, atol=1e-5)
    np.testing.assert_allclose(z[:, 3], 0, atol=1e-5)  # constant feature: centred only
    np.testing.assert_allclose(s.inverse(z), x, atol=1e-4)
    # statistics come from the training data only
    z2 = s(x[:10] + 1)
    np.testing.assert_allclose(z2[:, 0] - z[:10, 0], 1 / x[:, 0].std(), rtol=1e-4)


def test_standardize_per_channel_and_tensor():
    x = np.random.default_rng(1).normal(size=(20, 3, 4, 4)).astype(np.float32) * 3 + 2
    s = T.Standardize(axis=(0, 2, 3)).fit(x)
    assert s.mean.shape == (1, 3, 1, 1)
    z = s(cr.tensor(x))
    assert isinstance(z, cr.Tensor)
    np.testing.assert_allclose(z.numpy().mean((0, 2, 3)), 0, atol=1e-5)


def test_scalers_must_be_fitted_and_shapes_checked():
    with pytest.raises(RuntimeError, match="fit"):
        T.Standardize()(np.zeros((2, 3)))
    s = T.Standardize().fit(np.random.rand(5, 3))
    with pytest.raises(ValueError, match="does not match"):
        s(np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="fit"):
        T.MinMaxScale()(np.zeros((2, 3)))


def test_minmax_scale():
    x = np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 30.0]], np.float32)
    m = T.MinMaxScale().fit(x)
    np.testing.assert_allclose(m(x), [[-1, -1], [0, 0], [1, 1]])
    m01 = T.MinMaxScale(0, 1).fit(x)
    np.testing.assert_allclose(m01(np.array([[20.0, 40.0]], np.float32)), [[2.0, 1.5]])
    with pytest.raises(ValueError, match="low < high"):
        T.MinMaxScale(1, 1)


def test_compose_fit_chains():
    x = np.random.default_rng(0).uniform(3, 9, size=(50, 2)).astype(np.float32)
    c = T.Compose([T.MinMaxScale(0, 1), T.Standardize()]).fit(x)
    np.testing.assert_allclose(c(x).mean(0), 0, atol=1e-5)


def _point_image(h=9, w=9, r=4, c=6):
    x = np.zeros((1, h, w), np.float32)
    x[0, r, c] = 1.0
    return x


def test_horizontal_flip():
    x = np.random.default_rng(0).random((64, 2, 5, 6)).astype(np.float32)
    out = T.RandomHorizontalFlip(0.5)(x)
    flipped = np.array([np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, x)])
    assert (flipped ^ kept).all() and 15 < flipped.sum() < 49  # each image decided on its own
    assert np.array_equal(T.RandomHorizontalFlip(1.0)(x[0]), x[0][..., ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(0.0)(x), x)


def test_rotation_geometry():
    x = _point_image()  # one lit pixel 2 right of the centre
    out = T.RandomRotation((90, 90))(x)  # counter-clockwise: now 2 above the centre
    assert np.argwhere(out[0] > 0.5).tolist() == [[2, 4]]
    out = T.RandomRotation((-90, -90))(x)
    assert np.argwhere(out[0] > 0.5).tolist() == [[6, 4]]
    np.testing.assert_allclose(T.RandomRotation(0)(x), x)
    # the mass of a centred blob is preserved by small rotations (bilinear resampling)
    blob = np.zeros((1, 1, 15, 15), np.float32)
    blob[0, 0, 5:10, 5:10] = 1
    out = T.RandomRotation(30)(blob)
    assert abs(out.sum() - 25) < 1.5


def test_rotation_angles_per_image_and_range():
    x = np.repeat(_point_image(15, 15, 7, 13)[None], 200, axis=0)  # radius 6 to the right
    out = T.RandomRotation(20)(x)
    ys, xs = np.meshgrid(np.arange(15) - 7.0, np.arange(15) - 7.0, indexing="ij")
    w = out[:, 0]
    cy, cx = (w * ys).sum((1, 2)) / w.sum((1, 2)), (w * xs).sum((1, 2)) / w.sum((1, 2))
    angles = np.degrees(np.arctan2(-cy, cx))
    assert np.abs(angles).max() <= 20.5
    assert angles.std() > 8  # roughly uniform on [-20, 20]: std 11.5
    assert len(np.unique(np.round(angles, 3))) > 150


def test_zoom():
    x = _point_image()  # offset 2 from the centre
    out = T.RandomZoom((2.0, 2.0))(x)  # zoom in x2: offset 4
    assert out[0, 4, 8] == pytest.approx(out.max())
    out = T.RandomZoom((0.5, 0.5))(np.ones((1, 9, 9), np.float32))
    assert out[0, 4, 4] == 1 and out[0, 0, 0] == 0  # zoom out fills the border
    np.testing.assert_allclose(T.RandomZoom((1.0, 1.0))(x), x)
    with pytest.raises(ValueError, match="scale"):
        T.RandomZoom((0, 1))


def test_random_crop():
    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(1, 2, 6, 6).repeat(100, 0)
    out = T.RandomCrop(6, padding=2)(x)
    assert out.shape == (100, 2, 6, 6)
    # each output is a shifted window of the zero-padded input
    padded = np.pad(x[0], ((0, 0), (2, 2), (2, 2)))
    offsets = set()
    for o in out[:40]:
        hits = [
            (i, j) for i in range(5) for j in range(5) if np.array_equal(padded[:, i : i + 6, j : j + 6], o)
        ]
        assert hits
        offsets.add(hits[0])
    assert len(offsets) > 8
    small = T.RandomCrop((3, 4))(x[0])
    assert small.shape == (2, 3, 4)
    with pytest.raises(ValueError, match="larger than the padded image"):
        T.RandomCrop(9, padding=1)(x)


def test_gaussian_noise():
    x = np.zeros((1000, 1, 4, 4), np.float32)
    out = T.GaussianNoise(0.2)(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert abs(out.std() - 0.2) < 0.01 and abs(out.mean()) < 0.01
    clipped = T.GaussianNoise(1.0, clip=(0, 1))(x)
    assert clipped.min() == 0 and clipped.max() <= 1


@pytest.mark.parametrize(
    "t",
    [
        T.RandomHorizontalFlip(),
        T.RandomRotation(15),
        T.RandomCrop(8, 1),
        T.RandomZoom(),
        T.GaussianNoise(0.1),
    ],
)
def test_seeded_and_shapes(t):
    x = np.random.default_rng(0).random((16, 3, 8, 8)).astype(np.float32)
    cr.manual_seed(7)
    a = t(x)
    cr.manual_seed(7)
    b = t(x)
    c = t(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    assert a.shape == x.shape and a.dtype == np.float32
    assert t(x[0]).shape == x[0].shape  # a single image works too
    out = t(cr.tensor(x))
    assert isinstance(out, cr.Tensor) and out.shape == x.shape


def test_integer_images_keep_dtype():
    x = np.random.default_rng(0).integers(0, 256, size=(4, 1, 8, 8)).astype(np.uint8)
    for t in (T.RandomRotation(10), T.RandomZoom(), T.RandomCrop(8, 2), T.RandomHorizontalFlip()):
        assert t(x).dtype == np.uint8


def test_bad_rank_rejected():
    with pytest.raises(ValueError, match=r"RandomRotation: expected an image \(C, H, W\)"):
        T.RandomRotation(10)(np.zeros((8, 8)))
