"""The ``chainrule`` command line: --version, --help on every command, bench's smoke run."""

import subprocess
import sys

import pytest

import chainrule
from chainrule.cli import build_parser, main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "chainrule.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_version_prints_the_package_version():
    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"chainrule {chainrule.__version__}"


@pytest.mark.parametrize("command", ["demo", "playground", "bench", "data", "lessons"])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"chainrule {command}" in text


def test_every_subcommand_is_listed_in_the_top_help():
    text = build_parser().format_help()
    for command in ("demo", "playground", "bench", "data"):
        assert command in text


def test_unknown_command_fails_with_usage():
    out = run_cli("frobnicate")
    assert out.returncode != 0
    assert "invalid choice" in out.stderr


def test_bench_quick_runs_the_mlp_suite_side_by_side():
    out = run_cli("bench", "mlp", "--quick")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("mlp_")]
    assert len(lines) >= 2  # one row per benchmark, each with chainrule, torch and numpy columns
    for line in lines:
        cells = line.split()
        assert "-" not in cells[-5:], line  # no missing measurement


def test_bench_rejects_unknown_names():
    out = run_cli("bench", "nonsense", "--quick")
    assert out.returncode == 2
    assert "unknown benchmark" in out.stderr
