# %% [markdown]
# # Lesson 13: the latent space of an autoencoder
#
# **Claim.** Squeeze the digits through a 2-dimensional code and the autoencoder arranges them
# by class without ever seeing a label: digits of one class land near each other, so a
# nearest-neighbour classifier *in the 2-D code* does far better than chance (and better than in
# PCA's first two components).  Walking in a straight line between two digits' codes and decoding
# each point morphs one digit into the other through digit-like images, unlike a pixel cross-fade
# $(1-t)\,x_a + t\,x_b$, which superimposes the two.
#
# Encoder $f: \mathbb R^{64}\to\mathbb R^2$, decoder $g: \mathbb R^2\to\mathbb R^{64}$;
# the walk is $g\big((1-t)\,f(x_a) + t\,f(x_b)\big)$ for $t\in[0, 1]$.
# "Digit-like" is measured as the distance from an image to its nearest training digit.

# %%
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn


def load_digits(seed: int = 0):
    """Digits as flat float32 vectors in [0, 1], split 80/20 by a seeded permutation."""
    x, y = cr.data.datasets.digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    return x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]]


def build() -> tuple[nn.Module, nn.Module]:
    encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 2))
    decoder = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.Sigmoid()
    )
    return encoder, decoder


def train(encoder, decoder, x: np.ndarray, epochs: int, seed: int) -> None:
    """Adam on the mean squared reconstruction error; no labels anywhere."""
    rng = np.random.default_rng(seed)
    opt = cr.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=3e-3)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            xb = cr.tensor(x[order[i : i + 64]])
            loss = ((decoder(encoder(xb)) - xb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()


def apply(module: nn.Module, a: np.ndarray) -> np.ndarray:
    with cr.no_grad():
        return module(cr.tensor(a.astype(np.float32))).numpy()


def knn_accuracy(f_tr, y_tr, f_te, y_te, k: int = 5) -> float:
    """k-nearest-neighbour majority vote, Euclidean distance."""
    d = ((f_te[:, None, :] - f_tr[None, :, :]) ** 2).sum(-1)
    nearest = y_tr[np.argsort(d, axis=1)[:, :k]]
    votes = np.array([np.bincount(row, minlength=10).argmax() for row in nearest])
    return float((votes == y_te).mean())


def nearest_distance(images: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Euclidean distance from each image to its nearest image in ``bank``."""
    d = (images**2).sum(1)[:, None] - 2 * images @ bank.T + (bank**2).sum(1)[None, :]
    return np.sqrt(np.maximum(d.min(1), 0))


# %% [markdown]
# Train, embed the test digits, score the embedding with 5-nearest-neighbours, then walk between
# pairs of test digits of different classes.


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    cr.manual_seed(seed)
    rng = np.random.default_rng(seed + 1000)
    x_tr, y_tr, x_te, y_te = load_digits(seed)
    encoder, decoder = build()
    train(encoder, decoder, x_tr, 40 if quick else 150, seed)
    z_tr, z_te = apply(encoder, x_tr), apply(encoder, x_te)
    mean = x_tr.mean(0)
    _, _, vt = np.linalg.svd(x_tr - mean, full_matrices=False)
    p_tr, p_te = (x_tr - mean) @ vt[:2].T, (x_te - mean) @ vt[:2].T
    out = {
        "knn_code": knn_accuracy(z_tr, y_tr, z_te, y_te),
        "knn_pca2": knn_accuracy(p_tr, y_tr, p_te, y_te),
        "recon_mse": float(((apply(decoder, z_te) - x_te) ** 2).mean()),
        "z_test": z_te.tolist(),
        "y_test": y_te.tolist(),
    }
    # walks between random pairs of test digits of different classes: how far is the midpoint
    # (t = 1/2) from the nearest real training digit?
    ts = np.linspace(0, 1, 9)
    mid_latent, mid_pixel, ends = [], [], []
    for _ in range(10 if quick else 50):
        a, b = rng.choice(len(x_te), 2, replace=False)
        if y_te[a] == y_te[b]:
            continue
        walk = apply(decoder, np.outer(1 - ts, z_te[a]) + np.outer(ts, z_te[b]))
        fade = np.outer(1 - ts, x_te[a]) + np.outer(ts, x_te[b])
        mid_latent.append(nearest_distance(walk[4:5], x_tr)[0])
        mid_pixel.append(nearest_distance(fade[4:5], x_tr)[0])
        ends.append(nearest_distance(walk[[0, -1]], x_tr).mean())
    out["mid_distance_latent"] = float(np.mean(mid_latent))
    out["mid_distance_pixel"] = float(np.mean(mid_pixel))
    out["end_distance_latent"] = float(np.mean(ends))
    # the strip for the figure: a 0 turning into a 6 (the first test digit of each class)
    a, b = int(np.flatnonzero(y_te == 0)[0]), int(np.flatnonzero(y_te == 6)[0])
    out["strip_codes"] = (np.outer(1 - ts, z_te[a]) + np.outer(ts, z_te[b])).tolist()
    out["strip_latent"] = apply(decoder, np.asarray(out["strip_codes"])).tolist()
    out["strip_pixel"] = (np.outer(1 - ts, x_te[a]) + np.outer(ts, x_te[b])).tolist()
    return out


# %% [markdown]
# Figure: the 2-D codes of the test digits by class, the walk drawn on it, and the two strips.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    z, y = np.asarray(results["z_test"]), np.asarray(results["y_test"])
    codes = np.asarray(results["strip_codes"])
    fig = plt.figure(figsize=(12, 5.4))
    ax = fig.add_axes([0.05, 0.08, 0.42, 0.84])
    cmap = plt.get_cmap("tab10")
    for c in range(10):
        ax.scatter(*z[y == c].T, s=8, color=cmap(c), alpha=0.7)
        cx, cy = np.median(z[y == c], axis=0)
        ax.text(cx, cy, str(c), fontsize=15, weight="bold", color=cmap(c), ha="center", va="center",
                bbox=dict(facecolor="white", alpha=0.7, edgecolor="none", pad=1))  # fmt: skip
    ax.plot(*codes.T, "k.-", lw=1.5, ms=6)
    ax.set_title(f"2-D codes of the test digits (5-NN accuracy {results['knn_code']:.1%})")
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    n = len(codes)
    for r, (key, label) in enumerate(
        (("strip_latent", "walk in the code"), ("strip_pixel", "pixel cross-fade"))
    ):
        for i in range(n):
            a = fig.add_axes([0.52 + i * 0.052, 0.58 - r * 0.3, 0.05, 0.11])
            a.imshow(np.asarray(results[key][i]).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            a.set_xticks([])
            a.set_yticks([])
            if i == 0:
                a.set_title(label, loc="left", fontsize=11)
    fig.text(
        0.52,
        0.16,
        f"midpoint's distance to the nearest training digit (mean of pairs):\n"
        f"walk in the code {results['mid_distance_latent']:.2f}, "
        f"pixel cross-fade {results['mid_distance_pixel']:.2f}",
        fontsize=10,
    )
    path = out_dir / "13_latent_space.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    seeds = (0, 1, 2)
    runs = [run(quick="--quick" in sys.argv, seed=s) for s in seeds]
    keys = (
        "knn_code",
        "knn_pca2",
        "recon_mse",
        "mid_distance_latent",
        "mid_distance_pixel",
        "end_distance_latent",
    )
    print("| seed | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for s, r in zip(seeds, runs):
        print(f"| {s} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")
    print("| mean | " + " | ".join(f"{np.mean([r[k] for r in runs]):.3f}" for k in keys) + " |")
    for p in plot(runs[0], Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
