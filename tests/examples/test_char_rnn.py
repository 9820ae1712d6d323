"""examples/char_rnn.py, shortened: a small character LSTM trained with truncated BPTT on the
offline corpus; the loss falls well below uniform guessing and sampling produces text."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "char_rnn.py"


def _load():
    spec = importlib.util.spec_from_file_location("example_char_rnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_char_rnn_loss_falls_and_samples(capsys):
    example = _load()
    result = example.main(
        [
            "--steps",
            "90",
            "--hidden",
            "64",
            "--embed",
            "16",
            "--batch-size",
            "16",
            "--seq-len",
            "32",
            "--log-every",
            "30",
            "--sample-len",
            "60",
            "--prompt",
            "def ",
        ]
    )
    history = result["history"]
    assert len(history) == 3 and all(math.isfinite(v) for v in history)
    uniform = math.log(len(result["vocab"]))
    assert history[0] < uniform  # already learning in the first window
    assert history[-1] < history[0] - 0.5  # the loss falls ...
    assert history[-1] < 0.7 * uniform  # ... well below guessing uniformly
    assert result["valid_loss"] < 0.75 * uniform
    sample = result["sample"]
    assert sample.startswith("def ") and len(sample) == len("def ") + 60
    assert set(sample) <= set(result["vocab"])
    out = capsys.readouterr().out
    assert "perplexity" in out and "sample:" in out
