"""Image data sets with torchvision's signatures: ``MNIST``, ``FashionMNIST``, ``CIFAR10``.

``MNIST(root, train=True, transform=None, target_transform=None, download=False)`` looks for the
four IDX files (raw or .gz) in ``root/MNIST/raw`` (torchvision's layout), ``root/MNIST``, ``root``,
then in chainrule's cache (``chainrule data get mnist``, ``~/.cache/chainrule/mnist``). With
``download=True`` and no files found, it runs that fetch. ``FashionMNIST`` likewise
(``chainrule data get fashion-mnist``); ``CIFAR10`` reads the python batches in
``root/cifar-10-batches-py`` or ``~/.cache/chainrule/cifar10`` (nothing can download it here).

A sample is ``(image, target)``: the image a uint8 NumPy array, (H, W) for the grey sets and
(H, W, 3) for CIFAR-10 (torchvision gives a PIL image; ``transforms.ToTensor`` takes both), the
target an int. ``.data`` and ``.targets`` hold everything as Tensors (uint8 images, int64 labels).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainrule.backend import np
from chainrule.data.dataset import Dataset
from chainrule.data.datasets import images
from chainrule.tensor import Tensor

_cache: dict = {}


class _VisionDataset(Dataset):
    def __init__(self, root: Any, transform: Callable | None, target_transform: Callable | None):
        self.root = os.path.expanduser(str(root)) if root is not None else None
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self._targets)

    def __getitem__(self, index: int) -> tuple:
        if isinstance(index, Tensor):
            index = int(index.item())
        n = len(self._targets)
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {n} samples")
        img, target = self._images[index], int(self._targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def data(self) -> Tensor:
        """All images as a uint8 Tensor."""
        return Tensor._make(self._images)

    @property
    def targets(self) -> Tensor:
        """All labels as an int64 Tensor."""
        return Tensor._make(self._targets)

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n    Split: {split}"


class MNIST(_VisionDataset):
    """The MNIST digits (60000 train / 10000 test 28x28 grey images, labels 0-9), as torchvision's."""

    classes = [
        f"{i} - {w}" for i, w in enumerate("zero one two three four five six seven eight nine".split())
    ]
    _folder, _cache_name, _fetch_name = "MNIST", "mnist", "mnist"

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ):
        super().__init__(root, transform, target_transform)
        self.train = train
        (x_tr, y_tr), (x_te, y_te) = self._load(download)
        self._images, self._targets = (x_tr, y_tr) if train else (x_te, y_te)

    def _candidates(self) -> list[Path]:
        found = []
        if self.root is not None:
            r = Path(self.root)
            found += [r / self._folder / "raw", r / self._folder, r]
        return found + [images.cache_root() / self._cache_name]

    def _load(self, download: bool) -> tuple:
        for folder in self._candidates():
            key = (str(folder), self._cache_name)
            if key in _cache:
                return _cache[key]
            try:
                sets = images._load_idx_set(
                    type(self).__name__, folder, self._cache_name, "", normalize=False
                )
            except FileNotFoundError:
                continue
            _cache[key] = tuple((x[:, 0], y) for x, y in sets)  # (N, H, W): one grey channel
            return _cache[key]
        if download:
            from chainrule.data.fetch import main as fetch

            if fetch(self._fetch_name) == 0:
                return self._load(download=False)
        looked = ", ".join(str(p) for p in self._candidates())
        raise RuntimeError(
            f"{type(self).__name__}: dataset not found (looked in {looked}). Get it with "
            f"`chainrule data get {self._fetch_name}`, or pass download=True."
        )


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (28x28 grey images of clothes, 10 classes), as torchvision's."""

    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    _folder, _cache_name, _fetch_name = "FashionMNIST", "fashion-mnist", "fashion-mnist"


class CIFAR10(_VisionDataset):
    """CIFAR-10 (50000 train / 10000 test 32x32 colour images, 10 classes), as torchvision's.

    Images are (32, 32, 3) uint8 arrays (height, width, channel), as torchvision's ``.data``.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ):
        super().__init__(root, transform, target_transform)
        self.train = train
        folders = ([Path(self.root)] if self.root is not None else []) + [images.cache_root() / "cifar10"]
        last = None
        for folder in folders:
            try:
                (x_tr, y_tr), (x_te, y_te) = images.cifar10(folder, normalize=False)
                break
            except FileNotFoundError as e:
                last = e
        else:
            extra = " (download=True cannot fetch it: it is in no package registry)" if download else ""
            raise RuntimeError(f"CIFAR10: dataset not found{extra}. {last}")
        x, y = (x_tr, y_tr) if train else (x_te, y_te)
        self._images = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        self._targets = y


__all__ = ["MNIST", "FashionMNIST", "CIFAR10"]
