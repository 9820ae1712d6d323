"""Preprocessing and data augmentation on NumPy arrays (or Tensors), vectorised.

Scalers learn statistics from the training data, then apply them::

    scale = Standardize().fit(x_train)       # per-feature mean and std over axis 0
    x_train, x_test = scale(x_train), scale(x_test)

Augmentations take one image ``(C, H, W)`` or a batch ``(N, C, H, W)``; on a batch each image
gets its own random draw (flip or not, angle, crop offset, zoom), computed for the whole batch
at once. The draws come from ``chainrule.random``, so ``cr.manual_seed`` makes them
reproducible::

    augment = Compose([RandomRotation(10), RandomZoom((0.9, 1.1)), GaussianNoise(0.05)])
    xb = augment(xb)

Rotation and zoom resample with bilinear interpolation around the image centre, filling
outside pixels with ``fill`` (0 by default). Integer images come back rounded, in their dtype.
A Tensor input gives a Tensor output (no gradient: augmentation is preprocessing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule import random as _random
from chainrule.backend import np
from chainrule.tensor import Tensor


def _unwrap(x: Any):
    """(array, was_tensor)."""
    if isinstance(x, Tensor):
        return x._data, True
    return np.asarray(x), False


def _rewrap(arr, was_tensor: bool):
    return Tensor._make(arr) if was_tensor else arr


class Transform:
    """Base class: ``__call__`` accepts an array or a Tensor and returns the same kind."""

    def __call__(self, x: Any) -> Any:
        arr, was_tensor = _unwrap(x)
        return _rewrap(self.apply(arr), was_tensor)

    def apply(self, x):  # pragma: no cover - abstract
        """Transform the array ``x`` (a sample or a batch); override it in a subclass."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def fit(self, x: Any) -> Compose:
        """Fit every transform that has a ``fit`` on the output of the ones before it."""
        for t in self.transforms:
            if hasattr(t, "fit"):
                t.fit(x)
            x = t(x)
        return self

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


# ----------------------------------------------------------------------------------------
# Scalers
# ----------------------------------------------------------------------------------------


class _Scaler(Transform):
    axis: Any = 0

    def _check_fitted(self, name: str, arr) -> None:
        if not self._fitted:
            raise RuntimeError(f"{name}: call .fit(x_train) before applying it")
        expected = self._stat_shape
        got = tuple(1 if i in self._axes(arr.ndim) else s for i, s in enumerate(arr.shape))
        if len(got) != len(expected) or any(e != 1 and g != e for g, e in zip(got, expected)):
            raise ValueError(
                f"{name}: input of shape {tuple(arr.shape)} does not match the statistics "
                f"learned on shape {self._fit_shape}"
            )

    def _axes(self, ndim: int) -> tuple:
        axis = self.axis
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        return tuple(a % ndim for a in axes)


class Standardize(_Scaler):
    """``(x - mean) / std`` per feature, with mean and std learned by ``fit(x_train)``.

    Statistics are taken over ``axis`` (default 0, the sample axis: one mean per feature, i.e.
    per pixel of an image); ``axis=(0, 2, 3)`` gives one per channel of an (N, C, H, W) batch.
    Constant features (std 0) are only centred.
    """

    def __init__(self, axis: Any = 0, eps: float = 0.0):
        self.axis = axis
        self.eps = eps
        self._fitted = False

    def fit(self, x: Any) -> Standardize:
        """Learn the mean and standard deviation of ``x``; returns the transform."""
        arr, _ = _unwrap(x)
        arr64 = arr.astype(np.float64)
        axes = self._axes(arr.ndim)
        self.mean = arr64.mean(axis=axes, keepdims=True)
        std = arr64.std(axis=axes, keepdims=True) + self.eps
        self.std = np.where(std > 0, std, 1.0)
        self._stat_shape = self.mean.shape
        self._fit_shape = tuple(arr.shape)
        self._fitted = True
        return self

    def apply(self, x):
        self._check_fitted("Standardize", x)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        return ((x - self.mean) / self.std).astype(dtype)

    def inverse(self, x: Any) -> Any:
        """Undo the standardisation: x · std + mean."""
        arr, was_tensor = _unwrap(x)
        self._check_fitted("Standardize.inverse", arr)
        return _rewrap((arr * self.std + self.mean).astype(arr.dtype), was_tensor)


class MinMaxScale(_Scaler):
    """Map each feature linearly so that its training range ``[min, max]`` becomes ``[low, high]``.

    The range is learned by ``fit(x_train)`` over ``axis`` (default 0); constant features map
    to ``low``. Values outside the training range are not clipped.
    """

    def __init__(self, low: float = -1.0, high: float = 1.0, axis: Any = 0):
        if not high > low:
            raise ValueError(f"MinMaxScale: need low < high, got low={low}, high={high}")
        self.low = low
        self.high = high
        self.axis = axis
        self._fitted = False

    def fit(self, x: Any) -> MinMaxScale:
        """Learn the minimum and maximum of ``x``; returns the transform."""
        arr, _ = _unwrap(x)
        arr64 = arr.astype(np.float64)
        axes = self._axes(arr.ndim)
        self.min = arr64.min(axis=axes, keepdims=True)
        rng = arr64.max(axis=axes, keepdims=True) - self.min
        self.range = np.where(rng > 0, rng, 1.0)
        self._stat_shape = self.min.shape
        self._fit_shape = tuple(arr.shape)
        self._fitted = True
        return self

    def apply(self, x):
        self._check_fitted("MinMaxScale", x)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        out = (x - self.min) / self.range * (self.high - self.low) + self.low
        return out.astype(dtype)


# ----------------------------------------------------------------------------------------
# Augmentation
# ----------------------------------------------------------------------------------------


def _as_batch(name: str, x):
    """(N, C, H, W) view of an image or batch, and whether a batch axis was added."""
    if x.ndim == 4:
        return x, False
    if x.ndim == 3:
        return x[None], True
    raise ValueError(
        f"{name}: expected an image (C, H, W) or a batch (N, C, H, W), got shape {tuple(x.shape)}"
    )


def _finish(out, x, added: bool):
    """Back to the input's dtype (rounded for integers) and rank."""
    if out.dtype != x.dtype:
        if np.issubdtype(x.dtype, np.integer):
            info = np.iinfo(x.dtype)
            out = np.clip(np.rint(out), info.min, info.max)
        out = out.astype(x.dtype)
    return out[0] if added else out


def _affine_sample(x, inv, fill: float = 0.0):
    """Resample a batch through per-image 2x2 maps about the image centre, bilinearly.

    ``x``: (N, C, H, W); ``inv``: (N, 2, 2), mapping an output pixel's (row, col) offset from
    the centre to the input's. Pixels that land outside the input take ``fill``.
    """
    n, c, h, w = x.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows, cols = np.meshgrid(
        np.arange(h, dtype=np.float64) - cy, np.arange(w, dtype=np.float64) - cx, indexing="ij"
    )
    grid = np.stack([rows.ravel(), cols.ravel()])  # (2, H*W)
    src = inv @ grid  # (N, 2, H*W)
    sy, sx = src[:, 0] + cy, src[:, 1] + cx  # (N, H*W)
    y0, x0 = np.floor(sy), np.floor(sx)
    wy, wx = sy - y0, sx - x0
    y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
    xf = x.astype(np.float32, copy=False) if not np.issubdtype(x.dtype, np.floating) else x
    flat = xf.reshape(n, c, h * w)
    out = np.zeros((n, c, h * w), dtype=flat.dtype)
    batch = np.arange(n)[:, None]
    for dy, dx, wgt in (
        (0, 0, (1 - wy) * (1 - wx)),
        (0, 1, (1 - wy) * wx),
        (1, 0, wy * (1 - wx)),
        (1, 1, wy * wx),
    ):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        idx = np.where(inside, yy * w + xx, 0)  # (N, H*W)
        vals = flat[batch, :, idx]  # (N, H*W, C)
        vals = np.where(inside[..., None], vals, fill)
        out += (vals * wgt[..., None]).transpose(0, 2, 1).astype(flat.dtype, copy=False)
    return out.reshape(n, c, h, w)


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p

    def apply(self, x):
        xb, added = _as_batch("RandomHorizontalFlip", x)
        flip = _random.uniform((xb.shape[0],), dtype=np.float64) < self.p
        out = np.where(flip[:, None, None, None], xb[..., ::-1], xb)
        return _finish(out, x, added)


class RandomRotation(Transform):
    """Random rotation of images.

    Rotate each image by an angle drawn uniformly from ``[-degrees, degrees]``
    (or ``[lo, hi]`` for a pair), about its centre, with bilinear interpolation.
    """

    def __init__(self, degrees: float | Sequence[float], fill: float = 0.0):
        if isinstance(degrees, (int, float)):
            if degrees < 0:
                raise ValueError(f"RandomRotation: degrees must be non-negative, got {degrees}")
            degrees = (-float(degrees), float(degrees))
        lo, hi = (float(d) for d in degrees)
        if lo > hi:
            raise ValueError(f"RandomRotation: degrees range ({lo}, {hi}) has lo > hi")
        self.degrees = (lo, hi)
        self.fill = fill

    def apply(self, x):
        xb, added = _as_batch("RandomRotation", x)
        angle = _random.uniform((xb.shape[0],), dtype=np.float64, low=self.degrees[0], high=self.degrees[1])
        theta = np.deg2rad(angle)
        cos, sin = np.cos(theta), np.sin(theta)
        # Output offset (r, c) comes from the input offset rotated back by -theta (counter-clockwise
        # rotation of the picture for a positive angle, as torchvision).
        inv = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], 1)
        return _finish(_affine_sample(xb, inv, self.fill), x, added)


class RandomZoom(Transform):
    """Random zoom of images.

    Zoom each image about its centre by a factor drawn uniformly from ``scale``
    (> 1 zooms in, < 1 zooms out, filling the border with ``fill``).
    """

    def __init__(self, scale: Sequence[float] = (0.9, 1.1), fill: float = 0.0):
        lo, hi = (float(s) for s in scale)
        if not 0 < lo <= hi:
            raise ValueError(f"RandomZoom: scale must be (lo, hi) with 0 < lo <= hi, got {tuple(scale)}")
        self.scale = (lo, hi)
        self.fill = fill

    def apply(self, x):
        xb, added = _as_batch("RandomZoom", x)
        s = _random.uniform((xb.shape[0],), dtype=np.float64, low=self.scale[0], high=self.scale[1])
        inv = np.zeros((xb.shape[0], 2, 2))
        inv[:, 0, 0] = inv[:, 1, 1] = 1.0 / s
        return _finish(_affine_sample(xb, inv, self.fill), x, added)


class RandomCrop(Transform):
    """Random crop of images, after padding.

    Pad each side by ``padding`` (with ``fill``), then cut a ``size`` window at a random
    position, independently per image. ``size`` is an int (square) or (height, width);
    ``padding`` an int or (pad_h, pad_w).
    """

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] = 0, fill: float = 0.0):
        is_int = isinstance(size, (int, np.integer))
        self.size = (int(size), int(size)) if is_int else tuple(int(s) for s in size)
        self.padding = (
            (int(padding),) * 2 if isinstance(padding, (int, np.integer)) else tuple(int(p) for p in padding)
        )
        if len(self.size) != 2 or min(self.size) < 1 or len(self.padding) != 2 or min(self.padding) < 0:
            raise ValueError(
                f"RandomCrop: need size (h, w) >= 1 and padding >= 0, got size={size}, padding={padding}"
            )
        self.fill = fill

    def apply(self, x):
        xb, added = _as_batch("RandomCrop", x)
        n, c, h, w = xb.shape
        ph, pw = self.padding
        th, tw = self.size
        hp, wp = h + 2 * ph, w + 2 * pw
        if th > hp or tw > wp:
            raise ValueError(
                f"RandomCrop: crop size {self.size} is larger than the padded image "
                f"({hp}, {wp}) "
                f"(input shape {tuple(x.shape)}, padding {self.padding})"
            )
        padded = xb
        if ph or pw:
            padded = np.pad(xb, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=self.fill)
        oy = _random.integers(0, hp - th + 1, (n,))
        ox = _random.integers(0, wp - tw + 1, (n,))
        rows = (oy[:, None] + np.arange(th))[:, None, :, None]  # (N, 1, th, 1)
        cols = (ox[:, None] + np.arange(tw))[:, None, None, :]  # (N, 1, 1, tw)
        out = padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]
        return _finish(out, x, added)


class GaussianNoise(Transform):
    """Add independent N(0, std²) noise to every value (``clip=(lo, hi)`` to clip afterwards)."""

    def __init__(self, std: float = 0.1, clip: tuple | None = None):
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be non-negative, got {std}")
        self.std = std
        self.clip = clip

    def apply(self, x):
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        out = x + _random.normal(x.shape, dtype=dtype, std=self.std)
        if self.clip is not None:
            out = np.clip(out, *self.clip)
        return out.astype(dtype, copy=False)


class Lambda(Transform):
    """Wrap a function of an array as a transform."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def apply(self, x):
        return self.fn(x)


__all__ = [
    "Compose",
    "Standardize",
    "MinMaxScale",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomCrop",
    "RandomZoom",
    "GaussianNoise",
    "Lambda",
    "Transform",
]
