"""The docstring standard of the API reference (the documentation site renders these docstrings).

- Every public name of the documented packages has a docstring, and so has every public method
  and property of their classes (inherited docstrings count: ``forward`` overriding
  ``Module.forward`` is documented there).
- Layers, activations and losses (the ``Module`` classes of ``cr.nn`` and the activations and losses
  of ``cr.nn.functional``) and optimizers carry their
  formula as a ``$$`` display block, a ``Shape:`` section (optimizers are exempt: they take
  parameters, not tensors) and an ``Example:`` section whose doctest runs in CI
  (``python -m pytest --doctest-modules chainrule``).

A public name is one in the module's ``__all__``; without ``__all__``, a public attribute that
belongs to chainrule: in a namespace (a package's ``__init__`` or ``cr.nn.functional``) any
class or function defined in chainrule, in a plain module those defined in it.  The site's griffe
extension (scripts/griffe_chainrule.py) shows exactly these.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys

import pytest

import chainrule as cr

# The packages of the API reference (docs/reference/), as import paths.
DOCUMENTED = [
    "chainrule",
    "chainrule.nn",
    "chainrule.nn.functional",
    "chainrule.nn.init",
    "chainrule.nn.utils",
    "chainrule.nn.utils.rnn",
    "chainrule.optim",
    "chainrule.optim.lr_scheduler",
    "chainrule.data",
    "chainrule.data.datasets",
    "chainrule.data.transforms",
    "chainrule.autograd",
    "chainrule.train",
    "chainrule.train.metrics",
    "chainrule.callbacks",
    "chainrule.serialization",
    "chainrule.summary",
    "chainrule.viz",
    "chainrule.distributed",
    "chainrule.onnx",
]
NAMESPACES = {"chainrule.nn.functional"}  # plain modules that only re-export

# Modules of cr.nn that compute nothing themselves (containers, bases): no formula, no Shape:.
NO_FORMULA = {"Module", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "RNNBase"}

_FORMULA = re.compile(r"^\s*\$\$\s*$.+?^\s*\$\$\s*$", re.M | re.S)
_SHAPE = re.compile(r"^\s*Shape:\s*\n(\s*- .+\n)+", re.M)
_EXAMPLE = re.compile(r"^\s*Example:\s*\n(?:[^\n]*\n){0,4}?\s*>>> ", re.M)  # a line or two of prose may lead


def _module(name: str):
    importlib.import_module(name)
    return sys.modules[name]  # cr.summary is a function; its module is chainrule.summary


def public_names(modname: str) -> dict[str, object]:
    """The public classes and functions of ``modname`` (see the module docstring)."""
    mod = _module(modname)
    exported = getattr(mod, "__all__", None)
    namespace = hasattr(mod, "__path__") or modname in NAMESPACES
    names = exported if exported is not None else [n for n in vars(mod) if not n.startswith("_")]
    out = {}
    for name in names:
        obj = getattr(mod, name)
        if inspect.ismodule(obj) or not callable(obj):
            continue
        owner = getattr(obj, "__module__", None) or ""
        if not owner.startswith("chainrule"):
            continue  # numpy dtypes and the like
        if exported is None and not namespace and owner != modname:
            continue  # imported into a plain module for its own use
        out[name] = obj
    return out


def _classes() -> dict[str, type]:
    seen: dict[str, type] = {}
    for modname in DOCUMENTED:
        for obj in public_names(modname).values():
            if inspect.isclass(obj):
                seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return seen


@pytest.mark.parametrize("modname", DOCUMENTED)
def test_every_public_name_has_a_docstring(modname):
    names = public_names(modname)
    assert names, f"{modname}: no public names found (the walk is broken)"
    missing = [f"{modname}.{n}" for n, obj in names.items() if not (inspect.getdoc(obj) or "").strip()]
    assert not missing, f"public names without a docstring: {missing}"


def test_every_public_method_has_a_docstring():
    missing = []
    for qualname, cls in _classes().items():
        for name, attr in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(attr, property):
                doc = attr.__doc__ or next(
                    (
                        getattr(b.__dict__.get(name), "__doc__", None)
                        for b in cls.__mro__[1:]
                        if name in b.__dict__
                    ),
                    None,
                )
            elif callable(attr) or isinstance(attr, (classmethod, staticmethod)):
                doc = inspect.getdoc(getattr(cls, name))
            else:
                continue
            if not (doc or "").strip():
                missing.append(f"{qualname}.{name}")
    assert not missing, f"{len(missing)} public methods without a docstring: {missing}"


# Functions of cr.nn.functional held to the standard besides the losses (``*_loss``, ``*cross_entropy*``):
# the activations, which live in chainrule/ops/activation.py (plus sigmoid and tanh).
NOT_ACTIVATIONS = {"erf"}


def _functional_standard() -> dict[str, object]:
    out = {}
    for name, fn in public_names("chainrule.nn.functional").items():
        loss = name.endswith("_loss") or "cross_entropy" in name
        activation = fn.__module__ == "chainrule.ops.activation" and name not in NOT_ACTIVATIONS
        if loss or activation or name in ("sigmoid", "tanh"):
            out[f"F.{name}"] = fn
    return out


def _standard_classes():
    """The layers, activations and losses of cr.nn, the functional ones, and the optimizers, by name."""
    out = dict(_functional_standard())
    for name, obj in public_names("chainrule.nn").items():
        if inspect.isclass(obj) and issubclass(obj, cr.nn.Module):
            out[f"nn.{name}"] = obj
    for name, obj in public_names("chainrule.optim").items():
        if inspect.isclass(obj) and issubclass(obj, cr.optim.Optimizer) and obj is not cr.optim.Optimizer:
            out[f"optim.{name}"] = obj
    return out


def test_the_standard_covers_the_layers_and_optimizers():
    found = _standard_classes()
    for name in (
        "nn.Linear",
        "nn.Conv2d",
        "nn.ReLU",
        "nn.CrossEntropyLoss",
        "nn.LSTM",
        "optim.Adam",
        "optim.SGD",
        "F.relu",
        "F.softmax",
        "F.cross_entropy",
        "F.mse_loss",
        "F.sigmoid",
    ):
        assert name in found, f"{name} is missing from the classes the docstring standard checks"


def _problems(name: str, cls: type) -> list[str]:
    doc = cls.__doc__ or ""
    short = name.split(".")[1]
    problems = []
    takes_tensors = name.startswith("F.") or (name.startswith("nn.") and short not in NO_FORMULA)
    if (takes_tensors or name.startswith("optim.")) and not _FORMULA.search(doc):
        problems.append("no formula (a $$ ... $$ block, each $$ on its own line)")
    if takes_tensors and not _SHAPE.search(doc):
        problems.append("no 'Shape:' section with '- Input: ...' lines")
    if not _EXAMPLE.search(doc):
        problems.append("no 'Example:' section starting with a >>> doctest")
    return problems


def test_layers_losses_activations_and_optimizers_follow_the_standard():
    bad = {name: p for name, cls in sorted(_standard_classes().items()) if (p := _problems(name, cls))}
    report = "\n".join(f"  {name}: {'; '.join(p)}" for name, p in bad.items())
    assert not bad, f"{len(bad)} classes do not follow the docstring standard:\n{report}"


def test_the_standard_check_can_fail():
    class Bare(cr.nn.Module):
        """A layer with a one-line docstring."""

    class Full(cr.nn.Module):
        r"""A layer that follows the standard.

        $$
        y = x
        $$

        Shape:
            - Input: (N, *)
            - Output: same shape as the input

        Example:
            >>> 1 + 1
            2
        """

    assert len(_problems("nn.Bare", Bare)) == 3
    assert _problems("nn.Full", Full) == []
    assert _problems("optim.Full", Full) == []
