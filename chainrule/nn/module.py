"""``Module`` (the base of every layer and model) and ``Parameter`` (a trainable tensor).

As in PyTorch, assigning a ``Parameter`` or a ``Module`` to an attribute registers
it, so ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``to()`` find
everything a model holds::

    class TwoLayer(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = cr.nn.Linear(2, 8)
            self.out = cr.nn.Linear(8, 1)

        def forward(self, x):
            return self.out(self.hidden(x).tanh())

    model = TwoLayer()
    [name for name, _ in model.named_parameters()]
    # ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
"""

from __future__ import annotations

import copy
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from chainrule import backend
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.backend import np
from chainrule.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's trainable weight.

    A tensor that is a module's trainable weight: ``requires_grad=True`` by default and
    registered automatically when assigned to a ``Module`` attribute.

    ``Parameter(t)`` shares memory with the tensor ``t``.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = np.zeros((0,), np.float32)
        arr = data._data if isinstance(data, Tensor) else data
        if not hasattr(arr, "dtype"):
            arr = Tensor(arr)._data
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            out.grad = copy.deepcopy(self.grad, memo)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self.requires_grad))


def _rebuild_parameter(data, requires_grad: bool) -> Parameter:
    """Unpickle a Parameter: its values and requires_grad (no .grad, as PyTorch)."""
    return Parameter(data, requires_grad)


def new_array(op: str, shape: tuple, device: Any = None, dtype: Any = None, fill: float = 0.0):
    """The array of a new parameter or buffer of the layer ``op``.

    ``shape`` filled with ``fill``, of ``dtype`` (the default float dtype, ``cr.get_default_dtype()``, when
    None, as PyTorch) on ``device``; a non-float ``dtype`` is refused (parameters must be able to require
    grad).
    """
    dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating point dtype (parameters are trained), got {dt}")
    return backend.to_device(np.full(shape, fill, dt), backend.normalize_device(device))


def new_parameter(
    op: str, shape: tuple, device: Any = None, dtype: Any = None, fill: float = 0.0
) -> Parameter:
    """A new ``Parameter`` of the layer ``op`` (see ``new_array``).

    ``reset_parameters`` then gives it its initial values. Every layer makes its parameters here.
    """
    return Parameter(new_array(op, shape, device, dtype, fill))


def _as_array(value: Any) -> tuple[Any, str | None]:
    """``(array, None)`` for a Tensor, array or number from a state dict; ``(None, why)`` otherwise."""
    if isinstance(value, Tensor):
        return value._data, None
    if isinstance(value, (bool, int, float, np.generic, np.ndarray)) or backend.device_of(value) == "cuda":
        arr = backend.xp_of(value).asarray(value)
        if arr.dtype.kind in "biuf":
            return arr, None
        return None, f"expected a numeric tensor, got an array of dtype {arr.dtype}"
    return None, f"expected a Tensor or an array, got {type(value).__name__}"


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models: override ``forward`` and call the module like a function.

    A module holds ``training`` (switched by ``train()``/``eval()``), parameters, buffers
    (non-trainable state such as BatchNorm's running statistics) and sub-modules, each in
    registration order: assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``to()`` find everything a model
    holds. Calling the module runs the forward pre-hooks, ``forward`` and the forward hooks.

    Example:
        >>> class TwoLayer(cr.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = cr.nn.Linear(4, 8)
        ...         self.out = cr.nn.Linear(8, 2)
        ...
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
        >>> model = TwoLayer()
        >>> model(cr.randn(3, 4)).shape
        (3, 2)
        >>> [name for name, _ in model.named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
        >>> model.eval().training
        False
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of the module: override it in every subclass.

        Call the module (``module(x)``), not ``forward``, so that the hooks run.

        Args:
            *args: the inputs, usually tensors.
            **kwargs: keyword inputs.

        Returns:
            The output, usually a tensor or a tuple of tensors.
        """
        raise NotImplementedError(f"{type(self).__name__}: forward() is not implemented")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                new = hook(self, args)
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        backward_hooks = (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled()
        if backward_hooks:
            from chainrule.nn._backward_hooks import BackwardHook

            bw = BackwardHook(self)
            args = bw.setup_inputs(args)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                new = hook(self, args, out)
                if new is not None:
                    out = new
        if backward_hooks:
            out = bw.setup_outputs(out)
        return out

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a module pickled before backward hooks existed gets empty hook tables."""
        self.__dict__.update(state)
        for name in ("_backward_hooks", "_backward_pre_hooks"):
            self.__dict__.setdefault(name, OrderedDict())

    # -- registration ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: cannot assign attribute {name!r} before Module.__init__() is called"
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            self._check_name("__setattr__", "parameter", name)
            self._register(params, name, value)
        elif isinstance(value, Module):
            self._check_name("__setattr__", "module", name)
            self._register(modules, name, value)
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as parameter {name!r} "
                    "(a Parameter or None is expected)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as child module {name!r}"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as buffer {name!r}"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _check_name(op: str, kind: str, name: Any) -> None:
        """As PyTorch: a name is a non-empty string without dots (dots separate nested names)."""
        if not isinstance(name, str):
            raise TypeError(f"{op}: {kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{op}: {kind} name can't be empty or contain '.', got {name!r}")

    def _register(self, store: OrderedDict, name: str, value: Any) -> None:
        """Register ``value`` under ``name``, keeping the order of registration.

        Put ``value`` in ``store``; a name already there keeps its place (registration order),
        as PyTorch, so replacing ``model.conv1`` leaves ``children()`` and ``state_dict()`` in order.
        """
        if name in store:
            store[name] = value
            return
        self._drop(name)
        store[name] = value

    def _drop(self, name: str) -> None:
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            table = d.get(store)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, e.g. ``bias=False``) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}"
            )
        self._check_name("register_parameter", "parameter", name)
        self._register(self._parameters, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add non-trainable state (saved in ``state_dict`` unless ``persistent=False``)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        self._check_name("register_buffer", "buffer", name)
        self._register(self._buffers, name, tensor)
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._check_name("add_module", "module", name)
        self._register(self._modules, name, module)

    register_module = add_module

    def register_forward_hook(self, hook: Callable) -> _Handle:
        """Call ``hook(module, inputs, output)`` after every forward; returns a handle with ``remove()``."""
        return _Handle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook: Callable) -> _Handle:
        """Call ``hook(module, inputs)`` before every forward; returns a handle with ``remove()``."""
        return _Handle(self._forward_pre_hooks, hook)

    def register_full_backward_hook(self, hook: Callable) -> _Handle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients of the inputs are computed.

        As PyTorch's ``register_full_backward_hook``.

        ``grad_input`` holds dL/d(input) for each positional Tensor input (None for one that does
        not require grad; parameters are not inputs), ``grad_output`` dL/d(output) for each Tensor
        output. The hook may return a tuple replacing ``grad_input``; it must not change its
        arguments in place. Returns a handle with ``remove()``.

        Example:
            >>> relu = cr.nn.ReLU()
            >>> h = relu.register_full_backward_hook(lambda m, gi, go: tuple(g * 2 for g in gi))
            >>> x = cr.tensor([-1.0, 3.0], requires_grad=True)
            >>> relu(x).sum().backward()
            >>> x.grad
            tensor([0., 2.])
        """
        if not callable(hook):
            raise TypeError(f"register_full_backward_hook: hook must be callable, got {type(hook).__name__}")
        return _Handle(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook: Callable) -> _Handle:
        """Call ``hook(module, grad_output)`` once the gradients of the outputs are computed.

        It runs before the module's backward and may return a tuple replacing ``grad_output``.

        Example:
            >>> lin = cr.nn.Linear(2, 1)
            >>> h = lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 0,))
            >>> lin(cr.ones(1, 2)).sum().backward()
            >>> lin.weight.grad
            tensor([[0., 0.]])
        """
        if not callable(hook):
            raise TypeError(
                f"register_full_backward_pre_hook: hook must be callable, got {type(hook).__name__}"
            )
        return _Handle(self._backward_pre_hooks, hook)

    # -- traversal ---------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def get_submodule(self, target: str) -> Module:
        """The sub-module at dotted path ``target`` (``''`` is self): ``model.get_submodule('0.conv')``."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part) if isinstance(module, Module) else None
            if child is None:
                raise AttributeError(
                    f"get_submodule: {type(module).__name__} has no sub-module {part!r} ({target!r})"
                )
            module = child
        return module

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, depth first (each shared module once)."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules as (name, module) pairs, in registration order."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in registration order."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, mod in mods:
            for name, value in getattr(mod, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_name}.{name}" if mod_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ``('0.weight', Parameter)``; shared ones once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of the module and (with ``recurse``) its sub-modules, each shared one once.

        Pass them to an optimizer: ``cr.optim.Adam(model.parameters())``.
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """The buffers (running statistics and other non-trainable state) as (dotted name, tensor) pairs."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers (running statistics and other non-trainable state)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- state -------------------------------------------------------------------------------
    def state_dict(
        self, destination: OrderedDict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name (detached unless ``keep_vars``)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        With ``strict=True`` the keys must match exactly; shapes must always match.
        Every entry is checked and converted to its target's dtype and device before anything is
        copied, so a failed load (``RuntimeError`` listing every problem) changes nothing.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        apply, keys = self._prepare_load(state_dict, strict)
        apply()
        return keys

    def _prepare_load(self, state_dict: dict, strict: bool = True) -> tuple[Callable[[], None], Any]:
        """Check a state dict and prepare its loading.

        Check ``state_dict`` against this module; returns ``(apply, (missing, unexpected))`` where
        ``apply()`` writes the converted values and cannot fail.  Raises before writing anything.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and unexpected:
            errors.append("unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected))
        if strict and missing:
            errors.append("missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing))
        prepared = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            arr, problem = _as_array(state_dict[key])
            if problem is None and target.ndim == 0 and arr.shape == (1,):
                arr = arr.reshape(())  # as PyTorch: old checkpoints hold 0-d values as 1-element arrays
            if problem is None and arr.shape != tuple(target.shape):
                problem = (
                    f"size mismatch for {key!r}: copying a param with shape {arr.shape} from the state_dict, "
                    f"the shape in the current model is {tuple(target.shape)}"
                )
            elif problem is None:
                try:  # converted now, so a bad entry fails before anything is written
                    arr = backend.to_device(arr.astype(target.dtype, copy=False), target.device)
                except (TypeError, ValueError, OverflowError) as e:
                    problem = f"can't convert {key!r} to {target.dtype}: {e}"
            else:
                problem = f"while copying {key!r}: {problem}"
            if problem is not None:
                errors.append(problem)
            else:
                prepared.append((target, arr))
        if errors:
            raise RuntimeError(
                f"load_state_dict: error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )

        def apply() -> None:
            for target, arr in prepared:
                target._data[...] = arr
                target._version += 1

        return apply, _IncompatibleKeys(missing, unexpected)

    # -- modes and devices -------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) here and below."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(m)`` on every sub-module (children first) and on self, e.g. for initialisation."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move or cast every parameter and buffer in place.

        Move/cast every parameter and buffer in place: ``.to('cuda')``, ``.to(cr.float64)``,
        ``.to(device, dtype)``, ``.to(tensor)`` (its device and dtype).

        Only floating-point tensors change dtype (integer buffers such as BatchNorm's counter keep
        theirs).  A non-floating ``dtype`` raises ``TypeError`` as PyTorch, and the module is left
        unchanged: integer weights could not be trained.
        """
        dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"Module.to: unexpected keyword argument(s) {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, np.dtype) or (isinstance(a, type) and issubclass(a, np.generic)):
                dtype = a
            else:
                device = a
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind not in "fc":
                raise TypeError(
                    "nn.Module.to only accepts floating point or complex dtypes, "
                    f"but got desired dtype={dtype}"
                )
        device = None if device is None else backend.normalize_device(device)

        def convert(arr):
            if device is not None:
                arr = backend.to_device(arr, device)
            if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
                arr = arr.astype(dtype)
            return arr

        tensors = list(self.parameters()) + list(self.buffers())
        # everything is converted before anything is assigned: a failed move leaves the module as it was
        new = [(convert(t._data), None if t.grad is None else convert(t.grad._data)) for t in tensors]
        for t, (data, grad) in zip(tensors, new):
            t._data = data
            if grad is not None and grad is not t.grad._data:
                t.grad = Tensor._make(grad)
        return self

    def cpu(self) -> Module:
        """Move every parameter and buffer to the CPU (in place); returns the module."""
        return self.to("cpu")

    def cuda(self) -> Module:
        """Move every parameter and buffer to the GPU (in place, needs CuPy); returns the module."""
        return self.to("cuda")

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16."""
        return self.to(np.float16)

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64."""
        return self.to(np.float64)

    # -- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown in ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            child_lines.append(f"({name}): {text}")
        head = f"{type(self).__name__}("
        if len(extra_lines) == 1 and not child_lines:
            return head + extra_lines[0] + ")"
        if not extra_lines and not child_lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(extra_lines + child_lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)


class _Handle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, store: OrderedDict, hook: Callable):
        _Handle._next_id += 1
        self.id = _Handle._next_id
        self.store = store
        store[self.id] = hook

    def remove(self) -> None:
        self.store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
