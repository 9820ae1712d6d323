"""Misuse of autograd fails loudly, and backward frees what the graph held (PyTorch as the oracle)."""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F

# -- a tensor that backward reads, changed in place after forward, raises (as PyTorch) -------------


def _where_condition(lib, x):
    c = x > 0
    y = lib.where(c, x * 2.0, x * 3.0)
    c[0] = ~c[0]
    return y


def _embedding_indices(lib, x):
    idx = lib.tensor([1, 2, 1])
    y = (lib.nn.functional.embedding(idx, x.reshape(3, 2)) ** 2).sum()
    idx[0] = 0
    return y


def _integer_index(lib, x):
    i = lib.tensor([0, 1, 1])
    y = (x[i] ** 2).sum()
    i[0] = 2
    return y


def _bool_mask_same_count(lib, x):
    m = lib.tensor([True, False, True, False, False, True])
    y = (x[m] ** 2).sum()
    m[0], m[1] = False, True
    return y


def _bool_mask_other_count(lib, x):
    m = lib.tensor([True, False, True, False, False, True])
    y = (x[m] ** 2).sum()
    m[1] = True  # now four elements are selected, three were
    return y


@pytest.mark.parametrize(
    "make",
    [_where_condition, _embedding_indices, _integer_index, _bool_mask_same_count, _bool_mask_other_count],
)
def test_changing_what_backward_reads_raises_as_pytorch(make):
    values = np.array([1.0, -2.0, 3.0, -4.0, 5.0, 6.0], np.float32)
    tx = torch.tensor(values, requires_grad=True)
    with pytest.raises(RuntimeError, match="inplace operation"):
        make(torch, tx).sum().backward()
    x = cr.tensor(values, requires_grad=True)
    y = make(cr, x).sum()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_a_numpy_index_changed_after_forward_cannot_change_the_gradient():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = np.array([0, 0, 2])
    y = (x[i] * cr.tensor([1.0, 10.0, 100.0])).sum()
    i[:] = 1  # PyTorch copies a NumPy index into a tensor: the forward's index is what counts
    y.backward()
    assert x.grad.tolist() == [11.0, 0.0, 100.0]


# -- backward twice without retain_graph raises for every op that saved values ------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: lib.nn.functional.cross_entropy(x.reshape(2, 3), lib.tensor([0, 2])),
        lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 2, 3), 2, ceil_mode=True).sum(),
        lambda lib, x: x.reshape(2, 3).max(dim=1)[0].sum(),
        lambda lib, x: lib.nn.functional.gelu(x).sum(),
    ],
    ids=["cross_entropy", "max_pool2d", "max_dim", "gelu"],
)
def test_backward_twice_without_retain_graph_raises_as_pytorch(make):
    values = np.arange(6, dtype=np.float32) / 3.0
    tx = torch.tensor(values, requires_grad=True)
    ty = make(torch, tx)
    ty.backward()
    with pytest.raises(RuntimeError, match="second time"):
        ty.backward()
    x = cr.tensor(values, requires_grad=True)
    y = make(cr, x)
    y.backward()
    first = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)  # the failed call changed nothing


def test_backward_twice_through_ops_that_save_nothing_works_as_pytorch():
    x, tx = cr.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = (x + 1.0).sum(), (tx + 1.0).sum()
    for _ in range(2):
        y.backward()
        ty.backward()
    assert x.grad.tolist() == tx.grad.tolist() == [2.0, 2.0]


# -- a custom Function's gradient never aliases the user's memory --------------------------------


class _GiveBackSaved(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x, g):
        ctx.save_for_backward(g)
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        (g,) = ctx.saved_tensors
        return g, None


def test_custom_function_returning_a_saved_tensor_does_not_alias_the_leaf_grad():
    user = cr.tensor([1.0, 2.0, 3.0])
    x = cr.tensor([0.0, 0.0, 0.0], requires_grad=True)
    _GiveBackSaved.apply(x, user).sum().backward()
    _GiveBackSaved.apply(x, user).sum().backward()  # accumulates into x.grad
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    assert user.tolist() == [1.0, 2.0, 3.0]
    opt = cr.optim.SGD([x], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert user.tolist() == [1.0, 2.0, 3.0]


# -- grad mode belongs to a thread ---------------------------------------------------------------


def test_no_grad_in_another_thread_does_not_switch_recording_off_here():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def other():
        with cr.no_grad():
            seen["inside"] = cr.is_grad_enabled()
            entered.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    entered.wait(5)
    x = cr.tensor([1.0], requires_grad=True)
    y = x * 2.0  # recorded here while the other thread is inside no_grad
    release.set()
    t.join()
    assert seen["inside"] is False
    assert cr.is_grad_enabled() and y.requires_grad and y.grad_fn is not None


def test_inference_mode_records_nothing_and_restores():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.inference_mode():
        assert cr.is_inference_mode_enabled() and not cr.is_grad_enabled()
        y = x * 2.0
    assert not y.requires_grad and cr.is_grad_enabled() and not cr.is_inference_mode_enabled()

    @cr.inference_mode()
    def f(v):
        return v * 3.0

    assert not f(x).requires_grad
    with cr.inference_mode(False):
        assert (x * 2.0).requires_grad


# -- after backward the graph keeps no activations alive (as PyTorch) ----------------------------


def test_backward_frees_the_activations_a_kept_loss_would_hold():
    w = cr.randn(50, 50, requires_grad=True)
    h = (cr.randn(8, 50) @ w).tanh()
    activation = weakref.ref(h._data)
    loss = (h * h).sum()
    del h
    assert activation() is not None  # the graph holds it for backward
    loss.backward()
    assert activation() is None  # no cycle, no gc needed: freed as soon as backward is done
    assert loss.item() > 0 and w.grad is not None


def test_retain_graph_keeps_the_values_for_a_second_backward():
    w = cr.randn(5, 5, requires_grad=True)
    h = (cr.randn(3, 5) @ w).tanh()
    activation = weakref.ref(h._data)
    loss = (h * h).sum()
    del h
    loss.backward(retain_graph=True)
    assert activation() is not None
    loss.backward()
    assert activation() is None


def test_losses_appended_in_a_training_loop_hold_no_graph_memory():
    model = cr.nn.Sequential(
        cr.nn.Conv2d(1, 8, 3), cr.nn.ReLU(), cr.nn.Flatten(), cr.nn.Linear(8 * 26 * 26, 10)
    )
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    x, y = cr.randn(16, 1, 28, 28), cr.randint(0, 10, (16,))
    losses, probes = [], []
    for _ in range(3):
        out = model(x)
        probes.append(weakref.ref(out._data))
        loss = F.cross_entropy(out, y)
        del out
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss)
    assert all(p() is None for p in probes)


# -- empty shapes work where PyTorch's do ---------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: lib.nn.functional.softmax(x, dim=1),
        lambda lib, x: lib.nn.functional.log_softmax(x, dim=1),
        lambda lib, x: lib.logsumexp(x, dim=1),
        lambda lib, x: lib.nn.functional.softmax(x.reshape(0, 3), dim=1),
    ],
    ids=["softmax", "log_softmax", "logsumexp", "softmax_empty_batch"],
)
def test_reductions_over_an_empty_dim_as_pytorch(make):
    x, tx = cr.zeros(3, 0, requires_grad=True), torch.zeros(3, 0, requires_grad=True)
    out, tout = make(cr, x), make(torch, tx)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())  # -inf for logsumexp
    out.sum().backward()
    tout.sum().backward()
    assert x.grad.shape == tuple(tx.grad.shape)


def test_amax_over_an_empty_dim_raises_as_pytorch():
    with pytest.raises(IndexError):
        torch.amax(torch.zeros(3, 0), dim=1)
    with pytest.raises(IndexError, match="amax: can't reduce over dimension 1 of size 0"):
        cr.amax(cr.zeros(3, 0), dim=1)
    assert cr.amax(cr.zeros(0, 3), dim=1).shape == (0,)


def test_complex_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="complex tensors can't require gradients"):
        cr.tensor(np.array([1 + 2j]), requires_grad=True)
