"""``chainrule.vision`` (what ``import torchvision`` gives under ``chainrule torch``): data sets read from
torchvision's folder layout and chainrule's cache, transforms against torchvision's arithmetic in torch
(torch.nn.functional.interpolate for Resize), save_image's PNG, resnet18's layout."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import vision
from chainrule.vision import datasets
from chainrule.vision import transforms as T
from tests.helpers import assert_close


def _write_idx(path, arr):
    arr = np.ascontiguousarray(arr.astype(np.uint8))
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(head + arr.tobytes())


@pytest.fixture
def mnist_root(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("t10k", 5)):
        _write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    return tmp_path


def test_mnist_reads_torchvision_layout_and_applies_transforms(mnist_root):
    tf = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST(
        str(mnist_root), train=True, download=True, transform=tf, target_transform=lambda y: y + 1
    )
    test = datasets.MNIST(mnist_root, train=False)
    assert len(train) == 12 and len(test) == 5
    img, y = train[3]
    assert y == 4 and img.shape == (1, 28, 28) and img.dtype == np.float32
    raw = train.data[3].numpy()
    expect = (torch.from_numpy(raw.copy())[None].float().div(255) - 0.1307) / 0.3081
    assert_close(img, expect)
    raw_img, y = test[-1]
    assert raw_img.dtype == np.uint8 and raw_img.shape == (28, 28) and y == 4
    assert train.targets.dtype == np.int64 and tuple(train.data.shape) == (12, 28, 28)
    loader = cr.data.DataLoader(train, batch_size=5)
    xb, yb = next(iter(loader))
    assert xb.shape == (5, 1, 28, 28) and yb.tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(IndexError, match="index 12 is out of range for 12 samples"):
        train[12]


def test_mnist_falls_back_to_the_cache_and_says_how_to_get_it(tmp_path, monkeypatch, mnist_root):
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (mnist_root / "MNIST" / "raw").rename(tmp_path / "cache" / "mnist")
    assert len(datasets.MNIST(str(tmp_path / "elsewhere"), train=False)) == 5
    with pytest.raises(
        RuntimeError, match="FashionMNIST: dataset not found.*chainrule data get fashion-mnist"
    ):
        datasets.FashionMNIST(str(tmp_path / "elsewhere"))


def test_cifar10_reads_python_batches(tmp_path):
    import pickle

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (2, 3072)).astype(np.uint8), b"labels": [1, 7]}
        (folder / name).write_bytes(pickle.dumps(batch))
    ds = datasets.CIFAR10(str(tmp_path), train=True, transform=T.ToTensor())
    assert len(ds) == 10
    img, y = ds[1]
    assert img.shape == (3, 32, 32) and y == 7
    assert tuple(ds.data.shape) == (10, 32, 32, 3)  # (N, H, W, C) as torchvision
    with pytest.raises(RuntimeError, match="CIFAR10: dataset not found"):
        datasets.CIFAR10(str(tmp_path / "none"))


def test_to_tensor_and_normalize_match_torchvision_arithmetic():
    rgb = np.random.default_rng(1).integers(0, 256, (5, 7, 3)).astype(np.uint8)
    t = T.ToTensor()(rgb)
    ref = torch.from_numpy(rgb).permute(2, 0, 1).contiguous().float().div(255)
    assert_close(t, ref, 0, 0)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    ref_n = ref.sub(torch.tensor(mean).view(-1, 1, 1)).div(torch.tensor(std).view(-1, 1, 1))
    assert_close(T.Normalize(mean, std)(t), ref_n, 1e-6, 1e-6)
    assert_close(T.ToTensor()(np.float32([[0.5, 2.0]])), torch.tensor([[[0.5, 2.0]]]))
    with pytest.raises(TypeError, match="ToTensor: pic should be a PIL Image or a NumPy array"):
        T.ToTensor()(t)
    with pytest.raises(TypeError, match="Normalize: img should be a Tensor"):
        T.Normalize((0.5,), (0.5,))(rgb)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))


@pytest.mark.parametrize("size", [(8, 10), (30, 40), (17, 9), 12])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_matches_torch_interpolate(size, antialias):
    x = np.random.default_rng(0).random((3, 17, 23)).astype(np.float32)
    out = T.Resize(size, antialias=antialias)(cr.tensor(x))
    hw = size if isinstance(size, tuple) else (size, int(size * 23 / 17))
    ref = torch.nn.functional.interpolate(
        torch.from_numpy(x)[None], size=hw, mode="bilinear", antialias=antialias, align_corners=False
    )[0]
    assert_close(out, ref, 1e-5, 2e-6)
    img = (x[0] * 255).astype(np.uint8)
    small = T.Resize((8, 10))(img)
    assert small.dtype == np.uint8 and small.shape == (8, 10)


def test_random_crop_flip_rotation():
    cr.manual_seed(0)
    img = np.arange(25, dtype=np.uint8).reshape(5, 5)
    crops = {T.RandomCrop(3)(img).tobytes() for _ in range(60)}
    assert len(crops) == 9  # every 3x3 window of a 5x5 image is drawn
    padded = T.RandomCrop(5, padding=2, fill=255)(img)
    assert padded.shape == (5, 5) and set(np.unique(padded)) - set(range(25)) <= {255}
    t = cr.tensor(np.random.default_rng(0).random((2, 4, 6)).astype(np.float32))
    assert T.RandomCrop((3, 4))(t).shape == (2, 3, 4)
    with pytest.raises(
        ValueError, match=r"required crop size \(6, 6\) is larger than the input image size \(5, 5\)"
    ):
        T.RandomCrop(6)(img)
    flips = [T.RandomHorizontalFlip(0.5)(img) for _ in range(40)]
    assert any(np.array_equal(f, img[:, ::-1]) for f in flips) and any(np.array_equal(f, img) for f in flips)
    assert np.array_equal(T.RandomHorizontalFlip(1.0)(t).numpy(), t.numpy()[:, :, ::-1])
    assert np.array_equal(T.RandomRotation((90, 90))(img), np.rot90(img))  # counter-clockwise
    assert np.array_equal(T.RandomRotation((0, 0))(img), img)
    rot = T.RandomRotation((30, 30), fill=0)(np.full((9, 9), 7, np.uint8))
    assert rot[4, 4] == 7 and rot[0, 0] == 0  # corners come from outside the image
    assert T.Lambda(lambda a: a + 1)(1) == 2
    with pytest.raises(TypeError, match="Lambda: argument should be callable"):
        T.Lambda(3)


def test_save_image_writes_a_png_grid(tmp_path):
    from PIL import Image

    batch = cr.tensor(np.random.default_rng(0).random((6, 1, 4, 5)).astype(np.float32))
    grid = vision.utils.make_grid(batch, nrow=3, padding=1)
    assert grid.shape == (3, 2 * 5 + 1, 3 * 6 + 1)
    path = tmp_path / "grid.png"
    vision.utils.save_image(batch, str(path), nrow=3, padding=1)
    back = np.asarray(Image.open(path))
    assert back.shape == (11, 19, 3)
    expect = np.clip(grid.numpy() * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(back, expect)
    buf = io.BytesIO()
    vision.utils.save_image(batch[0], buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="only PNG"):
        vision.utils.save_image(batch, str(tmp_path / "grid.jpg"))


def test_resnet18_has_torchvision_layout():
    cr.manual_seed(0)
    model = vision.models.resnet18()
    sd = model.state_dict()
    assert len(sd) == 122 and list(sd)[:2] == ["conv1.weight", "bn1.weight"]
    assert "layer2.0.downsample.1.running_var" in sd and "layer4.1.conv2.weight" in sd
    assert sum(p.numel() for p in model.parameters()) == 11_689_512  # torchvision's count
    w = model.conv1.weight.detach().numpy()
    assert abs(w.std() - np.sqrt(2 / (64 * 49))) < 0.002  # Kaiming normal, fan_out
    model.fc = cr.nn.Linear(512, 10)
    model.eval()
    assert model(cr.randn(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(NotImplementedError, match="does not download pretrained weights"):
        vision.models.resnet18(weights="IMAGENET1K_V1")
