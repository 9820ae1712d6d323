"""Containers and shape helpers.

Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``,
and the shape helpers
``Identity``, ``Flatten``, ``Unflatten``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from chainrule.nn.module import Module, Parameter
from chainrule.ops import _args
from chainrule.tensor import Tensor


def _index(idx: int, n: int, what: str) -> int:
    if not isinstance(idx, int) or isinstance(idx, bool):
        raise TypeError(f"{what}: indices must be integers or slices, got {type(idx).__name__}")
    if not -n <= idx < n:
        raise IndexError(f"{what}: index {idx} is out of range for {n} modules")
    return idx % n


def _renumber(store: OrderedDict) -> None:
    """Re-key ``store`` as '0', '1', ... keeping its order (after a delete), as PyTorch."""
    values = list(store.values())
    store.clear()
    store.update((str(i), v) for i, v in enumerate(values))


def _insert(store: OrderedDict, index: int, value, what: str) -> None:
    """Insert ``value`` at ``index`` of a '0', '1', ...-keyed store, shifting the later entries."""
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"{what}.insert: index must be an int, got {type(index).__name__}")
    n = len(store)
    if not -n <= index <= n:
        raise IndexError(f"{what}.insert: index {index} is out of range for {n} modules")
    index = index + n if index < 0 else index
    values = list(store.values())
    values.insert(index, value)
    store.clear()
    store.update((str(i), v) for i, v in enumerate(values))


def _check_module(what: str, module) -> None:
    if not isinstance(module, Module):
        raise TypeError(f"{what}: expected a Module, got {type(module).__name__}")


class Sequential(Module):
    r"""Modules applied one after the other, in the order given.

    $$
    \operatorname{Sequential}(f_1, \dots, f_n)(x) = f_n\left(\cdots f_2\left(f_1(x)\right)\cdots\right)
    $$

    Indexable and sliceable like a list (``model[:-1]`` chops off the head and keeps the shared
    layers), or built from an ``OrderedDict`` of named modules. As PyTorch: ``seq[i] = m`` replaces
    in place, ``del seq[i]`` and ``pop(i)`` renumber the rest ('0', '1', ...),
    ``append``/``insert``/``extend`` add modules.

    Args:
        *modules: the modules, or one ``OrderedDict`` of named modules.

    Shape:
        - Input: what the first module takes.
        - Output: what the last module returns.

    Example:
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.Tanh(), cr.nn.Linear(8, 1))
        >>> model(cr.randn(5, 2)).shape
        (5, 1)
        >>> neck = model[:2]          # a Sequential sharing the first two modules
        >>> model[1] = cr.nn.ReLU()   # replaced in place: Linear, ReLU, Linear
        >>> [type(m).__name__ for m in model]
        ['Linear', 'ReLU', 'Linear']
    """

    def __init__(self, *modules: Module | OrderedDict):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, idx: int | slice) -> Module:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(OrderedDict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        _check_module("Sequential.__setitem__", module)
        name = list(self._modules)[_index(idx, len(self._modules), "Sequential")]
        self.add_module(name, module)

    def __delitem__(self, idx: int | slice) -> None:
        names = list(self._modules)
        for name in names[idx] if isinstance(idx, slice) else [names[_index(idx, len(names), "Sequential")]]:
            del self._modules[name]
        _renumber(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential: can only add a Sequential, got {type(other).__name__}")
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential: can only add a Sequential, got {type(other).__name__}")
        return self.extend(other)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (key ``str(len(self))``); returns self."""
        _check_module("Sequential.append", module)
        self.add_module(str(len(self._modules)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index``, renumbering the later ones; returns self."""
        _check_module("Sequential.insert", module)
        _insert(self._modules, index, module, "Sequential")
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append every module of ``modules``; returns self."""
        for m in list(modules):
            self.append(m)
        return self

    def pop(self, idx: int | slice) -> Module:
        """Remove and return the module at ``idx``, renumbering the rest."""
        module = self[idx]
        del self[idx]
        return module


class ModuleList(Module):
    """A list of modules, registered so their parameters are found.

    As PyTorch's ``ModuleList``: ``ml[i] = m`` replaces in place, ``del``/``pop`` renumber,
    ``insert``/``extend``/``append`` add. It has no ``forward``: the owner decides how to call them.

    Args:
        modules: an iterable of modules (default empty).

    Example:
        >>> blocks = cr.nn.ModuleList(cr.nn.Linear(8, 8) for _ in range(3))
        >>> x = cr.randn(2, 8)
        >>> for block in blocks:
        ...     x = block(x).relu()
        >>> len(blocks), len(list(blocks.parameters()))
        (3, 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(mods[idx])
        return mods[_index(idx, len(mods), "ModuleList")]

    def __setitem__(self, idx: int, module: Module) -> None:
        _check_module("ModuleList.__setitem__", module)
        self.add_module(str(_index(idx, len(self._modules), "ModuleList")), module)

    def __delitem__(self, idx: int | slice) -> None:
        names = list(self._modules)
        for name in names[idx] if isinstance(idx, slice) else [names[_index(idx, len(names), "ModuleList")]]:
            del self._modules[name]
        _renumber(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __iadd__(self, other: Iterable[Module]) -> ModuleList:
        return self.extend(other)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        _check_module("ModuleList.append", module)
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules``; returns self."""
        if (
            not isinstance(modules, Iterable)
            or isinstance(modules, Module)
            and not isinstance(modules, (ModuleList, Sequential))
        ):
            raise TypeError(
                f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}"
            )
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``, renumbering the later ones."""
        _check_module("ModuleList.insert", module)
        _insert(self._modules, index, module, "ModuleList")

    def pop(self, idx: int | slice) -> Module:
        """Remove and return the module at ``idx``, renumbering the rest."""
        module = self[idx]
        del self[idx]
        return module


class ModuleDict(Module):
    """A dict of named modules, registered so their parameters are found (insertion order kept).

    Args:
        modules: a mapping or an iterable of (name, module) pairs (default empty).

    Example:
        >>> heads = cr.nn.ModuleDict({"class": cr.nn.Linear(4, 3), "box": cr.nn.Linear(4, 2)})
        >>> feats = cr.randn(5, 4)
        >>> {name: tuple(head(feats).shape) for name, head in heads.items()}
        {'class': (5, 3), 'box': (5, 2)}
    """

    def __init__(self, modules: dict | Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        """The names of the modules, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """The (name, module) pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove and return the module under ``key``."""
        module = self._modules[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: dict | Iterable) -> None:
        """Add (or replace) the modules of a mapping or an iterable of (name, module) pairs."""
        for k, m in modules.items() if hasattr(modules, "items") else modules:
            self.add_module(k, m)


def _as_parameter(value: Any) -> Any:
    """Tensors stored in a ParameterList/ParameterDict become Parameters (as PyTorch)."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _entry_line(key: Any, value: Any) -> str:
    """One line of a ParameterList/ParameterDict repr, as PyTorch prints it."""
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        return f"({key}): {kind} containing: [{value.dtype} of size {'x'.join(map(str, value.shape))}]"
    return f"({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters, registered so ``parameters()`` and ``state_dict()`` find them.

    Keys are '0', '1', ..., as ``torch.nn.ParameterList``; a plain Tensor becomes a ``Parameter``.

    Args:
        values: an iterable of parameters or tensors (default empty).

    Example:
        >>> scales = cr.nn.ParameterList(cr.nn.Parameter(cr.ones(4)) for _ in range(3))
        >>> y = cr.randn(2, 4) * scales[1]
        >>> list(scales.state_dict())
        ['0', '1', '2']
    """

    def __init__(self, values: Iterable[Any] | None = None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx: int | slice):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(_index(idx, self._size, "ParameterList")))

    def __setitem__(self, idx: int, param: Any) -> None:
        setattr(self, str(_index(idx, self._size, "ParameterList")), _as_parameter(param))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._size))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end; returns self."""
        self._size += 1
        setattr(self, str(self._size - 1), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every value of ``values``; returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}"
            )
        for v in list(values):
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(i, p) for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters by name, registered so ``parameters()`` and ``state_dict()`` find them.

    As ``torch.nn.ParameterDict``; a plain Tensor becomes a ``Parameter``.

    Args:
        parameters: a mapping or an iterable of (name, parameter) pairs (default empty).

    Example:
        >>> pd = cr.nn.ParameterDict({"scale": cr.nn.Parameter(cr.ones(4)), "shift": cr.zeros(4)})
        >>> y = cr.randn(2, 4) * pd["scale"] + pd["shift"]
        >>> sorted(pd.state_dict())
        ['scale', 'shift']
    """

    def __init__(self, parameters: Any = None):
        super().__init__()
        self._keys: dict = {}
        if parameters is not None:
            self.update(parameters)

    def _key(self, key: Any) -> str:
        self._check_name("ParameterDict", "parameter", key)
        return key

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._keys[self._key(key)] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        if key not in self._keys:
            raise KeyError(key)
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __contains__(self, key: Any) -> bool:
        return key in self._keys

    def keys(self):
        """The names of the parameters, in insertion order."""
        return list(self._keys)

    def values(self):
        """The parameters, in insertion order."""
        return [self[k] for k in self._keys]

    def items(self):
        """The (name, parameter) pairs, in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter named ``key``, or ``default``."""
        return self[key] if key in self._keys else default

    def pop(self, key: str) -> Any:
        """Remove and return the value under ``key``."""
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every parameter."""
        for k in list(self._keys):
            del self[k]

    def update(self, values: Any) -> None:
        """Add parameters from a mapping or an iterable of pairs.

        Add the (key, value) pairs of a mapping or an iterable of pairs: in order for an
        OrderedDict, a ParameterDict or pairs, sorted by key for a plain dict (as PyTorch).
        """
        if isinstance(values, (OrderedDict, ParameterDict)):
            pairs = list(values.items())
        elif hasattr(values, "items"):
            pairs = sorted(values.items())
        else:
            pairs = list(values)
        for k, v in pairs:
            self[k] = v

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(k, p) for k, p in self.items())


class Identity(Module):
    """Returns its input unchanged: a placeholder, e.g. to remove a layer.

    $$
    y = x
    $$

    Args:
        *args: ignored (as PyTorch).
        **kwargs: ignored (as PyTorch).

    Shape:
        - Input: (*), anything.
        - Output: the input itself.

    Example:
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 4), cr.nn.ReLU())
        >>> model[1] = cr.nn.Identity()
        >>> x = cr.randn(2, 4)
        >>> bool((model(x) == model[0](x)).all())
        True
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    r"""Flatten the dims ``start_dim`` to ``end_dim`` into one.

    $$
    y_{n, \,(c H + h) W + w} = x_{n, c, h, w}
    $$

    (row-major order, as ``reshape``): (N, C, H, W) becomes (N, C·H·W) with the defaults, the
    link between convolutional layers and a ``Linear`` head.

    Args:
        start_dim: the first dim to flatten (default 1, keeping the batch dim).
        end_dim: the last dim to flatten (default −1).

    Shape:
        - Input: (*, S_start, ..., S_end, *).
        - Output: (*, S_start·...·S_end, *).

    Example:
        >>> cr.nn.Flatten()(cr.randn(32, 3, 4, 4)).shape
        (32, 48)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = _args.integer("Flatten", "start_dim", start_dim)
        self.end_dim = _args.integer("Flatten", "end_dim", end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    r"""Expand dim ``dim`` into ``unflattened_size``: the inverse of ``Flatten``.

    $$
    y_{n, c, h, w} = x_{n, \,(c H + h) W + w}
    $$

    (row-major order, as ``reshape``).

    Args:
        dim: the dim to expand.
        unflattened_size: the sizes it becomes (their product is its size).

    Shape:
        - Input: (*, S, *) with S = ∏ unflattened_size.
        - Output: (*, *unflattened_size, *).

    Example:
        >>> cr.nn.Unflatten(1, (3, 4, 4))(cr.randn(32, 48)).shape
        (32, 3, 4, 4)
    """

    def __init__(self, dim: int, unflattened_size: tuple):
        super().__init__()
        sizes = _args.ints("Unflatten", "unflattened_size", unflattened_size, len(unflattened_size), -1)
        if sizes.count(-1) > 1:
            raise ValueError(f"Unflatten: unflattened_size may hold at most one -1, got {unflattened_size!r}")
        self.dim, self.unflattened_size = _args.integer("Unflatten", "dim", dim), sizes

    def forward(self, x: Tensor) -> Tensor:
        d = self.dim % x.ndim
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
