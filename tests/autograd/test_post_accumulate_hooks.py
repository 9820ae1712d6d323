"""Tensor.register_post_accumulate_grad_hook against torch: when it runs and what it sees."""

import numpy as np
import pytest
import torch

import chainrule as cr


def _record(lib, t, log, name):
    return t.register_post_accumulate_grad_hook(lambda p: log.append((name, p.grad.detach().numpy().copy())))


def _shared_weight_graph(lib):
    """w used twice (weight tying), b once, x without grad; returns (loss, w, b)."""
    w = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True, dtype=lib.float64)
    b = lib.tensor([0.1, -0.2], requires_grad=True, dtype=lib.float64)
    x = lib.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=lib.float64)
    h = lib.tanh(x @ w + b)
    return (h @ w.T).pow(2).sum(), w, b


@pytest.mark.parametrize("accumulate", [False, True])
def test_each_leaf_hook_runs_once_with_its_complete_grad(accumulate):
    logs = {}
    for lib in (cr, torch):
        log = logs[lib.__name__] = []
        loss, w, b = _shared_weight_graph(lib)
        _record(lib, w, log, "w")
        _record(lib, b, log, "b")
        if accumulate:  # a second pass: the hook sees the accumulated sum
            _shared_weight_graph(lib)  # unrelated graph: no hook calls
            loss.backward(retain_graph=True)
        loss.backward()
    mine, ref = logs["chainrule"], logs["torch"]
    assert sorted(n for n, _ in mine) == sorted(n for n, _ in ref)
    for name in ("w", "b"):
        got = [g for n, g in mine if n == name]
        want = [g for n, g in ref if n == name]
        for a, e in zip(got, want, strict=True):
            np.testing.assert_allclose(a, e, rtol=1e-12)


def test_hook_runs_before_backward_returns_in_the_middle_of_the_pass():
    # the first layer's weight gets its gradient last: its hook sees the others' already complete
    seen = []
    w1 = cr.randn(3, 4, requires_grad=True)
    w2 = cr.randn(4, 2, requires_grad=True)
    w1.register_post_accumulate_grad_hook(lambda p: seen.append(("w1", w2.grad is not None)))
    w2.register_post_accumulate_grad_hook(lambda p: seen.append(("w2", w1.grad is not None)))
    (cr.randn(5, 3) @ w1 @ w2).sum().backward()
    assert seen == [("w2", False), ("w1", True)]


def test_not_called_by_autograd_grad_and_removed_by_its_handle():
    calls = []
    w = cr.ones(2, requires_grad=True)
    h = w.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    cr.autograd.grad((w * 3).sum(), w)
    assert calls == []
    (w * 3).sum().backward()
    assert calls == [1]
    h.remove()
    (w * 3).sum().backward()
    assert calls == [1]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_runs_with_create_graph_and_with_a_tensor_hook_on_the_same_leaf():
    for lib in (cr, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.register_hook(lambda g: g * 10)
        seen = []
        w.register_post_accumulate_grad_hook(lambda p, seen=seen: seen.append(p.grad.detach().numpy().copy()))
        (w**3).sum().backward(create_graph=True)
        np.testing.assert_allclose(seen[0], [30.0, 120.0])
        assert len(seen) == 1


def test_a_leaf_whose_only_edge_carries_no_gradient_gets_no_call():
    # cr.where's condition path: the gradient of the unused branch input is still delivered (zeros),
    # but an input whose op returns None for it must not trigger the hook
    calls = []

    class Half(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    b.register_post_accumulate_grad_hook(lambda p: calls.append("b"))
    a.register_post_accumulate_grad_hook(lambda p: calls.append("a"))
    Half.apply(a, b).sum().backward()
    assert calls == ["a"]


def test_misuse_is_refused():
    with pytest.raises(RuntimeError, match="doesn't require grad"):
        cr.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)
    w.register_post_accumulate_grad_hook(lambda p: 1)
    with pytest.raises(RuntimeError, match="must return None"):
        (w * 2).sum().backward()
