"""A small regression problem built from raw tensors, set up identically in chainrule and PyTorch.

``Pair(seed)`` holds a 3-4-2 tanh MLP (weights, biases) and a data set, as float64 cr tensors and
torch tensors with the same values; ``pair.loss_cr()`` / ``pair.loss_torch()`` compute the MSE loss.
``run_pair`` trains both with the given optimizers and compares parameters after every step.
"""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr

SHAPES = [(3, 4), (4,), (4, 2), (2,)]


class Pair:
    def __init__(self, seed: int = 0, n: int = 16):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, 3))
        self.y = np.stack([np.sin(self.x[:, 0]) + self.x[:, 1], self.x[:, 2] * self.x[:, 0]], axis=1)
        self.init = [rng.normal(scale=0.5, size=s) for s in SHAPES]
        self.cr_params = [cr.tensor(w, dtype=cr.float64, requires_grad=True) for w in self.init]
        self.torch_params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in self.init]
        self.cx, self.cy = cr.tensor(self.x), cr.tensor(self.y)
        self.tx, self.ty = torch.tensor(self.x), torch.tensor(self.y)

    def loss_cr(self):
        w1, b1, w2, b2 = self.cr_params
        out = cr.tanh(self.cx @ w1 + b1) @ w2 + b2
        return ((out - self.cy) ** 2).mean()

    def loss_torch(self):
        w1, b1, w2, b2 = self.torch_params
        out = torch.tanh(self.tx @ w1 + b1) @ w2 + b2
        return ((out - self.ty) ** 2).mean()

    def train_step(self, opt_cr, opt_torch, which=None):
        """One zero_grad/forward/backward/step in both frameworks (``which``: params given a grad)."""
        opt_cr.zero_grad()
        opt_torch.zero_grad()
        self.loss_cr().backward()
        self.loss_torch().backward()
        if which is not None:  # drop the gradients of the others (as if unused in this pass)
            for i, (pc, pt) in enumerate(zip(self.cr_params, self.torch_params)):
                if i not in which:
                    pc.grad, pt.grad = None, None
        opt_cr.step()
        opt_torch.step()

    def assert_same(self, where: str = "", rtol: float = 1e-7, atol: float = 1e-12):
        for i, (pc, pt) in enumerate(zip(self.cr_params, self.torch_params)):
            np.testing.assert_allclose(
                pc._data, pt.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"parameter {i} differs {where}"
            )

    def assert_moved(self):
        moved = max(np.abs(pc._data - w).max() for pc, w in zip(self.cr_params, self.init))
        assert moved > 1e-3, f"the parameters barely moved ({moved}): the comparison would prove nothing"


def run_pair(make_cr, make_torch, steps: int = 30, seed: int = 0) -> Pair:
    """Train the same model with ``make_cr(params)`` and ``make_torch(params)``, comparing every step."""
    pair = Pair(seed)
    opt_cr, opt_torch = make_cr(pair.cr_params), make_torch(pair.torch_params)
    for step in range(steps):
        pair.train_step(opt_cr, opt_torch)
        pair.assert_same(f"after step {step + 1}")
    pair.assert_moved()
    return pair
