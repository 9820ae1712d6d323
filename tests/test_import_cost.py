"""``import chainrule`` stays light: the slow optional libraries load on first use, never at import."""

import subprocess
import sys

HEAVY = ["ml_dtypes", "numba", "onnx", "onnxruntime", "torch", "matplotlib", "mpi4py", "scipy", "pooch"]


def test_import_chainrule_loads_none_of_the_heavy_libraries():
    code = f"import sys, chainrule; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "", f"import chainrule imported: {out.strip()}"


def test_bfloat16_still_works_on_first_use():
    code = "import chainrule as cr; print(cr.ones(2).to(cr.bfloat16).dtype, cr.bfloat16 is cr.bfloat16)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["bfloat16", "True"]
