"""``make_grid`` and ``save_image``, as torchvision.utils (PNG written with zlib alone: no Pillow needed)."""

from __future__ import annotations

import math
import os
import struct
import zlib
from typing import Any, BinaryIO

from chainrule.backend import np, to_numpy
from chainrule.tensor import Tensor


def make_grid(
    tensor: Tensor | list,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
) -> Tensor:
    """Tile a batch of images into one grid image.

    Tile a batch (B, C, H, W) (or a list of (C, H, W) images) into one (3, H', W') image,
    ``nrow`` images per row with ``padding`` pixels of ``pad_value`` between, as torchvision.

    ``normalize`` maps ``value_range`` (default: the min and max, per image with ``scale_each``) to [0, 1].
    Example: ``make_grid(cr.rand(16, 1, 28, 28), nrow=4).shape`` -> (3, 122, 122).
    """
    if isinstance(tensor, (list, tuple)):
        arr = np.stack([to_numpy(t._data if isinstance(t, Tensor) else np.asarray(t)) for t in tensor])
    elif isinstance(tensor, Tensor):
        arr = to_numpy(tensor._data)
    else:
        raise TypeError(f"make_grid: expected a Tensor or a list of Tensors, got {type(tensor).__name__}")
    arr = arr.astype(np.float32, copy=True)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[None] if arr.shape[0] in (1, 3) else arr[:, None]
    if arr.ndim != 4:
        raise ValueError(f"make_grid: expected (B, C, H, W), (C, H, W) or (H, W), got shape {arr.shape}")
    if arr.shape[1] == 1:
        arr = np.repeat(arr, 3, axis=1)
    if normalize:

        def norm(a, lo, hi):
            a.clip(lo, hi, out=a)
            a -= lo
            a /= max(hi - lo, 1e-5)

        if scale_each:
            for a in arr:
                lo, hi = value_range if value_range is not None else (a.min(), a.max())
                norm(a, lo, hi)
        else:
            lo, hi = value_range if value_range is not None else (arr.min(), arr.max())
            norm(arr, lo, hi)
    b, c, h, w = arr.shape
    if b == 1:
        return Tensor._make(arr[0])
    cols = min(nrow, b)
    rows = int(math.ceil(b / cols))
    hp, wp = h + padding, w + padding
    grid = np.full((c, rows * hp + padding, cols * wp + padding), pad_value, np.float32)
    for k in range(b):
        r, q = divmod(k, cols)
        grid[:, r * hp + padding : r * hp + padding + h, q * wp + padding : q * wp + padding + w] = arr[k]
    return Tensor._make(grid)


def _png(image: Any) -> bytes:
    """PNG bytes of a uint8 (H, W, 3) image."""
    h, w, c = image.shape
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    color = {1: 0, 3: 2, 4: 6}[c]
    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def save_image(
    tensor: Tensor | list, fp: str | os.PathLike | BinaryIO, format: str | None = None, **kwargs: Any
) -> None:  # noqa: A002
    """Save a batch (or one image) as a PNG grid, as torchvision.utils.save_image.

    Values in [0, 1] (after ``normalize=True`` if asked) become 0-255; ``kwargs`` go to ``make_grid``.
    Example: ``save_image(cr.rand(16, 1, 28, 28), "samples.png", nrow=4)``.
    """
    if format is not None and format.lower() != "png":
        raise ValueError(f"save_image: only PNG is written, got format={format!r}")
    if isinstance(fp, (str, os.PathLike)) and not str(fp).lower().endswith(".png") and format is None:
        raise ValueError(f"save_image: only PNG files are written; give a .png name, got {fp!r}")
    grid = make_grid(tensor, **kwargs)._data
    image = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    data = _png(np.ascontiguousarray(image))
    if isinstance(fp, (str, os.PathLike)):
        with open(fp, "wb") as f:
            f.write(data)
    else:
        fp.write(data)
