"""Test helpers: compare chainrule with PyTorch (the oracle), and finite-difference gradchecks.

Everything another test file needs is here; import it as ``from tests.helpers import ...``.

``check(cr_fn, torch_fn, inputs, ...)``
    Builds the same random inputs in both frameworks, runs ``cr_fn`` on chainrule tensors and
    ``torch_fn`` on torch tensors (``torch_fn=None`` runs ``cr_fn`` itself on the torch tensors,
    handy when the APIs agree: ``check(lambda x: x.exp(), None, [(3, 4)])``), compares every
    output (values, shape, dtype), then backpropagates the *same random upstream gradient* in
    both and compares the gradient of every float input.  One line per test case::

        check(lambda a, b: a * b, None, [(2, 3), (3,)])                  # broadcasting
        check(lambda x: cr.relu(x), lambda x: torch.relu(x), [(5,)])     # different spellings
        check(lambda x: x.log(), None, [(4,)], low=0.1, high=3.0)        # input range
        check(lambda x, i: x[i], None, [(5, 3), np.array([0, 0, 4])])    # arrays keep their dtype

    ``inputs`` items: a shape tuple (uniform random values in [low, high) of ``dtype``), a NumPy
    array (used as is, dtype kept; float arrays get gradients), or a Python number (passed as is).
    Returns ``(cr_outputs, torch_outputs)`` as lists, for extra assertions.

``gradcheck_op(cr_fn, inputs, ...)``
    ``cr.autograd.gradcheck`` of ``cr_fn`` in float64 at random inputs (same ``inputs`` forms).

``to_torch(t)`` / ``to_cr(t)``
    Convert tensors (values, dtype, requires_grad) between the frameworks.

``assert_close(cr_tensor_or_array, torch_tensor_or_array, rtol, atol)``
    Values, shape and dtype equal within tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import chainrule as cr

__all__ = ["check", "gradcheck_op", "to_torch", "to_cr", "assert_close", "make_arrays", "TORCH_DTYPE"]

# chainrule (NumPy) dtype -> torch dtype
TORCH_DTYPE = {
    np.dtype(np.float16): torch.float16,
    np.dtype(np.float32): torch.float32,
    np.dtype(np.float64): torch.float64,
    np.dtype(np.int8): torch.int8,
    np.dtype(np.int16): torch.int16,
    np.dtype(np.int32): torch.int32,
    np.dtype(np.int64): torch.int64,
    np.dtype(np.uint8): torch.uint8,
    np.dtype(np.bool_): torch.bool,
}
_NUMPY_DTYPE = {v: k for k, v in TORCH_DTYPE.items()}


def to_torch(t: Any, requires_grad: bool | None = None) -> torch.Tensor:
    """A torch tensor with the values and dtype of ``t`` (a chainrule Tensor or NumPy array).

    ``requires_grad`` defaults to ``t.requires_grad`` for chainrule tensors.
    """
    if isinstance(t, cr.Tensor):
        rg = t.requires_grad if requires_grad is None else requires_grad
        arr = np.array(t.detach().numpy(), copy=True)
    else:
        rg = bool(requires_grad)
        arr = np.array(t, copy=True)
    out = torch.from_numpy(arr) if arr.ndim else torch.tensor(arr.item(), dtype=TORCH_DTYPE[arr.dtype])
    return out.requires_grad_(rg)


def to_cr(t: Any, requires_grad: bool | None = None) -> cr.Tensor:
    """A chainrule tensor with the values and dtype of ``t`` (a torch tensor or NumPy array).

    ``requires_grad`` defaults to ``t.requires_grad`` for torch tensors.
    """
    if isinstance(t, torch.Tensor):
        rg = t.requires_grad if requires_grad is None else requires_grad
        arr = t.detach().cpu().numpy(force=True).copy()
    else:
        rg = bool(requires_grad)
        arr = np.array(t, copy=True)
    return cr.tensor(arr, requires_grad=rg)


def _np(x: Any) -> np.ndarray:
    if isinstance(x, cr.Tensor):
        return np.asarray(x.detach().numpy())
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy(force=True)  # force: torch's ZeroTensor gradients too
    return np.asarray(x)


def _dtype_name(x: Any) -> str:
    if isinstance(x, cr.Tensor):
        return str(TORCH_DTYPE.get(np.dtype(x.dtype), x.dtype))
    if isinstance(x, torch.Tensor):
        return str(x.dtype)
    dt = np.asarray(x).dtype
    return str(TORCH_DTYPE.get(dt, dt))


def assert_close(
    actual: Any,
    expected: Any,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    what: str = "value",
    check_dtype: bool = True,
) -> None:
    """``actual`` (chainrule) equals ``expected`` (torch/NumPy): shape, dtype and values (NaNs equal)."""
    a, e = _np(actual), _np(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    if check_dtype:
        assert _dtype_name(actual) == _dtype_name(expected), (
            f"{what}: dtype {_dtype_name(actual)} != expected {_dtype_name(expected)}"
        )
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(
            a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True, err_msg=what
        )


def make_arrays(
    inputs: Sequence[Any], dtype: Any = np.float32, low: float = -2.0, high: float = 2.0, seed: int = 0
) -> list:
    """NumPy arrays for ``inputs`` (shape tuples become uniform random arrays of ``dtype``)."""
    rng = np.random.default_rng(seed)
    out = []
    for spec in inputs:
        if isinstance(spec, tuple):
            if np.dtype(dtype).kind == "f":
                out.append(rng.uniform(low, high, size=spec).astype(dtype))
            else:
                out.append(rng.integers(int(low), int(high), size=spec).astype(dtype))
        elif isinstance(spec, np.ndarray):
            out.append(spec.copy())
        else:
            out.append(spec)  # a Python number or other argument, passed through
    return out


def _as_list(out: Any) -> list:
    if isinstance(out, (cr.Tensor, torch.Tensor)):
        return [out]
    return list(out)


def check(
    cr_fn: Callable,
    torch_fn: Callable | None,
    inputs: Sequence[Any],
    *,
    dtype: Any = np.float32,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    grad: bool = True,
    low: float = -2.0,
    high: float = 2.0,
    seed: int = 0,
    grad_rtol: float | None = None,
    grad_atol: float | None = None,
) -> tuple[list, list]:
    """Compare ``cr_fn`` with ``torch_fn`` forward and backward (see the module docstring)."""
    torch_fn = cr_fn if torch_fn is None else torch_fn
    arrays = make_arrays(inputs, dtype, low, high, seed)
    is_float = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    need = [grad and f for f in is_float]
    cr_in = [cr.tensor(a, requires_grad=n) if isinstance(a, np.ndarray) else a for a, n in zip(arrays, need)]
    th_in = [to_torch(a, requires_grad=n) if isinstance(a, np.ndarray) else a for a, n in zip(arrays, need)]

    cr_out, th_out = _as_list(cr_fn(*cr_in)), _as_list(torch_fn(*th_in))
    assert len(cr_out) == len(th_out), f"{len(cr_out)} outputs vs torch's {len(th_out)}"
    for k, (c, t) in enumerate(zip(cr_out, th_out)):
        assert isinstance(c, cr.Tensor), f"output {k} is a {type(c).__name__}, not a chainrule Tensor"
        assert_close(c, t, rtol, atol, what=f"forward output {k}")

    if not grad or not any(need):
        return cr_out, th_out
    rng = np.random.default_rng(seed + 1)
    pairs = [(c, t) for c, t in zip(cr_out, th_out) if t.requires_grad]
    assert all(c.requires_grad for c, _ in pairs), "a chainrule output does not require grad but torch's does"
    assert not any(c.requires_grad for c, t in zip(cr_out, th_out) if not t.requires_grad), (
        "a chainrule output requires grad but torch's does not"
    )
    if not pairs:
        return cr_out, th_out
    ups = [rng.standard_normal(t.shape).astype(_NUMPY_DTYPE[t.dtype]) for _, t in pairs]
    if len(pairs) == 1:
        pairs[0][0].backward(cr.tensor(ups[0]))
        pairs[0][1].backward(to_torch(ups[0]))
    else:
        torch.autograd.backward([t for _, t in pairs], [to_torch(u) for u in ups])
        cr_leaves = [x for x, n in zip(cr_in, need) if n]
        got = cr.autograd.grad(
            [c for c, _ in pairs], cr_leaves, [cr.tensor(u) for u in ups], allow_unused=True
        )
        for x, g in zip(cr_leaves, got):
            x.grad = g
    grtol = rtol if grad_rtol is None else grad_rtol
    gatol = atol if grad_atol is None else grad_atol
    for i, (c, t, n) in enumerate(zip(cr_in, th_in, need)):
        if not n:
            continue
        if t.grad is None:
            assert c.grad is None or not np.any(_np(c.grad)), f"input {i}: only chainrule has a grad"
            continue
        assert c.grad is not None, f"input {i}: chainrule gave no gradient (torch did)"
        assert_close(c.grad, t.grad, grtol, gatol, what=f"gradient of input {i}")
    return cr_out, th_out


def gradcheck_op(
    cr_fn: Callable,
    inputs: Sequence[Any],
    *,
    low: float = -2.0,
    high: float = 2.0,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Assert that ``cr.autograd.gradcheck`` passes for ``cr_fn`` at random float64 inputs.

    Shape tuples become float64 tensors that require grad; float NumPy arrays are cast to float64
    and require grad too; anything else (integer arrays, numbers) is passed through.
    """
    arrays = make_arrays(inputs, np.float64, low, high, seed)
    args = []
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            args.append(cr.tensor(a.astype(np.float64), requires_grad=True))
        elif isinstance(a, np.ndarray):
            args.append(cr.tensor(a))
        else:
            args.append(a)
    assert cr.autograd.gradcheck(cr_fn, tuple(args), eps=eps, atol=atol, rtol=rtol)


def check_second_order(
    cr_fn: Callable,
    torch_fn: Callable | None,
    inputs: Sequence[Any],
    *,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    low: float = -2.0,
    high: float = 2.0,
) -> None:
    """Second derivatives through ``create_graph=True`` equal torch's, in float64.

    With w and v fixed random weights: g = ∂(Σ w·f(x))/∂x for every float input, then the gradient of
    Σ v·g with respect to every float input is compared (a Hessian-vector product of each).
    """
    torch_fn = cr_fn if torch_fn is None else torch_fn
    arrays = make_arrays(inputs, np.float64, low, high, seed)
    is_float = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    cr_in = [
        cr.tensor(a, requires_grad=f) if isinstance(a, np.ndarray) else a for a, f in zip(arrays, is_float)
    ]
    th_in = [
        to_torch(a, requires_grad=f) if isinstance(a, np.ndarray) else a for a, f in zip(arrays, is_float)
    ]
    cr_x = [c for c, f in zip(cr_in, is_float) if f]
    th_x = [t for t, f in zip(th_in, is_float) if f]
    out_c, out_t = cr_fn(*cr_in), torch_fn(*th_in)
    rng = np.random.default_rng(seed + 7)
    w = rng.standard_normal(tuple(out_t.shape))
    g_c = cr.autograd.grad((out_c * cr.tensor(w)).sum(), cr_x, create_graph=True, allow_unused=True)
    g_t = torch.autograd.grad((out_t * to_torch(w)).sum(), th_x, create_graph=True, allow_unused=True)
    vs = [rng.standard_normal(tuple(t.shape)) for t in th_x]
    s_c = sum((g * cr.tensor(v)).sum() for g, v in zip(g_c, vs) if g is not None)
    s_t = sum((g * to_torch(v)).sum() for g, v in zip(g_t, vs) if g is not None and g.requires_grad)
    h_c = cr.autograd.grad(s_c, cr_x, allow_unused=True)
    h_t = torch.autograd.grad(s_t, th_x, allow_unused=True)
    for i, (hc, ht) in enumerate(zip(h_c, h_t)):
        if ht is None:
            assert hc is None or not np.any(_np(hc)), f"second derivative {i}: only chainrule has one"
            continue
        assert_close(
            hc if hc is not None else np.zeros(ht.shape), ht, rtol, atol, f"second derivative {i}", False
        )


def check_module(m: Any, t: Any, inputs: Sequence[Any], **kw: Any) -> None:
    """``check(m, t, inputs)`` for a chainrule module and its torch twin (same parameters), then the
    gradient of every parameter for one random upstream gradient of the (first) output."""
    check(m, t, inputs, **kw)
    for p in m.parameters():
        p.grad = None
    t.zero_grad(set_to_none=True)
    arrays = make_arrays(inputs, kw.get("dtype", np.float32), seed=kw.get("seed", 0))
    out_c = _as_list(m(*[cr.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]))[0]
    out_t = _as_list(t(*[to_torch(a) if isinstance(a, np.ndarray) else a for a in arrays]))[0]
    up = np.random.default_rng(kw.get("seed", 0) + 2).standard_normal(tuple(out_t.shape))
    if out_t.requires_grad:
        out_t.backward(to_torch(up.astype(_NUMPY_DTYPE[out_t.dtype])))
    if out_c.requires_grad:
        out_c.backward(cr.tensor(up.astype(_NUMPY_DTYPE[out_t.dtype])))
    for name, p in m.named_parameters():
        tp = t.get_parameter(name)
        if tp.grad is None:
            assert p.grad is None or not np.any(_np(p.grad)), f"parameter {name}: only chainrule has a grad"
        else:
            assert p.grad is not None, f"parameter {name}: chainrule gave no gradient (torch did)"
            assert_close(p.grad, tp.grad, kw.get("rtol", 1e-4), kw.get("atol", 1e-5), what=f"grad of {name}")
