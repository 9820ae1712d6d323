# %% [markdown]
# # Batch normalisation
#
# **Claim.** Batch normalisation standardises each pre-activation over the mini-batch, then
# re-scales it with learned $\gamma, \beta$:
#
# $$ \hat z = \frac{z - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma \hat z + \beta . $$
#
# A net with it trains at a learning rate where the plain net diverges, and reaches a target
# accuracy in fewer epochs. In training mode it uses the batch's $\mu_B, \sigma_B^2$ (and updates
# running averages of them); in eval mode it uses the running averages, so the same input gives
# different outputs in the two modes, and in training mode an example's output depends on the
# other examples in its batch. Layer norm standardises over the features of each example instead
# (no batch dependence, same in both modes); weight norm re-parameterises $w = g\,v/\lVert v\rVert$.

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
    x, y = datasets.digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    scale = transforms.Standardize(eps=1e-6).fit(x[:1400])
    return (scale(x[:1400]), y[:1400]), (scale(x[1400:]), y[1400:])


def net(kind: str, seed: int) -> nn.Sequential:
    """64-128-128-128-10 ReLU; kind: 'plain', 'batch norm', 'layer norm', 'weight norm'."""
    cr.manual_seed(seed)
    layers: list[nn.Module] = []
    for n_in in (64, 128, 128):
        linear = nn.Linear(n_in, 128)
        if kind == "plain":
            layers += [linear, nn.ReLU()]
        elif kind == "batch norm":
            layers += [linear, nn.BatchNorm1d(128), nn.ReLU()]
        elif kind == "layer norm":
            layers += [linear, nn.LayerNorm(128), nn.ReLU()]
        elif kind == "weight norm":
            layers += [nn.utils.weight_norm(linear), nn.ReLU()]
        else:
            raise ValueError(f"net: unknown kind {kind!r}")
    return nn.Sequential(*layers, nn.Linear(128, 10))


def train(model, data, epochs, lr, seed, batch_size=64):
    """Plain SGD; training loss (nan once diverged) and test accuracy after each epoch."""
    (x, y), (xt, yt) = data
    optimizer = cr.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses, accuracies = [], []
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(x))
        with np.errstate(all="ignore"):
            for start in range(0, len(x), batch_size):
                idx = order[start : start + batch_size]
                optimizer.zero_grad()
                loss_fn(model(cr.tensor(x[idx])), cr.tensor(y[idx])).backward()
                optimizer.step()
            model.eval()
            with cr.no_grad():
                loss = loss_fn(model(cr.tensor(x)), cr.tensor(y)).item()
                acc = float((model(cr.tensor(xt)).numpy().argmax(1) == yt).mean())
        losses.append(loss if np.isfinite(loss) else float("nan"))
        accuracies.append(acc)
    return losses, accuracies


# %% [markdown]
# ## Train mode and eval mode
#
# Take the trained batch-norm net (its state is restored afterwards), feed it the
# same 32 test images in both modes, and feed one image inside two different batches in training
# mode. Then recompute the first BN layer's eval output by hand from `running_mean` and
# `running_var`.


# %%
def modes(model: nn.Sequential, xt: np.ndarray) -> dict:
    m = model
    saved = {k: v.clone() for k, v in m.state_dict().items()}  # training-mode passes move running stats
    x = cr.tensor(xt[:32])
    with cr.no_grad():
        m.eval()
        out_eval = m(x).numpy()
        m.train()
        out_train = m(x).numpy()
        other = m(cr.tensor(np.concatenate([xt[:1], xt[32:63]]))).numpy()  # image 0 with other company
        m.eval()
        bn = m[1]
        z = m[0](x).numpy()
        by_hand = (z - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + bn.eps)
        by_hand = by_hand * bn.weight.detach().numpy() + bn.bias.detach().numpy()
        by_layer = m[1](m[0](x)).numpy()
    m.load_state_dict(saved)
    return {
        "train_vs_eval_max_diff": float(np.abs(out_train - out_eval).max()),
        "train_mode_batch_dependence": float(np.abs(out_train[0] - other[0]).max()),
        "eval_by_hand_max_diff": float(np.abs(by_hand - by_layer).max()),
    }


# %%
KINDS = ("plain", "batch norm", "layer norm", "weight norm")
HIGH_LRS, HIGH_LRS_QUICK = (0.5, 1.0, 2.0, 4.0), (2.0,)
TARGET_ACC = 0.95


def run(quick: bool = False, seed: int = 0) -> dict:
    data = digits_split(seed)
    results = {"seed": seed, "high_lr": {}, "normal_lr": {}}
    high_epochs, epochs = (3, 6) if quick else (5, 20)
    for lr in HIGH_LRS_QUICK if quick else HIGH_LRS:
        for kind in ("plain", "batch norm"):
            losses, accs = train(net(kind, seed), data, high_epochs, lr=lr, seed=seed)
            results["high_lr"][f"{kind} lr {lr:g}"] = {"losses": losses, "test_accuracy": accs}
    for kind in KINDS:
        model = net(kind, seed)
        losses, accs = train(model, data, epochs, lr=0.05, seed=seed)
        reached = next((i + 1 for i, a in enumerate(accs) if a >= TARGET_ACC), None)
        results["normal_lr"][kind] = {"losses": losses, "test_accuracy": accs, "epochs_to_target": reached}
        if kind == "batch norm":
            results["modes"] = modes(model, data[1][0])
    return results


# %%
def plot(results: dict, out_dir) -> list[Path]:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.3))
    lrs = sorted({float(k.split(" lr ")[1]) for k in results["high_lr"]})
    for kind, marker in (("plain", "o"), ("batch norm", "s")):
        final = [results["high_lr"][f"{kind} lr {lr:g}"]["test_accuracy"][-1] for lr in lrs]
        ax.semilogx(lrs, final, marker + "-", label=kind)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("learning rate (plain SGD)")
    ax.set_ylabel("test accuracy after training")
    ax.set_title("high learning rates", fontsize=10)
    ax.legend(fontsize=8)
    for kind, r in results["normal_lr"].items():
        acc = r["test_accuracy"]
        ax2.plot(
            np.arange(1, len(acc) + 1), acc, "o-", ms=3, label=f"{kind} ({r['epochs_to_target']} epochs)"
        )
    ax2.axhline(TARGET_ACC, color="gray", ls=":")
    ax2.set_ylim(0.5, 1.0)
    ax2.set_xlabel("epoch")
    ax2.set_title(f"SGD at lr 0.05: epochs to {TARGET_ACC} test accuracy", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_dir) / "08_batch_norm.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %% [markdown]
# The full run: three seeds; the figure shows seed 0.

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    rows = [run(seed=s) for s in range(3)]
    print("high learning rates: final training loss and test accuracy per seed")
    for key in rows[0]["high_lr"]:
        cells = [
            f"{r['high_lr'][key]['losses'][-1]:.4g} {r['high_lr'][key]['test_accuracy'][-1]:.3f}"
            for r in rows
        ]
        print(f"  {key:>20}: " + " | ".join(cells))
    print(f"lr 0.05: epochs to test accuracy {TARGET_ACC}, final test accuracy, per seed")
    for kind in KINDS:
        cells = [
            f"{r['normal_lr'][kind]['epochs_to_target']} {r['normal_lr'][kind]['test_accuracy'][-1]:.3f}"
            for r in rows
        ]
        print(f"  {kind:>12}: " + " | ".join(cells))
    for key in rows[0]["modes"]:
        print(f"  {key}: " + " | ".join(f"{r['modes'][key]:.3g}" for r in rows))
    for p in plot(rows[0], out):
        print("wrote", p)
