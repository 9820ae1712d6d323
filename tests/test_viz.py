"""cr.viz: the DOT graph of the lecture example f(x, y, z) = (x + y) · z shows every value and
gradient; rendering writes DOT text, calls Graphviz's `dot` when present and explains itself when not."""

from __future__ import annotations

import os
import re
import stat

import pytest

import chainrule as cr
from chainrule import nn


def lecture():
    x = cr.tensor(-2.0, requires_grad=True)
    y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    q = x + y
    f = q * z
    return x, y, z, q, f


def labels(dot: str) -> dict:
    """node id -> label text (with real newlines)."""
    return {
        m.group(1): m.group(2).replace("\\n", "\n")
        for m in re.finditer(r'^\s*(\w+) \[.*?label="((?:[^"\\]|\\.)*)"\];$', dot, re.M)
    }


def test_lecture_example_shows_all_values_and_gradients():
    x, y, z, q, f = lecture()
    cr.viz.retain_grads(f)
    f.backward()
    dot = cr.viz.graph(f, names={"x": x, "y": y, "z": z, "q": q, "f": f})
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    by_name = {text.split("\n")[0]: text for text in labels(dot).values()}
    assert by_name["x"] == "x\nvalue: -2\ngrad: -4"
    assert by_name["y"] == "y\nvalue: 5\ngrad: -4"
    assert by_name["z"] == "z\nvalue: -4\ngrad: 3"
    assert by_name["q"] == "q\nvalue: 3\ngrad: -4"
    assert by_name["f"] == "f\nvalue: -12\ngrad: 1"
    ops = [t for t in labels(dot).values() if t in ("Add", "Mul")]
    assert sorted(ops) == ["Add", "Mul"]
    assert dot.count("->") == 6  # x, y -> Add -> q;  q, z -> Mul -> f


def test_lecture_example_with_retain_graph_prints_the_five_values():
    x, y, z, q, f = lecture()
    f.backward(retain_graph=True)
    texts = "\n".join(labels(cr.viz.graph(f)).values())
    assert "value: 3" in texts and "value: -12" in texts  # q and f
    assert texts.count("grad: -4") == 2 and texts.count("grad: 3") == 1  # x, y and z


def test_after_backward_freed_intermediates_show_their_shape_and_named_ones_their_value():
    x, y, z, q, f = lecture()
    f.backward()  # frees the graph's hold on q, as PyTorch
    texts = "\n".join(labels(cr.viz.graph(f)).values())
    assert "value: 3" not in texts and "(value freed)" in texts
    assert texts.count("grad: -4") == 2 and texts.count("grad: 3") == 1  # leaves keep their .grad
    named = labels(cr.viz.graph(f, names={"q": q}))
    assert "q\nvalue: 3" in named.values()  # the caller still holds q: its value is drawn


def test_before_backward_there_are_no_gradients_and_big_tensors_show_shapes():
    x, y, z, q, f = lecture()
    assert "grad:" not in cr.viz.graph(f)
    model = nn.Sequential(nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 1))
    loss = model(cr.randn(8, 20)).mean()
    dot = cr.viz.graph(loss, names=model)
    texts = list(labels(dot).values())
    assert any(t.startswith("0.weight\nvalue: (10, 20) float32") for t in texts)
    assert {"Linear", "Relu", "Mean"} <= set(texts)
    leaf = cr.tensor([1.0, 2.0])
    assert "value: [1., 2.]" in cr.viz.graph(leaf)
    with pytest.raises(TypeError, match="graph: expected a Tensor"):
        cr.viz.graph([1, 2])
    with pytest.raises(TypeError, match=r"graph: names\['a'\] is a int"):
        cr.viz.graph(leaf, names={"a": 1})


def test_render_dot_text(tmp_path):
    *_, f = lecture()
    path = cr.viz.render(f, tmp_path / "g.dot")
    assert open(path).read() == cr.viz.graph(f)


def test_render_without_graphviz_gives_a_clear_error(tmp_path, monkeypatch):
    *_, f = lecture()
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    with pytest.raises(
        RuntimeError, match=r"render: writing SVG needs Graphviz's `dot` program.*install Graphviz"
    ):
        cr.viz.render(f, tmp_path / "g.svg")
    with pytest.raises(ValueError, match="render: unsupported format 'bmp'"):
        cr.viz.render(f, tmp_path / "g.bmp")


def test_render_calls_dot(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text(
        "#!/bin/sh\n# fake Graphviz: record the format, copy stdin to the -o file\n"
        'echo "$1" > "$3.fmt"\ncat > "$3"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    *_, f = lecture()
    out = cr.viz.render(cr.viz.graph(f), tmp_path / "g.png")
    assert open(out).read() == cr.viz.graph(f)
    assert open(out + ".fmt").read().strip() == "-Tpng"
