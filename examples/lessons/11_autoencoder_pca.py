# %% [markdown]
# # Lesson 11: autoencoders and PCA
#
# **Claim.** A *linear* autoencoder with a k-dimensional code, trained to minimise the squared
# reconstruction error, ends up spanning the same subspace as the top-k principal components:
# the principal angles between its decoder's columns and PCA's top-k directions go to 0, and its
# error equals PCA's (the best any rank-k linear map can do, by the Eckart-Young theorem).
# A *non-linear* autoencoder (a deep MLP, or a convolutional one with a ConvTranspose2d /
# Upsample decoder) is not bound by that limit and can reconstruct better at the same code size.
#
# Linear autoencoder: code $z = W_e (x - b) $, reconstruction $\hat x = W_d z + c$, loss
# $\frac1n\sum_i \lVert x_i - \hat x_i\rVert^2$.  PCA: $X_c = U S V^\top$, the code is
# $V_k^\top (x - \bar x)$ and the reconstruction $\bar x + V_k V_k^\top (x - \bar x)$.
# Principal angles between two subspaces with orthonormal bases $Q_1, Q_2$:
# $\theta_i = \arccos \sigma_i(Q_1^\top Q_2)$.

# %%
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

CODE_SIZES = (2, 4, 8, 16)


def load_digits(seed: int = 0):
    """Digits as flat float32 vectors in [0, 1], split 80/20 by a seeded permutation."""
    x, y = cr.data.datasets.digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    return x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]]


# %% [markdown]
# Three autoencoders with the same code size k: linear, a deep MLP and a convolutional one.


# %%
def linear_ae(k: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, k), nn.Linear(k, 64))


def deep_ae(k: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, k),
        nn.Linear(k, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64),
    )  # fmt: skip


def conv_ae(k: int) -> nn.Module:
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),              # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),             # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, k),                                         # the code
        nn.Linear(k, 128), nn.ReLU(), nn.Unflatten(1, (32, 2, 2)),
        nn.ConvTranspose2d(32, 16, 2, stride=2), nn.ReLU(),                      # 16 x 4 x 4
        nn.Upsample(scale_factor=2), nn.Conv2d(16, 1, 3, padding=1),            # 1 x 8 x 8
        nn.Flatten(),
    )  # fmt: skip


def train_ae(model: nn.Module, x: np.ndarray, epochs: int, lr: float, seed: int, batch: int = 64) -> None:
    """Mini-batch Adam on the mean squared reconstruction error, cosine-decayed learning rate."""
    rng = np.random.default_rng(seed)
    opt = cr.optim.Adam(model.parameters(), lr=lr)
    sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            xb = cr.tensor(x[order[i : i + batch]])
            loss = ((model(xb) - xb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()


def reconstruct(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with cr.no_grad():
        return model(cr.tensor(x)).numpy()


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error per pixel."""
    return float(((a - b) ** 2).mean())


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles in degrees between the column spaces of a (d, k) and b (d, k), smallest first."""
    qa, _ = np.linalg.qr(a.astype(np.float64))
    qb, _ = np.linalg.qr(b.astype(np.float64))
    s = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    return np.degrees(np.arccos(s))[::-1]


# %% [markdown]
# PCA is one SVD; each autoencoder is trained on the training digits and scored on the test ones.


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    """Test reconstruction error (MSE per pixel) of PCA and the three autoencoders for each code size,
    and the principal angles between the linear autoencoder's decoder and PCA's subspace."""
    cr.manual_seed(seed)
    x_tr, _, x_te, _ = load_digits(seed)
    mean = x_tr.mean(0)
    _, _, vt = np.linalg.svd(x_tr - mean, full_matrices=False)
    sizes = (4,) if quick else CODE_SIZES
    out: dict = {"code_sizes": list(sizes), "pca": [], "linear": [], "deep": [], "conv": []}
    out.update(linear_max_angle=[], linear_angles=[], raw_max_angle=[], raw_mean_in_span=[])
    examples = x_te[:8]
    out["examples"] = examples.tolist()
    for k in sizes:
        v = vt[:k].T  # (64, k) top-k principal directions
        out["pca"].append(mse((x_te - mean) @ v @ v.T + mean, x_te))
        # the linear autoencoder sees centred pixels, as PCA does
        lin = linear_ae(k)
        train_ae(lin, x_tr - mean, 150, 1e-2, seed)
        out["linear"].append(mse(reconstruct(lin, x_te - mean) + mean, x_te))
        angles = principal_angles(lin[1].weight.detach().numpy(), v)
        out["linear_angles"].append(angles.tolist())
        out["linear_max_angle"].append(float(angles.max()))
        # the same on raw pixels: its biases must learn the mean image themselves
        if not quick:
            raw = linear_ae(k)
            train_ae(raw, x_tr, 150, 1e-2, seed)
            w = raw[1].weight.detach().numpy().astype(np.float64)
            out["raw_max_angle"].append(float(principal_angles(w, v).max()))
            in_span = w @ np.linalg.lstsq(w, mean, rcond=None)[0]
            out["raw_mean_in_span"].append(float(np.linalg.norm(in_span) / np.linalg.norm(mean)))
        models = [("deep", deep_ae, 40 if quick else 100)] + ([] if quick else [("conv", conv_ae, 60)])
        for name, build, epochs in models:  # the convolutional one is slow to train: full runs only
            model = build(k)
            train_ae(model, x_tr, epochs, 3e-3, seed)
            out[name].append(mse(reconstruct(model, x_te), x_te))
            if k == sizes[len(sizes) // 2]:
                out[f"recon_{name}"] = reconstruct(model, examples).tolist()
        if k == sizes[len(sizes) // 2]:
            out["recon_k"] = k
            out["recon_pca"] = ((examples - mean) @ v @ v.T + mean).tolist()
            out["recon_linear"] = (reconstruct(lin, examples - mean) + mean).tolist()
    return out


# %% [markdown]
# Figure: error against code size, and the reconstructions of test digits at one code size.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [("original", "examples"), ("PCA", "recon_pca"), ("linear AE", "recon_linear")]
    rows += [
        (label, key)
        for label, key in (("deep AE", "recon_deep"), ("conv AE", "recon_conv"))
        if key in results
    ]
    fig = plt.figure(figsize=(11, 4.6))
    ax = fig.add_axes([0.07, 0.13, 0.36, 0.75])
    ks = results["code_sizes"]
    for key, label, style in (
        ("pca", "PCA", "k-"),
        ("linear", "linear AE", "o--"),
        ("deep", "deep AE", "s-"),
        ("conv", "conv AE", "^-"),
    ):
        if results[key]:
            ax.plot(ks, results[key], style, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("code size k")
    ax.set_ylabel("test reconstruction MSE per pixel")
    ax.set_title("reconstruction error by code size")
    ax.legend()
    n = len(results["examples"])
    for r, (label, key) in enumerate(rows):
        for c in range(n):
            a = fig.add_axes([0.5 + c * 0.06, 0.75 - r * 0.17, 0.055, 0.15])
            a.imshow(np.asarray(results[key][c]).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            a.set_xticks([])
            a.set_yticks([])
            if c == 0:
                a.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.text(
        0.74, 0.93, f"test digits reconstructed through a code of size {results['recon_k']}", ha="center"
    )
    path = out_dir / "11_autoencoder_pca.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    conv = res["conv"] or [float("nan")] * len(res["code_sizes"])
    print(
        "| k | PCA | linear AE | its largest angle | raw-pixel linear AE: largest angle | deep AE | conv AE |"
    )
    print("|---|---|---|---|---|---|---|")
    for i, k in enumerate(res["code_sizes"]):
        print(
            f"| {k} | {res['pca'][i]:.4f} | {res['linear'][i]:.4f} | {res['linear_max_angle'][i]:.2f}° | "
            f"{res['raw_max_angle'][i]:.1f}° | {res['deep'][i]:.4f} | {conv[i]:.4f} |"
        )
    print("share of the mean image inside the raw-pixel decoder's span:", res["raw_mean_in_span"])
    for p in plot(res, Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
