# %% [markdown]
# # Activations
#
# **Claim 1.** On the same deep MLP, with the same initialisation and optimizer, ReLU-family
# activations reach a target training loss several times faster than sigmoid and tanh (the
# AlexNet paper reports six times faster than tanh). Sigmoid saturates ($\sigma'(z) \le 1/4$, and
# its outputs are not centred), tanh saturates ($\tanh'(z) \le 1$, near 0 for large $|z|$);
# ReLU's derivative is exactly 1 wherever the unit is active.
#
# Each activation gets the initialisation made for it: $W \sim \mathcal N(0, g^2/n_\text{in})$ with
# its gain $g$ (1 for sigmoid, 5/3 for tanh, $\sqrt 2$ for the ReLU family). With PyTorch's default
# initialisation ($\mathrm{Var}(w) = 1/(3 n_\text{in})$) a 6-layer ReLU net barely moves at all;
# the full run shows that too (grey curves).
#
# **Claim 2.** A ReLU unit whose pre-activation is negative for every input gets zero gradient
# and can stay "dead". A large learning-rate step kills many units; leaky ReLU
# ($\max(z, 0.01 z)$) keeps a small gradient, so its units can come back.
#
# | activation | $f(z)$ | $f'(z)$ |
# |---|---|---|
# | sigmoid | $1/(1+e^{-z})$ | $\sigma(z)(1-\sigma(z))$ |
# | tanh | $\tanh z$ | $1-\tanh^2 z$ |
# | ReLU | $\max(0, z)$ | $[z>0]$ |
# | leaky ReLU | $\max(0.01z, z)$ | $1$ or $0.01$ |
# | ELU | $z$ or $e^z-1$ | $1$ or $e^z$ |
# | PReLU | $\max(az, z)$, $a$ learned | $1$ or $a$ |
# | GELU | $z\,\Phi(z)$ | $\Phi(z) + z\,\varphi(z)$ |

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

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "ReLU": nn.ReLU,
    "leaky ReLU": nn.LeakyReLU,
    "ELU": nn.ELU,
    "PReLU": nn.PReLU,
    "GELU": nn.GELU,
}
DEPTH, WIDTH, TARGET_LOSS = 6, 128, 0.2


def load_data(quick: bool, seed: int):
    """Quick: the bundled 8x8 digits. Full: 5 000 MNIST training images and 2 000 test images.
    Pixels are standardised with the training set's mean and standard deviation."""
    rng = np.random.default_rng(seed)
    if quick:
        x, y = datasets.digits()
        order = rng.permutation(len(x))
        x, y = x[order].reshape(len(x), -1), y[order]
        (x, y), (xt, yt) = (x[:1400], y[:1400]), (x[1400:], y[1400:])
    else:
        (x, y), (xt, yt) = datasets.mnist()
        i, j = rng.permutation(len(x))[:5000], rng.permutation(len(xt))[:2000]
        (x, y), (xt, yt) = (x[i].reshape(len(i), -1), y[i]), (xt[j].reshape(len(j), -1), yt[j])
    mean, std = x.mean(), x.std()
    return ((x - mean) / std, y), ((xt - mean) / std, yt)


GAINS = {"sigmoid": "sigmoid", "tanh": "tanh", "leaky ReLU": "leaky_relu"}  # the rest: ReLU's gain


def mlp(activation: str, n_in: int, seed: int, init: str = "gain") -> nn.Sequential:
    """DEPTH hidden layers of WIDTH units. ``init='gain'``: W ~ N(0, gain²/fan_in) with the
    activation's gain (``nn.init.calculate_gain``); ``init='default'``: PyTorch's default."""
    cr.manual_seed(seed)
    layers = []
    for i in range(DEPTH):
        layers += [nn.Linear(n_in if i == 0 else WIDTH, WIDTH), ACTIVATIONS[activation]()]
    model = nn.Sequential(*layers, nn.Linear(WIDTH, 10))
    if init == "gain":
        gain = nn.init.calculate_gain(GAINS.get(activation, "relu"))
        for m in model[:-1]:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, gain / np.sqrt(m.weight.shape[1]))
                nn.init.zeros_(m.bias)
    return model


def train(model, data, epochs, lr, seed, momentum=0.9, batch_size=64):
    """Mini-batch SGD; the full training loss after each epoch."""
    (x, y), _ = data
    optimizer = cr.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(cr.tensor(x[idx])), cr.tensor(y[idx])).backward()
            optimizer.step()
        with cr.no_grad():
            losses.append(loss_fn(model(cr.tensor(x)), cr.tensor(y)).item())
    return losses


def epochs_to(losses, target):
    return next((i + 1 for i, v in enumerate(losses) if v < target), None)


# %% [markdown]
# ## Dead units
#
# A unit is *silent* when its pre-activation is negative on every one of 1 000 training images.
# For ReLU a silent unit is dead: its gradient is zero on all of them. We train one epoch at a
# learning rate 50 times too high (0.5, plain SGD), find the silent units, train on at the normal
# rate, and count how many of those units came back (are positive on some image again).


# %%
def silent_units(model: nn.Sequential, x: np.ndarray) -> np.ndarray:
    """One flag per hidden unit (all layers): its pre-activation is <= 0 on every row of x."""
    flags = []
    h = cr.tensor(x)
    with cr.no_grad():
        for m in model[:-1]:
            h = m(h)
            if isinstance(m, nn.Linear):
                flags.append((h.numpy() <= 0).all(axis=0))
    return np.concatenate(flags)


def dead_units(data, lr, seed, recovery_epochs) -> dict:
    (x, _), _ = data
    probe = x[:1000]
    out = {}
    for act in ("ReLU", "leaky ReLU"):
        model = mlp(act, x.shape[1], seed)
        train(model, data, 1, lr=50 * lr, seed=seed, momentum=0.0)
        before = silent_units(model, probe)
        losses = train(model, data, recovery_epochs, lr=lr, seed=seed + 1)
        after = silent_units(model, probe)
        out[act] = {
            "silent_after_high_lr": float(before.mean()),
            "silent_after_recovery": float(after.mean()),
            "revived": float((~after[before]).mean()) if before.any() else float("nan"),
            "loss_after_recovery": losses[-1],
        }
    return out


# %%
def run(quick: bool = False, seed: int = 0, default_init: bool | None = None) -> dict:
    """``default_init`` (default: full run only) adds sigmoid/tanh/ReLU with PyTorch's default init."""
    data = load_data(quick, seed)
    n_in = data[0][0].shape[1]
    epochs = 5 if quick else 6
    lr = 0.01
    results = {
        "seed": seed,
        "data": "digits" if quick else "MNIST (5 000 images)",
        "curves": {},
        "epochs_to_target": {},
    }
    for act in ACTIVATIONS:
        losses = train(mlp(act, n_in, seed), data, epochs, lr=lr, seed=seed)
        results["curves"][act] = losses
        results["epochs_to_target"][act] = epochs_to(losses, TARGET_LOSS)
    results["default_init_curves"] = {}
    for act in ("sigmoid", "tanh", "ReLU") if (not quick if default_init is None else default_init) else ():
        losses = train(mlp(act, n_in, seed, init="default"), data, epochs, lr=lr, seed=seed)
        results["default_init_curves"][act] = losses
    results["dead"] = dead_units(data, lr=lr, seed=seed, recovery_epochs=2 if quick else 3)
    return results


# %% [markdown]
# The figure: training loss per epoch for each activation (log scale), and the silent-unit
# fractions of ReLU and leaky ReLU after the high-rate epoch and after recovery.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.3), gridspec_kw={"width_ratios": [1.6, 1]})
    for act, losses in results["curves"].items():
        style = "--" if act in ("sigmoid", "tanh") else "-"
        ax.semilogy(np.arange(1, len(losses) + 1), losses, style, marker="o", ms=3, label=act)
    for act, losses in results.get("default_init_curves", {}).items():
        ax.semilogy(np.arange(1, len(losses) + 1), losses, ":", color="gray", marker="x", ms=3)
        ax.annotate(f"{act}, default init", (len(losses), losses[-1]), fontsize=7, color="gray")
    ax.axhline(TARGET_LOSS, color="gray", ls=":", label=f"target {TARGET_LOSS}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(f"{DEPTH}x{WIDTH} MLP on {results['data']}, SGD lr 0.01 momentum 0.9", fontsize=10)
    ax.legend(fontsize=8, ncol=2)
    runs = results.get("all_seeds", [results])
    cells = [(act, r["seed"], r["dead"][act]) for act in ("ReLU", "leaky ReLU") for r in runs]
    pos = np.arange(len(cells))
    ax2.bar(pos - 0.2, [c["silent_after_high_lr"] for _, _, c in cells], 0.4, label="after 1 epoch at lr 0.5")
    ax2.bar(pos + 0.2, [c["silent_after_recovery"] for _, _, c in cells], 0.4, label="then at lr 0.01")
    for p, (_, _, c) in zip(pos, cells):
        if np.isnan(c["loss_after_recovery"]):
            note = "diverged\n(NaN)"
        elif c["silent_after_high_lr"] > 0:
            note = f"{c['revived']:.0%}\ncame back"
        else:
            note = "none"
        ax2.annotate(note, (p, c["silent_after_recovery"]), ha="center", va="bottom", fontsize=7)
    ax2.set_xticks(pos, [f"{act}\nseed {seed}" for act, seed, _ in cells], fontsize=7)
    ax2.set_ylabel("fraction of hidden units never positive")
    ax2.set_title("dead units", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_dir) / "04_activations.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %% [markdown]
# The full run: MNIST (5 000 training images), three seeds (the default-init curves: seed 0 only);
# the figure shows seed 0.

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    rows = [run(seed=s, default_init=s == 0) for s in range(3)]
    print(f"epochs to training loss < {TARGET_LOSS} (None: not within {len(rows[0]['curves']['ReLU'])}),")
    print("and the final training loss, per seed")
    for act in ACTIVATIONS:
        cells = [f"{str(r['epochs_to_target'][act]):>4} {r['curves'][act][-1]:7.4f}" for r in rows]
        print(f"  {act:>10}: " + " | ".join(cells))
    print("silent hidden units: after the high-rate epoch, after recovery, fraction of them revived; loss")
    for act in ("ReLU", "leaky ReLU"):
        cells = [
            f"{r['dead'][act]['silent_after_high_lr']:.3f} {r['dead'][act]['silent_after_recovery']:.3f} "
            f"{r['dead'][act]['revived']:.3f} {r['dead'][act]['loss_after_recovery']:.3f}"
            for r in rows
        ]
        print(f"  {act:>10}: " + " | ".join(cells))
    print("PyTorch's default init instead (seed 0): training loss per epoch")
    for act, losses in rows[0]["default_init_curves"].items():
        print(f"  {act:>10}: " + " ".join(f"{v:.3f}" for v in losses))
    for p in plot(dict(rows[0], all_seeds=rows), out):
        print("wrote", p)
