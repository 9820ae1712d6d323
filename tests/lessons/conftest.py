"""Lesson tests: each imports a lesson script from ``examples/lessons`` and runs it shortened.

A lesson script defines ``run(quick: bool = False, seed: int = 0) -> dict`` (its measured
numbers); ``quick=True`` is the shortened version a test runs in well under 30 s.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parents[2] / "examples" / "lessons"


def load_lesson(name: str):
    """Import ``examples/lessons/<name>.py`` as a module (its ``__main__`` cell does not run)."""
    path = LESSONS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"lesson_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lesson():
    """``lesson('03_symmetry')`` -> the imported lesson module."""
    return load_lesson
