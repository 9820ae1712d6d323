"""MLP training steps: chainrule vs PyTorch vs the same step hand-written in NumPy.

1. ``mlp_tiny``: 2-8-8-1 tanh MLP, batch 32, MSE loss, Adam — dominated by per-op overhead.
2. ``mlp_mnist``: 784-512-256-10 ReLU MLP, batch 128, cross-entropy, hand-written SGD
   (``w -= lr · grad`` in each framework) — dominated by the matrix products; and the same
   with each framework's Adam.

The NumPy version has a manual backward: the floor any NumPy engine can reach.
All three start from the same weights.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.bench import limit
from chainrule.bench.timing import interleaved, row, torch_or_none

LR = 0.01


def _weights(sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        out.append(
            (
                rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                rng.uniform(-bound, bound, fan_out).astype(np.float32),
            )
        )
    return out


def _mlp(lib, weights, activation: str):
    """The same MLP in ``lib`` (chainrule or torch: same names and parameter layout), with ``weights``."""
    nn = lib.nn
    layers = []
    for w, _ in weights:
        layers += [nn.Linear(w.shape[1], w.shape[0]), getattr(nn, activation)()]
    model = nn.Sequential(*layers[:-1])  # no activation after the last layer
    state = {}
    for i, (w, b) in enumerate(weights):
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = lib.tensor(w), lib.tensor(b)
    model.load_state_dict(state)
    return model


# ------------------------------------------------------------------ 1. tiny tanh MLP + Adam


def _tiny_step(lib, weights, x, y):
    """One training step of the tiny MLP with the framework's own MSE loss and Adam."""
    model = _mlp(lib, weights, "Tanh")
    opt = lib.optim.Adam(model.parameters(), lr=LR)
    loss_fn = lib.nn.MSELoss()
    xt, yt = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def _tiny_numpy(weights, x, y):
    params = [a.copy() for wb in weights for a in wb]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0]
    b1, b2, eps = 0.9, 0.999, 1e-8

    def step():
        w1, b1_, w2, b2_, w3, b3 = params
        h1 = np.tanh(x @ w1.T + b1_)
        h2 = np.tanh(h1 @ w2.T + b2_)
        out = h2 @ w3.T + b3
        diff = out - y
        loss = float((diff * diff).mean())
        g = diff * (2.0 / diff.size)
        grads = [None] * 6
        grads[4], grads[5] = g.T @ h2, g.sum(0)
        g = (g @ w3) * (1 - h2 * h2)
        grads[2], grads[3] = g.T @ h1, g.sum(0)
        g = (g @ w2) * (1 - h1 * h1)
        grads[0], grads[1] = g.T @ x, g.sum(0)
        t[0] += 1
        c1, c2 = 1 - b1 ** t[0], 1 - b2 ** t[0]
        for p, gp, mp, vp in zip(params, grads, m, v):
            mp *= b1
            mp += (1 - b1) * gp
            vp *= b2
            vp += (1 - b2) * gp * gp
            p -= (LR / c1) * mp / (np.sqrt(vp) / np.sqrt(c2) + eps)
        return loss

    return step


def bench_tiny(samples: int) -> dict:
    """Time a training step of the tiny tanh MLP: chainrule, PyTorch, hand-written NumPy."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 2)).astype(np.float32)
    y = rng.standard_normal((32, 1)).astype(np.float32)
    weights = _weights([2, 8, 8, 1])
    steps = {"chainrule": _tiny_step(cr, weights, x, y), "numpy": _tiny_numpy(weights, x, y)}
    torch = torch_or_none()
    if torch is not None:
        steps["torch"] = _tiny_step(torch, weights, x, y)
    r = row("mlp_tiny 2-8-8-1 tanh, batch 32, Adam", interleaved(steps, samples, reps=50, pause=0.05))
    return limit.annotate(r, _train_flops(32, [2, 8, 8, 1]))


def _train_flops(batch: int, sizes: list[int]) -> float:
    fwd = [limit.linear_flops(batch, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    return limit.train_flops(sum(fwd), fwd[0])


# ------------------------------------------------------------------ 2. 784-512-256-10 ReLU MLP, SGD


def _big_step(lib, weights, x, labels):
    """One training step of the 784-512-256-10 MLP: cross-entropy, then w -= lr · grad by hand."""
    model = _mlp(lib, weights, "ReLU")
    params = list(model.parameters())
    xt, yt = lib.tensor(x), lib.tensor(labels)

    def step():
        for p in params:
            p.grad = None
        loss = lib.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss

    return step


def _big_numpy(weights, x, labels, adam: bool = False):
    """The 784-512-256-10 step by hand: SGD, or with ``adam`` the textbook Adam update (lr 1e-3)."""
    params = [a.copy() for wb in weights for a in wb]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0]
    beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, 1e-3
    n = x.shape[0]
    onehot = np.zeros((n, 10), np.float32)
    onehot[np.arange(n), labels] = 1
    ones = np.ones(n, np.float32)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        z1 = x @ w1.T
        z1 += b1
        h1 = np.maximum(z1, 0, out=z1)
        z2 = h1 @ w2.T
        z2 += b2
        h2 = np.maximum(z2, 0, out=z2)
        logits = h2 @ w3.T
        logits += b3
        logits -= logits.max(1, keepdims=True)
        e = np.exp(logits)
        p = e / e.sum(1, keepdims=True)
        loss = -float(np.log(p[np.arange(n), labels]).mean())
        g = (p - onehot) * (1.0 / n)
        gw3, gb3 = g.T @ h2, ones @ g
        g = g @ w3
        g *= h2 > 0
        gw2, gb2 = g.T @ h1, ones @ g
        g = g @ w2
        g *= h1 > 0
        gw1, gb1 = g.T @ x, ones @ g
        grads = (gw1, gb1, gw2, gb2, gw3, gb3)
        if not adam:
            for param, grad in zip(params, grads):
                param -= LR * grad
            return loss
        t[0] += 1
        c1, c2 = 1 - beta1 ** t[0], 1 - beta2 ** t[0]
        for p, gp, mp, vp in zip(params, grads, m, v):
            mp *= beta1
            mp += (1 - beta1) * gp
            vp *= beta2
            vp += (1 - beta2) * gp * gp
            p -= (lr / c1) * mp / (np.sqrt(vp) / np.sqrt(c2) + eps)
        return loss

    return step


def bench_big(samples: int) -> dict:
    """Time a training step of the MNIST-sized ReLU MLP: chainrule, PyTorch, hand-written NumPy."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128).astype(np.int64)
    weights = _weights([784, 512, 256, 10])
    steps = {"chainrule": _big_step(cr, weights, x, labels), "numpy": _big_numpy(weights, x, labels)}
    torch = torch_or_none()
    if torch is not None:
        steps["torch"] = _big_step(torch, weights, x, labels)
    r = row("mlp_mnist 784-512-256-10 relu, batch 128, SGD", interleaved(steps, samples, reps=5))
    return limit.annotate(r, _train_flops(128, [784, 512, 256, 10]))


def _big_adam(lib, weights, x, labels):
    """One training step of the 784-512-256-10 MLP: cross-entropy and the framework's Adam."""
    model = _mlp(lib, weights, "ReLU")
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = lib.tensor(x), lib.tensor(labels)

    def step():
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def bench_big_adam(samples: int) -> dict:
    """The 784-512-256-10 MLP with Adam, against PyTorch and a hand-written NumPy twin."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128).astype(np.int64)
    weights = _weights([784, 512, 256, 10])
    steps = {
        "chainrule": _big_adam(cr, weights, x, labels),
        "numpy": _big_numpy(weights, x, labels, adam=True),
    }
    torch = torch_or_none()
    if torch is not None:
        steps["torch"] = _big_adam(torch, weights, x, labels)
    r = row("mlp_mnist 784-512-256-10 relu, batch 128, Adam", interleaved(steps, samples, reps=5))
    return limit.annotate(r, _train_flops(128, [784, 512, 256, 10]))


def run(samples: int = 30) -> list[dict]:
    """The MLP benchmarks: tiny with Adam, 784-512-256-10 with SGD and with Adam."""
    return [bench_tiny(samples), bench_big(samples), bench_big_adam(samples)]
