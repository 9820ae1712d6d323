"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, and the shape helpers
``Identity``, ``Flatten``, ``Unflatten``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from chainrule.nn.activation import ReLU
from chainrule.nn.module import Module
from chainrule.nn.pooling import MaxPool1d, MaxPool2d, MaxPool3d
from chainrule.tensor import Tensor


def _relu_then_max_pool(first: Module, second: Module) -> bool:
    """True when ``second(first(x))`` may run as ``first(second(x))``: a plain ReLU, then a max-pool
    with no padding (so every window holds real input elements) and no indices, neither hooked."""
    if type(first) is not ReLU or type(second) not in (MaxPool1d, MaxPool2d, MaxPool3d):
        return False
    if first._forward_hooks or first._forward_pre_hooks or second._forward_hooks or second._forward_pre_hooks:
        return False
    padding = second.padding
    unpadded = not any(padding) if isinstance(padding, (tuple, list)) else padding == 0
    return unpadded and not second.return_indices


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) = c(b(a(x)))``.

    Indexable and sliceable like a list (``model[:-1]`` chops off the head and keeps
    the shared layers), or built from an ``OrderedDict`` of named modules.

    Example::

        model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
        neck = model[:2]          # a Sequential sharing the first two modules

    One rewrite, invisible in the results: a ``ReLU`` directly followed by an unpadded
    ``MaxPool`` runs as pool-then-ReLU.  max(relu(x)) = relu(max(x)) for every window, and
    the gradients agree too (both route a window's gradient to its first maximum when that
    maximum is positive, and drop it otherwise), so outputs and gradients are identical to
    the written order, while the ReLU touches 4x fewer elements (2x2 pooling).  Modules with
    hooks are never rewritten.
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
        modules = list(self._modules.values())
        i = 0
        while i < len(modules):
            if i + 1 < len(modules) and _relu_then_max_pool(modules[i], modules[i + 1]):
                x = modules[i](modules[i + 1](x))  # see the class docstring: same result, less work
                i += 2
                continue
            x = modules[i](x)
            i += 1
        return x

    def __getitem__(self, idx: int | slice) -> Module:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        name = list(self._modules)[_index(idx, len(self._modules), "Sequential")]
        self.add_module(name, module)

    def __delitem__(self, idx: int | slice) -> None:
        names = list(self._modules)
        for name in names[idx] if isinstance(idx, slice) else [names[_index(idx, len(names), "Sequential")]]:
            del self._modules[name]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self


def _index(idx: int, n: int, what: str) -> int:
    if not -n <= idx < n:
        raise IndexError(f"{what}: index {idx} is out of range for {n} modules")
    return idx % n


class ModuleList(Module):
    """A list of modules, registered so their parameters are found."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[_index(idx, len(mods), "ModuleList")]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(idx, len(self._modules), "ModuleList")), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)


class ModuleDict(Module):
    """A dict of named modules, registered so their parameters are found."""

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
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules: dict | Iterable) -> None:
        for k, m in modules.items() if hasattr(modules, "items") else modules:
            self.add_module(k, m)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim``: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dim ``dim`` into ``unflattened_size``: the inverse of ``Flatten``."""

    def __init__(self, dim: int, unflattened_size: tuple):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        d = self.dim % x.ndim
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
