"""Tensor basics vs PyTorch: factories and dtype rules, attributes, conversions, grad mode, in-place ops."""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import TORCH_DTYPE, assert_close, to_cr, to_torch

# ----------------------------------------------------------------------------- cr.tensor and dtype rules

DATA = [
    1.5,
    3,
    True,
    [1.0, 2.0],
    [1, 2, 3],
    [[1, 2.5]],
    [True, False],
    [],
    [[1.0], [2.0]],
    np.array([1.0, 2.0]),
    np.array([1, 2], np.int32),
    np.array([1.0], np.float16),
    np.float64(2.0),
    np.array(3.0, np.float32),
    np.int32(4),
    [np.float32(1.0), np.float32(2.0)],
]


@pytest.mark.parametrize("data", DATA, ids=lambda d: f"{type(d).__name__}:{d!r}"[:40])
def test_tensor_dtype_rules_as_torch(data):
    assert_close(cr.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64, cr.int64, cr.bool, cr.int32, cr.float16])
def test_tensor_dtype_argument(dtype):
    tdtype = TORCH_DTYPE[np.dtype(dtype)]
    assert_close(cr.tensor([1.7, 0.0, -2.2], dtype=dtype), torch.tensor([1.7, 0.0, -2.2], dtype=tdtype))


def test_dtype_aliases():
    assert cr.float == cr.float32 and cr.double == cr.float64 and cr.long == cr.int64
    assert cr.tensor(1.0).dtype == cr.float32 and cr.tensor(1).dtype == cr.int64


def test_tensor_copies_but_from_numpy_shares():
    a = np.array([1.0, 2.0], np.float32)
    t, f = cr.tensor(a), cr.from_numpy(a)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0] and f.tolist() == [9.0, 2.0]
    assert cr.from_numpy(np.array([1, 2], np.int16)).dtype == np.int16
    with pytest.raises(TypeError, match="from_numpy"):
        cr.from_numpy([1.0, 2.0])


def test_tensor_from_tensor_and_list_of_tensors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor(x)
    assert not y.requires_grad and y.tolist() == [1.0, 2.0]
    assert cr.tensor([cr.tensor(1.0), cr.tensor(2.0)]).tolist() == [1.0, 2.0]
    # a list of tensors keeps their dtype; a mixed list follows the default dtype
    assert_close(
        cr.tensor([cr.tensor(1.5, dtype=cr.float64)]), torch.tensor([torch.tensor(1.5, dtype=torch.float64)])
    )
    assert_close(cr.tensor([cr.tensor(1.5), 2.0]), torch.tensor([torch.tensor(1.5), 2.0]))


def test_tensor_bad_data():
    with pytest.raises(TypeError, match="tensor"):
        cr.tensor("abc")
    with pytest.raises(ValueError, match="tensor"):
        cr.tensor([[1.0, 2.0], [3.0]])


def test_requires_grad_only_for_floats():
    for bad in ([1, 2], [True]):
        with pytest.raises(RuntimeError, match="floating point"):
            cr.tensor(bad, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        cr.zeros(2, dtype=cr.int64, requires_grad=True)
    assert cr.tensor([1.0], dtype=cr.float64, requires_grad=True).requires_grad


# ----------------------------------------------------------------------------- factories


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_ones(name):
    for args in [(2, 3), ((2, 3),), ([4],), (0,), ((),)]:
        assert_close(getattr(cr, name)(*args), getattr(torch, name)(*args))
    assert_close(getattr(cr, name)(2, dtype=cr.int64), getattr(torch, name)(2, dtype=torch.int64))
    t = getattr(cr, name)(2, 2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_full():
    for fill in (1.5, 7, True, -0.25):
        assert_close(cr.full((2, 3), fill), torch.full((2, 3), fill))
    assert_close(cr.full((2,), 3, dtype=cr.float64), torch.full((2,), 3, dtype=torch.float64))


def test_like_factories():
    base = cr.tensor([[1, 2, 3]], dtype=cr.int32)
    tbase = torch.tensor([[1, 2, 3]], dtype=torch.int32)
    assert_close(cr.zeros_like(base), torch.zeros_like(tbase))
    assert_close(cr.ones_like(base), torch.ones_like(tbase))
    assert_close(cr.ones_like(base, dtype=cr.float32), torch.ones_like(tbase, dtype=torch.float32))
    assert_close(cr.full_like(base, 4), torch.full_like(tbase, 4))
    assert cr.zeros_like(cr.ones(2), requires_grad=True).requires_grad


@pytest.mark.parametrize(
    "args",
    [(5,), (2, 7), (1, 10, 3), (0.0, 1.0, 0.1), (5, 0, -1), (1.5, 4), (-3, 3, 2), (0, 2, 0.25)],
    ids=str,
)
def test_arange(args):
    assert_close(cr.arange(*args), torch.arange(*args), rtol=1e-6, atol=1e-6)
    assert_close(cr.arange(*args, dtype=cr.float64), torch.arange(*args, dtype=torch.float64))


def test_arange_zero_step():
    with pytest.raises(ValueError, match="arange"):
        cr.arange(0, 3, 0)


@pytest.mark.parametrize(
    "args", [(0, 1, 5), (-2.0, 3.0, 11), (1, 1, 3), (0, 1, 1), (0, 1, 0), (5, -5, 4)], ids=str
)
def test_linspace(args):
    assert_close(cr.linspace(*args), torch.linspace(*args), rtol=1e-6, atol=1e-6)


def test_eye():
    for args in [(3,), (2, 4), (4, 2), (0,)]:
        assert_close(cr.eye(*args), torch.eye(*args))
    assert_close(cr.eye(2, dtype=cr.int64), torch.eye(2, dtype=torch.int64))


def test_random_factories_shapes_dtypes_ranges():
    r = cr.rand(1000)
    assert r.shape == (1000,) and r.dtype == np.float32 and 0 <= r.min().item() and r.max().item() < 1
    n = cr.randn(200, 50)
    assert n.shape == (200, 50) and abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    assert cr.rand(2, 3, dtype=cr.float64).dtype == np.float64 and cr.randn((4,)).shape == (4,)
    i = cr.randint(3, 7, (1000,))
    assert i.dtype == np.int64 and i.min().item() == 3 and i.max().item() == 6
    assert cr.randint(5, (2, 2)).shape == (2, 2)
    assert cr.rand(2, requires_grad=True).requires_grad
    p = cr.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == np.int64
    with pytest.raises(ValueError, match="randint"):
        cr.randint(5, 5, (2,))
    with pytest.raises(ValueError, match="size"):
        cr.zeros(-1)
    for f in (cr.rand, cr.randn):  # torch refuses integer dtypes for these too
        with pytest.raises(TypeError, match="dtype"):
            f(2, dtype=cr.int64)


def test_manual_seed_reproducible():
    def draws():
        return [
            cr.rand(5).tolist(),
            cr.randn(3, 2).tolist(),
            cr.randint(0, 100, (4,)).tolist(),
            cr.randperm(6).tolist(),
            cr.ones(4).uniform_().tolist(),
            cr.ones(4).normal_(2.0, 3.0).tolist(),
        ]

    cr.manual_seed(123)
    first = draws()
    cr.manual_seed(123)
    assert draws() == first
    cr.manual_seed(124)
    assert draws() != first
    state = cr.get_rng_state()
    a = cr.rand(3).tolist()
    cr.set_rng_state(state)
    assert cr.rand(3).tolist() == a
    with pytest.raises(ValueError, match="manual_seed"):
        cr.manual_seed(-1)


# ----------------------------------------------------------------------------- attributes and conversion


def test_attributes():
    x = cr.ones(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dim() == 3 and x.size() == (2, 3, 4)
    assert x.size(1) == 3 and x.size(-1) == 4 and x.numel() == 24 and cr.numel(x) == 24
    assert x.device == "cpu" and x.dtype == cr.float32 and x.element_size() == 4
    assert x.grad is None and x.grad_fn is None and x.is_leaf and not x.requires_grad
    assert cr.is_tensor(x) and not cr.is_tensor(np.ones(2))
    with pytest.raises(IndexError, match="size"):
        x.size(3)


def test_is_leaf_and_grad_fn():
    w = cr.ones(2, requires_grad=True)
    y = w * 2
    assert w.is_leaf and w.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None and "Mul" in repr(y.grad_fn)
    c = cr.ones(2) * 2
    assert c.is_leaf and c.grad_fn is None and not c.requires_grad
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None


def test_item_tolist_numpy():
    x = cr.tensor([[1.5, 2.0]])
    assert x.tolist() == torch.tensor([[1.5, 2.0]]).tolist()
    assert cr.tensor([2.5]).item() == 2.5 and isinstance(cr.tensor(3).item(), int)
    assert isinstance(cr.tensor([1.0, 2.0]).sum().item(), float)
    a = x.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0, 0] = 7.0  # shares memory, as torch
    assert x[0, 0].item() == 7.0
    assert isinstance(cr.ones(3).sum().numpy(), np.ndarray)
    with pytest.raises(ValueError, match="item"):
        x.item()
    with pytest.raises(RuntimeError, match="numpy"):
        cr.ones(2, requires_grad=True).numpy()
    assert cr.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(3)) == 3
    assert np.asarray(cr.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert f"{cr.tensor(2.5):.2f}" == "2.50"


def test_to_and_casts():
    x = cr.tensor([1.7, -2.2])
    t = torch.tensor([1.7, -2.2])
    for cf, tf in [
        (lambda a: a.float(), lambda a: a.float()),
        (lambda a: a.double(), lambda a: a.double()),
        (lambda a: a.long(), lambda a: a.long()),
        (lambda a: a.int(), lambda a: a.int()),
        (lambda a: a.bool(), lambda a: a.bool()),
        (lambda a: a.half(), lambda a: a.half()),
        (lambda a: a.to(cr.float64), lambda a: a.to(torch.float64)),
        (lambda a: a.to(dtype=cr.int64), lambda a: a.to(dtype=torch.int64)),
        (lambda a: a.to("cpu"), lambda a: a.to("cpu")),
        (lambda a: a.type(cr.float64), lambda a: a.type(torch.float64)),
    ]:
        assert_close(cf(x), tf(t))
    assert x.to("cpu") is x and x.float() is x
    assert x.to(cr.tensor([1], dtype=cr.int32)).dtype == np.int32
    with pytest.raises(ValueError, match="device"):
        x.to("tpu")
    with pytest.raises(TypeError, match="to"):
        x.to(cr.float64, colour="red")


def test_clone_detach_memory():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c, d = x.clone(), x.detach()
    assert c.requires_grad and c.grad_fn is not None and not d.requires_grad
    with cr.no_grad():
        x[0] = 5.0
    assert c.tolist() == [1.0, 2.0] and d.tolist() == [5.0, 2.0]


def test_requires_grad_flag():
    x = cr.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = cr.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="requires_grad_"):
        y.requires_grad_(False)


def test_repr():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(cr.ones(1, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(cr.ones(1, requires_grad=True) * 2)
    assert "dtype=float64" in repr(cr.ones(1, dtype=cr.float64))


def test_bool_and_index_protocols():
    assert bool(cr.tensor([1.0])) and not bool(cr.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(cr.ones(2))
    assert [10, 20, 30][cr.tensor(2)] == 30
    with pytest.raises(TypeError):
        [1, 2][cr.tensor(1.0)]


def test_converters_roundtrip():
    a = np.random.default_rng(0).standard_normal((2, 3))
    t = to_torch(cr.tensor(a, requires_grad=True))
    assert t.dtype == torch.float64 and t.requires_grad
    back = to_cr(t)
    assert back.dtype == np.float64 and back.requires_grad and np.array_equal(back.detach().numpy(), a)
    assert to_cr(torch.tensor([1, 2])).dtype == np.int64


# ----------------------------------------------------------------------------- grad mode


def test_no_grad_context_and_nesting():
    x = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
        with cr.enable_grad():
            z = x * 2
            assert cr.is_grad_enabled()
        w = x * 2
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad and not w.requires_grad


def test_no_grad_restores_after_exception():
    with pytest.raises(ZeroDivisionError), cr.no_grad():
        _ = 1 / 0
    assert cr.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = cr.ones(2, requires_grad=True)

    @cr.no_grad()
    def f(t):
        return t * 2

    @cr.no_grad
    def g(t):
        return t * 2

    @cr.enable_grad()
    def h(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad and cr.is_grad_enabled()
    with cr.no_grad():
        assert h(x).requires_grad
        assert not cr.is_grad_enabled()
    assert f.__name__ == "f"


def test_set_grad_enabled_function_and_context():
    x = cr.ones(2, requires_grad=True)
    cr.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled() and (x * 2).requires_grad


# ----------------------------------------------------------------------------- in-place ops


def test_inplace_ops_as_torch():
    a = np.array([1.0, -2.0, 3.0], np.float32)
    for name, args in [
        ("add_", (2.0,)),
        ("sub_", (1.5,)),
        ("mul_", (3.0,)),
        ("div_", (2.0,)),
        ("zero_", ()),
        ("fill_", (4.0,)),
        ("clamp_", (-1.0, 1.0)),
    ]:
        x, t = cr.tensor(a), torch.tensor(a)
        assert getattr(x, name)(*args) is x
        getattr(t, name)(*args)
        assert_close(x, t, what=name)
    x, t = cr.tensor(a), torch.tensor(a)
    x.add_(cr.tensor(a), alpha=2.0)
    t.add_(torch.tensor(a), alpha=2.0)
    assert_close(x, t)
    x.copy_(cr.tensor([7.0, 8.0, 9.0]))
    assert x.tolist() == [7.0, 8.0, 9.0]


def test_augmented_assignment_under_no_grad_updates_in_place():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    ref = w
    with cr.no_grad():
        w -= 0.1 * w.grad
        w *= 2.0
        w += 1.0
        w /= 2.0
    assert w is ref and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.tolist(), [(0.8 * 2 + 1) / 2, (1.6 * 2 + 1) / 2], rtol=1e-6)


def test_augmented_assignment_in_graph_is_out_of_place():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1.0
    y2 = y
    y += 1.0
    assert y is not y2 and y.tolist() == [2.0, 3.0] and y2.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="add_"):
        w += 1.0
    c = cr.ones(2)
    before = c
    c += 1.0
    assert c is before and c.tolist() == [2.0, 2.0]


def test_inplace_on_graph_tensor_raises():
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_"):
        w.add_(1.0)
    y = w * 2
    with pytest.raises(RuntimeError, match="mul_"):
        y.mul_(2.0)


def test_inplace_shape_mismatch_names_op():
    with pytest.raises((ValueError, RuntimeError), match="add_"):
        cr.ones(2).add_(cr.ones(3))


def test_inplace_on_0d_results():
    s = cr.ones(3).sum()
    s.add_(1.0)
    assert s.item() == 4.0
    e = cr.ones(2)[0]
    e.mul_(5.0)
    assert e.item() == 5.0


def test_version_counter_bumps():
    x = cr.ones(3)
    v = x._version
    x.add_(1.0)
    x[0] = 2.0
    with cr.no_grad():
        x.mul_(2.0)
    assert x._version == v + 3
