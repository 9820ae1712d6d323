# %% [markdown]
# # Data augmentation
#
# **Claim.** With little training data, showing the network randomly transformed copies of the
# training images (small rotations, shifts, zooms) raises test accuracy over no augmentation:
# the transformations encode what should not change the label, and the net can no longer
# memorise exact pixels. A transformation that does change the label teaches the wrong thing:
# a mirrored 2 is not a 2.
#
# We train the same small MLP on 10% of the bundled 8x8 digits (180 images) and test on the other
# 90%. Every mini-batch is transformed afresh, so each epoch sees new versions:
# `cr.data.transforms.RandomHorizontalFlip`, `RandomRotation`, `RandomCrop` (pad, then crop back:
# a shift), `RandomZoom`, and the last three composed.

# %%
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import datasets
from chainrule.data import transforms as T

AUGMENTATIONS = {
    "none": None,
    "flip": lambda: T.RandomHorizontalFlip(0.5),
    "rotation ±15°": lambda: T.RandomRotation(15),
    "crop (shift ±1 px)": lambda: T.RandomCrop(8, padding=1),
    "zoom 0.9-1.1": lambda: T.RandomZoom((0.9, 1.1)),
    "rotation+crop+zoom": lambda: T.Compose(
        [T.RandomRotation(15), T.RandomCrop(8, padding=1), T.RandomZoom((0.9, 1.1))]
    ),
}


def split(seed: int, fraction: float = 0.1):
    x, y = datasets.digits()
    order = np.random.default_rng(seed).permutation(len(x))
    n = int(fraction * len(x))
    return (x[order[:n]], y[order[:n]]), (x[order[n:]], y[order[n:]])


def mlp() -> nn.Sequential:
    """A 64-256-10 MLP: unlike a CNN it has no built-in tolerance to shifts, so it must learn it."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))


def train(data, augment, epochs: int, seed: int, batch_size: int = 32) -> float:
    """Adam (lr 3e-3) on the MLP; every batch goes through ``augment``; the test accuracy."""
    (x, y), (xt, yt) = data
    cr.manual_seed(seed)
    model = mlp()
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            xb = augment(x[idx]) if augment else x[idx]
            optimizer.zero_grad()
            loss_fn(
                model(cr.tensor(np.ascontiguousarray(xb, dtype=np.float32))), cr.tensor(y[idx])
            ).backward()
            optimizer.step()
    with cr.no_grad():
        return float((model(cr.tensor(xt)).numpy().argmax(1) == yt).mean())


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    data = split(seed)
    epochs = 40 if quick else 100
    results = {"seed": seed, "test_accuracy": {}}
    names = ("none", "flip", "rotation ±15°") if quick else AUGMENTATIONS
    for name in names:
        make = AUGMENTATIONS[name]
        results["test_accuracy"][name] = train(data, make() if make else None, epochs, seed)
    return results


# %% [markdown]
# The figures: mean test accuracy with its spread over the seeds, and one batch of training
# digits as the network sees it under the composed augmentation.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    out_dir = Path(out_dir)
    runs = results.get("all_seeds", [results])
    names = list(runs[0]["test_accuracy"])
    acc = np.array([[r["test_accuracy"][n] for n in names] for r in runs])
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(names, acc.mean(0), yerr=acc.std(0) if len(runs) > 1 else None, capsize=4, color="C0")
    for i, row in enumerate(acc.T):
        ax.plot([i] * len(row), row, "k.", ms=4)
    ax.set_ylim(acc.min() - 0.05, min(1.0, acc.max() + 0.03))
    ax.set_ylabel("test accuracy")
    ax.set_title(
        f"MLP on 180 digits, tested on 1617: mean over {len(runs)} seed(s), dots = seeds", fontsize=10
    )
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    paths = [out_dir / "10_augmentation.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    (x, _), _ = split(results["seed"])
    cr.manual_seed(results["seed"])
    batch = x[:8]
    augmented = [AUGMENTATIONS["rotation+crop+zoom"]()(batch) for _ in range(5)]
    fig, axes = plt.subplots(6, 8, figsize=(8, 6.4))
    for col in range(8):
        for row, images in enumerate([batch, *augmented]):
            axes[row, col].imshow(images[col, 0], cmap="gray_r", vmin=0, vmax=1)
            axes[row, col].axis("off")
    fig.suptitle("top: 8 training digits; below: five draws of rotation+crop+zoom", fontsize=10)
    fig.tight_layout()
    paths.append(out_dir / "10_augmentation_batch.png")
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)
    return paths


# %% [markdown]
# The full run: five seeds (five different 10% subsets and initialisations).

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    rows = [run(seed=s) for s in range(5)]
    print("test accuracy per seed, mean ± std")
    for name in AUGMENTATIONS:
        acc = np.array([r["test_accuracy"][name] for r in rows])
        cells = " ".join(f"{a:.3f}" for a in acc)
        print(f"  {name:>20}: {cells}   {acc.mean():.3f} ± {acc.std():.3f}")
    summary = dict(rows[0], all_seeds=rows)
    for p in plot(summary, out):
        print("wrote", p)
