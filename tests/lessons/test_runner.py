"""The ``chainrule lessons`` command: listing, finding a lesson by number, name or stem, a quick run."""

import subprocess
import sys

import pytest

from chainrule import lessons
from chainrule.cli import main


def test_list_names_every_lesson_in_order(capsys):
    assert main(["lessons", "--list"]) == 0
    out = capsys.readouterr().out
    stems = [info.stem for info in lessons.list_lessons()]
    assert stems[:2] == ["01_logistic_xor", "02_linear_collapse"]
    assert [info.number for info in lessons.list_lessons()] == sorted(
        info.number for info in lessons.list_lessons()
    )
    for info in lessons.list_lessons():
        assert info.short in out and info.title in out


@pytest.mark.parametrize(
    "name", ["2", "02", "linear_collapse", "02_linear_collapse", "02_linear_collapse.py"]
)
def test_find_accepts_number_short_name_and_stem(name):
    assert lessons.find(name).stem == "02_linear_collapse"


def test_unknown_lesson_fails_with_the_list_of_lessons(capsys):
    assert main(["lessons", "no_such_lesson"]) == 2
    err = capsys.readouterr().err
    assert "no lesson 'no_such_lesson'" in err and "01_logistic_xor" in err


def test_missing_lessons_folder_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(lessons, "__file__", str(tmp_path / "chainrule" / "lessons.py"))
    with pytest.raises(FileNotFoundError, match="examples/lessons folder of a source checkout"):
        lessons.lessons_dir()
    assert main(["lessons", "--list"]) == 2
    assert "source checkout" in capsys.readouterr().err


def test_quick_run_prints_the_numbers_and_writes_the_figure(tmp_path):
    cmd = [sys.executable, "-m", "chainrule.cli", "lessons", "1", "--quick", "--out", str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "lesson 01" in out.stdout and "logistic_xor:" in out.stdout
    assert (tmp_path / "01_logistic_xor.png").stat().st_size > 10_000
