"""Griffe extension of the documentation site (mkdocs.yml): what the API reference shows.

- Re-exports: chainrule's packages (``cr``, ``cr.nn``, ...) and ``cr.nn.functional`` gather names
  defined in submodules without an ``__all__``; griffe counts imported names as private, so the
  reference would show nothing.  Here a public name such a namespace imports from chainrule is
  public, the rule tests/docs/test_docstrings.py checks docstrings by.
- ``Example:`` sections: the docstrings title their doctests ``Example:``; griffe's Google parser
  knows only the plural ``Examples:`` and would render the singular as a note, its ``>>>`` lines
  as Markdown quotes.  The title is renamed before the docstring is parsed.
"""

from __future__ import annotations

import re

import griffe

_SINGULAR = re.compile(r"^(\s*)Example:[ \t]*$", re.M)
NAMESPACES = ("chainrule.nn.functional",)
_BUILTIN_TYPES = {
    "bool",
    "int",
    "float",
    "complex",
    "str",
    "bytes",
    "list",
    "tuple",
    "dict",
    "set",
    "object",
}  # modules, not packages, that only re-export


class ChainruleReference(griffe.Extension):
    """Make re-exported names public and ``Example:`` sections render as examples."""

    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        """Rename ``Example:`` to ``Examples:`` (parsing is lazy, so this happens before it)."""
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\1Examples:", obj.docstring.value)

    def on_package(self, *, pkg, **kwargs) -> None:
        """Mark the names chainrule's namespaces import from chainrule as public."""
        if pkg.path != "chainrule":
            return
        # cr.bool, cr.float, ... are dtypes; griffe would resolve every `bool` annotation of the
        # package to them (shown as `bool_`), so they are left out of the reference.
        for name in _BUILTIN_TYPES & set(pkg.members):
            del pkg.members[name]
        stack = [pkg]
        while stack:
            module = stack.pop()
            stack.extend(m for m in module.modules.values() if not m.is_alias)
            if module.exports or not (module.is_init_module or module.path in NAMESPACES):
                continue
            for name, member in module.members.items():
                if (
                    member.is_alias
                    and not name.startswith("_")
                    and member.target_path.startswith("chainrule.")
                ):
                    member.public = True
