"""Random graphs of ops with in-place changes, views, shared subexpressions and double backward,
against PyTorch: the same values and gradients, or an error from both.

Each program runs twice, once on chainrule and once on torch, through the same step functions
(``lib`` is ``cr`` or ``torch``).  In-place steps change an input a later backward may read (a
float value under no_grad, an index, a mask or a condition); then either both libraries raise
(the change was caught) or both give the same gradients (backward never needed the old values).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from tests.helpers import assert_close

N = 6
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _unary(k, lib, x):
    return [lambda: x.exp() * 0.1, lambda: x.tanh(), lambda: x.sigmoid(), lambda: lib.relu(x), lambda: x * x][
        k
    ]()


def _index(lib, x, state):
    i = lib.tensor(state["perm"])
    state["ints"].append(i)
    return x[i]


def _mask(lib, x, state):
    m = lib.tensor(state["mask"])
    state["masks"].append(m)
    return x * 0.5 + (x[m] ** 2).sum()


def _where(lib, x, y, state):
    c = x > y
    state["masks"].append(c)
    return lib.where(c, x * y, y - x)


def _embedding(lib, x, state):
    idx = lib.tensor([p % 3 for p in state["perm"][:3]])
    state["ints"].append(idx)
    emb = lib.nn.functional.embedding(idx, x.reshape(3, 2))
    return (emb * emb).reshape(N)


def _run(lib, program, leaves_np, seed):
    rng = np.random.default_rng(seed)
    state = {
        "perm": rng.integers(0, N, N).tolist(),
        "mask": (rng.random(N) > 0.5).tolist(),
        "ints": [],
        "masks": [],
    }
    leaves = [lib.tensor(a, requires_grad=True) for a in leaves_np]
    values = list(leaves)
    for kind, i, j, k in program:
        x, y = values[i % len(values)], values[j % len(values)]
        if kind == "unary":
            values.append(_unary(k, lib, x))
        elif kind == "binary":
            values.append([x + y, x * y, x - y][k % 3])
        elif kind == "view":
            values.append(x.reshape(2, 3).reshape(N))
        elif kind == "index":
            values.append(_index(lib, x, state))
        elif kind == "mask":
            values.append(_mask(lib, x, state))
        elif kind == "where":
            values.append(_where(lib, x, y, state))
        elif kind == "embedding":
            values.append(_embedding(lib, x, state))
        elif kind == "mutate_value" and i % len(values) >= len(leaves):
            with lib.no_grad():
                x.add_(1.0)  # an intermediate changed in place after it was used
        elif kind == "mutate_index" and state["ints"]:
            t = state["ints"][k % len(state["ints"])]
            t[0] = (int(t[0]) + 1) % (3 if t.numel() == 3 else N)
        elif kind == "mutate_mask" and state["masks"]:
            t = state["masks"][k % len(state["masks"])]
            t[0] = not bool(t[0])
    loss = (
        sum((v * float(n + 1)).sum() for n, v in enumerate(values[len(leaves) :]))
        if len(values) > len(leaves)
        else sum(leaf.sum() for leaf in leaves)
    )
    return leaves, loss


STEP = st.tuples(
    st.sampled_from(
        [
            "unary",
            "binary",
            "view",
            "index",
            "mask",
            "where",
            "embedding",
            "mutate_value",
            "mutate_index",
            "mutate_mask",
        ]
    ),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 4),
)
PROGRAM = st.lists(STEP, min_size=1, max_size=10)


def _leaves(seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, N).astype(np.float64) for _ in range(2)]


def _backward(loss):
    try:
        loss.backward()
    except RuntimeError as e:
        return e
    return None


@SETTINGS
@given(PROGRAM, st.integers(0, 2**16))
def test_random_graphs_with_inplace_changes_match_torch(program, seed):
    arrays = _leaves(seed)
    try:
        t_leaves, t_loss = _run(torch, program, arrays, seed)
    except RuntimeError:  # torch refuses the forward itself (e.g. an in-place change of a leaf)
        with pytest.raises(RuntimeError):
            _run(cr, program, arrays, seed)
        return
    c_leaves, c_loss = _run(cr, program, arrays, seed)
    assert_close(c_loss, t_loss, rtol=1e-9, atol=1e-9)
    t_err, c_err = _backward(t_loss), _backward(c_loss)
    assert (t_err is None) == (c_err is None), f"torch: {t_err!r}; chainrule: {c_err!r}"
    if t_err is None:
        for c, t in zip(c_leaves, t_leaves):
            if t.grad is None:
                assert c.grad is None or not np.any(c.grad.numpy())
            else:
                assert_close(c.grad, t.grad, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(PROGRAM.map(lambda p: [s for s in p if not s[0].startswith("mutate")]), st.integers(0, 2**16))
def test_random_graphs_second_order_match_torch(program, seed):
    arrays = _leaves(seed)
    grads = {}
    for lib in (torch, cr):
        leaves, loss = _run(lib, program, arrays, seed)
        autograd = torch.autograd if lib is torch else cr.autograd
        first = autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
        total = sum((g * g).sum() for g in first if g is not None and g.requires_grad)
        if not isinstance(total, (int, float)):
            total.backward()
        grads[lib] = [
            (None if g is None else g.detach().numpy().copy(), lf.grad) for g, lf in zip(first, leaves)
        ]
    for (cg, cgg), (tg, tgg) in zip(grads[cr], grads[torch]):
        np.testing.assert_allclose(0 if cg is None else cg, 0 if tg is None else tg, rtol=1e-9, atol=1e-9)
        if tgg is not None:  # ours may skip a graph whose gradient is constant (relu): then zeros
            cgg = cgg if cgg is not None else np.zeros(tgg.shape)
            assert_close(cgg, tgg, rtol=1e-8, atol=1e-8)
