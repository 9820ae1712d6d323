# %% [markdown]
# # Lesson 12: expanding (overcomplete) autoencoders
#
# **Claim.** Give an autoencoder a code *wider* than its input (here 256 units for 64 pixels) and
# nothing stops it from learning (nearly) the identity: it reconstructs digits well, but it
# reconstructs random noise just as well, so its features say little about digits.  Two
# constraints force it to learn structure instead:
#
# * **sparse**: an L1 penalty on the code, $L = \lVert x - g(f(x))\rVert^2 + \lambda \lVert f(x)\rVert_1$;
# * **denoising**: reconstruct the clean $x$ from a corrupted $\tilde x$ (here: each pixel
#   zeroed with probability 0.3 and Gaussian noise added), $L = \lVert x - g(f(\tilde x))\rVert^2$.
#
# We measure, for each: the reconstruction error on test digits, how much of a *random noise
# image* it reproduces ($R^2 = 1 - \lVert n - \hat n\rVert^2 / \lVert n - \bar n\rVert^2$: the
# identity scores 1), and how well its code serves a linear classifier (logistic regression)
# trained on 100 labelled digits and on all of them.  The first-layer filters, drawn as images,
# show the difference.

# %%
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

CODE = 256
VARIANTS = ("plain", "sparse", "denoising")


def load_digits(seed: int = 0):
    """Digits as flat float32 vectors in [0, 1], split 80/20 by a seeded permutation."""
    x, y = cr.data.datasets.digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    return x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]]


class AutoEncoder(nn.Module):
    """code = relu(W x + b) with 256 units; reconstruction = V code + c."""

    def __init__(self, code: int = CODE):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, code), nn.ReLU())
        self.decoder = nn.Linear(code, 64)

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z), z


# %% [markdown]
# One training loop for the three variants: `l1` weighs the sparsity penalty, `corrupt` makes
# it a denoising autoencoder.


# %%
def corrupt(x: np.ndarray, rng) -> np.ndarray:
    """Masking noise (each pixel zeroed with probability 0.3) plus Gaussian noise of std 0.2."""
    keep = rng.random(x.shape) > 0.3
    return (x * keep + 0.2 * rng.standard_normal(x.shape)).astype(np.float32)


def train_ae(variant: str, x: np.ndarray, epochs: int, seed: int, l1: float = 1e-3) -> AutoEncoder:
    rng = np.random.default_rng(seed)
    model = AutoEncoder()
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            clean = x[order[i : i + 64]]
            seen = corrupt(clean, rng) if variant == "denoising" else clean
            target = cr.tensor(clean)
            recon, z = model(cr.tensor(seen))
            loss = ((recon - target) ** 2).sum(1).mean()
            if variant == "sparse":
                loss = loss + l1 * CODE * z.abs().sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def encode(model: AutoEncoder, x: np.ndarray):
    with cr.no_grad():
        recon, z = model(cr.tensor(x))
    return recon.numpy(), z.numpy()


def logistic_regression(f_tr, y_tr, f_te, y_te, steps: int = 300) -> float:
    """Test accuracy of a softmax classifier on standardised features (full-batch Adam, weight decay)."""
    mu, sd = f_tr.mean(0), f_tr.std(0) + 1e-6
    a, b = cr.tensor((f_tr - mu) / sd), cr.tensor((f_te - mu) / sd)
    clf = nn.Linear(f_tr.shape[1], 10)
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
# Train the three, then measure reconstruction, noise $R^2$, code sparsity and linear-probe accuracy.


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    cr.manual_seed(seed)
    rng = np.random.default_rng(seed + 1000)
    x_tr, y_tr, x_te, y_te = load_digits(seed)
    noise = rng.random((500, 64)).astype(np.float32)
    few = rng.permutation(len(x_tr))[:100]
    epochs = 25 if quick else 100
    out: dict = {"variants": list(VARIANTS), "filters": {}}
    for key in ("recon_mse", "noise_r2", "active_fraction", "probe_100", "probe_all"):
        out[key] = {}
    out["probe_100"]["pixels"] = logistic_regression(x_tr[few], y_tr[few], x_te, y_te)
    if not quick:
        out["probe_all"]["pixels"] = logistic_regression(x_tr, y_tr, x_te, y_te)
    for variant in VARIANTS:
        model = train_ae(variant, x_tr, epochs, seed)
        recon, z_te = encode(model, x_te)
        out["recon_mse"][variant] = float(((recon - x_te) ** 2).mean())
        n_hat, _ = encode(model, noise)
        out["noise_r2"][variant] = float(
            1 - ((noise - n_hat) ** 2).sum() / ((noise - noise.mean(0)) ** 2).sum()
        )
        out["active_fraction"][variant] = float((z_te > 1e-3).mean())
        _, z_tr = encode(model, x_tr)
        out["probe_100"][variant] = logistic_regression(z_tr[few], y_tr[few], z_te, y_te)
        if not quick:
            out["probe_all"][variant] = logistic_regression(z_tr, y_tr, z_te, y_te)
        w = model.encoder[0].weight.detach().numpy()
        busiest = np.argsort(-z_tr.mean(0))[:24]  # the 24 units with the largest mean activation
        out["filters"][variant] = w[busiest].tolist()
    return out


# %% [markdown]
# Figure: the first-layer filters of each autoencoder's 24 busiest code units (each row of W as an 8×8 image).


# %%
def plot(results: dict, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    variants = results["variants"]
    fig, axes = plt.subplots(len(variants) * 3, 8, figsize=(8, 3.3 * len(variants)))
    for v, variant in enumerate(variants):
        filters = np.asarray(results["filters"][variant])
        for i, ax in enumerate(axes[3 * v : 3 * v + 3].ravel()):
            f = filters[i].reshape(8, 8)
            m = np.abs(f).max()
            ax.imshow(f, cmap="RdBu_r", vmin=-m, vmax=m)
            ax.set_xticks([])
            ax.set_yticks([])
        r2 = results["noise_r2"][variant]
        probe = results["probe_100"][variant]
        axes[3 * v, 0].set_title(
            f"{variant}: noise R² {r2:.2f}, linear probe (100 labels) {probe:.1%}", loc="left", fontsize=10
        )
    fig.suptitle("first-layer filters of the 24 busiest code units (256 codes for 64 pixels; red +, blue −)")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92, hspace=0.35)
    path = out_dir / "12_overcomplete_ae.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    seeds = (0, 1, 2)
    runs = [run(quick="--quick" in sys.argv, seed=s) for s in seeds]
    names = ["pixels", *VARIANTS]
    print(f"mean over seeds {seeds}")
    print(
        "| | test recon. MSE | noise R² | active codes | linear probe, 100 labels "
        "| linear probe, all labels |"
    )
    print("|---|---|---|---|---|---|")
    for name in names:

        def avg(key, name=name):
            vals = [r[key][name] for r in runs if name in r[key]]
            return f"{np.mean(vals):.3f}" if vals else "–"

        print(
            f"| {name} | {avg('recon_mse')} | {avg('noise_r2')} | {avg('active_fraction')} | "
            f"{avg('probe_100')} | {avg('probe_all')} |"
        )
    for p in plot(runs[0], Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
