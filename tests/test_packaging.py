"""Packaging: the Python version is stated once and the code parses for it; wheel and sdist build
(``python -m build``); the wheel installs into a fresh virtual environment where ``chainrule
--version``, ``python -m chainrule``, ``chainrule demo`` and ``chainrule bench`` work; the sdist
carries what its tests need; a missing extra is reported in one line; ``fit`` without tqdm prints
plain lines."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.update(extra)
    return env


def test_python_version_is_stated_once_and_the_code_parses_for_it():
    pyproject = (ROOT / "pyproject.toml").read_text()
    (minimum,) = re.findall(r'^requires-python = ">=3\.(\d+)"$', pyproject, flags=re.M)
    assert f'target-version = "py3{minimum}"' in pyproject  # ruff checks for the same version
    assert "Programming Language :: Python :: 3." not in pyproject  # no second statement to drift
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"Python (3\.\d+)", readme) == [f"3.{minimum}"], "the README names another version"
    for path in sorted((ROOT / "chainrule").rglob("*.py")):
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, int(minimum)))


def test_missing_playground_extra_is_one_line():
    code = (
        "import sys; sys.modules['starlette'] = None\n"
        "from chainrule.cli import main\n"
        "sys.exit(main(['playground']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=_env())
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "chainrule playground: needs the 'playground' extra (module starlette is missing): "
        "pip install 'chainrule[playground]'"
    ]


def test_fit_without_tqdm_prints_plain_lines():
    code = (
        "import sys; sys.modules['tqdm'] = None\n"
        "from tests.train.test_fit import FakeTTY\n"
        "import numpy as np, chainrule as cr\n"
        "from chainrule.train.loop import _Progress\n"
        "assert _Progress(1, 2, 3, file=FakeTTY()).kind == 'lines'\n"
        "x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)\n"
        "cr.fit(cr.nn.Linear(3, 1), (x, x[:, :1]), loss='mse', optimizer='sgd', epochs=2)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert re.findall(r"^epoch (\d)/2 ", proc.stderr, flags=re.M) == ["1", "2"]


def _build(out: Path) -> None:
    """sdist and wheel, the wheel built from the sdist (as ``python -m build`` does)."""
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_build_then_install_the_wheel_and_test_the_sdist(tmp_path):
    """One build for all checks (a module fixture would build once per test worker)."""
    dist = tmp_path / "dist"
    _build(dist)
    _check_wheel_contents(dist)
    _check_wheel_in_a_fresh_venv(dist, tmp_path / "wheel")
    _check_sdist_carries_its_tests_and_they_run(dist, tmp_path / "sdist")


def _check_wheel_contents(dist):
    (wheel,) = dist.glob("chainrule-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "chainrule/py.typed",
        "chainrule/__main__.py",
        "chainrule/bench/run.py",
        "chainrule/data/files/digits.csv.gz",
        "chainrule/playground/static/index.html",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def _check_sdist_carries_its_tests_and_they_run(dist, tmp_path):
    tmp_path.mkdir()
    (sdist,) = dist.glob("chainrule-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        tar.extractall(tmp_path, filter="data")
    for needed in ("tests/helpers.py", "tests/conftest.py", "tests/data/test_datasets.py", "docs/data.md"):
        assert needed in names, needed
    assert not any("__pycache__" in n for n in names)
    (src,) = tmp_path.glob("chainrule-*")
    where = subprocess.run(
        [sys.executable, "-c", "import chainrule; print(chainrule.__file__)"],
        cwd=src,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(src)), where.stdout + where.stderr  # the sdist's own copy
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/data/test_datasets.py",
            "-k",
            "idx",
        ],
        cwd=src,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " passed" in proc.stdout


def _check_wheel_in_a_fresh_venv(dist, tmp_path):
    """A venv of its own; the dependencies are this environment's (a path entry, so none of its
    .pth hooks, such as an editable chainrule, comes along), and pip resolves them offline."""
    (wheel,) = dist.glob("chainrule-*.whl")
    tmp_path.mkdir()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "host-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    work = tmp_path / "work"
    work.mkdir()
    script = venv / "bin" / "chainrule"

    def run(*cmd):
        return subprocess.run(list(cmd), cwd=work, capture_output=True, text=True, env=_env(), timeout=300)

    where = run(str(py), "-c", "import chainrule; print(chainrule.__file__)")
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    for cmd in ([str(script), "--version"], [str(py), "-m", "chainrule", "--version"]):
        proc = run(*cmd)
        assert proc.returncode == 0 and proc.stdout.startswith("chainrule "), proc.stderr
    proc = run(str(script), "demo", "--quick", "--no-progress", "--plot", "curves.png")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "test accuracy:" in proc.stdout and (work / "curves.png").stat().st_size > 5000
    proc = run(str(script), "bench", "nosuch")  # the benchmark suite is importable from the install
    assert proc.returncode == 2 and "unknown benchmark(s) ['nosuch']" in proc.stderr, proc.stderr
