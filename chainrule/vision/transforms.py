"""Image transforms with torchvision's names and arguments (the v1 ``torchvision.transforms`` API).

An image is a uint8 NumPy array (H, W) or (H, W, C) — what ``chainrule.vision.datasets`` give —,
a PIL image, or a float Tensor (C, H, W) after ``ToTensor``. Geometric transforms keep the kind
they are given. Random draws come from ``chainrule.random`` (``cr.manual_seed`` reproduces them).

    ToTensor()            uint8 (H, W[, C]) -> float32 Tensor (C, H, W) in [0, 1]
    Normalize(mean, std)  (x - mean_c) / std_c per channel of a (C, H, W) Tensor
    RandomCrop(size, padding=None, pad_if_needed=False, fill=0)
    RandomHorizontalFlip(p=0.5)
    RandomRotation(degrees, fill=0)   nearest-neighbour, about the centre (torchvision's default)
    Resize(size, antialias=True)      bilinear; an int resizes the shorter side
    Lambda(fn), Compose([...])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from chainrule import random as _random
from chainrule.backend import np
from chainrule.tensor import Tensor


class Compose:
    """Apply ``transforms`` in order: ``Compose([ToTensor(), Normalize((0.5,), (0.5,))])``."""

    def __init__(self, transforms: Sequence[Callable]):
        transforms = list(transforms)
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {type(t).__name__}")
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class Lambda:
    """Apply a user function: ``Lambda(lambda x: x.repeat(3, 1, 1))``."""

    def __init__(self, lambd: Callable):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)


def _as_hwc(pic: Any, op: str):
    """The image as an (H, W, C) array, and the function that turns such an array back into its kind."""
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise TypeError(f"{op}: a Tensor image must be (C, H, W) or (H, W), got shape {tuple(pic.shape)}")
        arr = pic._data
        if arr.ndim == 2:
            return arr[:, :, None], lambda a: Tensor._make(np.ascontiguousarray(a[:, :, 0]))
        return arr.transpose(1, 2, 0), lambda a: Tensor._make(np.ascontiguousarray(a.transpose(2, 0, 1)))
    if hasattr(pic, "mode") and hasattr(pic, "size") and not isinstance(pic, np.ndarray):  # a PIL image
        arr = np.asarray(pic)
        from PIL import Image  # noqa: PLC0415 - only for PIL inputs, which need Pillow anyway

        hwc = arr if arr.ndim == 3 else arr[:, :, None]
        return hwc, lambda a: Image.fromarray(a if arr.ndim == 3 else a[:, :, 0])
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise TypeError(f"{op}: an array image must be (H, W) or (H, W, C), got shape {pic.shape}")
        hwc = pic if pic.ndim == 3 else pic[:, :, None]
        return hwc, (lambda a: a) if pic.ndim == 3 else (lambda a: a[:, :, 0])
    raise TypeError(f"{op}: img should be a Tensor, a NumPy array or a PIL Image, got {type(pic).__name__}")


class ToTensor:
    """uint8 image (H, W) or (H, W, C), NumPy or PIL, -> float32 Tensor (C, H, W) in [0, 1] (÷255).

    Float arrays are transposed but not scaled, as torchvision.
    """

    def __call__(self, pic: Any) -> Tensor:
        if isinstance(pic, Tensor):
            raise TypeError("ToTensor: pic should be a PIL Image or a NumPy array, got a Tensor")
        hwc, _ = _as_hwc(pic, "ToTensor")
        chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            return Tensor._make(chw.astype(np.float32) / np.float32(255))
        return Tensor._make(chw if chw.dtype.kind == "f" else chw.astype(np.float32))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] for each channel c of a float Tensor (..., C, H, W)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean, self.std, self.inplace = list(mean), list(std), inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float, got {self.std}")

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"Normalize: img should be a Tensor (apply ToTensor first), got {type(tensor).__name__}"
            )
        if tensor.ndim < 3 or tensor.dtype.kind != "f":
            raise TypeError(
                f"Normalize: expected a float Tensor (..., C, H, W), "
                f"got shape {tuple(tensor.shape)}, dtype {tensor.dtype}"
            )
        c = tensor.shape[-3]
        if len(self.mean) not in (1, c) or len(self.std) not in (1, c):
            raise ValueError(
                f"Normalize: {len(self.mean)} means / {len(self.std)} stds for an image of {c} channels"
            )
        a = tensor._data
        mean = np.asarray(self.mean, a.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, a.dtype).reshape(-1, 1, 1)
        out = (a - mean) / std
        if self.inplace:
            tensor._data[...] = out
            return tensor
        return Tensor._make(out)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def _pair(size: Any, op: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{op}: size should be an int or a sequence of one or two ints, got {size}")
    return int(size[0]), int(size[1])


class RandomCrop:
    """A random (h, w) window, after padding by ``padding`` (int, (lr, tb) or (l, t, r, b)) of ``fill``."""

    def __init__(
        self,
        size: Any,
        padding: Any = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
    ):
        self.size = _pair(size, "RandomCrop")
        if padding_mode != "constant":
            raise NotImplementedError(
                f"RandomCrop: padding_mode {padding_mode!r} (only 'constant' is implemented)"
            )
        self.padding, self.pad_if_needed, self.fill = padding, pad_if_needed, fill

    def __call__(self, img: Any) -> Any:
        hwc, back = _as_hwc(img, "RandomCrop")
        if self.padding is not None:
            p = self.padding
            p = (p, p, p, p) if isinstance(p, int) else tuple(p)
            left, top, right, bottom = (p[0], p[1], p[0], p[1]) if len(p) == 2 else p
            hwc = np.pad(hwc, ((top, bottom), (left, right), (0, 0)), constant_values=self.fill)
        th, tw = self.size
        h, w = hwc.shape[:2]
        if self.pad_if_needed and (h < th or w < tw):
            ph, pw = max(th - h, 0), max(tw - w, 0)
            hwc = np.pad(hwc, ((ph, ph), (pw, pw), (0, 0)), constant_values=self.fill)
            h, w = hwc.shape[:2]
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than the input image size {(h, w)}"
            )
        i = int(_random.integers(0, h - th + 1, ()))
        j = int(_random.integers(0, w - tw + 1, ()))
        return back(np.ascontiguousarray(hwc[i : i + th, j : j + tw]))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p

    def __call__(self, img: Any) -> Any:
        if float(_random.uniform((), np.float64)) < self.p:
            hwc, back = _as_hwc(img, "RandomHorizontalFlip")
            return back(np.ascontiguousarray(hwc[:, ::-1]))
        return img

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomRotation:
    """Random rotation.

    Rotate by an angle drawn uniformly from ``degrees`` ((-d, d) for a number), counter-clockwise,
    about the image centre, nearest-neighbour, pixels from outside set to ``fill``.
    """

    def __init__(
        self,
        degrees: Any,
        interpolation: Any = None,
        expand: bool = False,
        center: Any = None,
        fill: float = 0,
    ):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(
                    f"RandomRotation: a single degrees value must be non-negative, got {degrees}"
                )
            degrees = (-degrees, degrees)
        self.degrees = (float(degrees[0]), float(degrees[1]))
        if expand:
            raise NotImplementedError("RandomRotation: expand=True is not implemented")
        self.center, self.fill = center, fill

    def __call__(self, img: Any) -> Any:
        hwc, back = _as_hwc(img, "RandomRotation")
        angle = float(_random.uniform((), np.float64, low=self.degrees[0], high=self.degrees[1]))
        h, w = hwc.shape[:2]
        cx, cy = ((w - 1) * 0.5, (h - 1) * 0.5) if self.center is None else self.center
        t = math.radians(angle)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        # inverse map: the source pixel of each output pixel (rotate the output grid back by -angle)
        dx, dy = xs - cx, ys - cy
        sx = np.rint(cx + math.cos(t) * dx - math.sin(t) * dy).astype(np.int64)
        sy = np.rint(cy + math.sin(t) * dx + math.cos(t) * dy).astype(np.int64)
        inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
        out = np.full_like(hwc, self.fill)
        out[inside] = hwc[sy[inside], sx[inside]]
        return back(out)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={list(self.degrees)})"


def _resize_weights(n_in: int, n_out: int, antialias: bool):
    """Bilinear resize weights.

    (n_out, n_in) bilinear weights with half-pixel centres; when shrinking with ``antialias`` the
    triangle is widened by the scale, so every input pixel contributes (PyTorch's antialiased kernel).
    """
    scale = n_in / n_out
    support = scale if (antialias and scale > 1.0) else 1.0
    centres = (np.arange(n_out) + 0.5) * scale
    j = np.arange(n_in) + 0.5
    if support == 1.0:
        centres = np.clip(centres, 0.5, n_in - 0.5)  # edge pixels are repeated, not faded
    w = np.maximum(0.0, 1.0 - np.abs(j[None, :] - centres[:, None]) / support)
    return w / w.sum(axis=1, keepdims=True)


class Resize:
    """Bilinear resize to ``size`` (h, w), or the shorter side to ``size`` keeping the aspect ratio.

    ``antialias`` (default True) low-pass filters when shrinking, as torchvision. uint8 images are
    rounded back to uint8.
    """

    def __init__(
        self, size: Any, interpolation: Any = None, max_size: int | None = None, antialias: bool = True
    ):
        if interpolation is not None and str(interpolation).lower().split(".")[-1] not in ("bilinear", "2"):
            raise NotImplementedError(
                f"Resize: only bilinear interpolation is implemented, got {interpolation!r}"
            )
        if max_size is not None:
            raise NotImplementedError("Resize: max_size is not implemented")
        self.size, self.antialias = size, antialias

    def __call__(self, img: Any) -> Any:
        hwc, back = _as_hwc(img, "Resize")
        h, w = hwc.shape[:2]
        if isinstance(self.size, numbers.Number) or len(self.size) == 1:
            s = int(self.size if isinstance(self.size, numbers.Number) else self.size[0])
            oh, ow = (s, int(s * w / h)) if h <= w else (int(s * h / w), s)
        else:
            oh, ow = _pair(self.size, "Resize")
        wh = _resize_weights(h, oh, self.antialias)
        ww = _resize_weights(w, ow, self.antialias)
        out = np.einsum("ah,hwc,bw->abc", wh, hwc.astype(np.float64), ww)
        if hwc.dtype == np.uint8:
            out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
        else:
            out = out.astype(hwc.dtype)
        return back(out)

    def __repr__(self) -> str:
        return f"Resize(size={self.size}, antialias={self.antialias})"


__all__ = [
    "Compose",
    "Lambda",
    "ToTensor",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "Resize",
]
