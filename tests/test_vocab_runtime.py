"""Creation factories, cr.Generator, the default dtype, float16/bfloat16, tensor hooks, retain_grad,
as_tensor, NumPy and DLPack interchange, against PyTorch where it defines the result."""

import copy

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import assert_close


# ----------------------------------------------------------------------------- creation
def test_deterministic_factories_as_torch():
    for name, args, kw in [
        ("logspace", (0, 2, 5), {}),
        ("logspace", (-1.0, 1.0, 4), {"base": 2.0}),
        ("tril_indices", (4, 3), {}),
        ("tril_indices", (3, 4, 1), {}),
        ("triu_indices", (4, 3, -1), {}),
        ("triu_indices", (3, 3), {}),
    ]:
        assert_close(getattr(cr, name)(*args, **kw), getattr(torch, name)(*args, **kw), what=name)
    assert_close(cr.empty(2, 3), torch.zeros(2, 3))
    assert cr.empty_like(cr.ones(2, dtype=cr.int32)).dtype == cr.int32
    assert_close(cr.full_like(cr.ones(2), 7), torch.full_like(torch.ones(2), 7))


def test_random_factories_shapes_dtypes_and_ranges():
    x = cr.ones(3, 4, dtype=cr.float64)
    assert cr.rand_like(x).dtype == cr.float64 and cr.rand_like(x).shape == (3, 4)
    r = cr.randint_like(cr.zeros(100, dtype=cr.int32), 3, 7)
    assert r.dtype == cr.int32 and 3 <= r.numpy().min() and r.numpy().max() < 7
    assert sorted(cr.randperm(6).tolist()) == list(range(6)) and cr.randperm(6).dtype == cr.int64
    b = cr.bernoulli(cr.tensor([0.0, 1.0, 0.0, 1.0]))
    assert b.tolist() == [0.0, 1.0, 0.0, 1.0]
    m = cr.multinomial(cr.tensor([[0.0, 1.0, 3.0], [0.5, 0.0, 0.5]]), 2)
    assert m.shape == (2, 2) and set(m[0].tolist()) == {1, 2} and set(m[1].tolist()) == {0, 2}
    assert cr.multinomial(cr.tensor([0.0, 1.0]), 3, replacement=True).tolist() == [1, 1, 1]
    n = cr.normal(cr.zeros(2000) + 3.0, 0.5)
    assert abs(float(n.mean()) - 3.0) < 0.05 and abs(float(n.std()) - 0.5) < 0.05
    assert cr.normal(1.0, 2.0, size=(3,)).shape == (3,)


def test_random_factories_refuse_bad_input():
    with pytest.raises(RuntimeError, match="multinomial.*without replacement"):
        cr.multinomial(cr.tensor([1.0, 0.0]), 2)
    with pytest.raises(RuntimeError, match="bernoulli"):
        cr.bernoulli(cr.tensor([1.5]))
    with pytest.raises(TypeError, match="normal: .*size"):
        cr.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="generator"):
        cr.rand(2, generator=123)


# ----------------------------------------------------------------------------- Generator
def test_generator_reproducible_and_independent_of_global_seed():
    g = cr.Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    draws = [
        lambda g: cr.rand(3, generator=g),
        lambda g: cr.randn(3, generator=g),
        lambda g: cr.randint(0, 9, (3,), generator=g),
        lambda g: cr.randperm(5, generator=g),
        lambda g: cr.bernoulli(cr.full((4,), 0.5), generator=g),
        lambda g: cr.multinomial(cr.ones(4), 2, generator=g),
        lambda g: cr.normal(0.0, 1.0, (3,), generator=g),
        lambda g: cr.rand_like(cr.ones(3), generator=g),
        lambda g: cr.randint_like(cr.ones(3), 5, generator=g),
    ]
    for draw in draws:
        a = draw(g.manual_seed(7))
        cr.manual_seed(123)  # the global generator does not affect g
        cr.rand(10)
        b = draw(g.manual_seed(7))
        assert cr.equal(a, b)
    s = g.seed()
    assert g.initial_seed() == s
    state = g.get_state()
    x = cr.rand(2, generator=g)
    g.set_state(state)
    assert cr.equal(x, cr.rand(2, generator=g))


def test_global_seed_still_governs_draws_without_generator():
    cr.manual_seed(3)
    a = cr.randperm(10)
    cr.manual_seed(3)
    assert cr.equal(a, cr.randperm(10))


# ----------------------------------------------------------------------------- dtypes
def test_default_dtype():
    assert cr.get_default_dtype() == cr.float32
    try:
        cr.set_default_dtype(cr.float64)
        torch.set_default_dtype(torch.float64)
        assert cr.tensor(1.5).dtype == cr.float64
        assert cr.zeros(2).dtype == cr.float64 and cr.rand(2).dtype == cr.float64
        assert cr.arange(0.0, 1.0, 0.5).dtype == cr.float64
        assert (cr.tensor([1, 2]) * 0.5).dtype == cr.float64  # as torch: int tensor * float -> default
        assert str(torch.get_default_dtype()) == "torch.float64"
    finally:
        cr.set_default_dtype(cr.float32)
        torch.set_default_dtype(torch.float32)
    assert cr.tensor(1.5).dtype == cr.float32
    with pytest.raises(TypeError, match="set_default_dtype"):
        cr.set_default_dtype(cr.int64)


def test_half_bfloat16_and_integer_dtypes():
    x = cr.tensor([1.0, 2.5, 3.140625])
    b = x.to(cr.bfloat16)
    assert (
        b.dtype == cr.bfloat16
        and b.float().tolist() == torch.tensor([1.0, 2.5, 3.140625]).bfloat16().float().tolist()
    )
    assert x.bfloat16().dtype == cr.bfloat16
    assert x.half().dtype == cr.float16 and x.to(cr.float16).float().tolist() == [1.0, 2.5, 3.140625]
    assert cr.tensor([1, 2], dtype=cr.int32).dtype == cr.int32 and cr.long == cr.int64
    assert cr.tensor([255], dtype=cr.uint8).tolist() == [255]


# ----------------------------------------------------------------------------- hooks
def test_register_hook_on_leaf_and_non_leaf_as_torch():
    def run(lib, t):
        x = t([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.tolist()))
        y = x * 2
        y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
        y.retain_grad()
        (y * y + x).sum().backward()
        return x.grad.tolist(), y.grad.tolist(), seen

    assert run(cr, cr.tensor) == run(torch, torch.tensor)


def test_hook_handle_remove_and_bad_hooks():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 0)
    h.remove()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="register_hook"):
        cr.ones(2).register_hook(lambda g: g)
    y = cr.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: cr.ones(3))
    with pytest.raises(RuntimeError, match="register_hook: .*shape"):
        (y * 2).sum().backward()


def test_leaf_hook_sees_summed_gradient_once():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.tolist()))
    (x * 2 + x * 3).sum().backward()
    assert calls == [[5.0, 5.0]] and x.grad.tolist() == [5.0, 5.0]


# ----------------------------------------------------------------------------- interchange
def test_as_tensor_shares_memory_when_it_can():
    a = np.zeros(3, np.float32)
    t = cr.as_tensor(a)
    a[0] = 4
    assert t.tolist() == [4.0, 0.0, 0.0]
    assert cr.as_tensor(a, dtype=cr.float64).dtype == cr.float64  # a copy in another dtype
    assert cr.as_tensor(t) is t
    assert cr.as_tensor([1, 2]).dtype == cr.int64
    c = cr.asarray(a, copy=True)
    a[1] = 9
    assert c.tolist()[1] == 0.0


def test_numpy_and_dlpack_without_copy():
    t = cr.arange(6.0).reshape(2, 3)
    n = np.asarray(t)
    n[0, 0] = 42
    assert t[0, 0].item() == 42
    tt = torch.from_dlpack(t)
    tt[1, 2] = -1
    assert t[1, 2].item() == -1
    nn = np.from_dlpack(t)
    assert nn.shape == (2, 3) and np.shares_memory(nn, t.numpy())
    back = cr.from_dlpack(torch.ones(2, 2))
    assert back.dtype == cr.float32 and back.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    src = torch.zeros(3)
    view = cr.from_dlpack(src)
    src[0] = 5
    assert view.tolist()[0] == 5.0
    assert t.__dlpack_device__() == (1, 0)
    with pytest.raises(RuntimeError, match="__dlpack__.*requires grad"):
        torch.from_dlpack(cr.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="from_dlpack"):
        cr.from_dlpack([1, 2])


def test_deepcopy_of_tensor_unaffected():
    t = cr.tensor([1.0, 2.0])
    assert copy.deepcopy(t).tolist() == [1.0, 2.0]
