"""docs/coverage.md is what scripts/coverage.py writes for the installed PyTorch and this chainrule."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("coverage_script", ROOT / "scripts" / "coverage.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_coverage_page_is_current():
    mod = _load()
    assert (ROOT / "docs" / "coverage.md").read_text() == mod.render(), (
        "docs/coverage.md is out of date: run python scripts/coverage.py"
    )


def test_check_mode_notices_a_stale_page(tmp_path, monkeypatch):
    mod = _load()
    stale = tmp_path / "coverage.md"
    stale.write_text("# an old page\n")
    monkeypatch.setattr(mod, "PAGE", stale)
    assert mod.main(["--check"]) == 1
    assert mod.main([]) == 0 and mod.main(["--check"]) == 0


def test_counts_follow_chainrule(monkeypatch):
    import chainrule as cr

    mod = _load()
    assert mod._has(cr, "torch", "gather") and mod._has(cr, "torch.optim", "lr_scheduler.StepLR")
    monkeypatch.delattr(cr, "gather")
    assert not mod._has(cr, "torch", "gather")
    assert "`gather`" in mod.render().split("## Whole public namespaces")[0]
