# %% [markdown]
# # Lesson 17: what a convolution sees
#
# **Claim.** A convolution slides one small kernel over the image:
# $y_{ij} = \sum_{a,b} w_{ab}\, x_{i+a,\,j+b} + c$.  The hand-made edge kernel
# $\begin{bmatrix}-1&-1&-1\\-1&8&-1\\-1&-1&-1\end{bmatrix}$ answers 0 on flat regions and
# strongly on the strokes' borders; a trained network learns kernels of its own.  Each layer
# sees a larger patch of the input (its *receptive field*,
# $r_l = r_{l-1} + (k_l - 1)\, j_{l-1}$ with jump $j_l = j_{l-1} s_l$ for kernel $k_l$ and
# stride $s_l$), and pooling makes the answer depend less on where a pattern is: on test digits
# shifted by 1-3 pixels, a CNN with pooling loses less accuracy than an MLP of similar size
# trained on the same (unshifted) images.

# %%
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

EDGE = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32)
SHIFTS = (0, 1, 2, 3)


def load_digits(seed: int = 0):
    """Digits (N, 1, 8, 8) in [0, 1], split 80/20 by a seeded permutation."""
    x, y = cr.data.datasets.digits()
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    return x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]]


def cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),     # 16 x 8 x 8
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),    # 32 x 8 x 8
        nn.MaxPool2d(2),                               # 32 x 4 x 4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),    # 64 x 4 x 4
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),         # global average pooling
        nn.Linear(64, 10),
    )  # fmt: skip


def mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10)
    )


def train(model: nn.Module, x, y, epochs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 32):
            idx = order[i : i + 32]
            loss = F.cross_entropy(model(cr.tensor(x[idx])), cr.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()


def shifted(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move the images by (dy, dx) pixels, filling with blank (0) pixels."""
    out = np.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
        ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def accuracy(model, x, y) -> float:
    with cr.no_grad():
        return float((model(cr.tensor(x)).argmax(1).numpy() == y).mean())


def accuracy_by_shift(model, x, y) -> list[float]:
    """Mean accuracy over the 4 directions (right, left, down, up) for each shift size."""
    return [
        float(
            np.mean(
                [
                    accuracy(model, shifted(x, dy * s, dx * s), y)
                    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))
                ]
            )
        )
        for s in SHIFTS
    ]


# %% [markdown]
# Receptive fields, measured with autograd: make a copy of the convolutional layers with every
# weight 1, no ReLU and average pooling in place of max pooling (same receptive field, but no
# unit can switch off), feed a 32×32 input, and back-propagate from the centre unit of each
# layer's output; the input pixels that receive a non-zero gradient are its receptive field.


# %%
def receptive_fields(model: nn.Sequential) -> list[dict]:
    rows, layers, r, j = [], [], 1, 1
    for layer in model:
        if isinstance(layer, nn.Conv2d):
            k, s = layer.kernel_size[0], layer.stride[0]
            probe = nn.Conv2d(
                layer.in_channels, layer.out_channels, k, stride=s, padding=layer.padding, bias=False
            )
            nn.init.ones_(probe.weight)
        elif isinstance(layer, nn.MaxPool2d):
            k = s = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
            probe = nn.AvgPool2d(k)
        else:
            continue
        layers.append(probe)
        r, j = r + (k - 1) * j, j * s
        x = cr.zeros(1, 1, 32, 32, requires_grad=True)
        out = nn.Sequential(*layers)(x)
        out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
        rows_hit = np.flatnonzero(np.abs(x.grad.numpy()[0, 0]).sum(1) > 0)
        rows.append(
            {
                "layer": type(layer).__name__,
                "formula": r,
                "autograd": int(rows_hit.max() - rows_hit.min() + 1),
            }
        )
    return rows


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    cr.manual_seed(seed)
    x_tr, y_tr, x_te, y_te = load_digits(seed)
    epochs = 8 if quick else 30
    conv, dense = cnn(), mlp()
    train(conv, x_tr, y_tr, epochs, seed)
    train(dense, x_tr, y_tr, epochs, seed)
    out = {
        "shifts": list(SHIFTS),
        "cnn": accuracy_by_shift(conv, x_te, y_te),
        "mlp": accuracy_by_shift(dense, x_te, y_te),
        "params_cnn": sum(p.numel() for p in conv.parameters()),
        "params_mlp": sum(p.numel() for p in dense.parameters()),
        "receptive_fields": receptive_fields(conv),
    }
    digit = x_te[:1]
    with cr.no_grad():
        out["edge"] = (
            F.conv2d(cr.tensor(digit), cr.tensor(EDGE[None, None]), padding=1).numpy()[0, 0].tolist()
        )
        out["feature_maps"] = conv[1](conv[0](cr.tensor(digit))).numpy()[0].tolist()
    out["digit"] = digit[0, 0].tolist()
    out["filters"] = conv[0].weight.detach().numpy()[:, 0].tolist()
    return out


# %% [markdown]
# Figure: the edge kernel at work, the 16 learned first-layer kernels and their feature maps on
# the same digit, and accuracy against shift.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig = plt.figure(figsize=(13, 6))

    def show(rect, img, title=None, cmap="gray_r", sym=False):
        a = fig.add_axes(rect)
        img = np.asarray(img)
        m = np.abs(img).max() or 1.0
        a.imshow(img, cmap=cmap, vmin=-m if sym else None, vmax=m if sym else None)
        a.set_xticks([])
        a.set_yticks([])
        if title:
            a.set_title(title, fontsize=9)
        return a

    show([0.02, 0.62, 0.12, 0.3], results["digit"], "a test digit")
    show([0.15, 0.62, 0.12, 0.3], EDGE, "edge kernel", cmap="RdBu_r", sym=True)
    show([0.28, 0.62, 0.12, 0.3], results["edge"], "digit ∗ edge kernel", cmap="RdBu_r", sym=True)
    fig.text(
        0.02, 0.53, "16 learned first-layer kernels (red +, blue −) and their ReLU feature maps", fontsize=10
    )
    for i in range(16):
        show(
            [0.02 + (i % 8) * 0.05, 0.38 - (i // 8) * 0.25, 0.045, 0.1],
            results["filters"][i],
            cmap="RdBu_r",
            sym=True,
        )
        show(
            [0.02 + (i % 8) * 0.05, 0.27 - (i // 8) * 0.25, 0.045, 0.1],
            results["feature_maps"][i],
            cmap="magma",
        )
    ax = fig.add_axes([0.5, 0.1, 0.22, 0.8])
    for key, label, style in (("cnn", "CNN with pooling", "o-"), ("mlp", "MLP", "s--")):
        ax.plot(results["shifts"], results[key], style, label=label)
    ax.set_xlabel("shift of the test digits (pixels)")
    ax.set_ylabel("test accuracy")
    ax.set_xticks(results["shifts"])
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("trained on unshifted digits")
    rf = results["receptive_fields"]
    ax2 = fig.add_axes([0.77, 0.1, 0.21, 0.8])
    ax2.axis("off")
    text = "receptive field (pixels)\nlayer         formula  autograd\n" + "\n".join(
        f"{i + 1}. {r['layer']:<10} {r['formula']:>5} {r['autograd']:>8}" for i, r in enumerate(rf)
    )
    ax2.text(0, 0.9, text, family="monospace", fontsize=10, va="top")
    path = out_dir / "17_convolution.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    seeds = (0, 1, 2)
    runs = [run(quick="--quick" in sys.argv, seed=s) for s in seeds]
    r0 = runs[0]
    print(f"parameters: CNN {r0['params_cnn']:,}, MLP {r0['params_mlp']:,}")
    print("| layer | receptive field (formula) | (autograd) |\n|---|---|---|")
    for i, r in enumerate(r0["receptive_fields"]):
        print(f"| {i + 1}. {r['layer']} | {r['formula']} | {r['autograd']} |")
    print(f"accuracy by shift, mean over seeds {seeds}")
    print("| shift (pixels) | " + " | ".join(str(s) for s in SHIFTS) + " |")
    print("|---" * (len(SHIFTS) + 1) + "|")
    for key in ("cnn", "mlp"):
        print(f"| {key} | " + " | ".join(f"{v:.3f}" for v in np.mean([r[key] for r in runs], axis=0)) + " |")
    averaged = dict(
        r0,
        cnn=np.mean([r["cnn"] for r in runs], 0).tolist(),
        mlp=np.mean([r["mlp"] for r in runs], 0).tolist(),
    )
    for p in plot(averaged, Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
