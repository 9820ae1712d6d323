# %% [markdown]
# # Lesson 16: domain adaptation by gradient reversal (DANN)
#
# **Claim.** A classifier trained on labelled *source* images does badly on a shifted *target*
# domain (here: the same kind of digits, colour-inverted, or with a noisy background), for which
# we have images but no labels.  Add a *domain classifier* that tries to tell source features
# from target features, connected to the feature extractor through a gradient-reversal layer:
# the domain classifier learns to discriminate, while the reversed gradient trains the features
# to make the domains indistinguishable.  Features that carry no trace of the domain but still
# separate the source classes transfer to the target: target accuracy goes up.
#
# With features $f$, label head $c$, domain head $d$ and $R_\alpha$ the gradient reversal
# ($R_\alpha(h) = h$ forward, $\partial R_\alpha / \partial h = -\alpha I$ backward), one loss is minimised:
# $L = \mathrm{CE}\big(c(f(x_s)), y_s\big) + \mathrm{BCE}\big(d(R_\alpha(f(x))), \text{domain}(x)\big)$,
# with $\alpha$ ramped from 0 to 1 as $\alpha_p = 2/(1+e^{-10p}) - 1$ over training progress $p$
# (Ganin & Lempitsky, 2015).

# %%
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

SHIFTS = ("inverted", "noisy background")


def shift(x: np.ndarray, kind: str, rng) -> np.ndarray:
    """The target domain: colour-inverted digits, or digits on a random-noise background."""
    if kind == "inverted":
        return (1.0 - x).astype(np.float32)
    noise = rng.random(x.shape).astype(np.float32)
    return np.maximum(x, noise)


def load(seed: int, kind: str):
    """Source: half of the training digits, labelled.  Target: the other half, shifted, labels
    unused.  Test: the held-out 20 %, shifted (and, for reference, unshifted)."""
    x, y = cr.data.datasets.digits()
    x = x.reshape(len(x), -1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_test = len(x) // 5
    test, rest = order[:n_test], order[n_test:]
    src, tgt = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    return {
        "xs": x[src], "ys": y[src], "xt": shift(x[tgt], kind, rng),
        "x_test_t": shift(x[test], kind, rng), "x_test_s": x[test], "y_test": y[test],
    }  # fmt: skip


class DANN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.label = nn.Linear(64, 10)
        self.reverse = nn.GradientReversal(alpha=0.0)
        self.domain = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))


# %% [markdown]
# One training loop; `adapt=False` drops the domain term (source-only training).
# Each step sees a batch of labelled source images and a batch of unlabelled target images.


# %%
def train(model: DANN, data: dict, epochs: int, adapt: bool, seed: int, batch: int = 32) -> None:
    rng = np.random.default_rng(seed)
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys, xt = data["xs"], data["ys"], data["xt"]
    steps_per_epoch = len(xs) // batch
    total = epochs * steps_per_epoch
    domain_labels = cr.tensor(np.r_[np.zeros(batch), np.ones(batch)].astype(np.float32)[:, None])
    for step in range(total):
        if step % steps_per_epoch == 0:
            order_s, order_t = rng.permutation(len(xs)), rng.permutation(len(xt))
        i = (step % steps_per_epoch) * batch
        bs, bt = order_s[i : i + batch], order_t[i : i + batch]
        f = model.features(cr.tensor(np.concatenate([xs[bs], xt[bt]])))
        loss = nn.functional.cross_entropy(model.label(f[:batch]), cr.tensor(ys[bs]))
        if adapt:
            model.reverse.alpha = 2.0 / (1.0 + np.exp(-10.0 * step / total)) - 1.0
            logits = model.domain(model.reverse(f))
            loss = loss + nn.functional.binary_cross_entropy_with_logits(logits, domain_labels)
        opt.zero_grad()
        loss.backward()
        opt.step()


def features(model: DANN, x) -> np.ndarray:
    with cr.no_grad():
        return model.features(cr.tensor(x)).numpy()


def accuracy(model: DANN, x, y) -> float:
    with cr.no_grad():
        return float((model.label(model.features(cr.tensor(x))).argmax(1).numpy() == y).mean())


def domain_gap(model: DANN, data: dict) -> float:
    """How separable the two domains are in feature space: test accuracy of a fresh logistic
    regression telling source test features from target test features (0.5 = indistinguishable)."""
    fs, ft = features(model, data["x_test_s"]), features(model, data["x_test_t"])
    f = np.concatenate([fs, ft])
    mu, sd = f.mean(0), f.std(0) + 1e-6
    d = np.r_[np.zeros(len(fs)), np.ones(len(ft))].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(f))
    half = len(f) // 2
    a, b = cr.tensor(((f - mu) / sd)[order[:half]]), cr.tensor(((f - mu) / sd)[order[half:]])
    clf = nn.Linear(f.shape[1], 2)
    opt = cr.optim.Adam(clf.parameters(), lr=1e-2)
    for _ in range(200):
        loss = nn.functional.cross_entropy(clf(a), cr.tensor(d[order[:half]]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with cr.no_grad():
        return float((clf(b).argmax(1).numpy() == d[order[half:]]).mean())


# %% [markdown]
# Source-only against DANN, for each kind of shift.


# %%
def run(quick: bool = False, seed: int = 0, shifts=SHIFTS) -> dict:
    epochs = 15 if quick else 60
    out: dict = {"shifts": list(shifts)}
    for kind in shifts:
        data = load(seed, kind)
        res = {}
        for name, adapt in (("source only", False), ("DANN", True)):
            cr.manual_seed(seed)
            model = DANN()
            train(model, data, epochs, adapt, seed)
            res[name] = {
                "target_accuracy": accuracy(model, data["x_test_t"], data["y_test"]),
                "source_accuracy": accuracy(model, data["x_test_s"], data["y_test"]),
                "domain_gap": domain_gap(model, data),
            }
            if not quick:
                res[name]["features_s"] = features(model, data["x_test_s"][:200]).tolist()
                res[name]["features_t"] = features(model, data["x_test_t"][:200]).tolist()
        out[kind] = res
    return out


# %% [markdown]
# Figure: the features of 200 source and 200 target test digits, projected on their first two
# principal components, before (source only) and after (DANN).


# %%
def plot(results: dict, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shifts = results["shifts"]
    fig, axes = plt.subplots(len(shifts), 2, figsize=(10, 4.6 * len(shifts)), squeeze=False)
    for r, kind in enumerate(shifts):
        for c, name in enumerate(("source only", "DANN")):
            res = results[kind][name]
            fs, ft = np.asarray(res["features_s"]), np.asarray(res["features_t"])
            f = np.concatenate([fs, ft])
            mu = f.mean(0)
            _, _, vt = np.linalg.svd(f - mu, full_matrices=False)
            ps, pt = (fs - mu) @ vt[:2].T, (ft - mu) @ vt[:2].T
            ax = axes[r, c]
            ax.scatter(*ps.T, s=10, alpha=0.6, label="source (labelled)")
            ax.scatter(*pt.T, s=10, alpha=0.6, marker="x", label=f"target ({kind}, no labels)")
            ax.set_title(
                f"{kind}, {name}: target accuracy {res['target_accuracy']:.1%}\n"
                f"domain classifier on the features: {res['domain_gap']:.1%}",
                fontsize=10,
            )
            ax.set_xticks([])
            ax.set_yticks([])
            ax.legend(fontsize=8, loc="best")
    fig.suptitle("features of both domains, first two principal components")
    fig.tight_layout()
    path = out_dir / "16_domain_adaptation.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    seeds = (0, 1, 2)
    runs = [run(quick="--quick" in sys.argv, seed=s) for s in seeds]
    print(f"mean over seeds {seeds} (per seed in brackets)")
    print("| shift | method | target accuracy | source accuracy | domain classifier accuracy |")
    print("|---|---|---|---|---|")
    for kind in SHIFTS:
        for name in ("source only", "DANN"):

            def cell(key, kind=kind, name=name):
                v = [r[kind][name][key] for r in runs]
                return f"{np.mean(v):.3f} ({', '.join(f'{a:.2f}' for a in v)})"

            print(
                f"| {kind} | {name} | {cell('target_accuracy')} | {cell('source_accuracy')} | "
                f"{cell('domain_gap')} |"
            )
    for p in plot(runs[0], Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
