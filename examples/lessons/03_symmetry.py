# %% [markdown]
# # The symmetry problem, and initialisation
#
# **Claim 1.** If every weight starts at the same value (zero), every hidden unit of a layer
# computes the same function, receives the same gradient and takes the same step, forever: after
# training the units are still identical (max pairwise difference 0), so the layer is worth one
# unit. Random initialisation breaks the symmetry.
#
# **Claim 2.** The scale of the random initialisation decides whether signals survive a deep
# net. With fan-in $n$, a layer multiplies the activation variance by about $n\,\mathrm{Var}(w)$
# (times $\tfrac12$ after a ReLU). Too small ($\mathcal N(0, 0.01^2)$) and activations and
# gradients shrink layer after layer; too large ($\mathcal N(0, 1)$) and they explode (ReLU) or
# saturate (tanh). Xavier/Glorot, $\mathrm{Var}(w) = 2/(n_\text{in}+n_\text{out})$, keeps tanh
# nets near variance 1; He/Kaiming, $\mathrm{Var}(w) = 2/n_\text{in}$, does the same for ReLU.

# %%
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import datasets, transforms


def digits_split(seed: int):
    """The bundled 8x8 digits as standardised 64-vectors: 1400 for training, the rest for test."""
    x, y = datasets.digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    scale = transforms.Standardize(eps=1e-6).fit(x[:1400])
    return (scale(x[:1400]), y[:1400]), (scale(x[1400:]), y[1400:])


def train(model, data, epochs, lr, momentum=0.0, batch_size=64, seed=0):
    """Mini-batch SGD on the cross-entropy; the training loss after each epoch (nan once it diverges)."""
    (x, y), _ = data
    optimizer = cr.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        with np.errstate(over="ignore", invalid="ignore"):  # N(0, 1) ReLU nets overflow: that is the point
            for start in range(0, len(x), batch_size):
                idx = order[start : start + batch_size]
                optimizer.zero_grad()
                loss_fn(model(cr.tensor(x[idx])), cr.tensor(y[idx])).backward()
                optimizer.step()
            with cr.no_grad():
                loss = loss_fn(model(cr.tensor(x)), cr.tensor(y)).item()
        losses.append(loss if np.isfinite(loss) else float("nan"))
        if not np.isfinite(loss):
            break
    return losses


def accuracy(model, x, y) -> float:
    with cr.no_grad():
        return float((model(cr.tensor(x)).numpy().argmax(1) == y).mean())


# %% [markdown]
# ## Part 1: zero initialisation
#
# A 64-16-10 sigmoid net. With every weight and bias zero, each hidden unit outputs
# $\sigma(0) = 0.5$; the output layer's columns get equal gradients, hence stay equal, hence
# send equal gradients back to the hidden units. After each epoch we measure the largest
# difference between any two hidden units' incoming weights (a row of $W_1$ and its bias).
#
# We do it in float64 and in float32. In exact arithmetic the difference stays 0. In floating
# point it stays 0 only if every row of a matrix product is rounded the same way; the float32
# matrix kernel of OpenBLAS (which NumPy calls) does not promise that, and the symmetric state
# is unstable: a difference of one rounding error grows epoch after epoch.


# %%
def symmetry(data, init: str, epochs: int, seed: int, dtype: str = "float32") -> dict:
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 16), nn.Sigmoid(), nn.Linear(16, 10))
    if init == "zeros":
        for p in model.parameters():
            nn.init.zeros_(p)
    (x, y), (xt, yt) = data
    if dtype == "float64":
        model = model.double()
        (x, y), (xt, yt) = data = (x.astype(np.float64), y), (xt.astype(np.float64), yt)

    def incoming():
        return np.concatenate([model[0].weight.detach().numpy(), model[0].bias.detach().numpy()[:, None]], 1)

    diffs = []
    for epoch in range(epochs):
        train(model, data, 1, lr=0.5, seed=seed * 1000 + epoch)
        w = incoming()
        diffs.append(float(np.abs(w[:, None, :] - w[None, :, :]).max()))
    return {
        "max_pairwise_diff": diffs[-1],
        "diff_per_epoch": diffs,
        "test_accuracy": accuracy(model, xt, yt),
        "w1": incoming().tolist(),
    }


# %% [markdown]
# ## Part 2: the scale of the initialisation on a 10-layer net
#
# Ten hidden layers of 128 units, tanh or ReLU, weights drawn four ways, biases zero. One forward
# and backward pass on 512 training images gives the standard deviation of each layer's
# activations and of its weight gradients; then we train (SGD, momentum 0.9) and count the epochs
# until the training loss falls below a target.

# %%
INITS = {
    "N(0, 0.01²)": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "N(0, 1)": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "Xavier": lambda w: nn.init.xavier_normal_(w),
    "He": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
DEPTH, WIDTH, TARGET_LOSS = 10, 128, 0.1


def deep_net(activation: str, init: str, seed: int) -> nn.Sequential:
    cr.manual_seed(seed)
    layers, width_in = [], 64
    for _ in range(DEPTH):
        layers += [nn.Linear(width_in, WIDTH), ACTIVATIONS[activation]()]
        width_in = WIDTH
    layers.append(nn.Linear(WIDTH, 10))
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):
            INITS[init](m.weight)
            nn.init.zeros_(m.bias)
    return model


def layer_statistics(model: nn.Sequential, x, y) -> tuple[list[float], list[float]]:
    """Std of each hidden layer's output and of each hidden layer's weight gradient."""
    acts = []
    h = cr.tensor(x)
    for m in model:
        h = m(h)
        if not isinstance(m, nn.Linear):
            acts.append(float(h.detach().numpy().std()))
    model.zero_grad()
    nn.CrossEntropyLoss()(model(cr.tensor(x)), cr.tensor(y)).backward()
    grads = [float(m.weight.grad.numpy().std()) for m in model if isinstance(m, nn.Linear)][:DEPTH]
    return acts, grads


def epochs_to(losses: list[float], target: float) -> int | None:
    """First epoch (1-based) whose training loss is below target; None if never."""
    return next((i + 1 for i, v in enumerate(losses) if v < target), None)


def run(quick: bool = False, seed: int = 0) -> dict:
    data = digits_split(seed)
    results = {"seed": seed}
    sym_epochs = 8 if quick else 40
    results["symmetry_zeros_float64"] = symmetry(data, "zeros", sym_epochs, seed, "float64")
    results["symmetry_zeros"] = symmetry(data, "zeros", sym_epochs, seed)
    results["symmetry_random"] = symmetry(data, "random", sym_epochs, seed)
    (x, y), _ = data
    epochs = 4 if quick else 25
    for act in ACTIVATIONS:
        for init in INITS:
            model = deep_net(act, init, seed)
            acts, grads = layer_statistics(model, x[:512], y[:512])
            losses = train(model, data, epochs, lr=0.01, momentum=0.9, seed=seed)
            results[f"{act} {init}"] = {
                "act_std": acts,
                "grad_std": grads,
                "losses": losses,
                "epochs_to_target": epochs_to(losses, TARGET_LOSS),
            }
    return results


# %% [markdown]
# The figure: on the left, the hidden units' incoming weights after training from zeros (every
# row the same) and from a random start; on the right, activation and gradient spread per
# layer, and the training loss, for each initialisation.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    out_dir = Path(out_dir)
    paths = []
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    runs = [("symmetry_zeros_float64", "zeros, float64"), ("symmetry_zeros", "zeros, float32")]
    for ax, (key, label) in zip(axes[:2], runs):
        r = results[key]
        w = np.array(r["w1"])
        lim = max(np.abs(w).max(), 1e-12)
        ax.imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_title(f"{label} init, after training: test accuracy {r['test_accuracy']:.2f}", fontsize=9)
        ax.set_xlabel("incoming weight (64 pixels, then the bias)")
        ax.set_ylabel("hidden unit")
    labels = {
        "symmetry_zeros_float64": "zeros, float64",
        "symmetry_zeros": "zeros, float32",
        "symmetry_random": "random (default init)",
    }
    for key, label in labels.items():
        d = np.array(results[key]["diff_per_epoch"])
        axes[2].semilogy(np.arange(1, len(d) + 1), np.maximum(d, 1e-17), "o-", ms=3, label=label)
    axes[2].set_ylim(1e-18, 10)
    axes[2].set_xlabel("epoch")
    axes[2].set_title("max difference between two hidden units (0 drawn at 1e-17)", fontsize=9)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "03_symmetry.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    layers = np.arange(1, DEPTH + 1)
    for row, act in enumerate(ACTIVATIONS):
        for init in INITS:
            r = results[f"{act} {init}"]
            floor = 1e-30
            axes[row, 0].semilogy(layers, np.maximum(r["act_std"], floor), "o-", label=init)
            axes[row, 1].semilogy(layers, np.maximum(r["grad_std"], floor), "o-", label=init)
            losses = np.array(r["losses"], dtype=float)
            axes[row, 2].plot(np.arange(1, len(losses) + 1), losses, "o-", ms=3, label=init)
        axes[row, 0].set_title(f"{act}: std of each layer's activations", fontsize=10)
        axes[row, 1].set_title(f"{act}: std of each layer's weight gradient", fontsize=10)
        axes[row, 2].set_title(f"{act}: training loss (target {TARGET_LOSS})", fontsize=10)
        axes[row, 2].axhline(TARGET_LOSS, color="gray", ls=":")
        axes[row, 2].set_yscale("log")
        axes[row, 2].set_ylim(1e-5, 1e2)
        for ax in axes[row, :2]:
            ax.set_xlabel("hidden layer")
        axes[row, 2].set_xlabel("epoch")
        axes[row, 0].legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "03_symmetry_init.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


# %% [markdown]
# The full run: three seeds; the figure shows seed 0.

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    rows = [run(seed=s) for s in range(3)]
    print(
        "zero vs random init, 64-16-10 sigmoid net: max pairwise difference after epoch 1, 10, last; test acc"
    )
    for r in rows:
        for key in ("symmetry_zeros_float64", "symmetry_zeros", "symmetry_random"):
            d = r[key]["diff_per_epoch"]
            acc = r[key]["test_accuracy"]
            print(f"  seed {r['seed']} {key:>23}: {d[0]:9.3g} {d[9]:9.3g} {d[-1]:9.3g}  {acc:.3f}")
    print(
        f"10-layer nets: last-layer activation std, first/last gradient std, epochs to loss < {TARGET_LOSS}"
    )
    for act in ACTIVATIONS:
        for init in INITS:
            cells = []
            for r in rows:
                c = r[f"{act} {init}"]
                ratio = c["grad_std"][0] / max(c["grad_std"][-1], 1e-300)
                cells.append(f"{c['act_std'][-1]:9.3g} {ratio:9.3g} {str(c['epochs_to_target']):>5}")
            print(f"  {act:>4} {init:>12}: " + " | ".join(cells))
    for p in plot(rows[0], out):
        print("wrote", p)
