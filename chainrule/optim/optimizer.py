"""``Optimizer``: the base class of every optimizer in ``cr.optim``.

An optimizer owns

- ``param_groups``: a list of dicts, each with ``'params'`` (a list of tensors) and that group's
  options (``'lr'``, ``'weight_decay'``, ...).  Options missing from a group come from the
  optimizer's ``defaults`` (its constructor arguments), so different layers can train with
  different learning rates::

      opt = cr.optim.SGD([{"params": body.parameters()},
                          {"params": head.parameters(), "lr": 1e-2}], lr=1e-3, momentum=0.9)

- ``state``: per-parameter buffers (velocity, cache, moments, step count), a dict keyed by the
  parameter tensor itself, filled lazily at a parameter's first update.

``step()`` updates every parameter that has a gradient (``p.grad is not None``); parameters
without one (frozen, or unused in this forward pass) are skipped and keep their state.  The update
works directly on the arrays (``p._data``, in place) with NumPy/CuPy, outside autograd.  Before any
parameter moves, every gradient is checked against its parameter (shape, dtype, device); a
mismatch raises and leaves parameters and state untouched.

``state_dict()`` / ``load_state_dict()`` use PyTorch's layout: parameters are referred to by
their index in the concatenation of the groups' ``'params'`` lists::

    {'state': {0: {'step': tensor(10.), 'exp_avg': tensor(...), ...}, 1: {...}},
     'param_groups': [{'lr': 0.001, 'betas': (0.9, 0.999), ..., 'params': [0, 1]}]}

Subclasses set ``_name``, implement ``_validate(group)`` (raise ``ValueError`` on a bad option),
``_init_state(st, pd, group)`` (create the state entries a parameter lacks) and
``_update(group, params, grads)`` (``params``: the tensors with a gradient, ``grads``: their
gradient arrays, already checked), whose loop ``_prepared(group, params, grads)`` runs: it yields
each parameter's array, its gradient with ``maximize`` and weight decay applied, and its state.

By default every optimizer computes exactly what PyTorch computes.  ``flush_subnormals(True)``
opts in to one difference that can matter for speed in long runs (see its docstring).
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from chainrule import backend
from chainrule.autograd.grad_mode import enable_grad
from chainrule.backend import np, xp_of
from chainrule.kernels.optim import flush_subnormals_
from chainrule.tensor import Tensor


class _RequiredParameter:
    """Marker for an option that has no default and must be given (as PyTorch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of the optimizers (see the module docstring).

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts defining
            parameter groups (each with a ``'params'`` entry and optional per-group options).
        defaults: the default value of every option of this optimizer.
    """

    _name = "Optimizer"
    # state entries kept as Python numbers inside the optimizer, written to state_dict() as
    # 0-d float32 tensors (PyTorch's format)
    _scalar_state: tuple[str, ...] = ("step",)

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._validate({k: v for k, v in self.defaults.items() if v is not required})
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False
        self._step_calls = 0  # for the periodic subnormal flush (see flush_subnormals)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}: params should be an iterable of Tensors or dicts, but got a single "
                f"Tensor (shape {tuple(params.shape)}); pass [tensor] or model.parameters()"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{self._name}: params should be an iterable of Tensors or dicts, got a dict; "
                "pass a list of parameter groups"
            )
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- options ------------------------------------------------------------------------
    def _validate(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` naming the option and value when an option of ``group`` is invalid."""

    def _check_nonneg(self, group: dict[str, Any], *names: str) -> None:
        for name in names:
            if name in group:
                value = _number(self._name, name, group[name])
                if not value >= 0.0:
                    raise ValueError(f"{self._name}: invalid {name}={group[name]!r}; expected a number >= 0")
                if name == "lr" and not math.isfinite(value):
                    raise ValueError(f"{self._name}: invalid lr={group[name]!r}; expected a finite number")

    def _check_betas(self, group: dict[str, Any]) -> None:
        if "betas" not in group:
            return
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self._name}: invalid betas={betas!r}; expected a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            value = _number(self._name, f"betas[{i}]", beta)
            if not 0.0 <= value < 1.0:
                raise ValueError(
                    f"{self._name}: invalid betas[{i}]={beta!r} in betas={tuple(betas)!r}; "
                    "expected 0 <= beta < 1"
                )

    # -- parameter groups ---------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. unfreezing layers while fine-tuning).

        Options the group does not set come from ``defaults``.  A parameter may belong to one
        group only.
        """
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{self._name}.add_param_group: param_group must be a dict, got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(f"{self._name}.add_param_group: the group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{self._name}: parameters need to be in an ordered collection (list, tuple, generator), "
                "not a set, whose order changes between runs"
            )
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError(f"{self._name}: all parameters should be given with names or all without")
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{self._name}: can only optimize Tensors, but parameter {i} of the group "
                    f"is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{self._name}: can't optimize a non-leaf Tensor (parameter {i}, shape {tuple(p.shape)}, "
                    f"grad_fn={p.grad_fn!r}); optimize the leaf it was computed from"
                )
        group = dict(param_group)
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{self._name}: parameter group didn't specify required option {key!r}")
            group.setdefault(key, default)
        self._validate(group)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn(
                f"{self._name}: a parameter group contains the same parameter more than once", stacklevel=3
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in tensors):
            raise ValueError(f"{self._name}: some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != bool(names):
                raise ValueError(f"{self._name}: all parameter groups should be with names or all without")
        param_group.clear()
        param_group.update(group)
        self.param_groups.append(param_group)

    # -- the update ------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters (``p.grad = None``, or zero them in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        g.grad_fn = None
                        g.requires_grad = False
                        if (
                            isinstance(g._data, np.ndarray)
                            and not g._data.flags.writeable
                            or isinstance(g._data, np.generic)
                        ):
                            g._data = np.zeros_like(g._data)  # a read-only view or a NumPy scalar
                        else:
                            g._data.fill(0)
                        g._version += 1

    def step(self, closure: Any = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()``'s loss, if given.

        ``closure`` (optional) re-evaluates the model and returns the loss: it runs first, with
        gradient recording on, and typically does ``zero_grad(); loss = f(); loss.backward()``.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = []
        for gi, group in enumerate(self.param_groups):
            params, grads = [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if not isinstance(g, Tensor):
                    raise TypeError(
                        f"{self._name}.step: the gradient of a parameter (group {gi}, shape "
                        f"{tuple(p.shape)}) is a {type(g).__name__}, expected a Tensor; "
                        "nothing was updated"
                    )
                gd, pd = g._data, p._data
                if type(gd) is not type(pd):
                    # 0-d results can be NumPy scalars, which can't be updated in place: use 0-d arrays
                    if isinstance(gd, np.generic):
                        gd = np.asarray(gd)
                    if isinstance(pd, np.generic):
                        p._data = pd = np.asarray(pd)
                    if type(gd) is not type(pd):
                        self._bad_grad(gi, group, p, g)
                if gd.shape != pd.shape or gd.dtype != pd.dtype:
                    self._bad_grad(gi, group, p, g)
                if type(pd) is np.ndarray and not pd.flags.writeable:
                    p._data = pd.copy()  # e.g. built on a broadcast view: give it its own memory
                params.append(p)
                grads.append(gd)
            work.append((group, params, grads))
        for group, params, grads in work:
            if params:
                self._update(group, params, grads)
                for p in params:  # p._version += 1, without the property's two calls
                    vc = p._vc
                    if vc is None:
                        p._vc = [1]
                    else:
                        vc[0] += 1
        self._opt_called = True
        self._step_calls += 1
        if _flush_subnormals and self._step_calls % _FLUSH_EVERY == 1:
            self._flush_subnormal_state()
        return loss

    def _flush_subnormal_state(self) -> None:
        """Flush subnormal numbers from the optimizer state.

        Flush the subnormals of every floating-point state array of ``_FLUSH_MIN_ELEMENTS``
        or more elements (smaller ones cost more to check than their subnormals cost).
        """
        for st in self.state.values():
            for t in st.values():
                if (
                    isinstance(t, Tensor)
                    and t._data.dtype.kind == "f"
                    and t._data.size >= _FLUSH_MIN_ELEMENTS
                ):
                    flush_subnormals_(t._data)

    def _bad_grad(self, gi: int, group: dict, p: Tensor, g: Tensor) -> None:
        index = next(i for i, q in enumerate(group["params"]) if q is p)
        if g.shape != p.shape:
            what = f"has shape {tuple(g.shape)} but the parameter has shape {tuple(p.shape)}"
        elif g.dtype != p.dtype:
            what = f"has dtype {g.dtype} but the parameter has dtype {p.dtype}"
        elif g.device != p.device:
            what = f"is on device '{g.device}' but the parameter is on '{p.device}'"
        else:
            what = f"is a {type(g._data).__name__} array but the parameter a {type(p._data).__name__}"
        raise RuntimeError(
            f"{self._name}.step: the gradient of parameter {index} of group {gi} {what}; nothing was updated"
        )

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Any]) -> None:
        """Update ``params`` in place from ``grads`` (arrays, already checked), with ``group``'s options."""
        raise NotImplementedError

    def _init_state(self, st: dict[str, Any], pd: Any, group: dict[str, Any]) -> None:
        """Fill the empty state ``st`` of a parameter (array ``pd``) at its first update.

        State is created lazily, as PyTorch does.  Buffers an option needs only when it is on
        (AMSGrad's maximum, RMSprop's momentum) are added by ``_update`` with ``_zeros`` when
        first needed, since a schedule may turn the option on later.
        """

    @staticmethod
    def _zeros(st: dict[str, Any], pd: Any, *names: str) -> None:
        """Add the missing ``names`` to ``st`` as zero tensors shaped like ``pd``."""
        for name in names:
            if name not in st:
                st[name] = Tensor._make(xp_of(pd).zeros_like(pd))

    def _prepared(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Any], *, with_state: bool = True
    ) -> Iterator[tuple[Any, Any, dict[str, Any] | None]]:
        """The preamble every update shares: yield ``(pd, g, st)`` for each parameter, in order.

        - ``pd``: the parameter's array, to update in place;
        - ``st``: its state, filled by ``_init_state`` when empty, its ``'step'`` (if any) counted;
          ``None`` with ``with_state=False`` (no state is touched, e.g. SGD without momentum);
        - ``g``: the gradient, negated when ``group['maximize']``; with a ``weight_decay`` λ,
          either λ·θ is added to it (L2), or, with ``group['decoupled_weight_decay']``, the
          weights decay in place first (θ ← θ·(1 − ηλ), AdamW).
        """
        maximize = group.get("maximize", False)
        weight_decay = float(group.get("weight_decay", 0))
        decoupled = group.get("decoupled_weight_decay", False)
        lr = float(group["lr"])
        for p, g in zip(params, grads):
            pd = p._data
            st = None
            if with_state:
                st = self.state[p]
                if not st:
                    self._init_state(st, pd, group)
                if "step" in st:
                    st["step"] += 1
            if maximize:
                g = -g
            if weight_decay != 0:
                if decoupled:
                    pd *= 1 - lr * weight_decay
                else:
                    g = g + weight_decay * pd
            yield pd, g, st

    # -- saving and loading ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [...]}`` (PyTorch's layout).

        Tensors in it are copies: later steps don't change a saved state dict.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if s and id(p) in index:
                state[index[id(p)]] = {k: self._pack(k, v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def _pack(self, key: str, value: Any) -> Any:
        if isinstance(value, Tensor):
            return Tensor._make(value._data.copy())
        if key in self._scalar_state and isinstance(value, numbers.Real):
            return Tensor._make(np.array(value, dtype=np.float32))
        return copy.deepcopy(value)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()`` (here or with the same layout in PyTorch).

        Groups and parameters are matched by position; buffers are cast to their parameter's
        dtype and device.  Nothing changes if the state dict doesn't fit this optimizer.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{self._name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{self._name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"{self._name}.load_state_dict: parameter group {i} has {len(s['params'])} parameters in "
                    f"the loaded state dict but {len(g['params'])} in the optimizer"
                )
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            for p, k in zip(g["params"], s["params"]):
                id_map[k] = p
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            ng = {k: copy.deepcopy(v) for k, v in s.items() if k != "params"}
            for key, default in self.defaults.items():
                ng.setdefault(key, default)
            self._validate(ng)
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        new_state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, entry in state_dict["state"].items():
            if k not in id_map:
                new_state[k] = copy.deepcopy(entry)
                continue
            p = id_map[k]
            new_state[p] = {key: self._unpack(key, v, p, k) for key, v in entry.items()}
        for old, new in zip(self.param_groups, new_groups):
            old.clear()
            old.update(new)
        self.state = new_state

    def _unpack(self, key: str, value: Any, p: Tensor, index: Any) -> Any:
        if key in self._scalar_state:
            v = float(value.item() if hasattr(value, "item") else value)
            return int(v) if key == "step" and v.is_integer() else v
        if isinstance(value, Tensor) or hasattr(value, "__array__"):
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(
                    f"{self._name}.load_state_dict: state {key!r} of parameter {index} has shape "
                    f"{tuple(arr.shape)} but the parameter has shape {tuple(p.shape)}"
                )
            arr = backend.to_device(arr, p.device)
            dtype = p.dtype if p.dtype.kind in "fc" else arr.dtype
            return Tensor._make(arr.astype(dtype, copy=True))
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


_flush_subnormals = False
_FLUSH_EVERY = 16  # with flush_subnormals(True), the state is checked on steps 1, 17, 33, ...
_FLUSH_MIN_ELEMENTS = 4096


def flush_subnormals(enabled: bool = True) -> bool:
    """Opt in to (or out of) flushing subnormal floats in optimizer state; returns the previous setting.

    Off by default, so that every optimizer computes exactly what PyTorch computes.  When on,
    every optimizer sets the subnormal entries (0 < |x| < 1.2e-38 in float32) of its state
    arrays of 4096 elements or more to 0, on its steps 1, 17, 33, ...

    Why you may want it: a running average whose input has stopped, such as the momentum of a
    dead ReLU unit (its gradient is exactly 0), decays into the subnormal range and stays there
    (β·m rounds back to m), and CPUs compute on subnormal operands many times slower.  In a long
    training run this can make the optimizer step several times slower (docs/performance.md).
    Flushing changes only values below ~1e-38, whose effect on a parameter is far below its
    rounding, but trajectories are then no longer bit-identical to PyTorch's.

    >>> previous = cr.optim.flush_subnormals(True)   # e.g. before a long training run
    >>> cr.optim.flush_subnormals(previous)          # back to the default (off)
    True
    """
    global _flush_subnormals
    if not isinstance(enabled, bool):
        raise TypeError(
            f"flush_subnormals: expected True or False, got {enabled!r} ({type(enabled).__name__})"
        )
    previous, _flush_subnormals = _flush_subnormals, enabled
    return previous


def _number(opt: str, name: str, value: Any) -> float:
    """``value`` as a Python float, or ``TypeError`` naming the option."""
    if isinstance(value, Tensor) and value._data.size == 1:
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt}: {name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)
