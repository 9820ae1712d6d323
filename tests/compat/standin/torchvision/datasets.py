"""``MNIST`` reading the four IDX files from ``root/MNIST/raw`` (torchvision's layout)."""

import gzip
import os

import numpy as np
import torch


def _read_idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            raw = open(p, "rb").read()
            raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            ndim = raw[3]
            shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
            return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)
    raise RuntimeError(f"MNIST stand-in: {path} not found")


class MNIST(torch.utils.data.Dataset):
    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        folder = os.path.join(root, "MNIST", "raw")
        prefix = "train" if train else "t10k"
        self.data = torch.from_numpy(_read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte")).copy())
        self.targets = torch.from_numpy(
            _read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
        )
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        img, target = self.data[i].numpy(), int(self.targets[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
