# %% [markdown]
# # Lesson 14: unsupervised pre-training
#
# **Claim.** When labels are scarce, first train the encoder as (part of) an autoencoder on all
# the images *without* their labels, then put a classifier head on it and train on the few
# labelled images: the result beats the same network trained from a random initialisation on
# those labelled images alone.
#
# Stage 1 (no labels): minimise $\frac1n\sum_i \lVert x_i - g(f(x_i))\rVert^2$ over all 1,437
# training digits.  Stage 2 (50 labels): minimise the cross-entropy of $\mathrm{softmax}(W f(x) + b)$,
# either training everything from the pre-trained $f$ (fine-tuning), training only the head
# with $f$ frozen, or everything from scratch; a frozen *random* $f$ is the baseline that shows
# what the pre-training itself added to the features.  The 50 labelled images change with the seed.

# %%
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

METHODS = ("scratch", "random, frozen", "pretrained, frozen", "pretrained, fine-tuned")


def load_digits(seed: int = 0):
    """Digits as flat float32 vectors in [0, 1], split 80/20 by a seeded permutation."""
    x, y = cr.data.datasets.digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    return x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]]


def encoder() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU())


# %% [markdown]
# Stage 1: an autoencoder whose first half is the encoder we will keep.


# %%
def pretrain(x: np.ndarray, epochs: int, seed: int) -> nn.Module:
    rng = np.random.default_rng(seed)
    enc = encoder()
    dec = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 64))
    opt = cr.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=3e-3)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            xb = cr.tensor(x[order[i : i + 64]])
            loss = ((dec(enc(xb)) - xb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return enc


# %% [markdown]
# Stage 2: the same classifier, encoder + linear head, trained on the 50 labelled digits
# (full batch, Adam, a fixed number of steps: with 50 labels there is nothing to spare for a
# validation set).


# %%
def train_classifier(enc: nn.Module, x, y, steps: int, freeze: bool) -> nn.Module:
    model = nn.Sequential(enc, nn.Linear(32, 10))
    enc.requires_grad_(not freeze)
    opt = cr.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    xb, yb = cr.tensor(x), cr.tensor(y)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def accuracy(model, x, y) -> float:
    with cr.no_grad():
        return float((model(cr.tensor(x)).argmax(1).numpy() == y).mean())


def run(quick: bool = False, seed: int = 0, n_labels: int = 50) -> dict:
    cr.manual_seed(seed)
    x_tr, y_tr, x_te, y_te = load_digits(seed)
    labelled = np.random.default_rng(seed + 1000).permutation(len(x_tr))[:n_labels]
    xl, yl = x_tr[labelled], y_tr[labelled]
    steps = 300
    pre = pretrain(x_tr, 15 if quick else 60, seed)  # every training image, no labels
    out = {"n_labels": n_labels}
    out["scratch"] = accuracy(train_classifier(encoder(), xl, yl, steps, False), x_te, y_te)
    out["random, frozen"] = accuracy(train_classifier(encoder(), xl, yl, steps, True), x_te, y_te)
    frozen = encoder()
    frozen.load_state_dict(pre.state_dict())  # a copy of the pre-trained encoder
    out["pretrained, frozen"] = accuracy(train_classifier(frozen, xl, yl, steps, True), x_te, y_te)
    out["pretrained, fine-tuned"] = accuracy(train_classifier(pre, xl, yl, steps, False), x_te, y_te)
    return out


# %% [markdown]
# Figure: test accuracy of the three, one dot per seed (a different 50-label subset each time).


# %%
def plot(results: dict, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    for i, m in enumerate(METHODS):
        vals = np.asarray(results["per_seed"][m])
        jitter = np.linspace(-0.12, 0.12, len(vals))
        ax.scatter(i + jitter, vals, s=25, alpha=0.7)
        ax.errorbar(i + 0.3, vals.mean(), yerr=vals.std(), fmt="ks", capsize=4)
        ax.text(i + 0.36, vals.mean(), f"{vals.mean():.1%}", va="center")
    ax.set_xticks(range(len(METHODS)), METHODS)
    ax.set_xlim(-0.5, len(METHODS) - 0.1)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{results['n_labels']} labelled digits: {len(vals)} seeds (dots), mean ± std (squares)")
    fig.tight_layout()
    path = out_dir / "14_pretraining.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    seeds = range(10)
    runs = [run(quick="--quick" in sys.argv, seed=s) for s in seeds]
    summary = {"n_labels": runs[0]["n_labels"], "per_seed": {m: [r[m] for r in runs] for m in METHODS}}
    print(f"test accuracy with {summary['n_labels']} labels, seeds {list(seeds)}")
    print("| method | mean | std | min | max |")
    print("|---|---|---|---|---|")
    for m in METHODS:
        v = np.asarray(summary["per_seed"][m])
        print(f"| {m} | {v.mean():.3f} | {v.std():.3f} | {v.min():.3f} | {v.max():.3f} |")
    wins = sum(r["pretrained, fine-tuned"] > r["scratch"] for r in runs)
    print(f"fine-tuned beats scratch in {wins} of {len(runs)} seeds")
    for p in plot(summary, Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
