"""The lessons gallery: find, list and run the scripts of ``examples/lessons``.

Each lesson is a script ``examples/lessons/NN_short_name.py`` (percent-cell format, so it also
opens as a notebook) that defines ``run(quick=False, seed=0) -> dict`` (the measured numbers) and
``plot(results, out_dir) -> list[Path]`` (its figures); run as a script it does the full version
and writes its figures to ``docs/lessons/images``. The lessons live in a source checkout, next to
the package; an installed wheel does not carry them.

Example::

    from chainrule import lessons
    [info.stem for info in lessons.list_lessons()][:1]   # ['01_logistic_xor'] in a source checkout
    lessons.find("1").short                               # 'logistic_xor'
"""

from __future__ import annotations

import importlib.util
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

_STEM = re.compile(r"^(\d{2})_([a-z0-9_]+)$")


@dataclass(frozen=True)
class LessonInfo:
    """One lesson: ``number`` (1), ``short`` ('logistic_xor'), ``stem`` ('01_logistic_xor'), ``title``."""

    number: int
    short: str
    stem: str
    title: str
    path: Path


def lessons_dir() -> Path:
    """The ``examples/lessons`` folder of the source checkout this package was imported from.

    Raises ``FileNotFoundError`` naming the folder looked in when it is not there (an installed
    wheel carries the package only).
    """
    root = Path(__file__).resolve().parent.parent / "examples" / "lessons"
    if not root.is_dir():
        raise FileNotFoundError(
            f"chainrule lessons: the examples/lessons folder of a source checkout is needed "
            f"(looked in {root}); clone the repository and run from there"
        )
    return root


def _title(path: Path) -> str:
    """The first markdown heading of the script (``# # Title`` in percent format), else its stem."""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#\s+#+\s+(.*\S)", line)
        if m:
            return m.group(1)
    return path.stem


def list_lessons() -> list[LessonInfo]:
    """Every lesson of :func:`lessons_dir`, in order of number."""
    found = []
    for path in sorted(lessons_dir().glob("*.py")):
        m = _STEM.match(path.stem)
        if m:
            found.append(LessonInfo(int(m.group(1)), m.group(2), path.stem, _title(path), path))
    return sorted(found, key=lambda info: info.number)


def find(name: str | int) -> LessonInfo:
    """The lesson named by its number (``3``, ``'03'``), short name (``'symmetry'``) or stem.

    Raises ``KeyError`` listing the lessons there are when nothing matches.
    """
    key = str(name).strip().removesuffix(".py")
    all_lessons = list_lessons()
    for info in all_lessons:
        if key in (info.stem, info.short) or (key.isdigit() and int(key) == info.number):
            return info
    known = ", ".join(info.stem for info in all_lessons) or "none"
    raise KeyError(f"chainrule lessons: no lesson {name!r}; there are: {known}")


def load(name: str | int) -> ModuleType:
    """Import a lesson script as a module (its ``__main__`` cell does not run)."""
    info = find(name)
    spec = importlib.util.spec_from_file_location(f"chainrule_lesson_{info.stem}", info.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and len(value) > 8:
        return f"[{len(value)} values]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_format(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return str(value)


def run_lesson(name: str | int, quick: bool = False, out_dir: str | Path | None = None) -> int:
    """Run one lesson; returns an exit code.

    ``quick=False`` runs the script as ``python examples/lessons/NN_name.py`` would (the full
    version: every seed, figures into ``docs/lessons/images``). ``quick=True`` runs the shortened
    version once (``run(quick=True)``), prints its numbers and, when ``out_dir`` is given, writes
    its figures there.
    """
    info = find(name)
    print(f"== lesson {info.number:02d}: {info.title} ({'quick' if quick else 'full'})", flush=True)
    if not quick:
        runpy.run_path(str(info.path), run_name="__main__")
        return 0
    module = load(info.stem)
    results = module.run(quick=True, seed=0)
    for key, value in results.items():
        print(f"  {key}: {_format(value)}")
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        for path in module.plot(results, Path(out_dir)):
            print(f"  wrote {path}")
    return 0


def main(name: str | None = None, list_only: bool = False, all_lessons: bool = False, **kwargs) -> int:
    """The ``chainrule lessons`` command: ``--list``, one ``NAME`` or ``--all``."""
    try:
        if list_only or (name is None and not all_lessons):
            for info in list_lessons():
                print(f"{info.number:2d}  {info.short:<24} {info.title}")
            return 0
        names = [info.stem for info in list_lessons()] if all_lessons else [name]
        for stem in names:
            run_lesson(stem, **kwargs)
        return 0
    except (FileNotFoundError, KeyError) as exc:
        print(exc.args[0] if exc.args else exc, file=sys.stderr)
        return 2
