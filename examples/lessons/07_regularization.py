# %% [markdown]
# # Regularisation
#
# **Claim.** An over-parameterised net memorises a small noisy training set: near-perfect training
# accuracy, much lower test accuracy. Each regulariser narrows that train/test gap:
#
# - L2 (weight decay): add $\tfrac12 \lambda_2 \sum w^2$ to the loss; the gradient step shrinks
#   every weight in proportion, $w \leftarrow w - \eta(\nabla L + \lambda_2 w)$.
# - L1: add $\lambda_1 \sum |w|$; its gradient $\lambda_1\,\mathrm{sign}(w)$ pushes every weight
#   toward 0 by the same amount, so small weights land at (about) zero: L1 makes weights sparse,
#   L2 does not.
# - Dropout (inverted): in training, zero each unit with probability $p$ and scale the survivors by
#   $1/(1-p)$, so that $\mathbb E[\text{output}] = $ the test-time output, where nothing is dropped.
# - Early stopping: keep the weights of the epoch with the lowest validation loss.
#
# `cr.nn.utils.penalty(model, l1=..., l2=...)` computes $\lambda_1\sum|w| + \tfrac12\lambda_2\sum w^2$
# over every weight (biases and normalisation parameters excluded).

# %%
from __future__ import annotations

import copy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import datasets, transforms

N_TRAIN, N_VAL, NOISE = 200, 100, 0.2


def noisy_digits(seed: int):
    """200 training and 100 validation digits with 20% of their labels replaced at random;
    the remaining 1497 digits, with their true labels, for test."""
    x, y = datasets.digits()
    x = x.reshape(len(x), -1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    x, y = x[order], y[order].copy()
    noisy = rng.random(N_TRAIN + N_VAL) < NOISE
    y[: N_TRAIN + N_VAL][noisy] = rng.integers(0, 10, noisy.sum())
    scale = transforms.Standardize(eps=1e-6).fit(x[:N_TRAIN])
    x = scale(x)
    n = N_TRAIN + N_VAL
    return (x[:N_TRAIN], y[:N_TRAIN]), (x[N_TRAIN:n], y[N_TRAIN:n]), (x[n:], y[n:])


def big_net(dropout: float = 0.0) -> nn.Sequential:
    """64-256-256-10 ReLU: 82 000 weights for 200 examples."""
    drop = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), *drop, nn.Linear(256, 256), nn.ReLU(), *drop, nn.Linear(256, 10)
    )


def accuracy(model, x, y) -> float:
    model.eval()
    with cr.no_grad():
        return float((model(cr.tensor(x)).numpy().argmax(1) == y).mean())


def train(model, data, epochs, l1=0.0, l2=0.0, early_stopping=False, seed=0, batch_size=32):
    """SGD (lr 0.05, momentum 0.9); the loss is cross-entropy + penalty(l1, l2). With early_stopping, the
    weights of the epoch with the lowest validation loss are restored at the end."""
    (x, y), (xv, yv), _ = data
    optimizer = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    best, best_state, val_losses = float("inf"), None, []
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(cr.tensor(x[idx])), cr.tensor(y[idx]))
            if l1 or l2:
                loss = loss + nn.utils.penalty(model, l1=l1, l2=l2)
            loss.backward()
            optimizer.step()
        model.eval()
        with cr.no_grad():
            val_losses.append(loss_fn(model(cr.tensor(xv)), cr.tensor(yv)).item())
        if early_stopping and val_losses[-1] < best:
            best, best_state = val_losses[-1], copy.deepcopy(model.state_dict())
    if early_stopping:
        model.load_state_dict(best_state)
    return val_losses


def near_zero(model, tol: float = 1e-3) -> float:
    """Fraction of weights (not biases) with |w| < tol."""
    w = np.concatenate([p.detach().numpy().ravel() for n, p in model.named_parameters() if "weight" in n])
    return float((np.abs(w) < tol).mean())


# %% [markdown]
# ## Does dropout keep the expected activation?
#
# Feed the same inputs through the trained dropout net many times in training mode (a fresh mask
# each time) and average the second hidden layer's input; compare with one pass in eval mode.


# %%
def dropout_expectation(model: nn.Sequential, x, samples: int) -> float:
    """Relative difference between the mean over dropout masks and the eval-mode value."""
    head = model[:3]  # Linear, ReLU, Dropout: what reaches the second Linear
    head.eval()
    with cr.no_grad():
        clean = head(cr.tensor(x)).numpy()
        head.train()
        mean = np.mean([head(cr.tensor(x)).numpy() for _ in range(samples)], axis=0)
    head.eval()
    return float(np.abs(mean - clean).mean() / np.abs(clean).mean())


# %%
VARIANTS = {
    "none": {},
    "L2": {"l2": 1e-2},
    "L1": {"l1": 1e-4},
    "dropout 0.5": {"dropout": 0.5},
    "early stopping": {"early_stopping": True},
}


def run(quick: bool = False, seed: int = 0) -> dict:
    data = noisy_digits(seed)
    (x, y), _, (xt, yt) = data
    epochs = 30 if quick else 60
    results = {"seed": seed, "variants": {}}
    for name, options in VARIANTS.items():
        options = dict(options)
        cr.manual_seed(seed)
        model = big_net(options.pop("dropout", 0.0))
        val_losses = train(model, data, epochs, seed=seed, **options)
        train_acc, test_acc = accuracy(model, x, y), accuracy(model, xt, yt)
        results["variants"][name] = {
            "train_accuracy": train_acc,
            "test_accuracy": test_acc,
            "gap": train_acc - test_acc,
            "near_zero": near_zero(model),
            "val_losses": val_losses,
        }
        if name == "dropout 0.5":
            results["dropout_expectation_rel_diff"] = dropout_expectation(model, x, 100 if quick else 1000)
        if name in ("none", "L1", "L2"):
            w = model[2].weight.detach().numpy().ravel()
            results["variants"][name]["weights_sample"] = w[:: max(1, len(w) // 20000)].tolist()
    return results


# %% [markdown]
# The figure: train and test accuracy per regulariser, and the distribution of the weights of the
# middle layer without regularisation, with L2 and with L1.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.3))
    names = list(results["variants"])
    pos = np.arange(len(names))
    v = results["variants"]
    ax.bar(pos - 0.2, [v[n]["train_accuracy"] for n in names], 0.4, label="train (noisy labels)")
    ax.bar(pos + 0.2, [v[n]["test_accuracy"] for n in names], 0.4, label="test")
    for p, n in zip(pos, names):
        ax.annotate(f"gap {v[n]['gap']:.2f}", (p, v[n]["train_accuracy"] + 0.01), ha="center", fontsize=8)
    ax.set_xticks(pos, names, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_title(f"64-256-256-10 net on {N_TRAIN} digits, {NOISE:.0%} of labels wrong", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    bins = np.linspace(-0.15, 0.15, 121)
    for name in ("none", "L2", "L1"):
        w = np.array(v[name]["weights_sample"])
        ax2.hist(
            w,
            bins=bins,
            histtype="step",
            lw=1.5,
            density=True,
            label=f"{name}: {v[name]['near_zero']:.0%} of weights |w| < 1e-3",
        )
    ax2.set_yscale("log")
    ax2.set_xlabel("weight of the 256x256 layer")
    ax2.set_title("L1 piles weights at zero; L2 only shrinks them", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_dir) / "07_regularization.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %% [markdown]
# The full run: three seeds (three noisy subsets and initialisations); the figure shows seed 0.

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    rows = [run(seed=s) for s in range(3)]
    print("train accuracy, test accuracy, gap, fraction of weights |w| < 1e-3; per seed")
    for name in VARIANTS:
        cells = []
        for r in rows:
            c = r["variants"][name]
            cells.append(
                f"{c['train_accuracy']:.3f} {c['test_accuracy']:.3f} {c['gap']:.3f} {c['near_zero']:.3f}"
            )
        print(f"  {name:>14}: " + " | ".join(cells))
    diffs = " | ".join(f"{r['dropout_expectation_rel_diff']:.4f}" for r in rows)
    print("dropout: relative difference of the mean over 1000 masks from eval mode:", diffs)
    for p in plot(rows[0], out):
        print("wrote", p)
