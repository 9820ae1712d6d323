# %% [markdown]
# # Linear layers collapse
#
# **Claim.** A stack of linear layers with no nonlinearity between them is one linear map, so a
# "deep" linear classifier is exactly a logistic regression. For a 2-layer net with hidden units
# $h_j = \sum_i w^h_{ij} x_i + b^h_j$ and output $o = \sum_j w^o_j h_j + b^o$:
#
# $$ o = \sum_i \Big(\sum_j w^o_j w^h_{ij}\Big) x_i + \Big(\sum_j w^o_j b^h_j + b^o\Big)
#      = \sum_i w'_i x_i + b' . $$
#
# In matrix form (PyTorch's layout, `weight` is out × in): $W' = W_o W_h$, $b' = W_o b_h + b_o$;
# for more layers, multiply on. We train a linear net on the two moons, build the single
# `Linear(2, 1)` with $W', b'$, and compare predictions. Depth buys nothing: a logistic
# regression trained directly does as well.

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


# %%
def linear_stack(depth: int, hidden: int = 8) -> nn.Sequential:
    """``depth`` Linear layers 2 -> hidden -> ... -> 1 with nothing in between."""
    sizes = [2] + [hidden] * (depth - 1) + [1]
    return nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])


def collapse(stack: nn.Sequential) -> nn.Linear:
    """The single Linear layer equal to the stack: W' = W_L ... W_1, b' folded through."""
    w = stack[0].weight.detach().numpy()
    b = stack[0].bias.detach().numpy()
    for layer in list(stack)[1:]:
        w = layer.weight.detach().numpy() @ w
        b = layer.weight.detach().numpy() @ b + layer.bias.detach().numpy()
    single = nn.Linear(w.shape[1], w.shape[0])
    with cr.no_grad():
        single.weight.copy_(cr.tensor(w))
        single.bias.copy_(cr.tensor(b))
    return single


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int) -> None:
    xs, ys = cr.tensor(x), cr.tensor(y.astype(np.float32)[:, None])
    optimizer = cr.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(xs), ys).backward()
        optimizer.step()


def logits(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with cr.no_grad():
        return model(cr.tensor(x)).numpy()[:, 0]


# %% [markdown]
# Train a 2-layer and a 5-layer linear net, collapse each, and compare the logits on every
# training point; then train a logistic regression directly.


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    steps = 500 if quick else 1500
    x, y = datasets.moons(300, noise=0.1, seed=seed)
    cr.manual_seed(seed)
    results = {"seed": seed}
    for depth in (2, 5):
        stack = linear_stack(depth)
        train(stack, x, y, steps)
        single = collapse(stack)
        deep, flat = logits(stack, x), logits(single, x)
        results[f"max_logit_diff_{depth}"] = float(np.abs(deep - flat).max())
        results[f"max_logit_{depth}"] = float(np.abs(deep).max())
        results[f"same_class_{depth}"] = float(((deep > 0) == (flat > 0)).mean())
        results[f"accuracy_linear_{depth}"] = float(((deep > 0) == y).mean())
        results[f"collapsed_w_{depth}"] = single.weight.detach().numpy()[0].tolist()
        results[f"collapsed_b_{depth}"] = float(single.bias.detach().numpy()[0])
        results[f"logits_deep_{depth}"] = deep.tolist()
        results[f"logits_collapsed_{depth}"] = flat.tolist()
    logistic = nn.Linear(2, 1)
    train(logistic, x, y, steps)
    results["accuracy_logistic"] = float(((logits(logistic, x) > 0) == y).mean())
    results["logistic_w"] = logistic.weight.detach().numpy()[0].tolist()
    results["logistic_b"] = float(logistic.bias.detach().numpy()[0])
    return results


# %% [markdown]
# The figure draws the three boundaries $w^\top x + b = 0$ over the data: the 2-layer and 5-layer
# nets after collapsing them, and the logistic regression. All three are straight lines. On the
# right, each training point's logit from the stack against the collapsed layer's.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    x, y = datasets.moons(300, noise=0.1, seed=results["seed"])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1.5, 1]})
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", s=12, edgecolors="k", linewidths=0.4)
    xs = np.linspace(x[:, 0].min() - 0.3, x[:, 0].max() + 0.3, 2)
    lines = [
        ("2 linear layers, collapsed", results["collapsed_w_2"], results["collapsed_b_2"], "-", "C0"),
        ("5 linear layers, collapsed", results["collapsed_w_5"], results["collapsed_b_5"], "--", "C2"),
        ("logistic regression", results["logistic_w"], results["logistic_b"], ":", "k"),
    ]
    for label, (w0, w1), b, style, colour in lines:
        ax.plot(xs, -(w0 * xs + b) / w1, style, color=colour, lw=2, label=label)
    ax.set_ylim(x[:, 1].min() - 0.3, x[:, 1].max() + 0.3)
    ax.set_title(
        f"every linear stack is a line: accuracy {results['accuracy_linear_2']:.3f} (2 layers), "
        f"{results['accuracy_linear_5']:.3f} (5), {results['accuracy_logistic']:.3f} (logistic)",
        fontsize=9,
    )
    ax.legend(loc="lower left", fontsize=8)
    for depth, marker in ((2, "o"), (5, "x")):
        ax2.scatter(
            results[f"logits_deep_{depth}"],
            results[f"logits_collapsed_{depth}"],
            s=10,
            marker=marker,
            label=f"{depth} layers: max |diff| {results[f'max_logit_diff_{depth}']:.1e}",
        )
    ax2.set_xlabel("logit of the linear stack")
    ax2.set_ylabel("logit of the one collapsed Linear(2, 1)")
    ax2.set_title("same predictions, point by point", fontsize=9)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_dir) / "02_linear_collapse.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    keys = [
        "max_logit_diff_2",
        "max_logit_2",
        "max_logit_diff_5",
        "max_logit_5",
        "accuracy_linear_2",
        "accuracy_linear_5",
        "accuracy_logistic",
    ]
    rows = [run(seed=s) for s in range(3)]
    print(f"{'seed':>4} " + " ".join(f"{k:>18}" for k in keys))
    for r in rows:
        print(f"{r['seed']:>4} " + " ".join(f"{r[k]:>18.4g}" for k in keys))
    for p in plot(rows[0], out):
        print("wrote", p)
