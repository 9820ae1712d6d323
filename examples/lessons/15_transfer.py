# %% [markdown]
# # Lesson 15: feature extraction and fine-tuning
#
# **Claim.** A convolutional network trained on one task (digits 0-4) learns features that serve
# a *related* task (digits 5-9) for which we have only a few labels.  Chop off its head, freeze
# the body and train a new head on the few labels (*feature extraction*); then unfreeze and train
# everything at a small learning rate (*fine-tuning*).  Both beat the same network trained from
# scratch on those few labels; a plain logistic regression on the frozen body's output (the
# "neck" features) does as well as the new head.
#
# Frozen means `requires_grad=False`: the optimizer gets only the head's parameters, and
# `cr.summary` lists the frozen layers as not trainable.

# %%
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

METHODS = ("scratch", "feature extraction", "fine-tuned", "logistic regression on neck")


def load_digits(seed: int = 0):
    """Digits (N, 1, 8, 8) in [0, 1], split 80/20 by a seeded permutation."""
    x, y = cr.data.datasets.digits()
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    return x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]]


def body() -> nn.Module:
    """The part we transfer: image -> 64 "neck" features."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),     # 16 x 8 x 8
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),    # 32 x 8 x 8
        nn.MaxPool2d(2),                               # 32 x 4 x 4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),    # 64 x 4 x 4
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),         # 64
    )  # fmt: skip


def train(model: nn.Module, x, y, epochs: int, lr: float, seed: int, batch: int = 32) -> None:
    """Adam on the cross-entropy over the parameters that still require gradients."""
    rng = np.random.default_rng(seed)
    opt = cr.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            loss = nn.functional.cross_entropy(model(cr.tensor(x[idx])), cr.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()


def predict(model: nn.Module, x) -> np.ndarray:
    model.eval()
    with cr.no_grad():
        out = model(cr.tensor(x)).numpy()
    model.train()
    return out


def logistic_regression(f_tr, y_tr, f_te, y_te, steps: int = 300) -> float:
    """Test accuracy of a softmax classifier on standardised features (full-batch Adam, weight decay)."""
    mu, sd = f_tr.mean(0), f_tr.std(0) + 1e-6
    a, b = cr.tensor((f_tr - mu) / sd), cr.tensor((f_te - mu) / sd)
    clf = nn.Linear(f_tr.shape[1], int(y_tr.max()) + 1)
    opt = cr.optim.Adam(clf.parameters(), lr=1e-2, weight_decay=1e-3)
    target = cr.tensor(y_tr)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(clf(a), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with cr.no_grad():
        return float((clf(b).argmax(1).numpy() == y_te).mean())


# %% [markdown]
# 1. Train body + head on digits 0-4 (all their training images).
# 2. New task: digits 5-9 (labels 0-4 after subtracting 5), `per_class` labelled images each.


# %%
def run(quick: bool = False, seed: int = 0, per_class: int = 5) -> dict:
    cr.manual_seed(seed)
    x_tr, y_tr, x_te, y_te = load_digits(seed)
    src, tgt_te = y_tr < 5, y_te >= 5
    rng = np.random.default_rng(seed + 1000)
    few = np.concatenate(
        [rng.choice(np.flatnonzero(y_tr == c), per_class, replace=False) for c in range(5, 10)]
    )
    xf, yf = x_tr[few], y_tr[few] - 5
    xt, yt = x_te[tgt_te], y_te[tgt_te] - 5
    epochs = 10 if quick else 30
    few_epochs = 60 if quick else 150  # the few-label runs: same number of passes for every method

    pre = nn.Sequential(body(), nn.Linear(64, 5))
    train(pre, x_tr[src], y_tr[src], epochs, 3e-3, seed)
    out = {
        "per_class": per_class,
        "source_accuracy": float((predict(pre, x_te[~tgt_te]).argmax(1) == y_te[~tgt_te]).mean()),
    }

    # feature extraction: the trained body, frozen, and a fresh head
    model = nn.Sequential(pre[0], nn.Linear(64, 5))
    model[0].requires_grad_(False)
    out["summary_frozen"] = str(cr.summary(model, (1, 8, 8)))
    out["trainable_frozen"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    train(model, xf, yf, few_epochs, 3e-3, seed, batch=10)
    out["feature extraction"] = float((predict(model, xt).argmax(1) == yt).mean())
    neck_f, neck_t = predict(model[0], xf), predict(model[0], xt)
    out["logistic regression on neck"] = logistic_regression(neck_f, yf, neck_t, yt)

    # fine-tuning: unfreeze everything, small learning rate
    model[0].requires_grad_(True)
    train(model, xf, yf, few_epochs, 3e-4, seed, batch=10)
    out["fine-tuned"] = float((predict(model, xt).argmax(1) == yt).mean())

    # from scratch on the few labels
    scratch = nn.Sequential(body(), nn.Linear(64, 5))
    train(scratch, xf, yf, few_epochs, 3e-3, seed, batch=10)
    out["scratch"] = float((predict(scratch, xt).argmax(1) == yt).mean())
    return out


# %% [markdown]
# Figure: accuracy on digits 5-9 by method, one dot per seed.


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
        ax.scatter(i + np.linspace(-0.12, 0.12, len(vals)), vals, s=25, alpha=0.7)
        ax.errorbar(i + 0.28, vals.mean(), yerr=vals.std(), fmt="ks", capsize=4)
        ax.text(i + 0.34, vals.mean(), f"{vals.mean():.1%}", va="center")
    ax.set_xticks(range(len(METHODS)), [m.replace(" on ", "\non ") for m in METHODS])
    ax.set_xlim(-0.5, len(METHODS) - 0.1)
    ax.set_ylabel("test accuracy on digits 5-9")
    ax.set_title(
        f"{results['per_class']} labelled images per class of 5-9; body trained on 0-4 "
        f"({len(vals)} seeds, mean ± std)",
        fontsize=10,
    )
    fig.tight_layout()
    path = out_dir / "15_transfer.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    seeds = range(5)
    runs = [run(quick="--quick" in sys.argv, seed=s) for s in seeds]
    print(runs[0]["summary_frozen"])
    summary = {"per_class": runs[0]["per_class"], "per_seed": {m: [r[m] for r in runs] for m in METHODS}}
    print(f"source task (0-4) test accuracy: {np.mean([r['source_accuracy'] for r in runs]):.3f}")
    print(f"test accuracy on 5-9 with {summary['per_class']} labels per class, seeds {list(seeds)}")
    print("| method | mean | std | min | max |")
    print("|---|---|---|---|---|")
    for m in METHODS:
        v = np.asarray(summary["per_seed"][m])
        print(f"| {m} | {v.mean():.3f} | {v.std():.3f} | {v.min():.3f} | {v.max():.3f} |")
    for p in plot(summary, Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
