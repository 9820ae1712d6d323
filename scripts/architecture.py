"""Draw chainrule's layers and the direction of their imports: docs/images/architecture.svg.

    python scripts/architecture.py            # rewrite the picture
    python scripts/architecture.py --check    # exit 1 if it is stale or an import points up

Every module of the package belongs to one layer (LAYERS, bottom first). A module-level import
may point to its own layer or to one below; the only exception is ALLOWED_UP (the Tensor's
methods dispatch to the ops, imported at the end of tensor.py). Imports inside functions are
not checked: they run after everything is loaded and are how upper layers get called back.
The picture is plain SVG text, so the site needs nothing to show it.
"""

from __future__ import annotations

import ast
import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "chainrule"
OUT = ROOT / "docs" / "images" / "architecture.svg"

# (layer, what it is, the top-level modules and packages of chainrule/ in it), bottom first
LAYERS: list[tuple[str, str, list[str]]] = [
    (
        "backend",
        "the array module (NumPy or CuPy), threads, devices, random streams",
        ["backend", "devices", "random"],
    ),
    (
        "tensor, autograd",
        "Tensor; Function (a graph node), backprop, grad, gradcheck",
        ["tensor", "autograd"],
    ),
    ("kernels", "tuned array code, each beside a plain reference; arrays only", ["kernels"]),
    ("ops", "each op's forward and backward side by side; bmath; linalg", ["ops", "linalg"]),
    (
        "nn, optim, data",
        "layers and losses; optimizers; data sets and loaders; saving; graph pictures; ONNX export",
        ["nn", "optim", "data", "utils", "serialization", "viz", "onnx"],
    ),
    (
        "train",
        "fit, callbacks, metrics, summary; data-parallel training",
        ["train", "callbacks", "summary", "distributed"],
    ),
    (
        "apps",
        "the playground; the command line; PyTorch scripts on chainrule; benchmarks; lessons",
        ["playground", "cli", "__main__", "compat", "vision", "bench", "lessons"],
    ),
]
ALLOWED_UP = {("tensor", "ops"): "Tensor methods dispatch to ops (imported at the end of tensor.py)"}


def layer_of(unit: str) -> int:
    for i, (_, _, units) in enumerate(LAYERS):
        if unit in units:
            return i
    raise SystemExit(f"architecture: chainrule/{unit} belongs to no layer; add it to LAYERS in {__file__}")


def _unit(module: str) -> str | None:
    """The top-level module or package of chainrule that ``module`` is in (None: the package root)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "chainrule" and len(parts) > 1 else None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> list[tuple[str, str, str]]:
    """Module-level imports between top-level units: (from unit, to unit, file)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        src = _unit(name)
        if src is None:
            continue  # chainrule/__init__.py re-exports every layer
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if base == "chainrule" else base for a in node.names]
            for target in targets:
                dst = _unit(target)
                if dst is not None and dst != src:
                    found.append((src, dst, str(path.relative_to(ROOT))))
    return found


def upward() -> list[str]:
    """Module-level imports that point to a higher layer and are not in ALLOWED_UP."""
    return sorted(
        f"{file}: {src} imports {dst}"
        for src, dst, file in imports()
        if layer_of(dst) > layer_of(src) and (src, dst) not in ALLOWED_UP
    )


def check_assigned() -> None:
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    units = {u for u in units if not u.startswith(("_", ".")) or u == "__main__"} - {"__init__", "py"}
    for u in sorted(units):
        if (PACKAGE / u).is_dir() and not (PACKAGE / u / "__init__.py").exists():
            continue  # data folders (static files)
        if (PACKAGE / f"{u}.py").exists() or (PACKAGE / u / "__init__.py").exists():
            layer_of(u)


def svg() -> str:
    """The picture: the layers as bands, top layer first, arrows pointing the way imports go."""
    width, band, gap, left = 820, 58, 16, 70
    height = len(LAYERS) * (band + gap) + 56
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" role="img" '
        'aria-label="chainrule\'s layers: each imports only the layers below it">',
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker>',
        "</defs>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    colours = ["#e0f2fe", "#dbeafe", "#ede9fe", "#fae8ff", "#fce7f3", "#ffedd5", "#fef9c3"]
    y_of = {}
    for row, i in enumerate(reversed(range(len(LAYERS)))):
        name, what, units = LAYERS[i]
        y = 20 + row * (band + gap)
        y_of[i] = y
        out.append(
            f'<rect x="{left}" y="{y}" width="{width - left - 20}" height="{band}" rx="8" '
            f'fill="{colours[i % len(colours)]}" stroke="#64748b"/>'
        )
        out.append(
            f'<text x="{left + 14}" y="{y + 24}" font-size="16" font-weight="bold">{escape(name)}</text>'
        )
        modules = "  ".join(f"{u}/" if (PACKAGE / u).is_dir() else f"{u}.py" for u in units)
        out.append(
            f'<text x="{left + 200}" y="{y + 24}" font-size="13" font-family="monospace">'
            f"{escape(modules)}</text>"
        )
        out.append(f'<text x="{left + 14}" y="{y + 45}" font-size="12" fill="#334155">{escape(what)}</text>')
    for i in range(len(LAYERS) - 1, 0, -1):  # imports point down, one band to the next
        out.append(
            f'<line x1="{left - 30}" y1="{y_of[i] + band // 2}" '
            f'x2="{left - 30}" y2="{y_of[i - 1] + band // 2 - 12}" '
            'stroke="#555" stroke-width="2" marker-end="url(#arrow)"/>'
        )
    notes = [
        "Arrows point the way imports go: a layer imports only its own layer and those below it",
        "(tests/docs/test_architecture.py checks it). The one exception, dashed: Tensor methods call ops.",
    ]
    for k, note in enumerate(notes):
        out.append(
            f'<text x="16" y="{height - 30 + 16 * k}" font-size="12" fill="#334155">{escape(note)}</text>'
        )
    for (src, dst), _ in ALLOWED_UP.items():
        a, b = layer_of(src), layer_of(dst)
        x = width - 40
        out.append(
            f'<line x1="{x}" y1="{y_of[a] + 8}" x2="{x}" y2="{y_of[b] + band - 4}" stroke="#b91c1c" '
            'stroke-width="1.5" stroke-dasharray="5 4" marker-end="url(#arrow)"/>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    check_assigned()
    bad = upward()
    if bad:
        print("architecture: imports pointing to a higher layer:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    text = svg()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(
                f"architecture: {OUT.relative_to(ROOT)} is stale; run python scripts/architecture.py",
                file=sys.stderr,
            )
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
