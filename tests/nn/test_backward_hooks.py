"""Module.register_full_backward_hook / register_full_backward_pre_hook against torch."""

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr


def _pair():
    cr.manual_seed(0)
    mine = cr.nn.Sequential(cr.nn.Linear(4, 5), cr.nn.Tanh(), cr.nn.Linear(5, 3)).double()
    ref = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    return mine, ref


def _run(model, lib, x):
    xt = lib.tensor(x, requires_grad=True)
    model(xt).pow(2).sum().backward()
    return xt.grad.detach().numpy(), [p.grad.detach().numpy() for p in model.parameters()]


def _np(gs):
    return [None if g is None else g.detach().numpy().copy() for g in gs]


def test_hooks_see_the_gradients_torch_sees_and_may_replace_them():
    x = np.random.default_rng(0).standard_normal((6, 4))
    results = {}
    for name, model in zip(("cr", "torch"), _pair()):
        log = []
        model[1].register_full_backward_pre_hook(lambda m, go, log=log: log.append(("pre", _np(go))))
        model[1].register_full_backward_hook(
            lambda m, gi, go, log=log: log.append(("full", _np(gi), _np(go)))
        )
        model[1].register_full_backward_hook(lambda m, gi, go: tuple(g * 3 for g in gi))  # replaces dL/dx
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * 0.5,))  # replaces dL/dy
        results[name] = (log, _run(model, cr if name == "cr" else torch, x))
    (log, (gx, gp)), (tlog, (tgx, tgp)) = results["cr"], results["torch"]
    assert [e[0] for e in log] == [e[0] for e in tlog] == ["pre", "full"]
    for a, b in zip(log, tlog):
        for ga, gb in zip(a[1:], b[1:]):
            for u, v in zip(ga, gb, strict=True):
                np.testing.assert_allclose(u, v, rtol=1e-12)
    np.testing.assert_allclose(gx, tgx, rtol=1e-12)
    for u, v in zip(gp, tgp):
        np.testing.assert_allclose(u, v, rtol=1e-12)


def test_first_layer_whose_input_needs_no_grad_gets_none_as_grad_input():
    seen = {}
    for name, model in zip(("cr", "torch"), _pair()):
        lib = cr if name == "cr" else torch
        model[0].register_full_backward_hook(lambda m, gi, go, name=name: seen.update({name: (gi, _np(go))}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns that the hook fires at the outputs
            model(lib.ones(2, 4, dtype=lib.float64)).sum().backward()
    assert seen["cr"][0] == seen["torch"][0] == (None,)
    np.testing.assert_allclose(seen["cr"][1][0], seen["torch"][1][0], rtol=1e-12)


def test_removed_hook_and_no_grad_forward_call_nothing():
    calls = []
    lin = cr.nn.Linear(2, 2)
    h = lin.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with cr.no_grad():
        lin(cr.ones(1, 2))
    h.remove()
    lin(cr.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == []


def test_misuse_is_refused():
    lin = cr.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="must be callable"):
        lin.register_full_backward_hook(3)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="tuple of 1 gradients, got tuple of length 2"):
        lin(cr.ones(1, 2, requires_grad=True)).sum().backward()
    first = cr.nn.Linear(2, 2)
    first.register_full_backward_hook(lambda m, gi, go: (cr.ones(1, 2),))
    with pytest.raises(RuntimeError, match="no input of Linear requires grad"):
        first(cr.ones(1, 2)).sum().backward()


def test_a_module_pickled_before_backward_hooks_existed_still_runs():
    import pickle

    lin = cr.nn.Linear(2, 2)
    state = dict(lin.__dict__)
    del state["_backward_hooks"], state["_backward_pre_hooks"]
    old = cr.nn.Linear.__new__(cr.nn.Linear)
    object.__setattr__(old, "__dict__", state)  # what an older chainrule pickled
    back = pickle.loads(pickle.dumps(old))
    x = cr.ones(1, 2, requires_grad=True)
    back(x).sum().backward()
    assert x.grad is not None and back.register_full_backward_hook(lambda m, gi, go: None) is not None
