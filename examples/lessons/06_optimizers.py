# %% [markdown]
# # Optimizers
#
# **Claim.** Plain gradient descent crawls along narrow valleys; momentum and Nesterov build up
# speed along them; adaptive methods scale each coordinate by its gradient history. Adagrad's
# history only grows, so its step size fades like $1/\sqrt{t}$; RMSprop, Adadelta, Adam, AdaMax
# and NAdam use a moving average instead and keep moving. A decaying learning rate (step,
# exponential, cosine) ends lower than a constant one.
#
# | optimizer | update (g: gradient) |
# |---|---|
# | SGD | $\theta \gets \theta - \eta g$ |
# | momentum | $v \gets \mu v + g$, $\theta \gets \theta - \eta v$ |
# | Nesterov | $v \gets \mu v + g$, $\theta \gets \theta - \eta (g + \mu v)$ |
# | Adagrad | $G \gets G + g^2$, $\theta \gets \theta - \eta g / (\sqrt G + \epsilon)$ |
# | RMSprop | $s \gets \alpha s + (1-\alpha) g^2$, $\theta \gets \theta - \eta g / (\sqrt s+\epsilon)$ |
# | Adadelta | RMSprop with $\eta$ replaced by the RMS of past updates |
# | Adam | avg. $\hat m, \hat v$ of $g, g^2$; $\theta \gets \theta - \eta \hat m/(\sqrt{\hat v}+\epsilon)$ |
# | AdaMax | Adam with $\sqrt{\hat v}$ replaced by $\max(\beta_2 u, \lvert g\rvert)$ |
# | NAdam | Adam with a Nesterov look-ahead on $m$ |

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

OPTIMIZERS = {
    "SGD": (cr.optim.SGD, {}),
    "momentum": (cr.optim.SGD, {"momentum": 0.9}),
    "Nesterov": (cr.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "Adagrad": (cr.optim.Adagrad, {}),
    "Adadelta": (cr.optim.Adadelta, {}),
    "RMSprop": (cr.optim.RMSprop, {}),
    "Adam": (cr.optim.Adam, {}),
    "AdaMax": (cr.optim.Adamax, {}),
    "NAdam": (cr.optim.NAdam, {}),
}


# %% [markdown]
# ## Two test surfaces
#
# Rosenbrock, $f = (1-x)^2 + 100(y-x^2)^2$: a curved, very narrow valley with its minimum at
# (1, 1). Beale, $f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2$: flat
# plateaus and steep walls, minimum at (3, 0.5). The point $(x, y)$ is a 2-vector parameter and
# the optimizers are the real `cr.optim` ones; each gets the learning rate, from a grid, that
# ends lowest.


# %%
def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


SURFACES = {
    "Rosenbrock": (rosenbrock, (-1.2, 1.0), (1.0, 1.0)),
    "Beale": (beale, (1.0, 1.5), (3.0, 0.5)),
}


def descend(f, start, make, lr, steps):
    """The path of an optimizer from ``start``, and its effective step size |Δθ|/|g| per step."""
    p = cr.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = make([p], lr)
    path, effective = [p.detach().numpy().copy()], []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            optimizer.zero_grad()
            f(p).backward()
            g = np.linalg.norm(p.grad.numpy())
            optimizer.step()
            path.append(p.detach().numpy().copy())
            effective.append(float(np.linalg.norm(path[-1] - path[-2]) / max(g, 1e-300)))
            if not np.all(np.isfinite(path[-1])) or np.abs(path[-1]).max() > 1e6:
                break
    return np.array(path), effective


def best_path(f, start, name, lrs, steps):
    cls, options = OPTIMIZERS[name]
    best = None
    for lr in lrs:
        path, effective = descend(f, start, lambda params, lr: cls(params, lr=lr, **options), lr, steps)
        with cr.no_grad():
            end = f(cr.tensor(path[-1])).item() if np.all(np.isfinite(path[-1])) else float("inf")
        if np.isfinite(end) and (best is None or end < best[0]):
            best = (end, lr, path, effective)
    return best


# %% [markdown]
# ## A network
#
# A 1-hidden-layer MLP (128 ReLU units) on MNIST (full run: 10 000 training images) or the 8x8
# digits (quick run), the same initial weights and mini-batches for every optimizer, each at its
# usual learning rate. Then SGD with momentum under four learning-rate schedules.

# %%
NET_LRS = {
    "SGD": 0.1,
    "momentum": 0.01,
    "Nesterov": 0.01,
    "Adagrad": 0.01,
    "Adadelta": 1.0,
    "RMSprop": 1e-3,
    "Adam": 1e-3,
    "AdaMax": 2e-3,
    "NAdam": 2e-3,
}


def load_data(quick: bool, seed: int):
    rng = np.random.default_rng(seed)
    if quick:
        x, y = datasets.digits()
        order = rng.permutation(len(x))
        x, y = x[order].reshape(len(x), -1), y[order]
        (x, y), (xt, yt) = (x[:1400], y[:1400]), (x[1400:], y[1400:])
    else:
        (x, y), (xt, yt) = datasets.mnist()
        i, j = rng.permutation(len(x))[:10000], rng.permutation(len(xt))[:2000]
        (x, y), (xt, yt) = (x[i].reshape(len(i), -1), y[i]), (xt[j].reshape(len(j), -1), yt[j])
    mean, std = x.mean(), x.std()
    return ((x - mean) / std, y), ((xt - mean) / std, yt)


def train(data, make_optimizer, epochs, seed, make_scheduler=None, batch_size=64):
    (x, y), (xt, yt) = data
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = make_optimizer(model.parameters())
    scheduler = make_scheduler(optimizer) if make_scheduler else None
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
        if scheduler:
            scheduler.step()
        with cr.no_grad():
            losses.append(loss_fn(model(cr.tensor(x)), cr.tensor(y)).item())
    with cr.no_grad():
        accuracy = float((model(cr.tensor(xt)).numpy().argmax(1) == yt).mean())
    return losses, accuracy


def schedules(epochs: int) -> dict:
    sched = cr.optim.lr_scheduler
    return {
        "constant": None,
        "step (x0.1 every third)": lambda o: sched.StepLR(o, step_size=max(1, epochs // 3), gamma=0.1),
        "exponential (to x0.01)": lambda o: sched.ExponentialLR(o, gamma=0.01 ** (1 / epochs)),
        "cosine": lambda o: sched.CosineAnnealingLR(o, T_max=epochs),
    }


# %%
def run(quick: bool = False, seed: int = 0, surfaces: bool = True) -> dict:
    """``surfaces=False`` skips the (deterministic) surfaces: the full run needs them once."""
    steps = 200 if quick else 1000
    lrs = [1e-3, 1e-1] if quick else [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
    results = {"seed": seed, "surfaces": {}}
    for surface, (f, start, optimum) in SURFACES.items() if surfaces else ():
        for name in OPTIMIZERS:
            end, lr, path, effective = best_path(f, start, name, lrs, steps)
            results["surfaces"][f"{surface} {name}"] = {
                "lr": lr,
                "final_value": end,
                "distance_to_minimum": float(np.linalg.norm(path[-1] - np.array(optimum))),
                "path": path[:: max(1, len(path) // 400)].tolist(),
                "effective_lr": effective,
            }
    data = load_data(quick, seed)
    epochs = 2 if quick else 6
    results["net"] = {}
    for name, (cls, options) in OPTIMIZERS.items():
        lr = NET_LRS[name]
        losses, acc = train(data, lambda params, c=cls, k=options, r=lr: c(params, lr=r, **k), epochs, seed)
        results["net"][name] = {"losses": losses, "test_accuracy": acc}
    results["schedules"] = {}
    decay_epochs = 4 if quick else 10
    for name, make in schedules(decay_epochs).items():
        losses, acc = train(
            data, lambda params: cr.optim.SGD(params, lr=0.05, momentum=0.9), decay_epochs, seed, make
        )
        results["schedules"][name] = {"losses": losses, "test_accuracy": acc}
    return results


# %% [markdown]
# The figures: the paths on both surfaces over their contours, Adagrad's fading effective step
# size next to RMSprop's and Adam's, and the loss curves of the network.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    out_dir = Path(out_dir)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    grids = {"Rosenbrock": ((-2, 2), (-1, 3)), "Beale": ((-0.5, 4.5), (-1.5, 2.0))}
    for ax, (surface, (f, start, optimum)) in zip(axes[:2], SURFACES.items()):
        (x0, x1), (y0, y1) = grids[surface]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
        z = f(np.stack([gx, gy]))
        ax.contour(gx, gy, np.log10(z + 1e-3), 25, cmap="Greys", linewidths=0.6)
        for name in OPTIMIZERS:
            r = results["surfaces"][f"{surface} {name}"]
            path = np.array(r["path"])
            ax.plot(path[:, 0], path[:, 1], "-", lw=1.4, label=f"{name} (lr {r['lr']:g})")
        ax.plot(*start, "ko", ms=6)
        ax.plot(*optimum, "r*", ms=14)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(f"{surface}: each optimizer at its best learning rate", fontsize=10)
        ax.legend(fontsize=7, loc="upper left" if surface == "Rosenbrock" else "lower right")
    ax = axes[2]
    for name in ("Adagrad", "RMSprop", "Adam"):
        r = results["surfaces"][f"Rosenbrock {name}"]
        ax.loglog(
            np.arange(1, len(r["effective_lr"]) + 1), r["effective_lr"], label=f"{name} (lr {r['lr']:g})"
        )
    t = np.arange(1, len(results["surfaces"]["Rosenbrock Adagrad"]["effective_lr"]) + 1)
    first = results["surfaces"]["Rosenbrock Adagrad"]["effective_lr"][0]
    ax.loglog(t, first / np.sqrt(t), "k:", label="∝ 1/√t (Adagrad under a constant gradient)")
    ax.set_xlabel("step")
    ax.set_ylabel("|Δθ| / |g|  (effective step size)")
    ax.set_title("Adagrad's step size fades; moving averages do not", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths = [out_dir / "06_optimizers.png"]
    fig.savefig(paths[0], dpi=100)
    plt.close(fig)

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.3))
    for name, r in results["net"].items():
        ax.semilogy(np.arange(1, len(r["losses"]) + 1), r["losses"], "o-", ms=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("784-128-10 MLP, same start and batches for each optimizer", fontsize=10)
    ax.legend(fontsize=8, ncol=2)
    for name, r in results["schedules"].items():
        label = f"{name}: test acc {r['test_accuracy']:.3f}"
        ax2.semilogy(np.arange(1, len(r["losses"]) + 1), r["losses"], "o-", ms=3, label=label)
    ax2.set_xlabel("epoch")
    ax2.set_title("SGD + momentum (lr 0.05) under four schedules", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "06_optimizers_net.png")
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths


# %% [markdown]
# The full run: the surfaces are deterministic (run once); the network part runs over three seeds
# on MNIST.

# %%
if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path.cwd().parents[1]
    out = here / "docs" / "lessons" / "images"
    out.mkdir(parents=True, exist_ok=True)
    rows = [run(seed=s, surfaces=s == 0) for s in range(3)]
    print("surfaces: best lr, final f, distance to the minimum (1000 steps)")
    for key, r in rows[0]["surfaces"].items():
        print(
            f"  {key:>20}: lr {r['lr']:<7g} f {r['final_value']:10.3g} dist {r['distance_to_minimum']:8.3g}"
        )
    adagrad = rows[0]["surfaces"]["Rosenbrock Adagrad"]["effective_lr"]
    print(
        f"  Adagrad effective step on Rosenbrock: step 1 {adagrad[0]:.3g}, step 100 {adagrad[99]:.3g}, "
        f"last {adagrad[-1]:.3g}"
    )
    print("network: final training loss and test accuracy per seed")
    for name in OPTIMIZERS:
        cells = [f"{r['net'][name]['losses'][-1]:.4f} {r['net'][name]['test_accuracy']:.3f}" for r in rows]
        print(f"  {name:>10}: " + " | ".join(cells))
    print("schedules: final training loss and test accuracy per seed")
    for n in rows[0]["schedules"]:
        cells = [
            f"{r['schedules'][n]['losses'][-1]:.4f} {r['schedules'][n]['test_accuracy']:.3f}" for r in rows
        ]
        print(f"  {n:>24}: " + " | ".join(cells))
    for p in plot(rows[0], out):
        print("wrote", p)
