"""chainrule/kernels/ is pure array code: its modules import only the standard library, NumPy,
chainrule.backend and each other (no Tensors, no graph), and every tuned kernel module has references."""

from __future__ import annotations

import ast
import pathlib
import sys

import pytest

import chainrule.kernels

KERNELS = pathlib.Path(chainrule.kernels.__file__).parent
MODULES = sorted(p for p in KERNELS.glob("*.py") if p.name != "__init__.py")


def imported(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "chainrule":  # from chainrule import backend
            names |= {f"chainrule.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernels_import_only_numpy_the_backend_and_each_other(path):
    for name in imported(path):
        top = name.split(".")[0]
        ok = (
            name in ("numpy", "chainrule.backend", "__future__")
            or name.startswith("chainrule.kernels")
            or (top != "chainrule" and top in sys.stdlib_module_names)
            or (name == "numba" and path.name == "jit_kernels.py")  # the optional JIT, imported lazily
        )
        assert ok, f"{path.name} imports {name}"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.name not in ("rows.py", "jit.py")], ids=lambda p: p.name
)
def test_every_kernel_module_has_references(path):
    assert "_reference(" in path.read_text()
