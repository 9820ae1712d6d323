# %% [markdown]
# # Data normalisation
#
# **Claim.** When input features live on very different scales, the loss surface is a long,
# narrow valley: gradient descent must use a learning rate small enough for the steep direction
# and then crawls along the flat one. Standardising each feature, $x' = (x - \mu)/\sigma$, makes
# the valley round and gradient descent converges in a handful of steps.
#
# For linear regression with the mean squared error $L(w) = \frac1n \lVert Xw - y\rVert^2$ the
# Hessian is $H = \frac2n X^\top X$. Gradient descent is stable for $\eta < 2/\lambda_\max$ and,
# at its best rate, needs on the order of $\kappa = \lambda_\max / \lambda_\min$ (the condition
# number) steps per digit of accuracy.

# %%
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import transforms


def make_data(seed: int, n: int = 200):
    """Two correlated features (ρ = 0.5) on scales 1 and 100, a linear target plus noise."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=n)
    x = z * np.array([1.0, 100.0])  # e.g. one feature in metres, the other in centimetres
    y = 1.5 * z[:, 0] - 2.0 * z[:, 1] + 0.1 * rng.standard_normal(n)
    x = x - x.mean(0)  # centred, so no bias is needed and the picture is two-dimensional
    return x.astype(np.float64), (y - y.mean()).astype(np.float64)


def hessian(x: np.ndarray) -> np.ndarray:
    return 2 * x.T @ x / len(x)


def gradient_descent(x, y, lr: float, max_steps: int, tol: float):
    """Full-batch GD with cr.optim.SGD on a bias-free Linear(2, 1); steps until the loss is
    within ``tol`` (relative) of the least-squares optimum, and the path of the weights."""
    w_best = np.linalg.lstsq(x, y, rcond=None)[0]
    best = float(np.mean((x @ w_best - y) ** 2))
    model = nn.Linear(2, 1, bias=False).double()
    with cr.no_grad():
        model.weight.zero_()
    optimizer = cr.optim.SGD(model.parameters(), lr=lr)
    xs, ys = cr.tensor(x), cr.tensor(y[:, None])
    path, reached = [model.weight.detach().numpy()[0].copy()], None
    for step in range(1, max_steps + 1):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xs), ys)
        loss.backward()
        optimizer.step()
        path.append(model.weight.detach().numpy()[0].copy())
        if loss.item() <= best * (1 + tol):
            reached = step
            break
    return reached, np.array(path), w_best


# %% [markdown]
# Both runs use gradient descent at its best constant rate for the surface, $\eta = 1/\lambda_\max$,
# starting from $w = 0$, and stop when the loss is within 1% of the optimum.


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    x, y = make_data(seed)
    scale = transforms.Standardize().fit(x)
    results = {"seed": seed}
    for name, features in (("raw", x), ("standardised", scale(x))):
        eig = np.linalg.eigvalsh(hessian(features))
        lr = 1 / eig[-1]
        steps, path, w_best = gradient_descent(features, y, lr, 2000 if quick else 100_000, tol=0.01)
        results[name] = {
            "condition_number": float(eig[-1] / eig[0]),
            "lr": float(lr),
            "steps_to_converge": steps,
            "path": path[:: max(1, len(path) // 500)].tolist() + [path[-1].tolist()],
            "w_best": w_best.tolist(),
        }
    return results


# %% [markdown]
# The figure: the loss over $(w_1, w_2)$ for raw and for standardised features, each with the
# gradient-descent path from $w = 0$. On raw features the contours are so stretched that they
# look like parallel lines; the path zig-zags down the steep wall, then creeps along the valley.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    x, y = make_data(results["seed"])
    scale = transforms.Standardize().fit(x)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, (name, features) in zip(axes, (("raw", x), ("standardised", scale(x)))):
        r = results[name]
        path, w_best = np.array(r["path"]), np.array(r["w_best"])
        lo = np.minimum(path.min(0), w_best)
        hi = np.maximum(path.max(0), w_best)
        pad = np.maximum((hi - lo) * 0.15, 0.05 * np.abs(w_best).max())
        g1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200)
        g2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200)
        w1, w2 = np.meshgrid(g1, g2)
        pred = features[:, 0, None, None] * w1 + features[:, 1, None, None] * w2
        loss = ((pred - y[:, None, None]) ** 2).mean(0)
        ax.contour(w1, w2, np.log10(loss), 30, cmap="viridis")
        ax.plot(path[:, 0], path[:, 1], "r.-", ms=3, lw=0.8, label="gradient descent")
        ax.plot(*w_best, "k*", ms=12, label="optimum")
        steps = r["steps_to_converge"]
        ax.set_title(
            f"{name} features: κ = {r['condition_number']:.3g}, "
            f"{steps if steps else '> cap'} steps at lr = 1/λmax",
            fontsize=10,
        )
        ax.set_xlabel("w1")
        ax.set_ylabel("w2")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_dir) / "09_data_normalization.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# %% [markdown]
# The full run: three seeds (three data sets); the figure shows seed 0.

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    rows = [run(seed=s) for s in range(3)]
    print("condition number of the Hessian, learning rate 1/λmax, steps to within 1% of the optimum")
    for r in rows:
        for name in ("raw", "standardised"):
            c = r[name]
            print(
                f"  seed {r['seed']} {name:>12}: κ {c['condition_number']:10.4g}  lr {c['lr']:.3g}  "
                f"steps {c['steps_to_converge']}"
            )
    for p in plot(rows[0], out):
        print("wrote", p)
