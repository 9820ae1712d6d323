"""The guides' code runs: every ```python block of each page in docs/guides/, in order.

Each page runs in one fresh namespace (so a block may use what an earlier block on the same page
defined), in a temporary working directory, starting from ``cr.manual_seed(0)``. Markers, an HTML
comment on the line just before the fence (invisible on the site):

- ``<!-- needs torch -->``: the block imports PyTorch; skipped (with the page's other torch
  blocks) only when torch is not installed.
- ``<!-- no run -->``: shown, never run (a fragment, or something that serves forever).
- ``<!-- output -->`` before a ```text block: what the previous Python block prints; every line
  shown must appear in what it printed.

Blocks in other languages (``bash``, ``text`` for output, ...) are never run. A failure names the
page, the block's number and line, and the error. The same file checks that every relative link
and picture of the guides and the lessons gallery points at a file that exists under docs/.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import re
import traceback
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

import chainrule as cr

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDES = DOCS / "guides"
PAGES = [
    "getting-started.md",
    "tensors-autograd.md",
    "models.md",
    "training.md",
    "data.md",
    "saving-interop.md",
    "differences.md",
    "performance.md",
    "playground.md",
    "contributing.md",
]
# pages whose subject is not code one can paste (a browser app, the performance figures)
NO_CODE_NEEDED: set[str] = set()

FENCE = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
MARKER = re.compile(r"^\s*<!--\s*(?P<what>needs torch|no run|output)\s*-->\s*$")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")


@dataclass
class Block:
    number: int  # 1-based among the page's fenced blocks of any language
    line: int  # 1-based line of the first line of code
    lang: str
    code: str
    needs_torch: bool
    no_run: bool
    output: bool = False

    @property
    def runs(self) -> bool:
        return self.lang in ("python", "py") and not self.no_run


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, with their markers."""
    lines = text.splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m["fence"], m["info"].strip()
        lang = info.split()[0].lstrip(".{").rstrip("}") if info else ""
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        body: list[str] = []
        j = i + 1
        indent = len(m["indent"])
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence)) and lines[j].strip().strip(fence[0]) == ""
        ):
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == "" else line)
            j += 1
        if j == len(lines):
            raise AssertionError(f"unclosed code fence at line {i + 1}")
        found.append(
            Block(
                number=len(found) + 1,
                line=i + 2,
                lang=lang.lower(),
                code="\n".join(body) + "\n",
                needs_torch=bool(marker and marker["what"] == "needs torch") or "needs torch" in info,
                no_run=bool(marker and marker["what"] == "no run"),
                output=bool(marker and marker["what"] == "output"),
            )
        )
        i = j + 1
    return found


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_every_guide_exists_and_has_code():
    missing = [p for p in PAGES if not (GUIDES / p).is_file()]
    assert not missing, f"guides missing from docs/guides/: {missing}"
    extra = sorted(p.name for p in GUIDES.glob("*.md") if p.name not in PAGES)
    assert not extra, f"docs/guides/ has pages the site's nav does not list: {extra}"
    without = [
        p
        for p in PAGES
        if p not in NO_CODE_NEEDED and not any(b.runs for b in blocks((GUIDES / p).read_text()))
    ]
    assert not without, f"guides without a runnable ```python block: {without}"


def test_markers_are_read():
    page = (
        "```python\nx = 1\n```\n<!-- needs torch -->\n```python\nimport torch\n```\n"
        "<!-- no run -->\n```python\nwhile True: pass\n```\n<!-- output -->\n```text\noutput\n```\n"
    )
    got = [(b.lang, b.needs_torch, b.no_run, b.runs, b.output) for b in blocks(page)]
    assert got == [
        ("python", False, False, True, False),
        ("python", True, False, True, False),
        ("python", False, True, False, False),
        ("text", False, False, False, True),
    ]


@pytest.mark.parametrize("page", PAGES)
def test_guide_code_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "data-cache"))  # never touch the user's cache
    cr.manual_seed(0)
    path = GUIDES / page
    has_torch = _torch_available()
    namespace: dict = {"__name__": "__guide__"}
    skipped = []
    printed: str | None = None  # what the last block that ran printed
    for block in blocks(path.read_text()):
        if block.output:
            if printed is None:
                continue  # its block was skipped
            missing = [ln for ln in block.code.splitlines() if ln.strip() and ln.rstrip() not in printed]
            if missing:
                pytest.fail(
                    f"docs/guides/{page}: output block {block.number} (line {block.line}) shows lines the "
                    f"code above did not print: {missing}\nit printed:\n{printed}",
                    pytrace=False,
                )
            continue
        if not block.runs:
            continue
        printed = None
        if block.needs_torch and not has_torch:
            skipped.append(block.number)
            continue
        filename = f"docs/guides/{page} (block {block.number}, line {block.line})"
        linecache.cache[filename] = (len(block.code), None, block.code.splitlines(True), filename)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(block.code, filename, "exec"), namespace)
        except BaseException as e:  # noqa: BLE001 - any failure of a guide's code is reported as such
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
            pytest.fail(
                f"docs/guides/{page}: code block {block.number} (line {block.line}) raised "
                f"{type(e).__name__}: {e}\n{tb}",
                pytrace=False,
            )
        finally:
            import matplotlib.pyplot as plt

            plt.close("all")
        printed = out.getvalue()
    if skipped:
        pytest.skip(f"{page}: blocks {skipped} need PyTorch, which is not installed")


def _links(page: Path) -> list[tuple[int, str]]:
    out, fenced = [], False
    for n, line in enumerate(page.read_text().splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        if fenced:
            continue
        for m in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            out.append((n, m["target"]))
    return out


def _anchors(page: Path) -> set[str]:
    """The ids MkDocs gives the page's headings (Python-Markdown's toc slugify)."""
    out, fenced = set(), False
    for line in page.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m and not fenced:
            text = re.sub(r"[`*]|<[^>]+>", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m[1]))
            text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
            out.add(re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower()))
    return out


@pytest.mark.parametrize("page", [f"guides/{p}" for p in PAGES] + ["lessons/index.md"])
def test_relative_links_resolve(page):
    path = DOCS / page
    bad = []
    for line, target in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve()
        if not resolved.is_file() or DOCS.resolve() not in resolved.parents:
            bad.append(f"line {line}: {target}")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            bad.append(f"line {line}: {target} (no heading with that anchor)")
    assert not bad, f"docs/{page}: links to files missing or outside docs/: {bad}"


def test_lessons_gallery_lists_exactly_the_lessons():
    index = (DOCS / "lessons" / "index.md").read_text()
    scripts = sorted(p.stem for p in (ROOT / "examples" / "lessons").glob("[0-9][0-9]_*.py"))
    linked = sorted(set(re.findall(r"\]\((\d\d_\w+)\.md\)", index)))
    assert linked == scripts, f"gallery rows {linked} != lesson scripts {scripts}"
    for stem in scripts:
        assert f"images/{stem}.png" in index, f"the gallery shows no picture of lesson {stem}"
