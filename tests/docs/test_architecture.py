"""The layer picture of the contributing guide is current, and no module-level import points up a layer."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("architecture", ROOT / "scripts" / "architecture.py")
architecture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(architecture)


def test_every_module_has_a_layer():
    architecture.check_assigned()  # raises SystemExit naming a module that belongs to no layer


def test_no_import_points_up():
    assert architecture.upward() == []


def test_the_check_sees_an_upward_import(monkeypatch):
    real = architecture.imports()
    monkeypatch.setattr(architecture, "imports", lambda: [*real, ("ops", "nn", "chainrule/ops/x.py")])
    assert architecture.upward() == ["chainrule/ops/x.py: ops imports nn"]


def test_the_picture_is_current():
    assert architecture.OUT.read_text(encoding="utf-8") == architecture.svg(), (
        "docs/images/architecture.svg is stale: run python scripts/architecture.py"
    )
