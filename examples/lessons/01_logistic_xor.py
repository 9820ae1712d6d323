# %% [markdown]
# # Logistic regression and its limit
#
# **Claim.** Logistic regression draws one straight line: it separates linearly separable data,
# but on XOR (class 1 in two opposite quadrants) no line does better than 3 points out of 4, so
# its accuracy stays at or below 0.75. A network with one hidden layer and a nonlinearity bends
# the boundary and reaches 1.0.
#
# Logistic regression: $p(y=1 \mid x) = \sigma(w^\top x + b)$, trained on the binary
# cross-entropy $-\,[y \log p + (1-y)\log(1-p)]$. The decision boundary $w^\top x + b = 0$ is a
# line. The 2-layer net: $p = \sigma(w_o^\top \tanh(W_h x + b_h) + b_o)$.

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

# %% [markdown]
# Both models are trained full-batch with Adam on the binary cross-entropy (the logits go
# through `BCEWithLogitsLoss`, which applies the sigmoid itself, stably).


# %%
def logistic_regression() -> nn.Module:
    return nn.Linear(2, 1)


def two_layer_net(hidden: int = 8) -> nn.Module:
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int, lr: float = 0.05) -> float:
    """Full-batch Adam on the binary cross-entropy; returns the training accuracy."""
    xs, ys = cr.tensor(x), cr.tensor(y.astype(np.float32)[:, None])
    optimizer = cr.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(xs), ys).backward()
        optimizer.step()
    return accuracy(model, x, y)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with cr.no_grad():
        predicted = (model(cr.tensor(x)).numpy()[:, 0] > 0).astype(np.int64)
    return float((predicted == y).mean())


# %% [markdown]
# Three fits: logistic regression on two Gaussian blobs (separable), logistic regression on XOR,
# and the 2-layer tanh net on XOR.


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    """Train the three models; their training accuracies and the fitted models' boundaries."""
    steps = 300 if quick else 2000
    blobs = datasets.gaussians(200, noise=0.25, seed=seed)
    xor = datasets.xor(200, noise=0.0, seed=seed)
    cr.manual_seed(seed)
    fits = {
        "logistic_blobs": (logistic_regression(), blobs),
        "logistic_xor": (logistic_regression(), xor),
        "mlp_xor": (two_layer_net(), xor),
    }
    results = {"seed": seed}
    grids = {}
    for name, (model, (x, y)) in fits.items():
        results[name] = train(model, x, y, steps)
        grids[name] = boundary_grid(model)
    results["grids"] = grids
    return results


def boundary_grid(model: nn.Module, n: int = 120) -> list:
    """p(y=1) on an n×n grid over [-1.5, 1.5]² (for the figure)."""
    g = np.linspace(-1.5, 1.5, n, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)
    with cr.no_grad():
        logits = model(cr.tensor(np.stack([gx.ravel(), gy.ravel()], 1))).numpy()
    return (1 / (1 + np.exp(-logits[:, 0]))).reshape(n, n).tolist()


# %% [markdown]
# The figure: the probability of class 1 in colour, the boundary p = 0.5 in black.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    out_dir = Path(out_dir)
    seed = results.get("seed", 0)
    data = {
        "logistic_blobs": datasets.gaussians(200, noise=0.25, seed=seed),
        "logistic_xor": datasets.xor(200, noise=0.0, seed=seed),
        "mlp_xor": datasets.xor(200, noise=0.0, seed=seed),
    }
    titles = {
        "logistic_blobs": "logistic regression, blobs",
        "logistic_xor": "logistic regression, XOR",
        "mlp_xor": "2-layer tanh net, XOR",
    }
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    for ax, (name, (x, y)) in zip(axes, data.items()):
        p = np.array(results["grids"][name])
        ax.imshow(p, extent=(-1.5, 1.5, -1.5, 1.5), origin="lower", cmap="RdBu_r", vmin=0, vmax=1, alpha=0.6)
        ax.contour(
            np.linspace(-1.5, 1.5, p.shape[0]), np.linspace(-1.5, 1.5, p.shape[0]), p, [0.5], colors="k"
        )
        ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", vmin=0, vmax=1, s=12, edgecolors="k", linewidths=0.4)
        ax.set_title(f"{titles[name]}\naccuracy {results[name]:.3f}")
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")
    fig.tight_layout()
    path = out_dir / "01_logistic_xor.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %% [markdown]
# The full run: five seeds (five data sets and initialisations); the figure shows seed 0.

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    names = ["logistic_blobs", "logistic_xor", "mlp_xor"]
    rows = []
    for s in range(5):
        rows.append(run(seed=s))
    print(f"{'seed':>4} " + " ".join(f"{n:>15}" for n in names))
    for s, r in enumerate(rows):
        print(f"{s:>4} " + " ".join(f"{r[n]:>15.3f}" for n in names))
    print(f"{'min':>4} " + " ".join(f"{min(r[n] for r in rows):>15.3f}" for n in names))
    print(f"{'max':>4} " + " ".join(f"{max(r[n] for r in rows):>15.3f}" for n in names))
    for p in plot(rows[0], out):
        print("wrote", p)
