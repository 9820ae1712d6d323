"""A real notebook, executed by nbclient on an ipykernel: ``fit`` draws one live notebook bar per
epoch (tqdm's widget; an output line updated in place without ipywidgets) and prints nothing
else, and ``History.plot()`` returns a Figure that displays inline without writing a file."""

from __future__ import annotations

import base64
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[2]

SETUP = f"""
import os, sys
sys.path.insert(0, {str(ROOT)!r})
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np
import chainrule as cr
from chainrule import nn
x, y = cr.data.datasets.digits()
x = x.reshape(len(x), -1)[:256]
y = y[:256]
cr.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
"""

FIT = """
history = cr.fit(model, (x, y), loss="cross_entropy", optimizer="adam", lr=1e-2, epochs=2,
                 validation_data=(x[:64], y[:64]), metrics=["accuracy"])
"""

PLOT = """
before = sorted(os.listdir("."))
fig = history.plot()
assert type(fig).__name__ == "Figure" and sorted(os.listdir(".")) == before, "plot() wrote a file"
fig
"""

NO_WIDGETS = """
import chainrule.train.loop as loop
loop._import_tqdm = lambda notebook: None  # as without ipywidgets
history2 = cr.fit(model, (x, y), loss="cross_entropy", optimizer="sgd", epochs=2)
"""


def test_fit_and_plot_in_a_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, FIT, PLOT, NO_WIDGETS)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    setup, fit, plot, no_widgets = (cell.outputs for cell in nb.cells)

    assert [o for o in setup if o.output_type == "stream"] == []
    # fit: one notebook progress bar per epoch, no text printed besides (nothing twice)
    assert [o for o in fit if o.output_type == "stream"] == []
    widgets = [o for o in fit if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 2 and len(fit) == 2
    assert "epoch 2/2" in widgets[1]["data"]["text/plain"]

    # History.plot(): a Figure displayed inline as a PNG
    (result,) = [o for o in plot if o.output_type == "execute_result"]
    png = base64.b64decode(result["data"]["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert list(tmp_path.iterdir()) == []

    # without ipywidgets: one output line per epoch, updated in place to its final summary
    assert [o for o in no_widgets if o.output_type == "stream"] == []
    assert len(no_widgets) == 2
    lines = [o["data"]["text/plain"] for o in no_widgets]
    for i, line in enumerate(lines):
        assert line.startswith(f"epoch {i + 1}/2") and "s  loss " in line, lines
