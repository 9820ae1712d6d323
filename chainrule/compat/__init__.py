"""Run PyTorch code on chainrule: ``import torch`` (and ``torchvision``) answered by chainrule's modules.

``install_torch()`` (for a notebook) or ``chainrule torch SCRIPT [ARGS...]`` (for a script) puts
alias modules into ``sys.modules`` so that, in this process,

    torch, torch.nn, torch.nn.functional, torch.nn.init, torch.nn.utils(.rnn), torch.nn.modules.*,
    torch.optim, torch.optim.lr_scheduler, torch.utils.data, torch.autograd, torch.serialization,
    torch.cuda, torch.backends, torch.onnx, torchvision (datasets, transforms, utils, models)

resolve to chainrule (``chainrule``, ``chainrule.nn``, ``chainrule.optim``, ``chainrule.data``,
``chainrule.vision``, ...). The aliases map *names only*: every behaviour is chainrule's own code,
so stepping into ``F.cross_entropy`` or ``loss.backward()`` lands in chainrule's readable source.
A name chainrule lacks raises ``AttributeError: chainrule does not implement torch.X yet`` (an
unknown submodule, ``ModuleNotFoundError`` with the same words) at the line that uses it.

Example:
    >>> from chainrule.compat import install_torch
    >>> install_torch()
    >>> import torch, torch.nn as nn
    >>> nn.Linear(3, 2)(torch.ones(1, 3)).shape
    (1, 2)
    >>> from chainrule.compat import uninstall_torch
    >>> uninstall_torch()                  # `import torch` finds PyTorch again (if installed)
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import types
from typing import Any

import chainrule
from chainrule import autograd, data, devices, nn, optim, serialization
from chainrule.nn import transformer as _transformer

_NOT_YET = "chainrule does not implement {} yet"


class AliasModule(types.ModuleType):
    """A module standing for ``torch_name`` whose attributes are looked up in ``targets``, in order."""

    def __init__(self, torch_name: str, targets: list[Any], doc: str | None = None):
        super().__init__(torch_name, doc or f"chainrule's stand-in for {torch_name} (see chainrule.compat)")
        self.__dict__["_targets"] = list(targets)
        self.__dict__["__path__"] = []  # a package: submodules can be imported from it

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        for target in self.__dict__["_targets"]:
            try:
                return getattr(target, name)
            except AttributeError:
                continue
        raise AttributeError(_NOT_YET.format(f"{self.__name__}.{name}"))

    def __dir__(self) -> list[str]:
        names = set(self.__dict__)
        for target in self.__dict__["_targets"]:
            names.update(n for n in dir(target) if not n.startswith("_"))
        return sorted(names)


class _Settings(types.SimpleNamespace):
    """A namespace of flags that scripts set (``cudnn.benchmark = True``) and chainrule ignores."""


def _backends() -> types.SimpleNamespace:
    return types.SimpleNamespace(
        cudnn=_Settings(enabled=True, benchmark=False, deterministic=False, is_available=lambda: False),
        mps=types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False),
        cuda=types.SimpleNamespace(is_built=devices.cuda.is_available),
    )


# torch.nn.modules.<submodule>: PyTorch's file layout of the nn classes, every name found in chainrule.nn
_NN_SUBMODULES = (
    "activation",
    "batchnorm",
    "container",
    "conv",
    "dropout",
    "flatten",
    "linear",
    "loss",
    "module",
    "normalization",
    "padding",
    "pooling",
    "rnn",
    "sparse",
    "transformer",
    "upsampling",
)


def _torch_extras() -> types.SimpleNamespace:
    """torch-level names that are spelled differently in chainrule."""
    return types.SimpleNamespace(
        Size=tuple,
        is_floating_point=lambda t: t.dtype.kind == "f",
    )


def _build() -> dict[str, types.ModuleType]:
    """The alias modules, by their torch names."""
    mods: dict[str, types.ModuleType] = {}

    def alias(name: str, *targets: Any) -> AliasModule:
        m = AliasModule(name, list(targets))
        mods[name] = m
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(mods[parent], child, m)
        return m

    alias("torch", chainrule, _torch_extras()).__version__ = chainrule.__version__
    alias("torch.nn", nn, _transformer)
    alias("torch.nn.functional", nn.functional)
    alias("torch.nn.init", nn.init)
    alias("torch.nn.utils", nn.utils)
    alias("torch.nn.utils.rnn", nn.utils.rnn)
    alias("torch.nn.parameter", nn)
    alias("torch.nn.modules", nn, _transformer)
    for sub in _NN_SUBMODULES:
        alias(f"torch.nn.modules.{sub}", nn, _transformer)
    alias("torch.optim", optim)
    alias("torch.optim.lr_scheduler", optim.lr_scheduler)
    alias("torch.optim.optimizer", optim.optimizer)
    alias("torch.utils", types.SimpleNamespace())
    alias("torch.utils.data", data)
    alias("torch.utils.data.dataloader", data)
    alias("torch.utils.data.dataset", data)
    alias("torch.autograd", autograd)
    alias("torch.serialization", serialization)
    alias("torch.cuda", devices.cuda)
    alias("torch.accelerator", devices.accelerator)
    alias("torch.backends", _backends())
    onnx = alias("torch.onnx", types.SimpleNamespace())
    onnx.export = _onnx_export

    from chainrule import vision

    alias("torchvision", vision)
    for sub in ("datasets", "transforms", "utils", "models"):
        alias(f"torchvision.{sub}", getattr(vision, sub))
    return mods


def _onnx_export(
    model,
    args,
    f,
    input_names=None,
    output_names=None,
    dynamic_axes=None,
    opset_version=None,
    *,
    export_params: bool = True,
    verbose: bool = False,
    do_constant_folding: bool = True,
    dynamo: bool = False,
) -> None:
    """``torch.onnx.export`` answered by ``cr.onnx.export``.

    PyTorch's flags that do not change the graph (``verbose``, ``do_constant_folding``,
    ``dynamo``) are accepted and ignored.
    """
    if not export_params:
        raise ValueError(
            "torch.onnx.export: export_params=False is not supported (the weights are always written)"
        )
    from chainrule import onnx

    onnx.export(model, args, f, input_names, output_names, dynamic_axes, opset_version)


class _MissingFinder(importlib.abc.MetaPathFinder):
    """Answers ``import torch.X`` for a submodule chainrule lacks with a clear ModuleNotFoundError."""

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] in ("torch", "torchvision") and fullname not in sys.modules:
            raise ModuleNotFoundError(_NOT_YET.format(fullname), name=fullname)
        return None


_finder = _MissingFinder()
_saved: dict[str, Any] | None = None


def install_torch() -> None:
    """Make ``import torch`` / ``import torchvision`` (and their submodules) resolve to chainrule.

    Idempotent. Any real ``torch`` modules already imported are set aside (``uninstall_torch()``
    puts them back).
    """
    global _saved
    if _saved is not None:
        return
    mods = _build()
    _saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in ("torch", "torchvision")}
    for k in _saved:
        del sys.modules[k]
    sys.modules.update(mods)
    sys.meta_path.insert(0, _finder)


def uninstall_torch() -> None:
    """Undo ``install_torch()``: remove the aliases and restore whatever ``torch`` was imported before."""
    global _saved
    if _saved is None:
        return
    for k in [k for k in sys.modules if k.split(".")[0] in ("torch", "torchvision")]:
        del sys.modules[k]
    sys.modules.update(_saved)
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _saved = None


def run_script(path: str, args: list[str] | None = None) -> int:
    """Run a PyTorch script with ``torch`` answered by chainrule.

    Run the file ``path`` as ``__main__`` with ``sys.argv = [path, *args]`` after ``install_torch()``
    (what ``chainrule torch SCRIPT ARGS...`` does); returns the exit code.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"chainrule torch: no such script: {path}")
    install_torch()
    argv, syspath = sys.argv, list(sys.path)
    sys.argv = [path, *(args or [])]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv, sys.path[:] = argv, syspath
    return 0


__all__ = ["install_torch", "uninstall_torch", "run_script", "AliasModule"]
